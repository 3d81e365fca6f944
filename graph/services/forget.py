"""The right to be forgotten: erase a subject from the graph, the search
index and the read cache, and report what went.

- ``forget_user``: every memory of the user (live and deleted, every
  version), the relations touching those memories (MENTIONS links included)
  and the facts taken from them. Entities stay: they are shared knowledge.
- ``forget_entity``: the entity, the facts whose subject or object it is and
  every relation touching either. Memories that mention it stay (erase them
  by user, or one by one).

Everything is a hard delete in one store transaction. That transaction also
replaces the memories' pending index work with ``delete`` entries, so the
outbox can never put an erased memory back into the index; the index is then
drained at once. If the index is unreachable the report says so
(``index_pending``) and the deletions are applied when it returns. The read
cache of the tenant is invalidated; entries already cached become
unreachable at once and expire within the cache's time-to-live.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from graph import validation
from graph.access.principal import Principal
from graph.access.scope import RowScope
from graph.errors import Forbidden, NotFound
from graph.limits import Limits
from graph.ports import Erasure, GraphStore, SearchIndex
from graph.services.audit import AuditService
from graph.services.indexer import Indexer
from graph.services.read_cache import ReadCache

log = logging.getLogger(__name__)

FORGET_ACTION = "subject.forget"


@dataclass(frozen=True, slots=True)
class ForgetReport:
    """How many of each kind were erased. ``index_documents`` counts the
    search documents removed now; ``index_pending`` is true when some could
    not be removed yet (the index was unavailable) and will be."""

    memories: int
    versions: int
    relations: int
    facts: int
    entities: int
    index_documents: int
    index_pending: bool


class ForgetService:
    def __init__(
        self,
        store: GraphStore,
        index: SearchIndex,
        indexer: Indexer,
        read_cache: ReadCache,
        audit: AuditService,
        limits: Limits,
    ) -> None:
        self._store = store
        self._index = index
        self._indexer = indexer
        self._read_cache = read_cache
        self._audit = audit
        self._limits = limits

    async def forget_user(self, principal: Principal, user_id: str) -> ForgetReport:
        """Erase a user's memories, within the principal's row scope. Credentials
        bound to a user may forget only that user (``FORBIDDEN`` otherwise:
        user ids are labels, so refusing reveals nothing)."""
        user_id = validation.text(user_id, self._limits.max_name_chars, "userId")
        scope = RowScope.of(principal)
        if scope.user_id is not None and scope.user_id != user_id:
            raise Forbidden("These credentials may only forget their own user.")
        erasure = await self._store.erase_user(principal.tenant, user_id, scope)
        report = await self._finish(principal.tenant, erasure)
        await self._record(principal, "user", erasure.memory_ids, report)
        return report

    async def forget_entity(self, principal: Principal, entity_id: str) -> ForgetReport:
        """Erase an entity and its facts. Entities belong to the whole tenant,
        so credentials with a row scope may not (``FORBIDDEN`` whatever the
        id, so nothing is revealed); an unknown id is ``NOT_FOUND``."""
        if not RowScope.of(principal).unrestricted:
            raise Forbidden("Credentials bound to an agent or user cannot forget entities.")
        erasure = await self._store.erase_entity(principal.tenant, entity_id)
        if erasure is None:
            raise NotFound(f"No entity with id {entity_id!r}.", id=entity_id)
        report = await self._finish(principal.tenant, erasure)
        await self._record(principal, "entity", [entity_id], report)
        return report

    async def _finish(self, tenant: str, erasure: Erasure) -> ForgetReport:
        ids = erasure.memory_ids
        removed, pending = 0, False
        if ids:
            before = await self._indexed(tenant, ids)
            drained = await self._indexer.try_drain()
            after = await self._indexed(tenant, ids)
            if before is None or after is None or not drained:
                pending = True
            else:
                removed = len(before - after)
                pending = bool(after)
        await self._read_cache.invalidate(tenant)
        return ForgetReport(
            memories=len(ids),
            versions=erasure.versions,
            relations=erasure.relations,
            facts=erasure.facts,
            entities=erasure.entities,
            index_documents=removed,
            index_pending=pending,
        )

    async def _indexed(self, tenant: str, ids: Sequence[str]) -> set[str] | None:
        """Which of ``ids`` the index holds; ``None`` if it cannot say."""
        try:
            held = await self._index.indexed_versions(tenant)
        except Exception:
            log.warning("search index unavailable while forgetting", exc_info=True)
            return None
        return {memory_id for memory_id in ids if memory_id in held}

    async def _record(
        self, principal: Principal, kind: str, ids: Sequence[str], report: ForgetReport
    ) -> None:
        """Audit the erasure: which ids and how many, never names or content."""
        await self._audit.record(
            principal,
            FORGET_ACTION,
            ids,
            subject=kind,
            memories=str(report.memories),
            facts=str(report.facts),
            relations=str(report.relations),
        )
