"""Stock carried from week to week: hand-checked ageing and loss, and a two-week chain on the
tiny scenario through its saved runs (stock in + offered = sold + unsold, unsold = stock out
+ what does not keep)."""

from __future__ import annotations

from collections import defaultdict

import pytest
from sqlalchemy import Engine

from foodchain.inputs import read_snapshot
from foodchain.models import ForecastIn
from foodchain.organic import OrganicStatus
from foodchain.plan import PlanOptions, plan_week
from foodchain.runs import save_run
from foodchain.stock import StockRow, carry_over, offers_with_stock
from foodchain.weeks import Week

SHELF = {"potato": 60, "carrot": 20, "lettuce": 5}


def _offer(product: str, kg: float) -> ForecastIn:
    return ForecastIn(
        farm_id="farm_a",
        product_id=product,
        week="2026-W50",
        kg=kg,
        price_eur_per_kg=2.0,
        organic_status=OrganicStatus.ORGANIC,
        days_available=["mon"],
    )


def _held(product: str, kg: float, weeks_old: int) -> StockRow:
    return StockRow(
        farm_id="farm_a",
        product_id=product,
        kg=kg,
        weeks_old=weeks_old,
        price_eur_per_kg=1.5,
        organic_status="organic",
        days_available=["mon"],
    )


def test_unsold_comes_from_the_freshest_and_ages_a_week():
    """Potatoes: 50 kg fresh + 20 kg a week old, 60 kg unsold: all 50 fresh kg and 10 of the
    old ones are left (the other 10 old kg sold first): 50 kg at 1 week, 10 kg at 2 weeks.
    Carrots (20 days): 10 fresh + 8 two weeks old, 15 unsold: 10 fresh kept at 1 week; 5 of
    the old ones would be 3 weeks old (21 days > 20): lost. Lettuce (5 days) unsold fresh is
    the week's surplus, neither stock nor loss."""
    out, lost = carry_over(
        [_offer("potato", 50.0), _offer("carrot", 10.0), _offer("lettuce", 4.0)],
        [_held("potato", 20.0, 1), _held("carrot", 8.0, 2)],
        {("farm_a", "potato"): 60.0, ("farm_a", "carrot"): 15.0, ("farm_a", "lettuce"): 4.0},
        SHELF,
    )
    kept = {(r.product_id, r.weeks_old): r.kg for r in out}
    assert kept == {("potato", 1): 50.0, ("potato", 2): 10.0, ("carrot", 1): 10.0}
    assert [(r.product_id, r.weeks_old, r.kg) for r in lost] == [("carrot", 2, 5.0)]
    assert {r.price_eur_per_kg for r in out if r.weeks_old == 2} == {1.5}  # the stock's price


def test_stock_joins_the_farms_offer_or_makes_one():
    offers = offers_with_stock(
        [_offer("potato", 50.0)], [_held("potato", 20.0, 1), _held("carrot", 8.0, 1)]
    )
    kg = {o.product_id: o.kg for o in offers}
    assert kg == {"potato": 70.0, "carrot": 8.0}
    carrot = next(o for o in offers if o.product_id == "carrot")
    assert carrot.price_eur_per_kg == 1.5 and carrot.week == "2026-W50"


OPTIONS = PlanOptions(deterministic=True, solution_limit=30)


def test_two_weeks_chain_through_their_runs(engine: Engine) -> None:
    """Plan and save 2026-W49; 2026-W50 reads what it left (its offers grow by it), and its
    own record balances: stock in + fresh offers = sold + unsold, and everything unsold that
    keeps is carried on."""
    first = plan_week(engine, Week(2026, 49), OPTIONS)
    assert first.record.stock_in == [] and first.record.stock_from_run is None
    run_id = save_run(engine, first, allow_unserved=True)
    left = first.record.stock_out
    assert left, "tiny's W49 leaves keepers unsold (potatoes, apples)"
    snapshot = read_snapshot(engine, Week(2026, 50))
    assert snapshot.stock_run == run_id and snapshot.stock == left
    fresh: dict[tuple[str, str], float] = defaultdict(float)
    for f in snapshot.forecasts:
        fresh[(f.farm_id, f.product_id)] += f.kg
    second = plan_week(engine, Week(2026, 50), OPTIONS).record
    assert second.stock_in == left and second.stock_from_run == run_id
    held: dict[tuple[str, str], float] = defaultdict(float)
    for r in left:
        held[(r.farm_id, r.product_id)] += r.kg
    sold: dict[tuple[str, str], float] = defaultdict(float)
    for flow in second.flows:
        sold[(flow.farm_id, flow.product_id)] += flow.kg
    unsold: dict[tuple[str, str], float] = defaultdict(float)
    for s in second.surplus:
        unsold[(s.farm_id, s.product_id)] += s.kg
    for key in set(fresh) | set(held):
        assert fresh[key] + held[key] == pytest.approx(sold[key] + unsold[key], abs=1e-2), key
    carried: dict[tuple[str, str], float] = defaultdict(float)
    for r in [*second.stock_out, *second.stock_lost]:
        carried[(r.farm_id, r.product_id)] += r.kg
    shelf = {
        p: x.shelf_life_days
        for p, x in read_snapshot(engine, Week(2026, 50)).catalogue.products.items()
    }
    for key, kg in unsold.items():  # what keeps a week more is carried on, or lost if too old
        if shelf[key[1]] > 7:
            assert carried[key] == pytest.approx(kg, abs=1e-3), key
    assert second.kpis["stock"]["in_kg"] == pytest.approx(sum(held.values()), abs=1e-2)


def test_the_plan_command_shows_the_stock_and_says_when_the_chain_moved(cli, tmp_path):
    """W49 then W50 (which holds W49's stock over), then W49 again: the coordinator is told
    that W50 was planned with the stock of an earlier run of W49."""
    first = cli("plan", "--week", "2026-W49", "--deterministic", "--out", tmp_path / "a")
    assert "0.0 kg held over, " in first and "kept for next week" in first
    second = cli("plan", "--week", "2026-W50", "--deterministic", "--out", tmp_path / "b")
    assert "held over (left by run 1)" in second
    again = cli("plan", "--week", "2026-W49", "--deterministic", "--out", tmp_path / "c")
    assert "2026-W50 was planned with the stock an earlier run of 2026-W49 left" in again
