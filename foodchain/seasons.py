"""The crop calendar: which products a farm can offer in a given week.

A scenario's ``crops.yaml`` (beside its products file, as ``scenarios/lensois`` has) gives
each product 12 month letters (H harvested, S stored, ``-`` not available...) and, per farm,
crops with a calendar of their own (tunnels, cold stores). A product is in season in a week
when the generator would offer some of it then (``foodchain.generate.season_factor`` > 0 at
the week's Thursday), so the calendar and the bundled forecasts agree.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from foodchain.errors import FoodchainError
from foodchain.generate import month_levels, season_factor
from foodchain.weeks import Week


@dataclass(frozen=True)
class CropCalendar:
    factors: Mapping[str, float]
    """Month letter → share of the peak harvest offered (``-`` → 0)."""
    products: Mapping[str, tuple[str, ...]]
    """Product id → its 12 letters, January to December."""
    farms: Mapping[str, Mapping[str, tuple[str, ...]]] = field(default_factory=dict)
    """Farm id → product id → the farm's own 12 letters for the crops it grows."""
    crops: Mapping[str, frozenset[str]] = field(default_factory=dict)
    """Farm id → the products it grows (``farms.<id>.crops``)."""

    def in_season(self, product: str, week: Week, farm: str | None = None) -> bool | None:
        """Whether ``product`` can be offered in ``week`` (by ``farm``, whose own calendar
        comes first); None when the calendar does not know the product."""
        letters = self.farms.get(farm or "", {}).get(product) or self.products.get(product)
        if letters is None:
            return None
        levels = month_levels(letters, self.factors)
        return season_factor(levels, week.day("thu")) > 0


def _letters(where: str, value: Any, factors: Mapping[str, float]) -> tuple[str, ...]:
    letters = tuple(str(value).split())
    if len(letters) != 12 or any(letter not in factors for letter in letters):
        raise FoodchainError(
            f"{where}: a calendar needs 12 letters (January to December) among {list(factors)}"
        )
    return letters


def crop_calendar(doc: Mapping[str, Any], source: str = "crops.yaml") -> CropCalendar:
    """A calendar from the contents of a ``crops.yaml`` (``factors``, ``calendar``, ``farms``)."""
    try:
        factors = {str(k): float(v) for k, v in doc["factors"].items()}
        products = {
            str(p): _letters(f"{source}: calendar.{p}", c, factors)
            for p, c in doc["calendar"].items()
        }
        farms = {
            str(farm_id): {
                str(p): _letters(f"{source}: farms.{farm_id}.{p}", crop["calendar"], factors)
                for p, crop in (farm.get("crops") or {}).items()
                if isinstance(crop, Mapping) and "calendar" in crop
            }
            for farm_id, farm in (doc.get("farms") or {}).items()
        }
        crops = {
            str(farm_id): frozenset(str(p) for p in (farm.get("crops") or {}))
            for farm_id, farm in (doc.get("farms") or {}).items()
        }
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise FoodchainError(
            f"{source}: not a crop calendar ({exc}); it needs 'factors' and 'calendar', "
            "as scenarios/lensois/crops.yaml has"
        ) from None
    return CropCalendar(factors, products, farms, crops)


def load_crop_calendar(path: Path) -> CropCalendar:
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise FoodchainError(f"cannot read the crop calendar {path}: {exc}") from None
    return crop_calendar(doc if isinstance(doc, Mapping) else {}, str(path))


def scenario_crop_file(scenario: Path) -> Path | None:
    """A scenario's ``crops.yaml`` (beside its products file), None for a scenario without
    one, such as ``tiny``: every product is then offered every week."""
    try:
        doc = yaml.safe_load(scenario.read_text(encoding="utf-8"))
        products = scenario.parent / str(doc["products"])
    except (OSError, yaml.YAMLError, KeyError, TypeError):
        return None
    crops = products.parent / "crops.yaml"
    return crops if crops.is_file() else None


def scenario_crop_calendar(scenario: Path) -> CropCalendar | None:
    """The calendar of a scenario file, else None (see ``scenario_crop_file``)."""
    crops = scenario_crop_file(scenario)
    return load_crop_calendar(crops) if crops is not None else None


def scenario_crop_document(scenario: Path) -> dict[str, Any] | None:
    """The checked contents of a scenario's ``crops.yaml``, as ``init`` stores them (the
    ``crop_calendar`` setting) for the forecast templates of an installed database."""
    crops = scenario_crop_file(scenario)
    if crops is None:
        return None
    load_crop_calendar(crops)  # refuses a malformed calendar
    doc = yaml.safe_load(crops.read_text(encoding="utf-8"))
    return {key: doc[key] for key in ("factors", "calendar", "farms") if key in doc}
