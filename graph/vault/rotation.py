"""Re-encrypting every knowledge-vault row under the active key, online.

:func:`rotate` pages through every stored vault row — each memory's current
row and every version in its history — and rewrites those sealed under an
older key (or, from before the vault existed, stored in clear) under the
active key, batch by batch. Each rewrite is a compare-and-set on the stored
ciphertext: a row a server changed meanwhile is left alone (its new content
was sealed by that server) and picked up again by the next pass, so no
concurrent update is lost. Passes repeat until one finds nothing to rewrite.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from graph.services.memories import content_hash
from graph.vault.cipher import VaultCipher, is_sealed, key_id_of

BATCH = 200
MAX_PASSES = 10


@dataclass(frozen=True, slots=True)
class VaultRow:
    """One stored copy of vault content: a memory's current row
    (``current=True``) or one version of its history."""

    tenant: str
    memory_id: str
    version: int
    current: bool
    content: str

    @property
    def position(self) -> tuple[str, int, bool]:
        return (self.memory_id, self.version, self.current)


@dataclass(frozen=True, slots=True)
class VaultRewrite:
    row: VaultRow
    content: str
    content_hash: str


class VaultRows(Protocol):
    """Raw access to the stored vault rows (implemented by each graph store)."""

    async def vault_rows(self, after: tuple[str, int, bool] | None, limit: int) -> list[VaultRow]:
        """Up to ``limit`` rows after ``after``, ordered by :attr:`VaultRow.position`."""
        ...

    async def rewrite_vault_rows(self, rewrites: Sequence[VaultRewrite]) -> int:
        """Apply each rewrite only if the row still holds ``row.content``;
        returns how many were applied (one transaction)."""
        ...


@dataclass(slots=True)
class RotationReport:
    active_kid: str
    rows: int = 0
    """Vault rows seen in the last pass."""
    rewritten: int = 0
    already_current: int = 0
    """Rows of the last pass that were already sealed under the active key."""
    changed_meanwhile: int = 0
    """Compare-and-set misses: rows a server changed during the rotation (retried)."""
    passes: int = 0
    by_kid_before: dict[str, int] | None = None


async def rotate(rows: VaultRows, cipher: VaultCipher, batch: int = BATCH) -> RotationReport:
    """Rewrite every vault row not sealed under the active key (see module doc)."""
    active = cipher.active_kid
    report = RotationReport(active)
    for _ in range(MAX_PASSES):
        report.passes += 1
        report.rows = report.already_current = 0
        stale = 0
        census: dict[str, int] = {}
        after: tuple[str, int, bool] | None = None
        while page := await rows.vault_rows(after, batch):
            after = page[-1].position
            report.rows += len(page)
            rewrites = []
            for row in page:
                kid = key_id_of(row.content) if is_sealed(row.content) else "(clear)"
                census[kid] = census.get(kid, 0) + 1
                if kid == active:
                    report.already_current += 1
                    continue
                rewrites.append(_rewrite(cipher, row))
            if rewrites:
                applied = await rows.rewrite_vault_rows(rewrites)
                report.rewritten += applied
                stale += len(rewrites)
                report.changed_meanwhile += len(rewrites) - applied
        if report.by_kid_before is None:
            report.by_kid_before = census
        if stale == 0:
            break
    return report


def _rewrite(cipher: VaultCipher, row: VaultRow) -> VaultRewrite:
    plain = row.content
    if is_sealed(plain):
        plain = cipher.open(plain, row.tenant, row.memory_id, row.version)
    sealed = cipher.seal(plain, row.tenant, row.memory_id, row.version)
    return VaultRewrite(row, sealed, cipher.keyed_hash(content_hash(plain)))
