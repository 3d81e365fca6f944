"""The ``agentmem`` command line."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from pathlib import Path

from graph.access.policy_file import PolicyError, load_policy
from graph.errors import DomainError
from graphql_api import apikey_cli
from graphql_api.auth_setup import check_insecure_dev
from graphql_api.backends import backend_config, make_embedder
from graphql_api.hardening import validate_settings
from graphql_api.load_shedding import check_limits
from graphql_api.settings import Settings, SettingsError, load_settings
from graphql_api.vault import add_keys_parser, run_keys


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="agentmem", description="AgentMem GraphQL: a memory graph server for AI agents."
    )
    verbs = parser.add_subparsers(dest="verb", required=True, metavar="COMMAND")
    serve = verbs.add_parser(
        "serve",
        help="start the GraphQL server",
        description=(
            "Start the GraphQL server. With no backend configured it keeps everything in "
            "an embedded store in --data-dir (AGENTMEM_DATA_DIR, default ./.agentmem)."
        ),
    )
    serve.add_argument("--host", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port to listen on (default 8000)")
    serve.add_argument("--data-dir", type=Path, help="folder of the embedded store")
    serve.add_argument("--log-level", choices=["debug", "info", "warning", "error"])
    serve.add_argument(
        "--insecure-dev",
        action="store_true",
        default=None,
        help="allow requests without credentials (as admin); loopback addresses only",
    )

    migrate = verbs.add_parser(
        "migrate",
        help="apply pending schema migrations",
        description="Apply pending schema migrations to the configured stores, then exit.",
    )
    migrate.add_argument("--data-dir", type=Path, help="folder of the embedded store")

    reindex = verbs.add_parser(
        "reindex",
        help="rebuild or verify the search index",
        description=(
            "Re-embed and re-index every live memory; with --verify, only compare the "
            "search index with the graph and repair the drift it finds."
        ),
    )
    reindex.add_argument("--data-dir", type=Path, help="folder of the embedded store")
    reindex.add_argument(
        "--verify", action="store_true", help="compare the stores; repair only the drift"
    )
    reindex.add_argument(
        "--dry-run", action="store_true", help="report only; exit 1 when drift is found"
    )
    reindex.add_argument(
        "--tenant", action="append", default=[], help="limit to this tenant (repeatable)"
    )
    forget = verbs.add_parser(
        "forget",
        help="erase a user's memories or an entity (right to be forgotten)",
        description=(
            "Hard-delete a subject from the graph, the search index and the cache, and "
            "print what was erased: every memory of --user-id, or the entity --entity-id "
            "with its facts. Audited as 'subject.forget'."
        ),
    )
    forget.add_argument("--data-dir", type=Path, help="folder of the embedded store")
    subject = forget.add_mutually_exclusive_group(required=True)
    subject.add_argument("--user-id", help="erase every memory of this user")
    subject.add_argument("--entity-id", help="erase this entity and its facts")
    forget.add_argument("--tenant", default="default", help="tenant (default: default)")
    _backup_verbs(verbs)
    apikey_cli.add_parser(verbs)
    add_keys_parser(verbs)
    return parser


def _backup_verbs(verbs: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    backup = verbs.add_parser(
        "backup",
        help="write a backup of the stores, or verify one",
        description=(
            "`agentmem backup --out FILE` writes a point-in-time snapshot of every tenant's "
            "graph (or the changes since --incremental-from). `agentmem backup verify FILE` "
            "checks a backup's manifest, checksums and counts without restoring it. The key "
            "for --encrypt (and for reading encrypted backups) is AGENTMEM_BACKUP_KEY."
        ),
    )
    backup.add_argument("action", nargs="?", choices=["verify"], help="verify FILE")
    backup.add_argument("file", nargs="?", type=Path, help="the backup to verify")
    backup.add_argument("--out", type=Path, help="the backup file to write")
    backup.add_argument(
        "--incremental-from",
        type=Path,
        metavar="PREVIOUS",
        help="only the changes since this backup (file or its manifest.json)",
    )
    backup.add_argument("--encrypt", action="store_true", help="encrypt with AES-256-GCM")
    backup.add_argument(
        "--tenant", action="append", default=[], help="back up only this tenant (repeatable)"
    )
    backup.add_argument("--data-dir", type=Path, help="folder of the embedded store")
    restore = verbs.add_parser(
        "restore",
        help="restore backups into empty stores",
        description=(
            "Verify the backups, then write them into the configured stores, which must be "
            "empty (a new --data-dir or empty servers), and index every memory. Give the "
            "full backup first, then its incrementals in order."
        ),
    )
    restore.add_argument(
        "--from",
        dest="sources",
        type=Path,
        action="append",
        required=True,
        metavar="FILE",
        help="a backup file (repeat: the full one, then its incrementals)",
    )
    restore.add_argument("--data-dir", type=Path, help="folder of the embedded store")


def _run_backup(settings: Settings, args: argparse.Namespace) -> int:
    from graphql_api import backup_commands

    if args.verb == "restore":
        return asyncio.run(backup_commands.restore(settings, args.sources))
    if args.action == "verify":
        if args.file is None or args.out is not None:
            print("agentmem: usage: agentmem backup verify FILE", file=sys.stderr)
            return 2
        return backup_commands.verify(settings, args.file)
    if args.out is None or args.file is not None:
        print("agentmem: usage: agentmem backup --out FILE [options]", file=sys.stderr)
        return 2
    return asyncio.run(
        backup_commands.backup(settings, args.out, args.incremental_from, args.encrypt, args.tenant)
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = load_settings().with_overrides(
            host=getattr(args, "host", None),
            port=getattr(args, "port", None),
            data_dir=args.data_dir,
            log_level=getattr(args, "log_level", None),
            insecure_dev=getattr(args, "insecure_dev", None),
        )
        validate_settings(settings)
        check_insecure_dev(settings)
    except SettingsError as exc:
        print(f"agentmem: {exc}", file=sys.stderr)
        return 2
    try:
        backend_config(settings)
        check_limits(
            settings.max_concurrent_requests,
            settings.request_queue_seconds,
            settings.shutdown_drain_seconds,
        )
        make_embedder(settings)  # constructing checks the embedder settings; loading is lazy
    except DomainError as exc:
        print(f"agentmem: {exc.message}", file=sys.stderr)
        return 2
    try:
        load_policy(settings.policy_file)
    except PolicyError as exc:
        print(f"agentmem: {exc}", file=sys.stderr)
        return 2
    if args.verb == "serve":
        return _serve(settings)
    if args.verb in ("backup", "restore"):
        return _run_backup(settings, args)
    from graphql_api import admin

    if args.verb == "migrate":
        return asyncio.run(admin.migrate(settings))
    if args.verb == "reindex":
        return asyncio.run(admin.reindex(settings, args.verify, args.dry_run, args.tenant))
    if args.verb == "forget":
        from graphql_api.forget_cli import forget

        return asyncio.run(forget(settings, args.tenant, args.user_id, args.entity_id))
    if args.verb == "apikey":
        return asyncio.run(apikey_cli.run(settings, args))
    if args.verb == "keys":
        return asyncio.run(run_keys(settings, args))
    return 2


def _serve(settings: Settings) -> int:
    import uvicorn

    from graphql_api import logs
    from graphql_api.app import create_app
    from graphql_api.shutdown import GracefulServer

    try:
        log_config = logs.configure(settings.log_level, settings.log_format)
    except ValueError as exc:
        print(f"agentmem: {exc}", file=sys.stderr)
        return 2
    print(f"AgentMem GraphQL on http://{settings.host}:{settings.port}/graphql", flush=True)
    config = uvicorn.Config(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        log_config=log_config,
        ws="websockets-sansio",
        timeout_graceful_shutdown=max(1, round(settings.shutdown_drain_seconds)),
    )
    GracefulServer(config).run()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
