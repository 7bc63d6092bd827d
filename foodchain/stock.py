"""Stock carried from one week to the next: produce the farms offered that no one bought and
that still keeps (its shelf life), offered again the next week; what no longer keeps is lost.

The chain runs through the saved runs (one source of truth): a week's plan reads the stock
the previous week's run left (its published run, else its newest), merges it into the farms'
offers, and its own record says what it leaves (``stock_out``) and loses (``stock_lost``).
Oldest first: what is unsold is taken from the freshest produce, so stock goes out first.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict

from foodchain.organic import OrganicStatus

if TYPE_CHECKING:  # the records that hold stock rows need no database model
    from foodchain.models import ForecastIn

DAYS_A_WEEK = 7


class StockRow(BaseModel):
    """Kg of one farm's product held over, ``weeks_old`` weeks after it was first offered."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    farm_id: str
    product_id: str
    kg: float
    weeks_old: int
    price_eur_per_kg: float
    organic_status: str
    days_available: list[str]


def keeps(shelf_life_days: int, weeks_old: int) -> bool:
    """Whether produce ``weeks_old`` weeks old is still sellable a week later."""
    return DAYS_A_WEEK * (weeks_old + 1) < shelf_life_days


def offers_with_stock(
    forecasts: Sequence[ForecastIn], stock: Iterable[StockRow]
) -> list[ForecastIn]:
    """The week's offers with the stock added to each farm's offer of the product (a new
    offer, at the stock's price and days, where the farm offers none fresh)."""
    from foodchain.models import ForecastIn

    extra: dict[tuple[str, str], float] = defaultdict(float)
    first: dict[tuple[str, str], StockRow] = {}
    for row in stock:
        extra[(row.farm_id, row.product_id)] += row.kg
        first.setdefault((row.farm_id, row.product_id), row)
    week = forecasts[0].week if forecasts else ""
    out = []
    for f in forecasts:
        kg = extra.pop((f.farm_id, f.product_id), 0.0)
        out.append(f.model_copy(update={"kg": f.kg + kg}) if kg else f)
    for key, kg in sorted(extra.items()):
        row = first[key]
        out.append(
            ForecastIn(
                farm_id=row.farm_id,
                product_id=row.product_id,
                week=week,
                kg=kg,
                price_eur_per_kg=row.price_eur_per_kg,
                organic_status=OrganicStatus(row.organic_status),
                days_available=row.days_available,
            )
        )
    return out


def carry_over(
    forecasts: Sequence[ForecastIn],
    stock_in: Iterable[StockRow],
    unsold: Mapping[tuple[str, str], float],
    shelf_life_days: Mapping[str, int],
) -> tuple[list[StockRow], list[StockRow]]:
    """What the week leaves in stock and what it loses, from its fresh offers, the stock it
    started with and the kg unsold per (farm, product). Unsold kg come from the freshest
    produce first; each part ages a week; a part already in stock that no longer keeps is
    lost (unsold fresh produce that does not keep is the week's surplus, not a loss)."""
    fresh = {(f.farm_id, f.product_id): f for f in forecasts}
    held: dict[tuple[str, str], list[StockRow]] = defaultdict(list)
    for row in stock_in:
        held[(row.farm_id, row.product_id)].append(row)
    out: list[StockRow] = []
    lost: list[StockRow] = []
    for key, kg in sorted(unsold.items()):
        farm_id, product_id = key
        offer = fresh.get(key)
        parts: list[tuple[int, float, ForecastIn | StockRow]] = []  # freshest first
        if offer is not None:
            parts.append((0, offer.kg, offer))
        parts += [(r.weeks_old, r.kg, r) for r in sorted(held[key], key=lambda r: r.weeks_old)]
        left = kg
        for age, available, source in parts:
            take = min(left, available)
            left -= take
            if take <= 1e-9:
                continue
            row = StockRow(
                farm_id=farm_id,
                product_id=product_id,
                kg=round(take, 3),
                weeks_old=age + 1,
                price_eur_per_kg=source.price_eur_per_kg,
                organic_status=str(source.organic_status),
                days_available=list(source.days_available),
            )
            if keeps(shelf_life_days.get(product_id, 0), age):
                out.append(row)
            elif age > 0:
                lost.append(row.model_copy(update={"weeks_old": age}))
    return out, lost
