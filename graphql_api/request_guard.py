"""CSRF defence and the request body limit for ``/graphql``, as ASGI middleware.

- A POST must carry ``Content-Type: application/json`` (a type no HTML form
  can send, so a cross-site POST needs a CORS preflight the server does not
  grant unless ``cors_origins`` names the site). ``text/plain``, forms and
  multipart bodies are refused with 415 before anything is read. Mutations
  over GET are already refused (405) by the endpoint.
- A body larger than ``max_body_bytes`` is refused with 413: at once when
  ``Content-Length`` says so, otherwise as soon as the streamed body passes
  the limit (the rest is never read or buffered).

Refusals are JSON GraphQL errors with ``extensions.code`` ``BAD_USER_INPUT``.
"""

from __future__ import annotations

import json
from collections.abc import Collection

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

JSON_TYPES = frozenset({"application/json"})
GRAPHQL_RESPONSE = "application/graphql-response+json"


class BodyTooLarge(Exception):
    """The streamed request body passed the limit."""


class RequestGuard:
    def __init__(
        self, app: ASGIApp, *, max_body_bytes: int, paths: Collection[str] = ("/graphql",)
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.paths = frozenset(paths)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] not in self.paths:
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        if scope["method"] == "POST":
            media = headers.get("content-type", "").split(";")[0].strip().lower()
            if media not in JSON_TYPES:
                await refuse(
                    send,
                    headers,
                    415,
                    "POST bodies must be application/json.",
                    {"Accept-Post": "application/json"},
                )
                return
        length = headers.get("content-length", "")
        if length.isdigit() and int(length) > self.max_body_bytes:
            await self._too_large(send, headers)
            return
        await self._stream_limited(scope, receive, send, headers)

    async def _stream_limited(
        self, scope: Scope, receive: Receive, send: Send, headers: Headers
    ) -> None:
        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    raise BodyTooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except BodyTooLarge:
            if started:
                raise
            await self._too_large(send, headers)

    async def _too_large(self, send: Send, headers: Headers) -> None:
        await refuse(
            send,
            headers,
            413,
            f"The request body is larger than {self.max_body_bytes} bytes.",
            extensions={"limit": "body_bytes", "max": self.max_body_bytes},
        )


async def refuse(
    send: Send,
    request_headers: Headers,
    status: int,
    message: str,
    headers: dict[str, str] | None = None,
    extensions: dict[str, object] | None = None,
) -> None:
    """Answer with a JSON GraphQL error (``BAD_USER_INPUT``) and ``status``."""
    accept = request_headers.get("accept", "")
    media = GRAPHQL_RESPONSE if GRAPHQL_RESPONSE in accept else "application/json"
    error = {"message": message, "extensions": {"code": "BAD_USER_INPUT", **(extensions or {})}}
    body = json.dumps({"errors": [error]}).encode()
    raw = [
        (b"content-type", media.encode()),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
        *((k.lower().encode(), v.encode()) for k, v in (headers or {}).items()),
    ]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})
