"""Latency samples and their summary (percentiles, mean, throughput)."""

from __future__ import annotations

import math
import statistics
from dataclasses import asdict, dataclass
from typing import Any


def percentile(samples: list[float], q: float) -> float:
    """The ``q``-th percentile (0..100) by the nearest-rank method; NaN if empty."""
    if not samples:
        return math.nan
    ordered = sorted(samples)
    rank = math.ceil(q / 100 * len(ordered))
    return ordered[min(len(ordered), max(1, rank)) - 1]


@dataclass(frozen=True, slots=True)
class Summary:
    """One measured line: latencies in milliseconds, throughput in units per second.

    ``n`` counts the timed requests (errors included); ``rate`` is ``units``
    per second of wall time, where a unit is a request unless the line says
    otherwise (memories or relations for the seeding lines).
    """

    name: str
    n: int
    p50: float
    p95: float
    p99: float
    mean: float
    rate: float
    errors: int
    unit: str = "req"

    @classmethod
    def of(
        cls,
        name: str,
        latencies_s: list[float],
        elapsed_s: float,
        errors: int = 0,
        units: int | None = None,
        unit: str = "req",
    ) -> Summary:
        """Summarise latencies (seconds) measured over ``elapsed_s`` of wall time."""
        ms = [value * 1000 for value in latencies_s]
        done = len(latencies_s) if units is None else units
        return cls(
            name=name,
            n=len(latencies_s),
            p50=percentile(ms, 50),
            p95=percentile(ms, 95),
            p99=percentile(ms, 99),
            mean=statistics.fmean(ms) if ms else math.nan,
            rate=done / elapsed_s if elapsed_s > 0 else math.nan,
            errors=errors,
            unit=unit,
        )

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready figures (NaN becomes null)."""
        return {
            k: (None if isinstance(v, float) and math.isnan(v) else v)
            for k, v in asdict(self).items()
        }
