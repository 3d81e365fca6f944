"""The alert rules and the Grafana dashboard only use metrics the server exports.

A renamed metric would otherwise silence an alert without anyone noticing;
promtool cannot know which names exist.
"""

from __future__ import annotations

import re
from pathlib import Path

from prometheus_client import REGISTRY

from graphql_api import metrics

FILES = Path(__file__).resolve().parents[2] / "deploy" / "helm" / "agentmem" / "files"
SUFFIXES = {
    "counter": ("_total",),
    "histogram": ("_bucket", "_count", "_sum"),
    "gauge": ("",),
}


def exported_names() -> set[str]:
    assert metrics.REQUESTS is not None  # registered on import
    names: set[str] = set()
    for family in REGISTRY.collect():
        for suffix in SUFFIXES.get(family.type, ("",)):
            names.add(family.name + suffix)
    return names


def used_names() -> set[str]:
    text = (FILES / "alerts.yml").read_text() + (FILES / "grafana-dashboard.json").read_text()
    return set(re.findall(r"\bagentmem_[a-z_]+", text))


def test_alerts_and_dashboard_use_only_exported_metrics() -> None:
    used = used_names()
    assert len(used) >= 8, used
    unknown = used - exported_names()
    assert not unknown, f"deploy files use metrics the server does not export: {sorted(unknown)}"
