"""The benchmark's report: targets, the aligned text table and the JSON form."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from bench import scenarios
from bench.stats import Summary


@dataclass(frozen=True, slots=True)
class Target:
    """A goal for one measured line: ``field`` compared with ``limit``."""

    line: str
    label: str
    field: str
    limit: float
    at_most: bool

    @property
    def unit(self) -> str:
        return "ms" if self.field != "rate" else "mem/s"

    def judge(self, summary: Summary) -> str:
        value = getattr(summary, self.field)
        if summary.errors:
            return f"missed ({summary.errors} errors)"
        ok = value <= self.limit if self.at_most else value >= self.limit
        return "met" if ok and not math.isnan(value) else "missed"


INGEST_LINE = "ingest"
TARGETS = (
    Target(scenarios.HYBRID, "search HYBRID p95", "p95", 50.0, True),
    Target(scenarios.MEMORY_BY_ID, "memory(id) p95", "p95", 5.0, True),
    Target(scenarios.NESTED_QUERY, "nested agent>memories>related p95", "p95", 50.0, True),
    Target(INGEST_LINE, "ingest throughput", "rate", 200.0, False),
)


@dataclass
class Report:
    """Everything the run measured, for the table and for ``--json``."""

    facts: dict[str, Any]
    embedder: Summary | None = None
    seeding: list[Summary] = field(default_factory=list)
    reads: list[Summary] = field(default_factory=list)
    first_errors: dict[str, str] = field(default_factory=dict)

    def line(self, name: str) -> Summary | None:
        if name == INGEST_LINE:
            return next((s for s in self.seeding if s.unit == "mem"), None)
        return next((s for s in self.reads if s.name == name), None)


def _row(s: Summary, width: int) -> str:
    rate = f"{s.rate:,.1f} {s.unit}/s"
    return (
        f"  {s.name:<{width}} {s.n:>6} {s.p50:>9.2f} {s.p95:>9.2f} {s.p99:>9.2f} "
        f"{s.mean:>9.2f} {rate:>15} {s.errors:>6}"
    )


def _triple(values: Sequence[float] | None) -> str:
    return "/".join(f"{v:.2f}" for v in values) if values else "n/a"


def _sections(report: Report) -> list[tuple[str, list[Summary]]]:
    concurrent = [s for s in report.reads if not s.name.endswith(scenarios.SERIAL)]
    serial = [s for s in report.reads if s.name.endswith(scenarios.SERIAL)]
    return [
        ("embedder alone, in-process", [report.embedder] if report.embedder else []),
        ("seeding over HTTP (latency per request)", report.seeding),
        (f"reads over HTTP, {report.facts['concurrency']} concurrent callers", concurrent),
        ("reads over HTTP, 1 caller (latency without queueing)", serial),
    ]


def _target_rows(report: Report) -> list[str]:
    out = []
    for target in TARGETS:
        line = report.line(target.line)
        sign = "<=" if target.at_most else ">="
        goal = f"{sign} {target.limit:g} {target.unit}"
        if line is None:
            out.append(f"  {target.label:<36} {goal:<14} not measured")
            continue
        value = getattr(line, target.field)
        text = (
            f"  {target.label:<36} {goal:<14} measured {value:>9,.2f} {target.unit:<6} "
            f"{target.judge(line):<8}"
        )
        serial = report.line(target.line + scenarios.SERIAL)
        if serial is not None:
            value = getattr(serial, target.field)
            text += f" (1 caller: {value:,.2f} {target.unit}, {target.judge(serial)})"
        out.append(text.rstrip())
    return out


def render(report: Report) -> str:
    """The human-readable report."""
    f = report.facts
    sections = [(title, lines) for title, lines in _sections(report) if lines]
    width = max([30, *(len(s.name) for _, lines in sections for s in lines)])
    out = [
        f"AgentMem GraphQL benchmark, {f['date']}",
        f"machine: {f['cpus']} CPUs ({f['cpu_model']}), {f['platform']}, Python {f['python']}",
        f"server:  {f['server']}",
        f"data:    {f['memories']} memories, {f['agents']} agents, {f.get('relations', 0)} "
        f"relations; {f['requests']} requests per scenario after {f['warmup']} warm-up",
        f"load:    1/5/15-min load average {_triple(f['load_average_start'])} at the start, "
        f"{_triple(f.get('load_average_end'))} at the end (other work on the machine skews "
        "figures)",
        "latency is client-side (HTTP and JSON included), in ms",
        "",
        f"  {'scenario':<{width}} {'n':>6} {'p50':>9} {'p95':>9} {'p99':>9} "
        f"{'mean':>9} {'throughput':>15} {'errors':>6}",
    ]
    ingest = report.line(INGEST_LINE)
    for title, lines in sections:
        out += [title, *(_row(s, width) for s in lines)]
        if ingest in lines and report.embedder:
            share = 100 * ingest.rate / report.embedder.rate
            out.append(
                f"  (ingest runs at {share:.0f}% of the embedder's own {report.embedder.rate:,.0f}"
                " texts/s)"
            )
    out += ["", "targets", *_target_rows(report)]
    if report.first_errors:
        out += ["", "first error of each line with errors"]
        out += [f"  {name}: {message}" for name, message in report.first_errors.items()]
    return "\n".join(out)


def as_json(report: Report) -> dict[str, Any]:
    """The same figures as ``render``, JSON-ready."""
    targets = []
    for target in TARGETS:
        line = report.line(target.line)
        serial = report.line(target.line + scenarios.SERIAL)
        targets.append(
            {
                "target": target.label,
                "limit": target.limit,
                "unit": target.unit,
                "at_most": target.at_most,
                "measured": None if line is None else getattr(line, target.field),
                "status": "not measured" if line is None else target.judge(line),
                "measured_1_caller": None if serial is None else getattr(serial, target.field),
                "status_1_caller": None if serial is None else target.judge(serial),
            }
        )
    return {
        "facts": report.facts,
        "embedder": report.embedder.as_dict() if report.embedder else None,
        "seeding": [s.as_dict() for s in report.seeding],
        "reads": [s.as_dict() for s in report.reads],
        "targets": targets,
        "first_errors": report.first_errors,
    }
