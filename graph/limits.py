"""Input limits. Exceeding one is a ``BadInput`` error, never a silent cut."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Limits:
    max_content_chars: int = 32_000
    max_metadata_bytes: int = 16_384
    max_tags: int = 64
    max_tag_chars: int = 100
    max_page_size: int = 100
    max_batch: int = 500
    max_depth: int = 5
    max_related: int = 200
    max_subgraph_nodes: int = 2_000
    max_search_limit: int = 100
    max_search_expand: int = 3
    max_query_chars: int = 2_000
    max_name_chars: int = 200
