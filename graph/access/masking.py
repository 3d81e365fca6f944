"""Hiding the personal data a :class:`~graph.access.pii.PiiDetector` finds
(pure code).

Three strategies:

- ``mask`` keeps the shape: ``j***@e***.com``, ``+1 *** *** 1234``,
  ``**** **** **** 1111``, ``192.*.*.*``, ``sk-***``;
- ``redact`` replaces each finding by its kind: ``[EMAIL]``, ``[PHONE]``;
- ``hash`` replaces it by a stable keyed token, ``[EMAIL:3f2a9c]``: the same
  value gives the same token under one key (so readers can tell two mentions
  apart or match them), and the value cannot be recovered without the key.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import re
import secrets
from collections.abc import Callable, Mapping
from functools import cache, lru_cache
from typing import Any

import phonenumbers

from graph.access.pii import Finding, PiiDetector, PiiKind


class Strategy(enum.StrEnum):
    MASK = "mask"
    REDACT = "redact"
    HASH = "hash"


LABELS: Mapping[PiiKind, str] = {kind: kind.value.upper() for kind in PiiKind}
HASH_CHARS = 6
CACHE_SIZE = 2048
CACHED_TEXT_CHARS = 8192


class Masker:
    """Applies a strategy to every finding in a text (or in JSON values)."""

    def __init__(self, detector: PiiDetector, hash_key: bytes) -> None:
        if not hash_key:
            raise ValueError("the PII hash key must not be empty")
        self.detector = detector
        self._hash_key = hash_key
        self._cached = lru_cache(maxsize=CACHE_SIZE)(self._mask)

    def mask(self, text: str, strategy: Strategy) -> str:
        """``text`` with every finding replaced as ``strategy`` says (cached:
        the same content is read many times)."""
        if not self.detector.find(text):
            return text
        if len(text) <= CACHED_TEXT_CHARS:
            return self._cached(text, strategy)
        return self._mask(text, strategy)

    def _mask(self, text: str, strategy: Strategy) -> str:
        findings = self.detector.find(text)
        replace = self._replacer(strategy)
        parts: list[str] = []
        position = 0
        for finding in findings:
            parts.append(text[position : finding.start])
            parts.append(replace(finding))
            position = finding.end
        parts.append(text[position:])
        return "".join(parts)

    def mask_json(self, value: Any, strategy: Strategy) -> Any:
        """``value`` with every string in it masked (keys are kept)."""
        if isinstance(value, str):
            return self.mask(value, strategy)
        if isinstance(value, dict):
            return {k: self.mask_json(v, strategy) for k, v in value.items()}
        if isinstance(value, list):
            return [self.mask_json(v, strategy) for v in value]
        return value

    def json_kinds(self, value: Any) -> frozenset[PiiKind]:
        """The kinds of personal data in any string inside ``value``."""
        if isinstance(value, str):
            return self.detector.kinds(value)
        kinds: frozenset[PiiKind] = frozenset()
        if isinstance(value, dict):
            for item in value.values():
                kinds |= self.json_kinds(item)
        elif isinstance(value, list):
            for item in value:
                kinds |= self.json_kinds(item)
        return kinds

    def token(self, finding: Finding) -> str:
        """The ``hash`` strategy's token for one finding."""
        message = f"{finding.kind.value}:{finding.canonical}".encode()
        digest = hmac.new(self._hash_key, message, hashlib.sha256).hexdigest()
        return f"[{LABELS[finding.kind]}:{digest[:HASH_CHARS]}]"

    def _replacer(self, strategy: Strategy) -> Callable[[Finding], str]:
        if strategy is Strategy.REDACT:
            return lambda f: f"[{LABELS[f.kind]}]"
        if strategy is Strategy.HASH:
            return self.token
        return shape


@cache
def default_masker() -> Masker:
    """A masker for code that has no configured one (tests, error messages):
    US phone formats, and a key made at random, so ``hash`` tokens are stable
    within this process only."""
    return Masker(PiiDetector(), secrets.token_bytes(32))


def shape(finding: Finding) -> str:
    """The ``mask`` strategy: enough of the shape to recognise, not to recover."""
    return _SHAPERS[finding.kind](finding)


def _email(finding: Finding) -> str:
    local, _, domain = finding.text.partition("@")
    labels = domain.split(".")
    return f"{local[0]}***@{labels[0][0]}***.{labels[-1]}"


def _phone(finding: Finding) -> str:
    number = phonenumbers.parse(finding.canonical)
    national = str(number.national_number)
    return f"+{number.country_code} *** *** {national[-4:]}"


def _keep_last(count: int) -> Callable[[Finding], str]:
    def masked(finding: Finding) -> str:
        text = finding.text
        visible = 0
        out = []
        for char in reversed(text):
            if char.isalnum():
                out.append(char if visible < count else "*")
                visible += 1
            else:
                out.append(char)
        return "".join(reversed(out))

    return masked


def _iban(finding: Finding) -> str:
    return finding.text[:2] + _keep_last(4)(finding)[2:]


def _ip(finding: Finding) -> str:
    if ":" in finding.text:
        return finding.canonical.split(":", 1)[0] + ":****"
    return finding.text.split(".", 1)[0] + ".*.*.*"


_SECRET_PREFIX = re.compile(
    r"(?:sk-(?:proj-|ant-)?|[sr]k_(?:live|test)_|gh[pousr]_|github_pat_|AKIA|ASIA|AIza"
    r"|xox[abprs]-|amk_|eyJ|-----BEGIN[A-Z ]*PRIVATE KEY-----)"
)


def _secret(finding: Finding) -> str:
    prefix = _SECRET_PREFIX.match(finding.text)
    return (prefix.group() if prefix else "") + "***"


_SHAPERS: Mapping[PiiKind, Callable[[Finding], str]] = {
    PiiKind.EMAIL: _email,
    PiiKind.PHONE: _phone,
    PiiKind.CARD: _keep_last(4),
    PiiKind.IBAN: _iban,
    PiiKind.NATIONAL_ID: _keep_last(0),
    PiiKind.IP: _ip,
    PiiKind.SECRET: _secret,
}
