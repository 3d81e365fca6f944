"""Log records carry no personal data in clear, whatever the handler."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest

from graph.access import log_filter
from graph.access.masking import Masker
from graph.access.pii import PiiDetector

MASKER = Masker(PiiDetector(("US",)), b"k")


@pytest.fixture
def captured() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    logger = logging.getLogger("agentmem.test.pii")
    logger.addHandler(handler)
    logger.propagate = False
    log_filter.install(log_filter.PiiLogFilter(MASKER))
    log_filter.install(log_filter.PiiLogFilter(MASKER))  # idempotent
    try:
        yield logger, stream
    finally:
        logger.removeHandler(handler)
        logger.propagate = True


def test_messages_and_their_arguments_are_scrubbed(
    captured: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, stream = captured
    logger.warning("login by %s from %s", "ann@example.com", "203.0.113.9")
    assert stream.getvalue() == "login by [EMAIL] from [IP]\n"
    for handler in logger.handlers:
        assert len(handler.filters) == 1


def test_exception_text_is_scrubbed(captured: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = captured
    try:
        raise ValueError("bad card 4111 1111 1111 1111 for bob@example.org")
    except ValueError:
        logger.exception("failed")
    out = stream.getvalue()
    assert "4111" not in out and "bob@" not in out
    assert "ValueError: bad card [CARD] for [EMAIL]" in out
