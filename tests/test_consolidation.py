"""Consolidated collections (``settings.consolidation``): a farm's collection under the minimum
pickup is merged into another collection day when its goods keep, else brought by the farm or
kept with its reason; the independent week checker (``check_collections``) confirms it.

The tiny scenario's week 2026-W49, by hand (tests/test_allocation.py): farm_nord (organic, not
bringing) is collected on Monday for the kindergarten's Monday lunch and the Thursday leek
(1.5 + 3.0 + 1.71 + 4.0 = 10.21 kg, 21.42 €) and on Thursday for baskets, the kindergarten and
the shop (85.48 kg, all of it delivered on Thursday; carrot keeps 20 days, potato and apple 60).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from foodchain.allocation import AllocationProblem, Flow, allocate
from foodchain.allocation.load import problem_of
from foodchain.consolidation import CollectionChange, ConsolidationRules, consolidate
from foodchain.db import open_database
from foodchain.documents import write_documents
from foodchain.errors import InputError
from foodchain.inputs import read_snapshot
from foodchain.plan import PlanOptions, plan_week
from foodchain.plan.record import UnservedRow
from foodchain.scenario import Scenario, install_scenario, load_scenario
from foodchain.weeks import Week

from .conftest import TINY, Cli
from .test_plan import _checked
from .week_checker import check_collections, check_week

MONDAY, THURSDAY = dt.date(2026, 11, 30), dt.date(2026, 12, 3)
NORD = "farm_nord"
DETERMINISTIC = PlanOptions(deterministic=True, solution_limit=30)


@pytest.fixture(scope="module")
def week49(tmp_path_factory: pytest.TempPathFactory) -> tuple[AllocationProblem, list[Flow]]:
    engine = open_database(f"sqlite:///{tmp_path_factory.mktemp('db') / 'tiny.db'}")
    install_scenario(engine, load_scenario(TINY))
    problem = problem_of(read_snapshot(engine, Week(2026, 49)))
    engine.dispose()
    return problem, allocate(problem).flows


def _collections(flows: list[Flow]) -> dict[tuple[str, dt.date], float]:
    kg: dict[tuple[str, dt.date], float] = {}
    for f in flows:
        kg[(f.farm_id, f.pickup_day)] = kg.get((f.farm_id, f.pickup_day), 0.0) + f.kg
    return {k: round(v, 2) for k, v in kg.items()}


def _rules(**settings: Any) -> ConsolidationRules:
    return ConsolidationRules.model_validate(settings)


def test_the_hand_computed_week(week49: tuple[AllocationProblem, list[Flow]]) -> None:
    _, flows = week49
    assert _collections([f for f in flows if f.farm_id == NORD]) == {
        (NORD, MONDAY): 10.21,
        (NORD, THURSDAY): 85.48,
    }


def test_a_small_collection_feeding_its_own_day_is_brought(
    week49: tuple[AllocationProblem, list[Flow]],
) -> None:
    """Monday's 10.21 kg feed Monday's lunch: no later day can take them, the farm brings
    them. Thursday's 85 kg and farm_sud (brings its produce anyway) are left as they are."""
    problem, flows = week49
    done = consolidate(problem, flows, _rules(min_pickup_kg=20), {"farm_sud"})
    assert [(c.farm_id, c.day, c.action, round(c.kg, 2)) for c in done.changes] == [
        (NORD, MONDAY, "brought", 10.21)
    ]
    assert done.changes[0].eur == pytest.approx(21.42, abs=0.01)
    assert done.brought == {(MONDAY, NORD)}
    assert sorted(done.flows, key=repr) == sorted(flows, key=repr)


