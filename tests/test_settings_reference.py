"""The configuration reference covers every setting and is up to date."""

from __future__ import annotations

from pathlib import Path

from graphql_api.settings_reference import reference, undocumented

DOC = Path(__file__).resolve().parent.parent / "docs" / "configuration.md"


def test_every_setting_has_a_description() -> None:
    missing = undocumented()
    assert not missing, (
        f"add a line for {missing} to DESCRIPTIONS in graphql_api/settings_reference.py, "
        "then run `python -m graphql_api.settings_reference > docs/configuration.md`"
    )


def test_configuration_doc_is_generated_from_the_settings() -> None:
    assert DOC.read_text() == reference(), (
        "docs/configuration.md is stale: run "
        "`python -m graphql_api.settings_reference > docs/configuration.md`"
    )
