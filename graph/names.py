"""Entity-name normalisation, shared by every graph store.

Entities are unique per tenant, kind and *normalised* name; each store keeps
the normalised form for lookups and the display form for showing.
"""

from __future__ import annotations

import unicodedata


def normalise_name(name: str) -> str:
    """The comparison form of an entity name: NFKC, casefolded, trimmed and
    with runs of whitespace collapsed to one space."""
    return " ".join(unicodedata.normalize("NFKC", name).casefold().split())


def display_name(name: str) -> str:
    """The stored form of an entity name: trimmed, whitespace collapsed, case kept."""
    return " ".join(name.split())