def test_a_collection_whose_goods_keep_joins_another_day(
    week49: tuple[AllocationProblem, list[Flow]],
) -> None:
    """Under 1000 kg both days are small: Monday's cannot move (Monday's lunch), Thursday's
    goods all keep from Monday to Thursday, so Thursday's joins Monday's; the 95.69 kg left are
    still small and, as the scenario says, kept with the reason."""
    problem, flows = week49
    done = consolidate(problem, flows, _rules(min_pickup_kg=1000, otherwise="keep"), {"farm_sud"})
    merged, kept = done.changes
    assert (merged.day, merged.action, merged.into, round(merged.kg, 2)) == (
        THURSDAY,
        "merged",
        MONDAY,
        85.48,
    )
    assert (kept.day, kept.action, round(kept.kg, 2)) == (MONDAY, "kept", 95.69)
    assert kept.reason.startswith("the farm has no other collection this week")
    assert _collections([f for f in done.flows if f.farm_id == NORD]) == {(NORD, MONDAY): 95.69}
    assert done.brought == frozenset()


def test_goods_that_would_not_keep_are_not_merged(
    week49: tuple[AllocationProblem, list[Flow]],
) -> None:
    """Carrot keeping 3 days cannot wait from Monday to Thursday: Thursday's collection stays
    on Thursday (and is brought), whatever else in it keeps."""
    problem, flows = week49
    carrot = dataclasses.replace(problem.products["carrot"], shelf_life_days=3)
    short = dataclasses.replace(problem, products={**problem.products, "carrot": carrot})
    done = consolidate(short, flows, _rules(min_pickup_kg=1000), {"farm_sud"})
    assert {(c.day, c.action) for c in done.changes} == {
        (MONDAY, "brought"),
        (THURSDAY, "brought"),
    }


@pytest.mark.parametrize(
    ("settings", "small"),
    [
        ({"min_pickup_eur": 20}, False),  # 21.42 € reach the minimum value
        ({"min_pickup_eur": 25}, True),
        ({"min_pickup_kg": 20, "min_pickup_eur": 20}, False),  # either minimum is enough
        ({"min_pickup_kg": 20, "farms": {NORD: {"min_pickup_kg": 0}}}, False),  # exempt
        ({"min_pickup_kg": 5, "farms": {NORD: {"min_pickup_kg": 15}}}, True),
        ({}, False),  # no minimum
    ],
)
def test_minimums_in_kg_or_value_and_per_farm(
    week49: tuple[AllocationProblem, list[Flow]], settings: dict[str, Any], small: bool
) -> None:
    problem, flows = week49
    done = consolidate(problem, flows, _rules(**settings), {"farm_sud"})
    assert [(c.day, c.action) for c in done.changes] == ([(MONDAY, "brought")] if small else [])


def _scenario(tmp_path: Path, consolidation: str) -> Path:
    text = TINY.read_text(encoding="utf-8")
    old = "settings: {road_factor: 1.3,"
    assert old in text
    path = tmp_path / "tiny.yaml"
    path.write_text(text.replace(old, f"{old} consolidation: {consolidation},"), encoding="utf-8")
    (tmp_path / "tiny").symlink_to(TINY.parent / "tiny")
    return path


@pytest.mark.parametrize(
    ("consolidation", "fragments"),
    [
        ("{min_pickup_kg: -5}", ["settings.consolidation.min_pickup_kg", "greater than or equal"]),
        ("{min_pickup_eur: lots}", ["settings.consolidation.min_pickup_eur", "lots"]),
        ("{otherwise: wait}", ["settings.consolidation.otherwise", "'bring' or 'keep'"]),
        ("{min_pickup_kg: 20, weight: 3}", ["settings.consolidation.weight", "not permitted"]),
        (
            "{farms: {farm_est: {min_pickup_kg: 5}}}",
            ["settings.consolidation.farms", "not a farm of the scenario", "farm_est"],
        ),
        (
            "{farms: {farm_nord: {min_pickup_kg: 5, otherwise: later}}}",
            ["settings.consolidation.farms.farm_nord.otherwise"],
        ),
    ],
)
def test_broken_settings_are_refused_with_their_path(
    tmp_path: Path, consolidation: str, fragments: list[str]
) -> None:
    with pytest.raises(InputError) as info:
        load_scenario(_scenario(tmp_path, consolidation))
    text = " | ".join(str(p) for p in info.value.problems)
    for fragment in fragments:
        assert fragment in text, text


