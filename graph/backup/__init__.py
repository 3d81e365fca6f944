"""Backup and restore: consistent, checksummed, optionally encrypted and
incremental snapshots of the whole graph that restore into any backend set.

See ``docs/backup.md`` for the format and the operator commands.
"""
