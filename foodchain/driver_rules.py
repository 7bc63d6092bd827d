"""Who drives the hub's vehicles (``settings.drivers`` of a scenario): how many drivers work
each day, and their legal break.

Vehicles and drivers are separate: a driver takes any vehicle of the hub for the day (all its
trips), so a day's rounds use at most as many vehicles as drivers work that day. The break
follows the French labour code (art. L3121-16): once the day's work reaches 6 hours, a pause
of at least 20 consecutive minutes; the rounds take it at the hub between two trips.

Kept in the scenario's settings (no table of its own), validated when the scenario is read.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from foodchain.routing.problem import BreakRule
from foodchain.weeks import WEEKDAYS


class DriverRules(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    per_day: int | dict[str, int] | None = None
    """Drivers at work: one number for every day, or per weekday (``mon``... ``sun``, ``*``
    for the days not named; a day neither names has no driver). None: a driver per vehicle."""
    break_after_hours: float | None = Field(default=6.0, gt=0, le=24)
    """Longest stretch of work without a break; None: no break rule."""
    break_minutes: float = Field(default=20.0, ge=1, le=240)
    max_day_hours: float | None = Field(default=None, gt=0, le=24)
    """A driver's day at most, first loading to last unloading (waits and breaks included),
    within the vehicle's shift; None: the vehicle's shift only."""

    @field_validator("per_day")
    @classmethod
    def _days(cls, value: int | dict[str, int] | None) -> int | dict[str, int] | None:
        counts = value.values() if isinstance(value, dict) else [] if value is None else [value]
        if any(isinstance(n, bool) or n < 0 for n in counts):
            raise ValueError("give a number of drivers, 0 or more, e.g. 2")
        if isinstance(value, dict):
            unknown = sorted(set(value) - {*WEEKDAYS, "*"})
            if unknown:
                raise ValueError(
                    f"unknown day(s) {', '.join(unknown)}: use mon, tue, wed, thu, fri, "
                    "sat, sun or * (every other day)"
                )
        return value

    def on(self, day: dt.date) -> int | None:
        """Drivers at work on ``day``; None: no limit (one per vehicle)."""
        if self.per_day is None or isinstance(self.per_day, int):
            return self.per_day
        weekday = WEEKDAYS[day.weekday()]
        return self.per_day.get(weekday, self.per_day.get("*", 0))

    @property
    def max_day_minutes(self) -> float | None:
        return None if self.max_day_hours is None else self.max_day_hours * 60.0

    @property
    def break_rule(self) -> BreakRule | None:
        if self.break_after_hours is None:
            return None
        return BreakRule(after_minutes=self.break_after_hours * 60.0, minutes=self.break_minutes)


def driver_rules(settings: dict[str, Any]) -> DriverRules:
    """The scenario's driver rules (already validated when the scenario was read)."""
    return DriverRules.model_validate(settings.get("drivers") or {})
