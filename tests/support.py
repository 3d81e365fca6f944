"""Test helpers shared by the whole suite: a deterministic embedder and builders."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta

import numpy as np

from graph.ids import new_id
from graph.model import (
    Agent,
    Fact,
    Memory,
    MemoryLevel,
    MemoryType,
    NodeKind,
    Relation,
    Sensitivity,
    utcnow,
)
from graph.ports import Backends, Embedder, Vectors

BACKEND_SERVERS: dict[str, tuple[str, ...]] = {
    "embedded": (),
    "neo4j": ("neo4j",),
    "weaviate": ("weaviate", "redis"),
    "production": ("neo4j", "weaviate", "redis"),
}
"""Each backend set the suite knows, and the servers it needs (everything
else is embedded): ``AGENTMEM_TEST_BACKENDS`` names sets from here."""

_WORD = re.compile(r"\w+")

EmbedderFactory = Callable[[], Embedder]
"""Makes a fresh embedder for each backend set a test opens."""

BackendFactory = Callable[[], Awaitable[Backends]]
"""Opens the test's backend set (again) on the test's storage."""


class HashingEmbedder:
    """A deterministic stand-in for a real embedding model.

    Hashed bag of words: each lower-cased word adds +-1 to one of
    ``dimensions`` buckets, and the sum is L2-normalised. Texts sharing words
    get a positive cosine similarity; identical word bags get 1. Implements
    :class:`graph.ports.Embedder`.
    """

    def __init__(self, dimensions: int = 384) -> None:
        self._dimensions = dimensions
        self.calls = 0
        self.closed = False

    @property
    def model_id(self) -> str:
        return f"test-hashing-{self._dimensions}"

    @property
    def dimensions(self) -> int:
        return self._dimensions

    def embed_one(self, text: str) -> np.ndarray:
        vector = np.zeros(self._dimensions, dtype=np.float32)
        for word in _WORD.findall(text.lower()):
            digest = hashlib.blake2b(word.encode(), digest_size=8).digest()
            number = int.from_bytes(digest, "little")
            vector[number % self._dimensions] += 1.0 if (number >> 32) & 1 else -1.0
        norm = float(np.linalg.norm(vector))
        return vector / norm if norm > 0 else vector

    async def embed(self, texts: Sequence[str]) -> Vectors:
        self.calls += 1
        matrix = np.zeros((len(texts), self._dimensions), dtype=np.float32)
        for row, text in enumerate(texts):
            matrix[row] = self.embed_one(text)
        return matrix

    async def ping(self) -> None:
        """Always answers: the embedder is pure computation."""

    async def close(self) -> None:
        self.closed = True


class Clock:
    """Strictly increasing, millisecond-aligned timestamps for building rows."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or utcnow()

    def tick(self, milliseconds: int = 1) -> datetime:
        self._now = self._now + timedelta(milliseconds=milliseconds)
        return self._now

    @property
    def now(self) -> datetime:
        return self._now


def make_agent(tenant: str, name: str = "agent", at: datetime | None = None) -> Agent:
    return Agent(
        id=new_id(NodeKind.AGENT),
        tenant=tenant,
        name=name,
        description=None,
        metadata={"name": name},
        created_at=at or utcnow(),
    )


def make_memory(
    tenant: str,
    content: str,
    *,
    at: datetime | None = None,
    agent_id: str | None = None,
    user_id: str | None = None,
    session_id: str | None = None,
    type: MemoryType = MemoryType.EPISODIC,
    level: MemoryLevel = MemoryLevel.OPERATIONAL,
    tags: Sequence[str] = (),
    metadata: object = None,
    valid_from: datetime | None = None,
    valid_to: datetime | None = None,
    importance: float = 0.5,
    memory_id: str | None = None,
) -> Memory:
    created = at or utcnow()
    return Memory(
        id=memory_id or new_id(NodeKind.MEMORY),
        tenant=tenant,
        agent_id=agent_id,
        user_id=user_id,
        session_id=session_id,
        type=type,
        level=level,
        content=content,
        importance=importance,
        tags=tuple(tags),
        metadata=metadata,
        sensitivity=Sensitivity.INTERNAL,
        content_hash=hashlib.sha256(content.encode()).hexdigest(),
        version=1,
        created_at=created,
        updated_at=created,
        valid_from=valid_from,
        valid_to=valid_to,
        recorded_at=created,
    )


def next_version(memory: Memory, at: datetime, **changes: object) -> Memory:
    """``memory`` as its next version recorded at ``at`` with ``changes``."""
    content = changes.get("content", memory.content)
    assert isinstance(content, str)
    return replace(
        memory,
        version=memory.version + 1,
        updated_at=at,
        recorded_at=at,
        content_hash=hashlib.sha256(content.encode()).hexdigest(),
        **changes,  # type: ignore[arg-type]
    )


def make_relation(
    tenant: str,
    source_id: str,
    target_id: str,
    type: str = "RELATES_TO",
    *,
    at: datetime | None = None,
    weight: float = 1.0,
) -> Relation:
    return Relation(
        id=new_id(NodeKind.RELATION),
        tenant=tenant,
        type=type,
        source_id=source_id,
        target_id=target_id,
        weight=weight,
        properties={"note": type.lower()},
        valid_from=None,
        valid_to=None,
        created_at=at or utcnow(),
    )


def make_fact(
    tenant: str,
    subject_id: str,
    predicate: str,
    object_id: str,
    *,
    recorded_at: datetime,
    valid_from: datetime | None = None,
    valid_to: datetime | None = None,
    source_memory_id: str | None = None,
) -> Fact:
    return Fact(
        id=new_id(NodeKind.FACT),
        tenant=tenant,
        subject_id=subject_id,
        predicate=predicate,
        object_id=object_id,
        valid_from=valid_from,
        valid_to=valid_to,
        source_memory_id=source_memory_id,
        recorded_at=recorded_at,
    )
