"""A stand-in OTLP/HTTP collector for measuring the cost of tracing: it
accepts every ``POST /v1/traces``, counts requests and bytes, and prints the
counts when stopped (Ctrl-C or SIGTERM).

Run: ``.venv/bin/python bench/otlp_sink.py [--port 4318]``, then start the
server (or ``bench/run.py``) with
``OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318``.
"""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import FrameType


class _Sink(BaseHTTPRequestHandler):
    requests = 0
    received = 0

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        self.rfile.read(length)
        _Sink.requests += 1
        _Sink.received += length
        self.send_response(200)
        self.send_header("content-type", "application/x-protobuf")
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        return None


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--port", type=int, default=4318)
    port = parser.parse_args().port
    server = ThreadingHTTPServer(("127.0.0.1", port), _Sink)

    def stop(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    print(f"OTLP sink on http://127.0.0.1:{port}", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()
    print(f"export requests: {_Sink.requests}, bytes: {_Sink.received}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
