"""Masking strategies: shapes, labels, stable keyed tokens, JSON values."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from graph.access.masking import Masker, Strategy
from graph.access.pii import PiiDetector

MASKER = Masker(PiiDetector(("US",)), b"test-key")
TEXT = "Mail john.doe@example.com or call +1 415 555 0134."

SHAPES = [
    ("john.doe@example.com", "j***@e***.com"),
    ("+1 415 555 0134", "+1 *** *** 0134"),
    ("(415) 555-0134", "+1 *** *** 0134"),
    ("4111 1111 1111 1111", "**** **** **** 1111"),
    ("DE89 3704 0044 0532 0130 00", "DE** **** **** **** **30 00"),
    ("123-45-6789", "***-**-****"),
    ("192.168.1.10", "192.*.*.*"),
    ("2001:db8::1", "2001:****"),
    ("sk-proj-abcdefghijklmnopqrstuvwx", "sk-proj-***"),
    ("ghp_abcdefghijklmnopqrstuvwxyz0123456789", "ghp_***"),
    ("AKIAIOSFODNN7EXAMPLE", "AKIA***"),
    ("amk_Q2hhbmdlTWUxMjM0NTY3", "amk_***"),
]


@pytest.mark.parametrize(("value", "shape"), SHAPES)
def test_mask_keeps_a_recognisable_shape(value: str, shape: str) -> None:
    assert MASKER.mask(f"x {value} y", Strategy.MASK) == f"x {shape} y"


def test_redact_names_the_kind() -> None:
    assert MASKER.mask(TEXT, Strategy.REDACT) == "Mail [EMAIL] or call [PHONE]."


def test_hash_tokens_are_stable_per_value_and_key() -> None:
    hashed = MASKER.mask(TEXT, Strategy.HASH)
    assert re.fullmatch(r"Mail \[EMAIL:[0-9a-f]{6}\] or call \[PHONE:[0-9a-f]{6}\]\.", hashed)
    # The same value written differently hashes alike; another key differs.
    assert MASKER.mask("JOHN.DOE@example.com", Strategy.HASH) == hashed.split()[1]
    assert MASKER.mask("call (415) 555-0134.", Strategy.HASH) == "call " + hashed.split()[-1]
    other = Masker(PiiDetector(("US",)), b"other-key")
    assert other.mask(TEXT, Strategy.HASH) != hashed


def test_text_without_pii_is_returned_as_is() -> None:
    text = "Nothing personal here, version 2.0.1 on 2024-05-01."
    for strategy in Strategy:
        assert MASKER.mask(text, strategy) is text


def test_json_strings_are_masked_keys_and_other_values_kept() -> None:
    value = {"contact": {"email": "a@b.io", "tags": ["x", "+1 415 555 0134"]}, "n": 5}
    assert MASKER.mask_json(value, Strategy.REDACT) == {
        "contact": {"email": "[EMAIL]", "tags": ["x", "[PHONE]"]},
        "n": 5,
    }
    assert {k.value for k in MASKER.json_kinds(value)} == {"email", "phone"}


def test_an_empty_hash_key_is_refused() -> None:
    with pytest.raises(ValueError, match="key"):
        Masker(PiiDetector(), b"")


secrets = st.text("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", min_size=24)


@settings(max_examples=60, deadline=None)
@given(secrets, st.sampled_from(list(Strategy)))
def test_no_strategy_ever_leaves_the_secret_in_the_output(body: str, strategy: Strategy) -> None:
    token = "sk-" + body
    out = MASKER.mask(f"my key is {token} ok", strategy)
    assert body not in out
