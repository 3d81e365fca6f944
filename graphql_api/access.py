"""The server's access policy and PII masker, built from settings at start-up.

``policy_file`` names the TOML policy (docs/authorization.md); without it the
built-in defaults apply. ``pii_hash_key`` keys the ``hash`` masking tokens;
without it a random key is made once and kept in ``<data-dir>/pii-hash.key``
(mode 0600), so tokens stay stable across restarts.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from graph.access.masking import Masker
from graph.access.pii import PiiDetector
from graph.access.policy import Policy
from graph.access.policy_file import load_policy
from graphql_api.settings import Settings

HASH_KEY_FILE = "pii-hash.key"


@dataclass(frozen=True, slots=True)
class Access:
    policy: Policy
    masker: Masker


def load_access(settings: Settings) -> Access:
    """Raises ``PolicyError`` for a policy file that cannot be enforced as written."""
    policy = load_policy(settings.policy_file)
    masker = Masker(PiiDetector(policy.phone_regions), hash_key(settings))
    return Access(policy, masker)


def hash_key(settings: Settings) -> bytes:
    if settings.pii_hash_key:
        return settings.pii_hash_key.encode()
    path = Path(settings.data_dir) / HASH_KEY_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another process made it first
        else:
            with os.fdopen(fd, "w") as out:
                out.write(secrets.token_hex(32))
    return path.read_text().strip().encode()
