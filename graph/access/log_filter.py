"""Personal data never reaches a log in clear: a :class:`logging.Filter`
that masks PII in each record's message and exception text.

Filters on a logger do not see records propagated from its children, so
:func:`install` puts the filter on handlers: the root logger's and every
configured logger's (uvicorn's access log, for one).
"""

from __future__ import annotations

import logging

from graph.access.masking import Masker, Strategy


class PiiLogFilter(logging.Filter):
    """Masks personal data in records; never drops one."""

    def __init__(self, masker: Masker, strategy: Strategy = Strategy.REDACT) -> None:
        super().__init__()
        self._masker = masker
        self._strategy = strategy

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "_pii_scrubbed", False):
            return True  # a record reaching several handlers is scrubbed once
        try:
            message = record.getMessage()
        except Exception:  # a malformed record: leave it to the handler to report
            return True
        record.msg = self._masker.mask(message, self._strategy)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self._masker.mask(record.exc_text, self._strategy)
        if record.stack_info:
            record.stack_info = self._masker.mask(record.stack_info, self._strategy)
        record._pii_scrubbed = True
        return True


def install(log_filter: logging.Filter) -> None:
    """Attach ``log_filter`` to every handler configured now (idempotent)."""
    loggers = [logging.getLogger()]
    loggers += [
        logger
        for logger in logging.Logger.manager.loggerDict.values()
        if isinstance(logger, logging.Logger)
    ]
    for logger in loggers:
        for handler in logger.handlers:
            if not any(type(f) is type(log_filter) for f in handler.filters):
                handler.addFilter(log_filter)
