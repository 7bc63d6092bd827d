"""The cold chain (``settings.cold_chain`` of a scenario): in which months goods of which
temperature classes need a cold vehicle, how long they may stay on board, which classes may
not travel together.

Products carry a temperature class (``products.csv``: ``temperature_class``, ambient when
blank) and vehicles a cold body (``vehicles[].cold``: none, insulated, refrigerated). In the
months or periods set here, the rounds put goods of a class that needs cold only in a vehicle
at least that cold, within the class's time on board, never with a class kept apart from it
(``routing.cold``). Outside them, nothing changes. Kept in the scenario's settings (no table
of its own), validated when the scenario is read.

    cold_chain:
      months: [5, 6, 7, 8, 9]                 # or periods: ["05-15..09-15"]
      classes:
        fresh: {name: frais, vehicle: insulated, max_minutes_on_board: 180}
      incompatible: [[chilled, tropical]]
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from foodchain.routing.problem import ColdKind, ColdRules


class ColdClass(BaseModel):
    """What goods of one temperature class need in the cold-chain months."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(default="", max_length=64)
    """What drivers read on their route sheets, e.g. "frais" (default: the class's id)."""
    vehicle: ColdKind = ColdKind.INSULATED
    """The least cold body that may carry them (none: any vehicle)."""
    max_minutes_on_board: float | None = Field(default=None, gt=0, le=24 * 60)
    """Longest time on board, from loading to delivery (from a farm to unloaded at the
    hub for a pickup); None: no limit."""


def _month_day(text: str) -> tuple[int, int]:
    month, _, day = text.partition("-")
    try:
        value = dt.date(2000, int(month), int(day))  # a leap year: 02-29 is a day
    except ValueError:
        raise ValueError(f"{text!r} is not a day of the year: write MM-DD, e.g. 05-15") from None
    return value.month, value.day


class ColdChainRules(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    months: list[int] = []
    """Months of the cold chain, 1-12 (e.g. May to September: [5, 6, 7, 8, 9])."""
    periods: list[str] = []
    """Days of the year, ``MM-DD..MM-DD`` (both included; ``11-15..02-15`` runs over the
    new year). With neither months nor periods, the cold chain holds all year."""
    classes: dict[str, ColdClass] = {}
    """Temperature class -> what it needs; classes not named need nothing."""
    incompatible: list[tuple[str, str]] = []
    """Pairs of classes never carried on one trip (e.g. a 0-2 °C box and squash)."""

    @field_validator("months")
    @classmethod
    def _months(cls, months: list[int]) -> list[int]:
        wrong = [m for m in months if not 1 <= m <= 12]
        if wrong:
            raise ValueError(f"months are 1 to 12, not {wrong}: e.g. [5, 6, 7, 8, 9]")
        return months

    @field_validator("periods")
    @classmethod
    def _periods(cls, periods: list[str]) -> list[str]:
        for period in periods:
            first, sep, last = period.partition("..")
            if not sep:
                raise ValueError(
                    f"{period!r} is not a period: write MM-DD..MM-DD, e.g. 05-15..09-15"
                )
            _month_day(first.strip())
            _month_day(last.strip())
        return periods

    @model_validator(mode="after")
    def _known_pairs(self) -> ColdChainRules:
        for first, second in self.incompatible:
            if first == second:
                raise ValueError(f"incompatible: {first} is paired with itself")
        return self

    def active(self, day: dt.date) -> bool:
        """Whether the cold chain holds on ``day``."""
        if not self.months and not self.periods:
            return True
        if day.month in self.months:
            return True
        today = (day.month, day.day)
        for period in self.periods:
            first, _, last = period.partition("..")
            start, end = _month_day(first.strip()), _month_day(last.strip())
            inside = start <= today <= end if start <= end else today >= start or today <= end
            if inside:
                return True
        return False

    @property
    def named_classes(self) -> set[str]:
        """Classes these rules name (a product's class should be one of them, or ambient)."""
        return set(self.classes) | {c for pair in self.incompatible for c in pair}

    def on(self, day: dt.date) -> ColdRules | None:
        """The routing's cold chain on ``day``; None outside its months or with no rule."""
        return self.rules() if self.active(day) else None

    def rules(self) -> ColdRules | None:
        """The routing's cold chain in its months; None if it rules nothing."""
        if not (self.classes or self.incompatible):
            return None
        return ColdRules(
            needs={name: c.vehicle for name, c in self.classes.items()},
            max_minutes_on_board={
                name: c.max_minutes_on_board
                for name, c in self.classes.items()
                if c.max_minutes_on_board is not None
            },
            incompatible=frozenset(frozenset(pair) for pair in self.incompatible),
        )


def cold_chain_rules(settings: dict[str, Any]) -> ColdChainRules:
    """The scenario's cold chain (already validated when the scenario was read)."""
    return ColdChainRules.model_validate(settings.get("cold_chain") or {})
