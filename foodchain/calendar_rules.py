"""When sites take deliveries (``settings.calendar`` of a scenario): public holidays that
close every site, where a delivery due on such a day goes, and when a canteen's raw produce
arrives for the meal it is cooked for.

Kitchens take raw produce the day before or early in the morning (about 07:30): a van at
09:30 for an 11:30 lunch is too late. ``canteen_delivery`` says which: ``same_morning``
(produce for a day's meals arrives that morning, by ``canteen_deadline``) or ``day_before``
(on the last open delivery day before the meal; a Monday's produce comes with the previous
week's last delivery, so a week's plan carries the next Monday's meals, not its own).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, field_validator

from foodchain.timing import minutes_of


class CalendarRules(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    public_holidays: str | None = None
    """A calendar of the scenario (``calendars``) whose days close every site: hub, farms,
    relay points, shops and canteens (canteens also close on their own calendar)."""
    moved_deliveries: Literal["earlier", "later"] = "earlier"
    """A relay point's baskets due on a closed day go to the nearest open day of the week,
    the day before first (``earlier``: members collect before the holiday) or after."""
    canteen_delivery: Literal["same_morning", "day_before"] = "same_morning"
    """``same_morning``: a meal's produce comes on the last open delivery day of the
    canteen on or before the meal, in its week; ``day_before``: on the last one strictly
    before it, up to a week back (a Monday's from the previous week). A meal with no such
    day comes on its own morning."""
    canteen_deadline: str | None = None
    """``HH:MM``: produce that comes on the morning of the meal arrives by then (the
    canteen's window closes at the deadline): every serving day with ``same_morning``, with
    ``day_before`` the mornings of meals with no open delivery day before them (the first
    day after the holidays). None keeps the canteen's receiving window."""

    @field_validator("canteen_deadline")
    @classmethod
    def _clock(cls, text: str | None) -> str | None:
        if text is None:
            return None
        try:
            minutes = minutes_of(text)
        except (ValueError, AttributeError):
            raise ValueError("give a time as HH:MM, e.g. 07:30") from None
        if not 0 <= minutes <= 24 * 60:
            raise ValueError("give a time of the day, from 00:00 to 24:00")
        return text

    @property
    def deadline_minutes(self) -> float | None:
        return minutes_of(self.canteen_deadline) if self.canteen_deadline else None

    @property
    def day_before(self) -> bool:
        return self.canteen_delivery == "day_before"


def calendar_rules(settings: dict[str, Any]) -> CalendarRules:
    """The scenario's calendar rules (already validated when the scenario was read)."""
    return CalendarRules.model_validate(settings.get("calendar") or {})
