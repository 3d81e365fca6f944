"""The Starlette application: ``/graphql``, a health check, and the lifespan
that opens the backends and starts background indexing."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.types import ASGIApp, Receive, Scope, Send

from graph.access import log_filter
from graph.memory_graph import MemoryGraph
from graphql_api import metrics
from graphql_api.access import load_access
from graphql_api.auth_setup import make_authenticator, write_bootstrap_key
from graphql_api.backends import backend_config, open_graph
from graphql_api.hardening import (
    allow_list,
    guard_config,
    is_production,
    make_rate_limiter,
    middleware,
    persisted_queries,
)
from graphql_api.health import ReadinessProbe, Startup, livez
from graphql_api.load_shedding import ConcurrencyLimit
from graphql_api.middleware import RequestObservability
from graphql_api.settings import Settings
from graphql_api.tracing import start_tracing, stop_tracing
from graphql_api.view import GraphQLEndpoint
from schema.build import build_schema

log = logging.getLogger("agentmem")


class _Deferred:
    """An ASGI app that forwards to one created when the lifespan starts."""

    app: ASGIApp | None = None
    graph: MemoryGraph | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.app is None:
            raise RuntimeError("the server is not started (lifespan not run)")
        await self.app(scope, receive, send)


def create_app(settings: Settings) -> Starlette:
    rate_limiter = make_rate_limiter(settings)
    allowed = allow_list(settings)
    schema = build_schema(guard_config(settings, rate_limiter, allowed))
    access = load_access(settings)
    graphql = _Deferred()
    metrics.install()
    probe = ReadinessProbe(settings.readiness_cache_seconds)
    startup = Startup()

    async def readyz(request: Request) -> Response:
        if graphql.graph is None:
            return JSONResponse({"status": "starting"}, status_code=503)
        ready, body = await probe.check(graphql.graph)
        return JSONResponse(body, status_code=200 if ready else 503)

    async def startupz(request: Request) -> Response:
        started, body = startup.report()
        return JSONResponse(body, status_code=200 if started else 503)

    async def metrics_endpoint(request: Request) -> Response:
        return await metrics.metrics_response(request, graphql.graph)

    async def root(request: Request) -> Response:
        return RedirectResponse("/graphql")

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        tracing = start_tracing()
        try:
            graph = await open_graph(settings)
        except BaseException:
            stop_tracing(tracing)
            raise
        startup.migrated(backend_config(settings).name)
        await graph.start()
        warm_up = asyncio.create_task(
            startup.warm(graph.backends.embedder), name="embedder-warm-up"
        )
        bootstrap = await write_bootstrap_key(settings, graph)
        if bootstrap is not None:
            print(f"Bootstrap admin key for tenant {settings.tenant!r}: {bootstrap}", flush=True)
        log_filter.install(log_filter.PiiLogFilter(access.masker))
        graphql.app = GraphQLEndpoint(
            schema,
            graph,
            make_authenticator(settings, graph),
            graphiql=not is_production(settings),
            persisted=persisted_queries(settings, graph.backends.cache, allowed),
            recheck_seconds=settings.auth_recheck_seconds,
            access=access,
        )
        graphql.graph = graph
        log.info("AgentMem serving on %s", backend_config(settings).name)
        try:
            yield
        finally:
            warm_up.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await warm_up
            await graph.close(flush_seconds=settings.shutdown_drain_seconds)
            if rate_limiter is not None:
                await rate_limiter.close()
            stop_tracing(tracing)
            metrics.process_exited()

    return Starlette(
        routes=[
            Route("/graphql", graphql),
            WebSocketRoute("/graphql", graphql),
            Route("/livez", livez),
            Route("/readyz", readyz),
            Route("/startupz", startupz),
            Route("/metrics", metrics_endpoint),
            Route("/", root),
        ],
        lifespan=lifespan,
        middleware=[
            Middleware(RequestObservability),
            *middleware(settings),  # CORS, CSRF content types, body size
            Middleware(
                ConcurrencyLimit,
                limit=settings.max_concurrent_requests,
                queue_seconds=settings.request_queue_seconds,
            ),
        ],
    )