@pytest.fixture(scope="module")
def brought_plan(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Scenario, Any]]:
    folder = tmp_path_factory.mktemp("brought")
    scenario = load_scenario(_scenario(folder, "{min_pickup_kg: 20, min_pickup_eur: 30}"))
    engine: Engine = open_database(f"sqlite:///{folder / 'plan.db'}")
    install_scenario(engine, scenario)
    yield scenario, plan_week(engine, Week(2026, 49), DETERMINISTIC)
    engine.dispose()


def test_the_plan_asks_the_farm_to_bring_and_the_checkers_agree(
    brought_plan: tuple[Scenario, Any], tmp_path: Path
) -> None:
    scenario, plan = brought_plan
    record = _checked(plan, scenario)
    assert [(c.farm_id, c.day, c.action) for c in record.collections] == [(NORD, MONDAY, "brought")]
    assert record.brings(NORD, MONDAY) and not record.brings(NORD, THURSDAY)
    pickups = {(r.day, r.site_id) for r in record.stops if r.action == "pickup"}
    assert (MONDAY, NORD) not in pickups and (THURSDAY, NORD) in pickups
    assert record.kpis["collections"]["visits_saved"] == 1
    assert record.kpis["collections"]["brought_kg"] == pytest.approx(10.21, abs=0.01)
    # farm_nord's own run on Monday counts in the farmers' runs (farm_sud's on Monday too).
    runs = record.kpis["transport"]["farm_runs"]["by_farm"]
    assert runs[NORD]["runs"] == 1
    write_documents(record, tmp_path)
    page = (tmp_path / "pick_lists" / f"{NORD}.html").read_text(encoding="utf-8")
    assert "à apporter à la plateforme" in page and "05:30-20:00" in page


def test_the_checker_catches_a_small_collection_without_reason(
    brought_plan: tuple[Scenario, Any],
) -> None:
    """The plan's statement left out: Monday's 10.21 kg, collected by no van and brought by
    no-one the scenario knows, is a small collection with no reason, and is not collected."""
    scenario, plan = brought_plan
    record = plan.record
    errors = check_week(scenario, record.flows, record.stops, record.unserved)
    assert any("under the minimum pickup, with no reason stated" in e for e in errors), errors
    assert any("collected 0.000 kg" in e for e in errors), errors
    kept = [c.model_copy(update={"action": "kept", "reason": ""}) for c in record.collections]
    assert check_collections(scenario, record.flows, kept)
    stated = [c.model_copy(update={"action": "kept", "reason": "x"}) for c in record.collections]
    assert check_collections(scenario, record.flows, stated) == []


def test_the_checker_catches_goods_kept_beyond_their_shelf_life(
    brought_plan: tuple[Scenario, Any],
) -> None:
    """Thursday's carrot picked up on Monday (as a merge would) with a carrot that keeps 3
    days; and a pickup on a day the forecast does not offer (leek: Monday only)."""
    scenario, plan = brought_plan
    carrot = next(p for p in scenario.products if p.id == "carrot")
    short = dataclasses.replace(
        scenario,
        products=[carrot.model_copy(update={"shelf_life_days": 3})]
        + [p for p in scenario.products if p.id != "carrot"],
    )
    moved = [
        dataclasses.replace(f, pickup_day=MONDAY) if f.farm_id == NORD else f
        for f in plan.record.flows
    ]
    errors = check_collections(short, moved, plan.record.collections)
    assert any("carrot" in e and "3 days, shelf life 3 days" in e for e in errors), errors
    late = [
        dataclasses.replace(f, pickup_day=THURSDAY) if f.product_id == "leek" else f
        for f in plan.record.flows
    ]
    errors = check_collections(scenario, late, plan.record.collections)
    assert any("leek" in e and "offered on ['mon'] only" in e for e in errors), errors


