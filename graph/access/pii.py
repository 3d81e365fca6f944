"""Finding personal data and secrets in text (pure code).

:class:`PiiDetector` finds e-mail addresses, phone numbers (``phonenumbers``),
payment card numbers (Luhn and a known card prefix), IBANs and a few national
identifiers that have a distinctive written form (``python-stdnum`` checks
their check digits), IPv4/IPv6 addresses, and secrets such as API tokens.
Each candidate is validated, so ordinary numbers, dates and version strings
are not reported. Overlapping findings keep the more specific kind (a secret
over an e-mail address over an IBAN over a card ... over a phone number).

Findings are cached per text (an LRU of recent short texts): the same content
is read many times, and phone matching is the expensive step.
"""

from __future__ import annotations

import enum
import ipaddress
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache

import phonenumbers
from stdnum import iban, luhn
from stdnum.br import cpf
from stdnum.es import dni, nie
from stdnum.fr import nir
from stdnum.in_ import aadhaar
from stdnum.it import codicefiscale
from stdnum.us import ssn


class PiiKind(enum.StrEnum):
    EMAIL = "email"
    PHONE = "phone"
    CARD = "card"
    IBAN = "iban"
    NATIONAL_ID = "national_id"
    IP = "ip"
    SECRET = "secret"


@dataclass(frozen=True, slots=True)
class Finding:
    kind: PiiKind
    start: int
    end: int
    text: str
    """The matched text as written."""
    canonical: str
    """A normal form (lower-case address, E.164 number, digits only, ...):
    equal values written differently hash alike."""


_EMAIL = re.compile(
    r"(?<![\w.%+-])[A-Za-z0-9][A-Za-z0-9._%+-]{0,63}"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24}(?![\w-])"
)
_SECRET = re.compile(
    r"""(?<![\w-])(?:
        sk-(?:proj-|ant-)?[A-Za-z0-9_-]{20,}
      | [sr]k_(?:live|test)_[A-Za-z0-9]{16,}
      | gh[pousr]_[A-Za-z0-9]{30,}
      | github_pat_[A-Za-z0-9_]{22,}
      | (?:AKIA|ASIA)[0-9A-Z]{16}
      | AIza[0-9A-Za-z_-]{35}
      | xox[abprs]-[A-Za-z0-9-]{10,}
      | amk_[A-Za-z0-9_-]{16,}
      | eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*
      | -----BEGIN[A-Z ]*PRIVATE\ KEY-----[\s\S]*?-----END[A-Z ]*PRIVATE\ KEY-----
    )(?![\w-])""",
    re.VERBOSE,
)
_IBAN = re.compile(r"(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?: ?[A-Z0-9]{1,4}){3,8}(?![A-Za-z0-9])")
_CARD = re.compile(
    r"(?<![\d.,-])(?:\d{13,19}"  # written together
    r"|\d{4}([ -])\d{4}\1\d{4}\1\d{1,7}"  # 4-4-4-4(-3), one separator throughout
    r"|\d{4}([ -])\d{6}\2\d{4,5})"  # 4-6-5 (Amex), 4-6-4 (Diners)
    r"(?![\d]|[.,-]\d)"
)
_IPV4 = re.compile(r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?![\w]|\.\d)")
_IPV6 = re.compile(r"(?<![\w:.])(?=[0-9A-Fa-f:]*::?[0-9A-Fa-f]*:)[0-9A-Fa-f:]{3,39}(?![\w:])")
_NOT_PHONE = re.compile(
    r"\d{4}-\d{1,2}-\d{1,2}(?:[T ]\d{1,2}:\d{2}(?::\d{2})?)?"  # ISO dates
    r"|\d{1,2}[/.]\d{1,2}[/.]\d{2,4}"  # 15/01/2024, 15.01.24
    r"|\d{1,2}:\d{2}(?::\d{2})?"  # times
    r"|(?<!\d)\d{1,2}(?:\.\d{1,3}){2,}(?!\d)"  # versions 1.2.3 (not 415.555.0134)
)
_VERSION_WORD = re.compile(r"(?:version|release|build|ver|v)\s*$", re.IGNORECASE)

_NATIONAL_IDS: Sequence[tuple[re.Pattern[str], Callable[[str], bool]]] = (
    (re.compile(r"(?<![\w-])\d{3}-\d{2}-\d{4}(?![\w-])"), ssn.is_valid),
    (re.compile(r"(?<![\w.-])\d{3}\.\d{3}\.\d{3}-\d{2}(?![\w-])"), cpf.is_valid),
    (re.compile(r"(?<![\w-])\d{8}-?[A-Z](?![\w-])"), dni.is_valid),
    (re.compile(r"(?<![\w-])[XYZ]-?\d{7}-?[A-Z](?![\w-])"), nie.is_valid),
    (
        re.compile(
            r"(?<!\w)[A-Z]{6}[\dLMNPQRSTUV]{2}[A-Z][\dLMNPQRSTUV]{2}[A-Z][\dLMNPQRSTUV]{3}[A-Z](?!\w)"
        ),
        codicefiscale.is_valid,
    ),
    (re.compile(r"(?<!\w)(?<!\d )[2-9]\d{3} \d{4} \d{4}(?!\w| \d)"), aadhaar.is_valid),
    (
        re.compile(r"(?<!\w)[12] ?\d{2} ?\d{2} ?(?:\d{2}|2A|2B) ?\d{3} ?\d{3} ?\d{2}(?!\w)"),
        nir.is_valid,
    ),
)

