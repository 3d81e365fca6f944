"""The ``/graphql`` endpoint: GraphQL over HTTP (per the GraphQL-over-HTTP
spec), over WebSocket (``graphql-transport-ws`` and legacy ``graphql-ws``),
and GraphiQL for browsers.

HTTP behaviour:
- A client that accepts ``application/graphql-response+json`` gets that media
  type, and status 400 when the request failed before execution (unparsable
  body, syntax or validation error); other clients get ``application/json``
  with status 200 for any well-formed GraphQL response.
- Mutations are refused over GET (405, ``Allow: POST``).
- Every error body is JSON with ``extensions.code``; never a stack trace.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from cross_web import AsyncHTTPRequestAdapter, HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.schema import BaseSchema
from strawberry.schema.exceptions import InvalidOperationTypeError
from strawberry.types import ExecutionResult

from graph.access.principal import Principal
from graph.errors import DomainError, Unauthenticated
from graph.memory_graph import MemoryGraph
from graphql_api.access import Access
from graphql_api.authentication import Authenticator
from graphql_api.graphiql import graphiql_html
from graphql_api.hardening import http_status
from graphql_api.persisted import PersistedQueries, PersistedQueryError
from resolvers.context import RequestContext
from schema.errors import coded

log = logging.getLogger(__name__)

GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"


def wants_graphql_response(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return GRAPHQL_RESPONSE in accept


class GraphQLEndpoint(GraphQL[RequestContext, None]):
    def __init__(
        self,
        schema: BaseSchema,
        graph: MemoryGraph,
        authenticator: Authenticator,
        *,
        graphiql: bool = True,
        persisted: PersistedQueries | None = None,
        recheck_seconds: float = 5.0,
        access: Access | None = None,
    ) -> None:
        super().__init__(
            schema,
            keep_alive=True,
            keep_alive_interval=15,
            graphql_ide="graphiql" if graphiql else None,
        )
        self._graph = graph
        self._authenticator = authenticator
        self._recheck_seconds = recheck_seconds
        self._graphiql = graphiql
        self._access = access
        self._ide_html = graphiql_html()
        self._persisted = persisted

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            try:
                await super().__call__(scope, receive, send)
            finally:
                watcher = scope.get(_WATCHER)
                if watcher is not None:
                    watcher.cancel()
            return
        request = Request(scope, receive=receive)
        if self._graphiql and _wants_ide(request):
            await HTMLResponse(self._ide_html)(scope, receive, send)
            return
        try:
            response = await self.run(request)
        except HTTPException as exc:
            response = self._http_error(request, exc.status_code, exc.reason)
        except PersistedQueryError as exc:
            response = self._http_error(request, exc.status, exc.message, exc.code)
        except Unauthenticated as exc:
            response = self._unauthenticated(request, exc)
        except DomainError as exc:
            # Raised before execution, e.g. by authentication while the key
            # store is unreachable: still a coded GraphQL error, never a 500 page.
            status = _STATUS_OF_CODE.get(exc.code, 400)
            response = self._http_error(request, status, exc.message, exc.code)
            if status == 503:
                response.headers["Retry-After"] = "1"
        await response(scope, receive, send)

    async def parse_http_body(
        self, request: AsyncHTTPRequestAdapter
    ) -> GraphQLRequestData | list[GraphQLRequestData]:
        """As Strawberry's, with a persisted query's hash resolved to its document."""
        data = await super().parse_http_body(request)
        if self._persisted is None or isinstance(data, list):
            return data
        return replace(data, query=await self._persisted.resolve(data.query, data.extensions))

    async def execute_single(self, *args: Any, **kwargs: Any) -> ExecutionResult:
        """As Strawberry's, but a mutation over GET is 405 (spec), not 400."""
        try:
            return await super().execute_single(*args, **kwargs)
        except HTTPException as exc:
            if isinstance(exc.__cause__, InvalidOperationTypeError):
                raise HTTPException(405, exc.reason) from exc
            raise

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> RequestContext:
        if isinstance(request, Request) and isinstance(response, Response):
            response.media_type = GRAPHQL_RESPONSE if wants_graphql_response(request) else JSON
            request.state.sub_response = response
        if isinstance(request, WebSocket):
            # Credentials arrive with connection_init: see on_ws_connect.
            principal = Principal("unauthenticated", "", frozenset(), kind="anonymous")
        else:
            principal = await self._authenticator.authenticate(request)
        access = self._access
        context = RequestContext.create(
            self._graph,
            principal,
            request,
            response,
            policy=access.policy if access else None,
            masker=access.masker if access else None,
        )
        if isinstance(request, Request):
            request.state.context = context
        return context

    async def on_ws_connect(self, context: RequestContext) -> None:
        """Authenticate a WebSocket from its ``connection_init`` payload (or
        its upgrade headers); refused connections close with 4403. Accepted
        ones are watched: when their credentials expire or are revoked, the
        socket closes with 4403."""
        websocket: WebSocket = context.request
        try:
            principal = await self._authenticator.authenticate(
                websocket, context.connection_params or {}
            )
        except DomainError as exc:
            raise ConnectionRejectionError({"message": exc.message, "code": exc.code}) from exc
        context.become(principal)
        watcher = asyncio.create_task(self._watch(websocket, principal))
        websocket.scope[_WATCHER] = watcher

    async def _watch(self, websocket: WebSocket, principal: Principal) -> None:
        """Close ``websocket`` with 4403 once ``principal`` no longer holds."""
        while True:
            delay = self._recheck_seconds
            if principal.expires_at is not None:
                left = (principal.expires_at - datetime.now(UTC)).total_seconds()
                delay = max(0.0, min(delay, left))
            await asyncio.sleep(delay)
            try:
                valid = await self._authenticator.still_valid(principal)
            except DomainError:
                continue  # the key store is briefly unavailable: keep the socket
            if not valid:
                log.info("closing a WebSocket whose credentials expired or were revoked")
                with contextlib.suppress(Exception):
                    await websocket.close(code=4403, reason="Forbidden")
                return

    async def render_graphql_ide(self, request: Request) -> Response:
        return HTMLResponse(self._ide_html)

    async def process_result(
        self, request: Request, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        errors = result.errors or []
        request_error = result.data is None and bool(errors) and all(e.path is None for e in errors)
        body: dict[str, Any] = {} if request_error else {"data": result.data}
        if errors:
            body["errors"] = [coded(e).formatted for e in errors]
        sub_response = getattr(request.state, "sub_response", None)
        if request_error and wants_graphql_response(request) and sub_response is not None:
            sub_response.status_code = 400
        refusal = http_status(body.get("errors", []))
        if refusal is not None and sub_response is not None:
            sub_response.status_code, headers = refusal
            sub_response.headers.update(headers)
        extensions = dict(result.extensions or {})
        context = getattr(request.state, "context", None)
        if context is not None and context.degraded:
            extensions["degraded"] = sorted(context.degraded)
        if extensions:
            body["extensions"] = extensions
        return body  # type: ignore[return-value]

    def create_response(
        self, response_data: GraphQLHTTPResponse | list[GraphQLHTTPResponse], sub_response: Response
    ) -> Response:
        response = Response(
            self.encode_json(response_data),
            status_code=sub_response.status_code or 200,
            media_type=sub_response.media_type or JSON,
        )
        for key, value in sub_response.headers.items():
            if key.lower() not in ("content-type", "content-length"):
                response.headers[key] = value
        return response

    @staticmethod
    def _unauthenticated(request: Request, exc: Unauthenticated) -> Response:
        media = GRAPHQL_RESPONSE if wants_graphql_response(request) else JSON
        body = {"errors": [{"message": exc.message, "extensions": {"code": exc.code}}]}
        headers = {"WWW-Authenticate": 'Bearer realm="agentmem"'}
        return JSONResponse(body, status_code=401, media_type=media, headers=headers)

    @staticmethod
    def _http_error(
        request: Request, status: int, reason: str, code: str = "BAD_USER_INPUT"
    ) -> Response:
        media = GRAPHQL_RESPONSE if wants_graphql_response(request) else JSON
        body = {"errors": [{"message": reason, "extensions": {"code": code}}]}
        headers = {"Allow": "POST"} if status == 405 else None
        return JSONResponse(body, status_code=status, media_type=media, headers=headers)


_STATUS_OF_CODE = {"UNAVAILABLE": 503, "RATE_LIMITED": 429, "FORBIDDEN": 403, "NOT_FOUND": 404}
"""HTTP status of a domain error raised before the operation could run."""

_WATCHER = "agentmem.credential_watcher"
"""Scope key of a WebSocket's credential watcher task (cancelled on close)."""


def _wants_ide(request: Request) -> bool:
    """A browser asking for GraphiQL: served without credentials (the page
    itself holds no data; the user pastes a key into its headers editor)."""
    return (
        request.method == "GET"
        and "query" not in request.query_params
        and "text/html" in request.headers.get("accept", "")
    )
