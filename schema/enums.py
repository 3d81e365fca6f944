"""The contract's enums are the domain's own enums, registered with Strawberry.

Importing this module registers them; annotations use the domain classes.
"""

from __future__ import annotations

import strawberry

from graph import model

for _enum in (
    model.MemoryType,
    model.MemoryLevel,
    model.Sensitivity,
    model.SearchMode,
    model.Direction,
    model.MemoryEventKind,
):
    strawberry.enum(_enum)

MemoryType = model.MemoryType
MemoryLevel = model.MemoryLevel
Sensitivity = model.Sensitivity
SearchMode = model.SearchMode
Direction = model.Direction
MemoryEventKind = model.MemoryEventKind
