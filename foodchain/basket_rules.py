"""How a territory composes its baskets: nesting, value, practical quantities, the season's
weights and what gives way when supply falls short (``settings.baskets`` of a scenario).

Kept in the scenario's settings (no table of its own): the rules change with a network's
habits, not with each import. Read by the allocation's problem builder; validated when the
scenario is read, each problem naming its setting.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from foodchain.weeks import WEEKDAYS


def _month_day(text: str) -> tuple[int, int]:
    month, day = (int(x) for x in text.split("-"))
    dt.date(2024, month, day)  # a leap year: 02-29 is a day
    return month, day


class WeightPeriod(BaseModel):
    """Weight bands scaled for a part of the year (facts §4.3: +10-15% in winter, -10-15%
    in the hunger gap); a week takes the period of its Thursday."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str = Field(min_length=1)
    first: str = Field(description="first day, MM-DD")
    last: str = Field(description="last day, MM-DD (may wrap past new year)")
    weight_factor: float = Field(gt=0.3, le=2.0)

    @field_validator("first", "last")
    @classmethod
    def _day(cls, text: str) -> str:
        try:
            _month_day(text)
        except (ValueError, TypeError) as exc:
            raise ValueError(f"'{text}' is not a day of the year as MM-DD, e.g. 03-01") from exc
        return text

    def holds(self, day: dt.date) -> bool:
        key = (day.month, day.day)
        first, last = _month_day(self.first), _month_day(self.last)
        return first <= key <= last if first <= last else key >= first or key <= last


class ShortageRule(BaseModel):
    """What gives way, in this order, before a subscriber is left without a basket."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    floor: float = Field(default=0.8, ge=0.3, le=1.0)
    """Lightest basket: this share of the weight band's minimum and of the value's minimum."""
    caps_relaxed_by: float = Field(default=0.1, ge=0.0, le=0.5)
    """Product and family caps (shares of the weight) may rise by this much."""


class BuyIn(BaseModel):
    """A cooperative or wholesaler that fills what the farms cannot, at a price: the last
    rung before a subscriber goes without a basket. It is a farm site of the scenario (so
    it has a place, an organic status and brings its own produce to the hub)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    farm: str = Field(min_length=1)
    """The site id of the supplier (a farm site with ``brings_own_produce: true``)."""
    days: tuple[str, ...] = Field(min_length=1)
    """Weekdays it delivers to the hub (mon ... sun)."""
    products: tuple[str, ...] = Field(min_length=1)
    price_factor: float = Field(default=1.3, gt=0.0, le=10.0)
    """Its price: the catalogue price of the product × this factor (a wholesaler's price
    is above a partner farm's)."""
    prices: dict[str, float] = Field(default_factory=dict)
    """Per product, its own price (€/kg), instead of the factor."""

    @field_validator("days")
    @classmethod
    def _days(cls, days: tuple[str, ...]) -> tuple[str, ...]:
        for day in days:
            if day not in WEEKDAYS:
                raise ValueError(f"'{day}' is not a weekday: use {' '.join(WEEKDAYS)}")
        return days

    def price(self, product_id: str, catalogue_price: float) -> float:
        return self.prices.get(product_id, catalogue_price * self.price_factor)


class BasketRules(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    nested: bool = True
    """Each size holds the next smaller size's products (same organic rule), more or as
    much of each: neighbours at a relay point get the same vegetables."""
    max_added_products: int = Field(default=2, ge=0, le=10)
    """Products a size may add to the next smaller one."""
    value_tolerance: float | None = Field(default=None, ge=0.0, le=1.0)
    """The contents' value at the week's selling prices (offer prices × (1 + the scenario's
    ``hub_margin``)) within this share of the basket's price; None: no value rule."""
    step_kg: float = Field(default=0.05, gt=0.0, le=5.0)
    """Products sold by weight go in baskets in multiples of this (whole units for pieces)."""
    steps_kg: dict[str, float] = Field(default_factory=dict)
    """Per product, another step (e.g. potato: 0.25)."""
    max_units: dict[str, int] = Field(default_factory=dict)
    """Per product sold by the piece or bunch, the most per basket (e.g. lettuce: 2)."""
    weight_periods: tuple[WeightPeriod, ...] = ()
    shortage: ShortageRule = ShortageRule()
    buy_in: BuyIn | None = None

    @field_validator("steps_kg")
    @classmethod
    def _steps(cls, steps: dict[str, float]) -> dict[str, float]:
        for product, step in steps.items():
            if not 0 < step <= 5:
                raise ValueError(f"the step of '{product}' must be above 0 and at most 5 kg")
        return steps

    @field_validator("max_units")
    @classmethod
    def _units(cls, units: dict[str, int]) -> dict[str, int]:
        for product, n in units.items():
            if not 1 <= n <= 100:
                raise ValueError(f"max_units of '{product}' must be from 1 to 100")
        return units

    def weight_factor(self, thursday: dt.date) -> float:
        """The weight bands' factor of the week whose Thursday is ``thursday``."""
        for period in self.weight_periods:
            if period.holds(thursday):
                return period.weight_factor
        return 1.0

    def step(self, product_id: str) -> float:
        return self.steps_kg.get(product_id, self.step_kg)


def basket_rules(settings: dict[str, Any]) -> BasketRules:
    """The rules in a scenario's settings (``settings.baskets``); defaults when absent."""
    return BasketRules.model_validate(settings.get("baskets") or {})
