"""Node ids and pagination cursors.

A node id is ``<prefix>_<32 hex>``: the prefix names the node kind (see
:class:`graph.model.NodeKind`), the first 12 hex digits are the creation time
in milliseconds (so ids sort by age) and the rest is random. Ids are global:
``node(id:)`` dispatches on the prefix. Cursors are opaque to clients.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import secrets
import threading
import time
from datetime import datetime

from graph.errors import BadInput
from graph.model import NodeKind

_ID_PATTERN = re.compile(r"^(agt|mem|ent|rel|fct)_[0-9a-f]{32}$")


_last = (0, 0)
_lock = threading.Lock()


def new_id(kind: NodeKind) -> str:
    """A fresh id; ids made later in one process sort higher, even within a
    millisecond (the random part is incremented, as in monotonic ULIDs)."""
    global _last
    with _lock:
        millis = int(time.time() * 1000)
        last_millis, last_random = _last
        if millis <= last_millis:
            millis, suffix = last_millis, last_random + 1
        else:
            suffix = secrets.randbits(79)
        _last = (millis, suffix)
    return f"{kind.value}_{millis:012x}{suffix:020x}"


def kind_of(node_id: str) -> NodeKind | None:
    """The kind an id names, or ``None`` when it is not an id of ours."""
    if not _ID_PATTERN.match(node_id):
        return None
    return NodeKind(node_id[:3])


def encode_cursor(created_at: datetime, node_id: str) -> str:
    raw = json.dumps([created_at.isoformat(), node_id], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    """The (created_at, id) position a cursor names; ``BadInput`` if malformed."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        created, node_id = json.loads(base64.urlsafe_b64decode(padded.encode()))
        position = (datetime.fromisoformat(created), str(node_id))
    except (ValueError, TypeError, binascii.Error, json.JSONDecodeError) as exc:
        raise BadInput("The cursor is not one this server issued.", argument="after") from exc
    if position[0].tzinfo is None or kind_of(position[1]) is None:
        raise BadInput("The cursor is not one this server issued.", argument="after")
    return position
