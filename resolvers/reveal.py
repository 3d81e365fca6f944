"""How one request reads protected fields: the policy's decision for each
field and object, masking of personal data, and a note of every read of
personal data in clear, audited once per request (see :meth:`Reveal.flush`).

Created lazily per request; the per-field cost is one dictionary lookup for
the field's rules, plus PII detection, which is cached per text.
"""

from __future__ import annotations

from typing import Any

from graph.access.masking import Masker
from graph.access.policy import DENY, AccessView
from graph.access.rules import Effect, MemoryAttributes
from graph.services.audit import AuditService

UNMASKED_ACTION = "pii.unmasked"


class Reveal:
    __slots__ = ("_masker", "_unmasked", "view")

    def __init__(self, view: AccessView, masker: Masker) -> None:
        self.view = view
        self._masker = masker
        self._unmasked: dict[str, set[str]] = {}
        """Object id -> kinds of personal data read in clear, not yet audited."""

    def text(
        self, field_name: str, owner_id: str, memory: MemoryAttributes | None, value: str | None
    ) -> str | None:
        """``value`` of ``field_name`` as this principal may read it (``None``: denied)."""
        if value is None:
            return None
        decision = self.view.decide(field_name, memory)
        if decision.effect is Effect.ALLOW:
            findings = self._masker.detector.find(value)
            if findings:
                self._note(owner_id, {f.kind.value for f in findings})
            return value
        if decision is DENY:
            return None
        assert decision.strategy is not None
        return self._masker.mask(value, decision.strategy)

    def json(
        self, field_name: str, owner_id: str, memory: MemoryAttributes | None, value: Any
    ) -> Any:
        """As :meth:`text`, for a JSON value: every string in it."""
        if value is None:
            return None
        decision = self.view.decide(field_name, memory)
        if decision.effect is Effect.ALLOW:
            kinds = self._masker.json_kinds(value)
            if kinds:
                self._note(owner_id, {kind.value for kind in kinds})
            return value
        if decision is DENY:
            return None
        assert decision.strategy is not None
        return self._masker.mask_json(value, decision.strategy)

    def _note(self, owner_id: str, kinds: set[str]) -> None:
        known = self._unmasked.get(owner_id)
        if known is None:
            self._unmasked[owner_id] = kinds
        else:
            known |= kinds

    async def flush(self, audit: AuditService) -> None:
        """Record the clear-text reads noted since the last flush, in one audit
        record: the ids read and the kinds of personal data they held."""
        if not self._unmasked:
            return
        noted, self._unmasked = self._unmasked, {}
        kinds = sorted(set().union(*noted.values()))
        await audit.record(self.view.principal, UNMASKED_ACTION, list(noted), kinds=",".join(kinds))
