"""Operator commands that work on the stores directly: ``migrate`` and ``reindex``."""

from __future__ import annotations

import sys

from graph.services.reindex import DriftReport, Reindexer
from graphql_api.backends import open_graph
from graphql_api.settings import Settings


async def migrate(settings: Settings) -> int:
    """Apply pending schema migrations (opening the stores applies them)."""
    graph = await open_graph(settings)
    try:
        await graph.backends.store.ping()
        await graph.backends.index.ping()
    finally:
        await graph.close()
    print("schema migrations applied; stores are up to date")
    return 0


async def reindex(settings: Settings, verify: bool, dry_run: bool, tenants: list[str]) -> int:
    """Compare the search index with the graph and repair drift.

    Without ``verify`` every live memory is re-embedded and re-indexed. Exit
    code 1 when ``dry_run`` found drift.
    """
    graph = await open_graph(settings)
    try:
        backends = graph.backends
        reindexer = Reindexer(graph.index_store, backends.index, backends.embedder)
        report = await reindexer.verify(tenants or None)
        if not verify:
            for drift in report.tenants:
                live = await graph.index_store.live_memory_versions(drift.tenant)
                drift.stale = sorted(set(live) - set(drift.missing))
        _print(report)
        if dry_run:
            return 1 if report.drift else 0
        if report.drift:
            total = report.drift

            def progress(done: int) -> None:
                print(f"\rrepairing {done}/{total}", end="", file=sys.stderr, flush=True)

            repaired = await reindexer.repair(report, progress)
            print(file=sys.stderr)
            print(f"repaired {repaired} documents")
            after = await reindexer.verify(tenants or None)
            print(f"drift after repair: {after.drift}")
            return 1 if after.drift else 0
        return 0
    finally:
        await graph.close()


def _print(report: DriftReport) -> None:
    print(f"{'tenant':<24} {'live':>8} {'indexed':>8} {'missing':>8} {'stale':>8} {'orphaned':>8}")
    for t in report.tenants:
        print(
            f"{t.tenant:<24} {t.live:>8} {t.indexed:>8} {len(t.missing):>8}"
            f" {len(t.stale):>8} {len(t.orphaned):>8}"
        )
    print(f"drift: {report.drift}")
