"""ASGI middleware that gives every request an id and joins the caller's trace.

- The request id is the caller's ``X-Request-ID`` when it is a short token
  (letters, digits, ``.``, ``_``, ``-``; at most 128), otherwise a fresh one;
  it is echoed in the response's ``X-Request-ID`` header and available to log
  records through :func:`current_request_id`.
- With tracing on, a W3C ``traceparent`` header makes the request's spans
  children of the caller's span.
- WebSocket connections are counted while open
  (``agentmem_websocket_connections``).
"""

from __future__ import annotations

import contextvars
import re
import uuid

from opentelemetry import context as otel_context
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from graph import telemetry
from graphql_api import metrics

REQUEST_ID_HEADER = "x-request-id"
_VALID_ID = re.compile(r"^[A-Za-z0-9._-]{1,128}$")
_request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "agentmem_request_id", default=None
)


def current_request_id() -> str | None:
    """The id of the request being served in this context, if any."""
    return _request_id.get()


def request_id_from(headers: dict[str, str]) -> str:
    given = headers.get(REQUEST_ID_HEADER, "")
    return given if _VALID_ID.match(given) else uuid.uuid4().hex


class RequestObservability:
    """See the module docstring."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = {
            key.decode("latin-1").lower(): value.decode("latin-1")
            for key, value in scope.get("headers", [])
        }
        request_id = request_id_from(headers)
        id_token = _request_id.set(request_id)
        trace_token = None
        if telemetry.tracing_enabled() and "traceparent" in headers:
            parent = telemetry.context_from(
                {k: headers[k] for k in ("traceparent", "tracestate") if k in headers}
            )
            if parent is not None:
                trace_token = otel_context.attach(parent)
        try:
            if scope["type"] == "websocket":
                await self._websocket(scope, receive, send, request_id)
            else:
                await self.app(scope, receive, _with_request_id(send, request_id))
        finally:
            if trace_token is not None:
                otel_context.detach(trace_token)
            _request_id.reset(id_token)

    async def _websocket(self, scope: Scope, receive: Receive, send: Send, request_id: str) -> None:
        metrics.websocket_opened()
        try:
            await self.app(scope, receive, _with_request_id(send, request_id))
        finally:
            metrics.websocket_closed()


def _with_request_id(send: Send, request_id: str) -> Send:
    async def sending(message: Message) -> None:
        if message["type"] in ("http.response.start", "websocket.accept"):
            message.setdefault("headers", [])
            headers = MutableHeaders(scope=message)
            headers["X-Request-ID"] = request_id
        await send(message)

    return sending