_CARD_PREFIXES = re.compile(
    r"4|5[1-5]|2(?:2[2-9][1-9]|2[3-9]\d|[3-6]\d\d|7[01]\d|720)|3[47]|6(?:011|4[4-9]|5|2)"
    r"|35(?:2[89]|[3-8]\d)|3(?:0[0-5]|[689])"
)
_NOT_DIGITS = str.maketrans("", "", "0123456789")
_MIN_PHONE_DIGITS = 7
_CACHED_TEXT_CHARS = 8192


class PiiDetector:
    """Finds personal data in text. ``phone_regions`` are the ISO regions in
    whose national format phone numbers are recognised (numbers written with
    ``+`` and a country code are found whatever the region)."""

    def __init__(self, phone_regions: Sequence[str] = ("US",), cache_size: int = 4096) -> None:
        unknown = [r for r in phone_regions if r not in phonenumbers.SUPPORTED_REGIONS]
        if unknown:
            raise ValueError(f"unknown phone region(s): {', '.join(unknown)}")
        self.phone_regions = tuple(phone_regions) or ("US",)
        self._cached = lru_cache(maxsize=cache_size)(self._find)

    def find(self, text: str) -> tuple[Finding, ...]:
        """Findings in ``text``, in order of position, none overlapping."""
        if len(text) <= _CACHED_TEXT_CHARS:
            return self._cached(text)
        return self._find(text)

    def kinds(self, text: str) -> frozenset[PiiKind]:
        return frozenset(f.kind for f in self.find(text))

    def _find(self, text: str) -> tuple[Finding, ...]:
        taken: list[Finding] = []
        for finder in (_secrets, _emails, _ibans, _cards, _national_ids, _ips):
            _keep_free(taken, finder(text))
        if len(text) - len(text.translate(_NOT_DIGITS)) >= _MIN_PHONE_DIGITS:
            _keep_free(taken, self._phones(_hide_not_phones(text, taken)))
        return tuple(sorted(taken, key=lambda f: f.start))

    def _phones(self, text: str) -> Iterator[Finding]:
        for region in self.phone_regions:
            for match in phonenumbers.PhoneNumberMatcher(text, region):
                if "." in match.raw_string and any(c.isspace() for c in match.raw_string):
                    continue  # "1.2.3 10.10.10": versions side by side, not a number
                canonical = phonenumbers.format_number(
                    match.number, phonenumbers.PhoneNumberFormat.E164
                )
                yield Finding(PiiKind.PHONE, match.start, match.end, match.raw_string, canonical)


def _hide_not_phones(text: str, taken: Sequence[Finding]) -> str:
    """``text`` with dates, times, versions and earlier findings blanked out
    (same length), so the phone matcher cannot join their digits into a number."""
    spans = [(f.start, f.end) for f in taken]
    spans += [m.span() for m in _NOT_PHONE.finditer(text)]
    if not spans:
        return text
    chars = list(text)
    for start, end in spans:
        chars[start:end] = "|" * (end - start)
    return "".join(chars)


def _keep_free(taken: list[Finding], found: Iterator[Finding]) -> None:
    """Add the findings that overlap none already taken (earlier kinds win)."""
    for finding in found:
        if all(finding.end <= t.start or finding.start >= t.end for t in taken):
            taken.append(finding)


def _secrets(text: str) -> Iterator[Finding]:
    for m in _SECRET.finditer(text):
        yield Finding(PiiKind.SECRET, m.start(), m.end(), m.group(), m.group())


def _emails(text: str) -> Iterator[Finding]:
    if "@" not in text:
        return
    for m in _EMAIL.finditer(text):
        yield Finding(PiiKind.EMAIL, m.start(), m.end(), m.group(), m.group().lower())


def _ibans(text: str) -> Iterator[Finding]:
    for m in _IBAN.finditer(text):
        # The pattern may swallow a following code word: try shorter spans.
        groups = m.group().split(" ")
        for count in range(len(groups), 0, -1):
            candidate = " ".join(groups[:count])
            if iban.is_valid(candidate):
                end = m.start() + len(candidate)
                yield Finding(PiiKind.IBAN, m.start(), end, candidate, iban.compact(candidate))
                break


def _cards(text: str) -> Iterator[Finding]:
    for m in _CARD.finditer(text):
        digits = re.sub(r"[ -]", "", m.group())
        if _CARD_PREFIXES.match(digits) and luhn.is_valid(digits):
            yield Finding(PiiKind.CARD, m.start(), m.end(), m.group(), digits)


def _national_ids(text: str) -> Iterator[Finding]:
    for pattern, valid in _NATIONAL_IDS:
        for m in pattern.finditer(text):
            if valid(m.group()):
                canonical = re.sub(r"[ .-]", "", m.group())
                yield Finding(PiiKind.NATIONAL_ID, m.start(), m.end(), m.group(), canonical)


def _ips(text: str) -> Iterator[Finding]:
    if "." in text:
        for m in _IPV4.finditer(text):
            if _VERSION_WORD.search(text, max(0, m.start() - 12), m.start()):
                continue  # "version 1.2.3.4" is a version, not an address
            try:
                address = ipaddress.IPv4Address(m.group())
            except ValueError:
                continue
            yield Finding(PiiKind.IP, m.start(), m.end(), m.group(), str(address))
    if ":" in text:
        for m in _IPV6.finditer(text):
            if max(len(group) for group in m.group().split(":")) < 3:
                continue  # "a::b", "12:30": too little to be an address written out
            try:
                address6 = ipaddress.IPv6Address(m.group())
            except ValueError:
                continue
            yield Finding(PiiKind.IP, m.start(), m.end(), m.group(), address6.compressed)
