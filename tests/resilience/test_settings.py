"""Resilience settings: parsed from the environment, checked before use."""

from __future__ import annotations

import pytest

from graph.errors import BadInput
from graphql_api.backends import backend_config
from graphql_api.settings import SettingsError, load_settings


def test_resilience_settings_come_from_the_environment() -> None:
    settings = load_settings(
        {
            "AGENTMEM_NEO4J_TIMEOUT": "3.5",
            "AGENTMEM_BREAKER_OPEN_SECONDS": "2",
            "AGENTMEM_BREAKER_PROBES": "2",
            "AGENTMEM_MAX_CONCURRENT_REQUESTS": "8",
        }
    )
    config = backend_config(settings)
    assert config.neo4j_timeout == 3.5
    assert config.resilience.breaker.open_seconds == 2.0
    assert config.resilience.breaker.probes == 2
    assert settings.max_concurrent_requests == 8


def test_a_non_number_is_refused_by_name() -> None:
    with pytest.raises(SettingsError, match="redis_timeout must be a number"):
        load_settings({"AGENTMEM_REDIS_TIMEOUT": "soon"})


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("AGENTMEM_BREAKER_PROBES", "0"),
        ("AGENTMEM_BREAKER_FAILURE_RATIO", "2"),
        ("AGENTMEM_RETRY_ATTEMPTS", "0"),
        ("AGENTMEM_WEAVIATE_TIMEOUT", "0"),
    ],
)
def test_values_that_cannot_work_are_refused(variable: str, value: str) -> None:
    with pytest.raises(BadInput):
        backend_config(load_settings({variable: value}))


def test_serve_refuses_an_impossible_request_limit(capsys: pytest.CaptureFixture[str]) -> None:
    from graphql_api import cli

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AGENTMEM_MAX_CONCURRENT_REQUESTS", "0")
        assert cli.main(["serve"]) == 2
    assert "max_concurrent_requests must be at least 1" in capsys.readouterr().err