def test_the_plan_summary_says_what_was_consolidated(sqlite_url: str, tmp_path: Path) -> None:
    """The coordinator reads each collection asked to be brought, and the visits saved; a
    re-route of the stored run keeps the farm bringing it (no van goes to farm_nord on
    Monday)."""
    path = _scenario(tmp_path, "{min_pickup_kg: 20, min_pickup_eur: 30}")
    cli = Cli(sqlite_url)
    week = ("--week", "2026-W49")
    output = cli("plan", *week, "--scenario", path, "--deterministic", "--out", tmp_path / "plan")
    output = " ".join(output.split())  # as wrapped for the terminal
    assert (
        "Collections: Ferme du Nord, mon 30/11: 10.2 kg (21.43 €: Carotte, Poireau, Pomme de "
        "terre), under the minimum pickup (20 kg or 30 €), no other day takes it (thu 03/12: "
        "Carotte for École maternelle Émile Basly on mon 30/11 is delivered before thu 03/12): "
        "the farm is asked to bring it to the hub (05:30-20:00)." in output
    ), output
    assert (
        "Collections: 1 farm visit(s) fewer for the vans (0 merged into another day, 0.0 kg; 1 "
        "brought by the farm, 10.2 kg)." in output
    )
    rerouted = cli("route", "--run", "1", "--day", "mon", "--time-limit", "1")
    assert "Ferme du Nord" not in rerouted and "farm_nord" not in rerouted, rerouted


def test_goods_that_would_reach_the_hub_too_late_are_not_merged(tmp_path: Path) -> None:
    """Week 2026-W50 with farm_nord open on Thursday only at 11:30-12:30 and leek offered on
    Monday and Thursday: Monday's collection (leek for Thursday's baskets, carrot and potato
    for the shop, which closes at 12:00) would fit Thursday by shelf life, but collected on
    Thursday the shop's goods reach the hub after they must leave: not merged, kept with the
    reason; apples keeping 2 days keep Thursday's on Thursday. Both checkers agree."""
    text = _scenario(tmp_path, "{min_pickup_kg: 1000, otherwise: keep}").read_text()
    windows = 'windows: {mon: "07:00-10:00", thu: "07:00-10:00"}\n    service_minutes: 10\n'
    assert text.count(windows) == 2  # farm_nord first
    (tmp_path / "tiny.yaml").write_text(
        text.replace(windows, windows.replace('thu: "07:00-10:00"', 'thu: "11:30-12:30"'), 1)
    )
    scenario = load_scenario(tmp_path / "tiny.yaml")
    scenario = dataclasses.replace(
        scenario,
        forecasts=[
            f.model_copy(update={"days_available": ["mon", "thu"]})
            if (f.farm_id, f.product_id) == (NORD, "leek")
            else f
            for f in scenario.forecasts
        ],
        products=[
            p.model_copy(update={"shelf_life_days": 2}) if p.id == "apple" else p
            for p in scenario.products
        ],
    )
    engine = open_database(f"sqlite:///{tmp_path / 'late.db'}")
    install_scenario(engine, scenario)
    plan = plan_week(engine, Week(2026, 50), DETERMINISTIC)
    engine.dispose()
    record = _checked(plan, scenario)
    assert {(c.day, c.action) for c in record.collections} == {
        (dt.date(2026, 12, 7), "kept"),
        (dt.date(2026, 12, 10), "kept"),
    }
    assert any(f.destination_id == "shop_lens" for f in record.flows)
    assert not record.unserved


def test_the_checker_catches_merged_goods_that_do_not_reach_their_delivery(
    brought_plan: tuple[Scenario, Any],
) -> None:
    scenario, plan = brought_plan
    record = plan.record
    merged = CollectionChange(
        farm_id=NORD, day=MONDAY, kg=1, eur=1, action="merged", into=THURSDAY, products=["carrot"]
    )
    late = UnservedRow(
        day=THURSDAY,
        site_id="relay_loos",
        action="delivery",
        kg=1,
        reason="goods_too_late",
        explanation="",
    )
    errors = check_week(scenario, record.flows, record.stops, [late], [merged])
    assert any(
        "carrot merged into 2026-12-03's collection does not reach relay_loos" in e for e in errors
    ), errors
