"""A one-line progress bar on stderr, redrawn at most ten times a second."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class ProgressBar:
    """Call with (phase, done, total); ``total=None`` shows a running count."""

    def __init__(self, stream: TextIO | None = None, width: int = 30) -> None:
        self._stream = stream if stream is not None else sys.stderr
        self._width = width
        self._phase: str | None = None
        self._last = 0.0
        self._line = ""

    def __call__(self, phase: str, done: int, total: int | None) -> None:
        now = time.monotonic()
        if phase != self._phase:
            self.finish()
            self._phase = phase
        elif now - self._last < 0.1 and done != total:
            return
        self._last = now
        if total:
            filled = min(self._width, self._width * done // total)
            bar = "#" * filled + "-" * (self._width - filled)
            self._line = f"{phase:<8} [{bar}] {done}/{total} {100 * done // total:3d}%"
        else:
            self._line = f"{phase:<8} {done} records"
        self._stream.write("\r" + self._line)
        self._stream.flush()

    def finish(self) -> None:
        """End the current line (keeping its last state on screen)."""
        if self._phase is not None and self._line:
            self._stream.write("\n")
            self._stream.flush()
        self._phase = None
        self._line = ""
