"""A GraphStore decorator that keeps knowledge-vault content sealed at rest.

Every memory of type ``KNOWLEDGE_VAULT`` passing to the store — each insert
and each new version — has its content sealed (:mod:`graph.vault.cipher`)
and its content hash replaced by a keyed hash; every memory and version
coming back is opened again, so services above see plain content and
adapters below only ever hold ciphertext. Everything else passes through.

:meth:`VaultStore.for_index` is the view the search indexer and the
reindexer read through: there vault memories do not exist (and their content
would read back empty, never opened), so neither their words nor an embedding
of them ever reach the keyword or vector index. Vault memories are found by
listing (type filter), not by search.

Without keys (``cipher=None``) vault writes are refused with ``UNAVAILABLE``
rather than stored in clear.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from graph.access.scope import UNSCOPED, RowScope
from graph.model import Memory, MemoryFilter, MemoryType, MemoryVersion
from graph.ports import GraphStore, Position
from graph.vault.cipher import VaultCipher, VaultError, is_sealed

VAULT = MemoryType.KNOWLEDGE_VAULT
LIVE_CHUNK = 500
NO_KEYS_MESSAGE = (
    "Knowledge-vault memories are encrypted at rest, and no vault keys are configured "
    "(set AGENTMEM_VAULT_KEYS or vault_keys_file)."
)


class VaultStore:
    """:class:`graph.ports.GraphStore` over another one, sealing vault content."""

    def __init__(
        self, inner: GraphStore, cipher: VaultCipher | None, *, blank: bool = False
    ) -> None:
        self.inner = inner
        self.cipher = cipher
        self._blank = blank

    def for_index(self) -> VaultStore:
        """The view for indexing: no vault memories (see the module doc)."""
        return VaultStore(self.inner, self.cipher, blank=True)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    # -- sealing ----------------------------------------------------------------------------

    def _require(self) -> VaultCipher:
        if self.cipher is None:
            raise VaultError(NO_KEYS_MESSAGE)
        return self.cipher

    def _seal(self, memory: Memory) -> Memory:
        if memory.type is not VAULT:
            return memory
        cipher = self._require()
        return replace(
            memory,
            content=cipher.seal(memory.content, memory.tenant, memory.id, memory.version),
            content_hash=cipher.keyed_hash(memory.content_hash),
        )

    def _open(self, memory: Memory) -> Memory:
        if memory.type is not VAULT or not is_sealed(memory.content):
            return memory
        if self._blank:
            return replace(memory, content="")
        content = self._require().open(memory.content, memory.tenant, memory.id, memory.version)
        return replace(memory, content=content)

    def _open_version(self, tenant: str, version: MemoryVersion) -> MemoryVersion:
        if self._blank:
            return replace(version, content="")
        cipher = self._require()
        content = cipher.open(version.content, tenant, version.memory_id, version.version)
        return replace(version, content=content)

    # -- writes ------------------------------------------------------------------------------

    async def insert_memories(self, memories: Sequence[Memory]) -> None:
        await self.inner.insert_memories([self._seal(m) for m in memories])

    async def update_memory(self, updated: Memory) -> None:
        await self.inner.update_memory(self._seal(updated))

    async def delete_memory(self, tenant: str, memory_id: str, at: datetime) -> Memory | None:
        deleted = await self.inner.delete_memory(tenant, memory_id, at)
        return None if deleted is None else self._open(deleted)

    # -- reads -------------------------------------------------------------------------------

    async def find_memories_by_hash(
        self,
        tenant: str,
        keys: Sequence[tuple[str | None, str]],
        scope: RowScope = UNSCOPED,
    ) -> dict[tuple[str | None, str], Memory]:
        """Looks each key up by its plain hash and by its keyed hash under
        every ring key; answers under the caller's keys."""
        wanted: dict[tuple[str | None, str], tuple[str | None, str]] = {}
        for agent_id, plain in keys:
            wanted[(agent_id, plain)] = (agent_id, plain)
            if self.cipher is not None:
                for keyed in self.cipher.keyed_hashes(plain):
                    wanted.setdefault((agent_id, keyed), (agent_id, plain))
        found = await self.inner.find_memories_by_hash(tenant, list(wanted), scope)
        result: dict[tuple[str | None, str], Memory] = {}
        for stored_key, memory in found.items():
            result.setdefault(wanted[stored_key], self._open(memory))
        return result

    async def get_memories(
        self, tenant: str, ids: Sequence[str], scope: RowScope = UNSCOPED
    ) -> dict[str, Memory]:
        found = await self.inner.get_memories(tenant, ids, scope)
        if self._blank:  # the index view: vault memories are not there to index
            return {memory_id: m for memory_id, m in found.items() if m.type is not VAULT}
        return {memory_id: self._open(m) for memory_id, m in found.items()}

    async def live_memory_versions(self, tenant: str) -> dict[str, int]:
        """In the index view, without vault memories (so a reindex does not
        count their absence from the index as drift)."""
        live: dict[str, int] = await self.inner.live_memory_versions(tenant)
        if not self._blank:
            return live
        ids = list(live)
        for start in range(0, len(ids), LIVE_CHUNK):
            chunk = ids[start : start + LIVE_CHUNK]
            for memory in (await self.inner.get_memories(tenant, chunk)).values():
                if memory.type is VAULT:
                    live.pop(memory.id, None)
        return live

    async def list_memories(
        self,
        tenant: str,
        memory_filter: MemoryFilter,
        first: int,
        after: Position | None,
        scope: RowScope = UNSCOPED,
    ) -> list[Memory]:
        rows = await self.inner.list_memories(tenant, memory_filter, first, after, scope)
        return [self._open(m) for m in rows]

    async def list_memories_for_agents(
        self,
        tenant: str,
        agent_ids: Sequence[str],
        memory_filter: MemoryFilter,
        first: int,
        after: Position | None,
        scope: RowScope = UNSCOPED,
    ) -> dict[str, list[Memory]]:
        pages = await self.inner.list_memories_for_agents(
            tenant, agent_ids, memory_filter, first, after, scope
        )
        return {agent: [self._open(m) for m in rows] for agent, rows in pages.items()}

    async def memory_history(
        self, tenant: str, ids: Sequence[str], scope: RowScope = UNSCOPED
    ) -> dict[str, list[MemoryVersion]]:
        history = await self.inner.memory_history(tenant, ids, scope)
        sealed_ids = [
            memory_id
            for memory_id, versions in history.items()
            if any(is_sealed(v.content) for v in versions)
        ]
        if not sealed_ids:
            return history
        vault_ids = {
            memory_id
            for memory_id, memory in (await self.inner.get_memories(tenant, sealed_ids)).items()
            if memory.type is VAULT
        }
        return {
            memory_id: [
                self._open_version(tenant, v)
                if memory_id in vault_ids and is_sealed(v.content)
                else v
                for v in versions
            ]
            for memory_id, versions in history.items()
        }
