"""Server logs: one JSON object per line (or plain text), with the request and
trace ids, and personal data masked.

Fields of a JSON line: ``timestamp`` (UTC, ISO 8601, milliseconds),
``level``, ``logger``, ``message``, ``trace_id`` and ``span_id`` (of the span
current when the record was made; ``null`` without tracing), ``request_id``
(``X-Request-ID`` of the request being served; ``null`` outside requests),
``exception`` (the formatted traceback, when there is one). uvicorn's access
log lines add ``method``, ``path`` (without its query string: a GraphQL GET
carries variables there; ``other`` for paths the server does not serve,
which appear, scanned for PII, in the message only) and ``status``; the
client address is replaced by ``[IP]``.

:func:`logging_config` is a :func:`logging.config.dictConfig` dictionary
used both for the application and for uvicorn (its ``log_config``), so the
access log has the same format. Every handler gets the PII filter
(:class:`graph.access.log_filter.PiiLogFilter`): e-mail addresses, phone
numbers, card and account numbers, national ids and secrets in a message or
traceback are redacted before anything is written.
"""

from __future__ import annotations

import json
import logging
import secrets
from datetime import UTC, datetime
from typing import Any

from opentelemetry import trace

from graph.access.log_filter import PiiLogFilter
from graph.access.masking import Masker
from graph.access.pii import PiiDetector
from graphql_api.middleware import current_request_id

FORMATS = ("json", "text")
ACCESS_LOGGER = "uvicorn.access"
TEXT_FORMAT = (
    "%(asctime)s %(levelname)s %(name)s [request_id=%(request_id)s trace_id=%(trace_id)s] "
    "%(message)s"
)


class Correlation(logging.Filter):
    """Adds ``request_id``, ``trace_id`` and ``span_id`` to every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = current_request_id()
        if not hasattr(record, "trace_id"):
            span_context = trace.get_current_span().get_span_context()
            valid = span_context.is_valid
            record.trace_id = format(span_context.trace_id, "032x") if valid else None
            record.span_id = format(span_context.span_id, "016x") if valid else None
        return True


class ScrubPersonalData(PiiLogFilter):
    """The PII log filter with a detector of its own: it redacts (so the hash
    key, never used, is a throwaway)."""

    def __init__(self) -> None:
        super().__init__(Masker(PiiDetector(), secrets.token_bytes(16)))


class JsonFormatter(logging.Formatter):
    """One JSON object per record (see the module doc for the fields)."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "timestamp": datetime.fromtimestamp(record.created, UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "trace_id": getattr(record, "trace_id", None),
            "span_id": getattr(record, "span_id", None),
            "request_id": getattr(record, "request_id", None),
        }
        line.update(getattr(record, "access", None) or {})
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            line["exception"] = record.exc_text
        if record.stack_info:
            line["stack"] = record.stack_info
        return json.dumps(line, ensure_ascii=False, default=str)


KNOWN_PATHS = frozenset({"/", "/graphql", "/livez", "/readyz", "/startupz", "/metrics"})
"""Paths that cannot hold personal data: their access lines skip the PII scan."""


class AccessFields(logging.Filter):
    """Turns uvicorn's access record into fields, drops the query string
    from the path it logs (variables of a GET may be personal) and the client
    address (personal data). An access line for one of the server's own
    paths then holds nothing personal, so it is marked as scrubbed and skips
    the (comparatively slow) PII scan."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) == 5:
            _client, method, path, version, status = args
            path = str(path).split("?", 1)[0]
            record.args = ("[IP]", method, path, version, status)
            known = path in KNOWN_PATHS
            # Other paths stay in the message only, where the PII filter scans them.
            record.access = {"method": method, "path": path if known else "other", "status": status}
            if known:
                record._pii_scrubbed = True
        return True


def logging_config(level: str = "info", log_format: str = "json") -> dict[str, Any]:
    """The ``dictConfig`` for the application and uvicorn alike."""
    if log_format not in FORMATS:
        raise ValueError(f"log_format must be one of {', '.join(FORMATS)}, not {log_format!r}")
    formatter: dict[str, Any] = (
        {"()": JsonFormatter}
        if log_format == "json"
        else {"format": TEXT_FORMAT, "datefmt": "%Y-%m-%dT%H:%M:%S%z"}
    )
    handler = {
        "class": "logging.StreamHandler",
        "stream": "ext://sys.stderr",
        "formatter": "main",
        "filters": ["access", "correlation", "pii"],
    }
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {
            "access": {"()": AccessFields},
            "correlation": {"()": Correlation},
            "pii": {"()": ScrubPersonalData},
        },
        "formatters": {"main": formatter},
        "handlers": {"main": handler},
        "root": {"level": level.upper(), "handlers": ["main"]},
        "loggers": {
            name: {"level": level.upper(), "handlers": [], "propagate": True}
            for name in ("uvicorn", "uvicorn.error", ACCESS_LOGGER)
        },
    }


def configure(level: str = "info", log_format: str = "json") -> dict[str, Any]:
    """Apply :func:`logging_config` now; returns it (for uvicorn)."""
    import logging.config

    config = logging_config(level, log_format)
    logging.config.dictConfig(config)
    return config
