"""Cuts exported records off at the backup's instant, and keeps only the
changes since a watermark for incremental backups.

Every record carries the times of its changes (created, recorded, expired,
deleted), so the state at an instant ``until`` can be read off the records
whatever the store's isolation level: a record created after ``until`` is
left out, a deletion or expiry after ``until`` is undone, and a memory updated
after ``until`` is shown at the version it had then.

For an incremental backup, a record is kept when one of its times is at or
after ``since`` (the parent's instant minus an overlap, so a transaction
that committed late with an earlier clock reading is not missed; replaying a
record twice is harmless because restore upserts). Facts are kept a whole
(tenant, subject, predicate) group at a time: an exclusive fact closes its
group's open facts without a time of its own, so a group with any new fact
travels whole.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from graph.backup import records as rec

_CHANGE_TIMES = {
    rec.AGENT: ("created_at",),
    rec.ENTITY: ("created_at",),
    rec.MEMORY: ("created_at", "recorded_at", "deleted_at"),
    rec.RELATION: ("created_at", "deleted_at"),
    rec.FACT: ("recorded_at",),
}
_BIRTH = {
    rec.AGENT: "created_at",
    rec.ENTITY: "created_at",
    rec.MEMORY: "created_at",
    rec.RELATION: "created_at",
    rec.FACT: "recorded_at",
}
_CURRENT_FROM_VERSION = (
    "level", "content", "importance", "tags", "metadata", "content_hash", "valid_from",
    "valid_to", "recorded_at", "version",
)  # fmt: skip


def _after(value: str | None, instant: str) -> bool:
    return value is not None and value > instant


@dataclass(slots=True)
class Cutoff:
    """Filters one export stream; feed records in export order to :meth:`feed`
    and call :meth:`flush` at the end. Kept records go to ``emit``."""

    until: str
    """The backup's instant (record time text); nothing later is kept."""
    since: str | None
    """Incremental watermark (record time text) or ``None`` for a full backup."""
    emit: Callable[[str, rec.Record], None]
    _group_key: tuple[str, str, str] | None = None
    _group: list[rec.Record] = field(default_factory=list)

    def feed(self, kind: str, record: rec.Record) -> None:
        if kind != rec.FACT:
            self.flush()
        if _after(record[_BIRTH[kind]], self.until):
            return
        if kind == rec.MEMORY:
            cut = self._memory(record)
            if cut is not None and self._changed(kind, cut, cut["versions"]):
                self.emit(kind, cut)
            return
        if kind == rec.RELATION and _after(record["deleted_at"], self.until):
            record = {**record, "deleted_at": None}
        if kind == rec.FACT:
            self._fact(record)
        elif self._changed(kind, record):
            self.emit(kind, record)

    def flush(self) -> None:
        """Emit the pending fact group if it changed since the watermark."""
        group, self._group, self._group_key = self._group, [], None
        if group and (self.since is None or any(self._changed(rec.FACT, f) for f in group)):
            for fact in group:
                self.emit(rec.FACT, fact)

    def _fact(self, fact: rec.Record) -> None:
        key = (fact["tenant"], fact["subject_id"], fact["predicate"])
        if key != self._group_key:
            self.flush()
            self._group_key = key
        self._group.append(fact)

    def _changed(self, kind: str, record: rec.Record, versions: Iterable[rec.Record] = ()) -> bool:
        if self.since is None:
            return True
        since = self.since
        times = [record[name] for name in _CHANGE_TIMES[kind]]
        times += [v[name] for v in versions for name in ("recorded_at", "expired_at")]
        return any(t is not None and t >= since for t in times)

    def _memory(self, memory: rec.Record) -> rec.Record | None:
        """The memory as it stood at ``until``; ``None`` if it had no version yet."""
        versions = []
        for version in memory["versions"]:
            if _after(version["recorded_at"], self.until):
                continue
            if _after(version["expired_at"], self.until):
                version = {**version, "expired_at": None}
            versions.append(version)
        if not versions:
            return None
        cut = {**memory, "versions": versions}
        if _after(memory["deleted_at"], self.until):
            cut["deleted_at"] = None
            cut["expired_at"] = None
        last = versions[-1]
        if memory["version"] != last["version"]:
            cut.update({name: last[name] for name in _CURRENT_FROM_VERSION})
            cut["updated_at"] = last["recorded_at"]
            cut["expired_at"] = None
        return cut
