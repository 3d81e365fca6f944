"""PII detection: table tests for each kind, false-positive checks, and
properties over generated text."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from graph.access.pii import PiiDetector, PiiKind

DETECTOR = PiiDetector(("US", "GB"))

FOUND = [
    ("write to john.doe+tag@example.co.uk today", PiiKind.EMAIL, "john.doe+tag@example.co.uk"),
    ("call +1 415 555 0134 tomorrow", PiiKind.PHONE, "+1 415 555 0134"),
    ("call (415) 555-0134", PiiKind.PHONE, "(415) 555-0134"),
    ("ring +44 20 7946 0958 please", PiiKind.PHONE, "+44 20 7946 0958"),
    ("ring 020 7946 0958 please", PiiKind.PHONE, "020 7946 0958"),
    ("card 4111 1111 1111 1111 expires", PiiKind.CARD, "4111 1111 1111 1111"),
    ("amex 3782-822463-10005", PiiKind.CARD, "3782-822463-10005"),
    ("pay to DE89 3704 0044 0532 0130 00 now", PiiKind.IBAN, "DE89 3704 0044 0532 0130 00"),
    ("iban GB82WEST12345698765432", PiiKind.IBAN, "GB82WEST12345698765432"),
    ("SSN 123-45-6789", PiiKind.NATIONAL_ID, "123-45-6789"),
    ("CPF 390.533.447-05", PiiKind.NATIONAL_ID, "390.533.447-05"),
    ("DNI 12345678Z", PiiKind.NATIONAL_ID, "12345678Z"),
    ("codice RSSMRA85T10A562S", PiiKind.NATIONAL_ID, "RSSMRA85T10A562S"),
    ("aadhaar 2341 2341 2346", PiiKind.NATIONAL_ID, "2341 2341 2346"),
    ("from 192.168.1.10 at noon", PiiKind.IP, "192.168.1.10"),
    ("from 2001:db8::8a2e:370:7334.", PiiKind.IP, "2001:db8::8a2e:370:7334"),
    ("key sk-proj-abcdefghijklmnopqrstuvwx", PiiKind.SECRET, "sk-proj-abcdefghijklmnopqrstuvwx"),
    (
        "token ghp_abcdefghijklmnopqrstuvwxyz0123456789",
        PiiKind.SECRET,
        "ghp_abcdefghijklmnopqrstuvwxyz0123456789",
    ),
    ("aws AKIAIOSFODNN7EXAMPLE", PiiKind.SECRET, "AKIAIOSFODNN7EXAMPLE"),
    ("ours amk_Q2hhbmdlTWUxMjM0NTY3", PiiKind.SECRET, "amk_Q2hhbmdlTWUxMjM0NTY3"),
    (
        "jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
        PiiKind.SECRET,
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
    ),
]


@pytest.mark.parametrize(("text", "kind", "value"), FOUND)
def test_each_kind_is_found_exactly(text: str, kind: PiiKind, value: str) -> None:
    findings = DETECTOR.find(text)
    assert [(f.kind, f.text) for f in findings] == [(kind, value)]
    (finding,) = findings
    assert text[finding.start : finding.end] == value


NOT_PII = [
    "Meeting on 2024-01-15 at 10:30:45, moved to 15/01/2024.",
    "We shipped 3.11.2 and version 1.2.3.4 (build 20240115).",
    "Order 12345678 cost 1,234,567.89 dollars; 42 people came in 1999.",
    "ISBN 978-3-16-148410-0 and MAC 00:1A:2B:3C:4D:5E.",
    "A 16-digit id 1234 5678 9012 3456 that fails Luhn.",
    "Luhn-valid but no card prefix: 0000 0000 0000 0000.",
    "SSN-shaped but invalid: 000-12-3456, 666-12-3456.",
    "Not an IBAN: DE00 1234 5678 9012 3456 78.",
    "C++ std::vector and a::b and ratio 16:9.",
    "The sk-short key and ghp_tooShort are not tokens.",
    "user at example dot com, @mention and email@localhost.",
    "pi is 3.14159265358979 and e is 2.718281828459045",
]


@pytest.mark.parametrize("text", NOT_PII)
def test_ordinary_text_has_no_findings(text: str) -> None:
    assert DETECTOR.find(text) == ()


def test_overlaps_keep_the_most_specific_kind() -> None:
    text = "mail 4111111111111111@example.com and sk-abcdefghijklmnopqrstuvwxyz@x.io"
    kinds = [f.kind for f in DETECTOR.find(text)]
    assert kinds == [PiiKind.EMAIL, PiiKind.SECRET]


def test_findings_come_in_text_order_and_do_not_overlap() -> None:
    text = "a@b.io, +1 415 555 0134, 10.0.0.7, DE89 3704 0044 0532 0130 00, x@y.org"
    findings = DETECTOR.find(text)
    assert [f.kind for f in findings] == [
        PiiKind.EMAIL,
        PiiKind.PHONE,
        PiiKind.IP,
        PiiKind.IBAN,
        PiiKind.EMAIL,
    ]
    for before, after in itertools.pairwise(findings):
        assert before.end <= after.start


def test_unknown_phone_region_is_refused() -> None:
    with pytest.raises(ValueError, match="XX"):
        PiiDetector(("XX",))


def test_a_national_number_needs_its_region() -> None:
    assert PiiDetector(("US",)).find("ring 020 7946 0958") == ()


words = st.sampled_from(["the", "memo", "about", "v2", "at", "on", "and", "price", "agent"])
plain_numbers = st.integers(0, 999_999).map(str)
dates = st.dates().map(lambda d: d.isoformat())
versions = st.tuples(st.integers(0, 30), st.integers(0, 99), st.integers(0, 99)).map(
    lambda v: ".".join(map(str, v))
)
times = st.times().map(lambda t: t.strftime("%H:%M:%S"))


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(words, st.one_of(plain_numbers, dates, versions, times)), max_size=8))
def test_short_numbers_dates_and_versions_in_prose_are_never_pii(
    parts: list[tuple[str, str]],
) -> None:
    assert DETECTOR.find(" ".join(f"{word} {value}" for word, value in parts)) == ()


@settings(max_examples=100, deadline=None)
@given(st.lists(st.one_of(dates, versions, times), max_size=6))
def test_dates_times_and_versions_side_by_side_are_never_pii(parts: list[str]) -> None:
    assert DETECTOR.find(" ".join(parts)) == ()


def test_dotted_us_phone_numbers_are_still_found() -> None:
    assert [f.kind for f in DETECTOR.find("call 415.555.0134")] == [PiiKind.PHONE]


local = st.text("abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=12)


@settings(max_examples=100, deadline=None)
@given(local, local, st.sampled_from(["com", "org", "io", "de"]), st.lists(words, max_size=4))
def test_any_email_in_prose_is_found(user: str, host: str, tld: str, prose: list[str]) -> None:
    address = f"{user}@{host}.{tld}"
    text = " ".join([*prose, address, *prose])
    assert [(f.kind, f.text) for f in DETECTOR.find(text)] == [(PiiKind.EMAIL, address)]
