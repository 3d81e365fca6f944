"""Every error a client sees carries ``extensions.code``; none carries a
stack trace or a driver's message.

Domain errors keep their message and code. Errors raised before any field
runs (syntax, validation, variable coercion) are ``BAD_USER_INPUT``.
Anything else is logged here with its trace and reaches the client as
``INTERNAL`` with a generic message. Personal data in a message or a detail
is redacted (``[EMAIL]``), whoever the caller: errors are also logged.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

from graph.access.masking import Strategy, default_masker
from graph.errors import DomainError

log = logging.getLogger("agentmem.errors")

INTERNAL_MESSAGE = "Internal server error."


def coded(error: GraphQLError) -> GraphQLError:
    """The client-safe form of an error, with ``extensions.code`` set."""
    if error.extensions and "code" in error.extensions and error.original_error is None:
        return error
    original = error.original_error
    if isinstance(original, DomainError):
        extensions: dict[str, object] = {"code": original.code}
        extensions.update(original.details)
        message = original.message
    elif original is None or error.path is None:
        # Syntax, validation and variable-coercion errors happen before any
        # field runs: they describe the request, so they are safe to show.
        extensions = {"code": "BAD_USER_INPUT"}
        message = error.message
    else:
        log.error("unhandled error in %s", error.path, exc_info=original)
        extensions = {"code": "INTERNAL"}
        message = INTERNAL_MESSAGE
    masker = default_masker()
    message = masker.mask(message, Strategy.REDACT)
    extensions = masker.mask_json(extensions, Strategy.REDACT)
    return GraphQLError(
        message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        original_error=None,
        extensions=extensions,
    )


class ErrorCodes(SchemaExtension):
    """Rewrites every result's errors into their coded, client-safe form:
    single results when the operation ends, subscription results one by one."""

    def on_operation(self) -> Iterator[None]:
        yield
        _code_errors(self.execution_context.result)

    def on_stream_result(self, result: object) -> Iterator[None]:
        _code_errors(result)
        yield


def _code_errors(result: object) -> None:
    errors = getattr(result, "errors", None)
    if errors:
        result.errors = [coded(e) for e in errors]  # type: ignore[attr-defined]
