"""The audit trail in the API: every mutation recorded, and the records
readable by principals holding ``audit:read``.

:class:`MutationAudit` wraps each root mutation field: after it resolves it
appends one record (action = the mutation's name, target ids = the ids of the
returned objects and of the id arguments, ``outcome=ok``); when it fails, one
record with ``outcome=failed`` and the error code. No argument values other
than ids, and never content, reach the trail. ``addMemories`` of 100 is one
record naming 100 ids, so one append.
"""

from __future__ import annotations

import base64
import binascii
import inspect
import logging
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

import strawberry
from strawberry.extensions import SchemaExtension
from strawberry.scalars import JSON

from graph.access import audit as domain
from graph.access.policy import AUDIT_READ
from graph.errors import BadInput, DomainError, Forbidden
from resolvers.context import RequestContext
from schema.types import Ctx, PageInfo

log = logging.getLogger("agentmem.audit")

_CURSOR_PREFIX = "audit:"


class MutationAudit(SchemaExtension):
    """Records each root mutation field's outcome in the audit trail."""

    def resolve(self, _next: Any, root: Any, info: Any, *args: Any, **kwargs: Any) -> Any:
        if info.parent_type.name != "Mutation" or info.path.prev is not None:
            return _next(root, info, *args, **kwargs)
        return self._audited(_next, root, info, args, kwargs)

    async def _audited(
        self, _next: Any, root: Any, info: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Any:
        ctx: RequestContext = info.context
        id_arguments = list(_argument_ids(kwargs))
        try:
            result = _next(root, info, *args, **kwargs)
            if inspect.isawaitable(result):
                result = await result
        except Exception as exc:
            code = exc.code if isinstance(exc, DomainError) else "INTERNAL"
            await _record(ctx, info.field_name, id_arguments, outcome="failed", code=code)
            raise
        await _record(ctx, info.field_name, [*_result_ids(result), *id_arguments], outcome="ok")
        return result


async def _record(ctx: RequestContext, action: str, ids: list[str], **detail: str) -> None:
    """Append one record; a trail that cannot be written is logged and
    reported as degraded rather than failing a change already committed."""
    try:
        await ctx.graph.audit.record(ctx.principal, action, ids, **detail)
    except Exception:
        log.error("could not record %s in the audit trail", action, exc_info=True)
        ctx.degraded.add("audit")


def _argument_ids(arguments: Mapping[str, Any]) -> Iterable[str]:
    for name, value in arguments.items():
        if not (name == "id" or name.endswith(("Id", "_id", "Ids", "_ids"))):
            continue
        values = value if isinstance(value, list | tuple) else [value]
        yield from (str(v) for v in values if isinstance(v, str))


def _result_ids(result: Any) -> Iterable[str]:
    items = result if isinstance(result, list | tuple) else [result]
    for item in items:
        node_id = getattr(item, "id", None)
        if isinstance(node_id, str):
            yield node_id


# -- reading the trail ------------------------------------------------------------------


@strawberry.type(name="AuditRecord")
class AuditRecordType:
    seq: int
    actor: str
    action: str
    at: datetime
    target_ids: list[str]
    detail: JSON
    hash: str
    previous_hash: str

    @classmethod
    def wrap(cls, record: domain.AuditRecord) -> AuditRecordType:
        event = record.event
        return cls(
            seq=record.seq,
            actor=event.actor,
            action=event.action,
            at=event.at,
            target_ids=list(event.target_ids),
            detail=JSON(dict(event.detail)),
            hash=record.hash,
            previous_hash=record.previous_hash,
        )


@strawberry.type
class AuditEdge:
    cursor: str
    node: AuditRecordType


@strawberry.type
class AuditConnection:
    edges: list[AuditEdge]
    page_info: PageInfo


@strawberry.type
class AuditVerification:
    ok: bool
    checked: int
    first_broken_seq: int | None


def encode_audit_cursor(seq: int) -> str:
    return base64.urlsafe_b64encode(f"{_CURSOR_PREFIX}{seq}".encode()).decode()


def decode_audit_cursor(cursor: str) -> int:
    try:
        text = base64.urlsafe_b64decode(cursor.encode()).decode()
        if text.startswith(_CURSOR_PREFIX):
            return int(text.removeprefix(_CURSOR_PREFIX))
    except (binascii.Error, UnicodeError, ValueError):
        pass
    raise BadInput("`after` is not a cursor from this audit log.", argument="after")


def _require_reader(ctx: RequestContext) -> None:
    """``audit:read``, tenant-wide: the trail names every agent's and user's
    ids, so credentials bound to one agent or user may not read it."""
    ctx.policy.require(ctx.principal, AUDIT_READ)
    if ctx.principal.scoped:
        raise Forbidden("The audit trail is readable only with credentials for the whole tenant.")


@strawberry.type
class AuditQueries:
    """The root fields that read the trail (``audit:read`` required)."""

    @strawberry.field(description="The caller's tenant's audit records, oldest first.")
    async def audit_log(
        self,
        info: Ctx,
        first: int | None = 50,
        after: str | None = None,
        action: str | None = None,
    ) -> AuditConnection:
        ctx = info.context
        _require_reader(ctx)
        size = 50 if first is None else first
        if not 1 <= size <= ctx.graph.limits.max_page_size:
            raise BadInput(
                f"`first` must be between 1 and {ctx.graph.limits.max_page_size}.",
                argument="first",
            )
        after_seq = None if after is None else decode_audit_cursor(after)
        records = await ctx.graph.audit.read(ctx.tenant, after_seq, size + 1, action)
        page = records[:size]
        edges = [
            AuditEdge(cursor=encode_audit_cursor(r.seq), node=AuditRecordType.wrap(r)) for r in page
        ]
        return AuditConnection(
            edges=edges,
            page_info=PageInfo(
                has_next_page=len(records) > size,
                end_cursor=edges[-1].cursor if edges else None,
            ),
        )

    @strawberry.field(description="Check the caller's tenant's hash chain end to end.")
    async def audit_verify(self, info: Ctx) -> AuditVerification:
        ctx = info.context
        _require_reader(ctx)
        result = await ctx.graph.audit.verify(ctx.tenant)
        return AuditVerification(
            ok=result.ok, checked=result.checked, first_broken_seq=result.first_broken_seq
        )
