"""The place picker: city → district → town, each list the children of the choice above it."""

from __future__ import annotations

from dataclasses import dataclass

from portal.exceptions import NotFound
from portal.services import regions
from portal.settings import setting


@dataclass
class PickerLevel:
    name: str  # query parameter
    options: list[regions.Place]
    selected: str | None


@dataclass
class Picker:
    levels: list[PickerLevel]
    chosen: regions.Place | None  # the deepest valid choice
    path: list[regions.Place]  # from the province down to the choice


def build_picker(args) -> Picker:
    """Keep each choice only if it is a child of the one above, so changing the city clears the district.
    Everything comes from the cached tree: the page asks the database nothing for its place lists."""
    try:
        parent = regions.place(setting("ROOT_REGION"))
    except KeyError:
        raise NotFound() from None
    chosen, levels = None, []
    for name in ("city", "district", "town"):
        options = regions.children(parent.code) if parent else []
        wanted = (args.get(name) or "")[:12]
        selected = next((r for r in options if r.code == wanted), None)
        levels.append(PickerLevel(name, options, selected.code if selected else None))
        chosen = selected or chosen
        parent = selected
    return Picker(levels, chosen, regions.ancestry(chosen.code) if chosen else [])


def choices_for(code: str | None) -> dict[str, str]:
    """The picker's choices that lead down to `code` (a QR poster's place), or none."""
    if not code:
        return {}
    path = regions.ancestry(code)[1:]  # below the root province
    return dict(zip(("city", "district", "town"), (r.code for r in path), strict=False))
