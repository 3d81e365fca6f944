"""Graceful shutdown of ``agentmem serve``.

On SIGTERM (or SIGINT) uvicorn stops accepting connections, lets every
in-flight HTTP request finish (for at most ``shutdown_drain_seconds``, after
which the remaining ones are cancelled), closes each WebSocket with close code
1012 "service restart" (RFC 6455; clients such as graphql-ws take it as "come
back shortly" and reconnect), and then runs the application's lifespan
shutdown: the indexer finishes the outbox batch in progress and drains what is
left (bounded by the same setting; whatever remains stays in the durable
outbox for the next start), and the backends close.

:class:`GracefulServer` is uvicorn's server minus one habit: after a
signal-triggered shutdown uvicorn re-raises the signal, so the process would
die "killed by SIGTERM" (exit status 143) even though it shut down cleanly.
Here a clean shutdown exits with status 0, which process supervisors read as
"stopped as asked".
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import uvicorn


class GracefulServer(uvicorn.Server):
    """A uvicorn server whose graceful, signal-triggered shutdown exits 0."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        with super().capture_signals():
            yield
            # uvicorn re-raises the captured signals once its handlers are
            # restored; the shutdown they asked for has already happened.
            self._captured_signals.clear()
