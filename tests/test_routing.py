"""Routing engine: hand-checkable days, diagnosis, multi-trips, two echelons, properties.

Every solve uses a solution limit (deterministic mode), never a wall-clock limit, and every
result goes through the independent checker of ``tests/routing_checker.py``.
"""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from foodchain.routing import (
    ENGINES,
    ILS_SEARCH,
    Place,
    RoutingProblem,
    SolverOptions,
    Stop,
    StopKind,
    Travel,
    UnservedReason,
    Vehicle,
    diagnose,
    great_circle_km,
    solve,
)
from foodchain.routing.ortools_engine import solve as ortools_solve
from tests.routing_checker import check_result

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"

QUICK = SolverOptions(time_limit_s=None, solution_limit=60, workers=1)


def line_problem(
    stops: list[Stop], vehicles: list[Vehicle], positions: list[float], **extra
) -> RoutingProblem:
    """Hub at 0 and stops on a straight road at ``positions`` km; 60 km/h (1 km a minute)."""
    places = [0.0, *positions]
    km = tuple(tuple(abs(a - b) for b in places) for a in places)
    return RoutingProblem(
        stops=tuple(stops), vehicles=tuple(vehicles), km=km, minutes=(km,), **extra
    )


def delivery(
    site: str, kg: float, window: tuple[float, float], service: float = 10, **extra
) -> Stop:
    return Stop(
        site,
        StopKind.DELIVERY,
        extra.pop("site_kind", "canteen"),
        kg,
        extra.pop("crates", 1.0),
        window,
        service,
        **extra,
    )


def pickup(site: str, kg: float, window: tuple[float, float], service: float = 10, **extra) -> Stop:
    return Stop(
        site, StopKind.PICKUP, "farm", kg, extra.pop("crates", 1.0), window, service, **extra
    )


def van(**extra) -> Vehicle:
    defaults = dict(id="van", capacity_kg=100.0, capacity_crates=20.0, shift=(360.0, 720.0))
    defaults.update(extra)
    return Vehicle(**defaults)  # type: ignore[arg-type]


def solved(problem: RoutingProblem, options: SolverOptions = QUICK):
    """The result of ``options.engine`` once every engine's result passes the checker."""
    results = {}
    for engine in ENGINES:
        results[engine] = solve(problem, replace(options, engine=engine))
        assert check_result(problem, results[engine]) == [], engine
    # auto keeps the best of both: never more stops left out, never a higher cost
    assert results["auto"].rank() <= min(results["ortools"].rank(), results["pyvrp"].rank())
    return results[options.engine]


# --------------------------------------------------------------------------- by hand


def test_a_day_checkable_by_hand():
    """A at 10 km (08:00-09:00), B 10 km further (09:00-10:00): A then B, leave at 08:30.

    Leaving at 08:30 reaches A at 08:40, B at 09:00, back at 09:25: 40 km, 55 min.
    Cost = 10 (fixed) + 40 km × 0.5 + 55/60 h × 30 = 57.5 €.
    """
    problem = line_problem(
        [delivery("a", 20, (480, 540)), delivery("b", 30, (540, 600), service=5)],
        [van(cost_fixed=10, cost_per_km=0.5, cost_per_hour=30, co2_kg_per_km=0.2)],
        [10, 20],
    )
    result = solved(problem)
    (trip,) = result.trips
    assert trip.stops == (0, 1)
    assert trip.departure == pytest.approx(510)
    assert [v.start for v in trip.visits] == pytest.approx([520, 540])
    assert trip.back == pytest.approx(565)
    assert result.km == pytest.approx(40)
    assert result.hours == pytest.approx(55 / 60)
    assert result.cost == pytest.approx(57.5)
    assert result.co2_kg == pytest.approx(8.0)
    assert [v.load_kg for v in trip.visits] == pytest.approx([30, 0])


def test_hub_handling_times_are_counted_before_and_after_a_trip():
    """20 min fixed + 2 min per 100 kg: 50 kg out means 21 min of loading before leaving."""
    problem = line_problem(
        [delivery("a", 50, (420, 720))],
        [van(capacity_kg=200)],
        [5],
        hub_fixed_minutes=20,
        hub_minutes_per_100kg=2,
    )
    (trip,) = solved(problem).trips
    assert trip.departure - trip.start == pytest.approx(21)


def test_optional_stop_is_dropped_when_its_penalty_is_below_its_cost():
    far = delivery("shop", 10, (420, 720), site_kind="shop", mandatory=False, penalty=1.0)
    near = delivery("canteen", 10, (420, 720))
    problem = line_problem([near, far], [van(cost_per_km=1.0)], [1, 100])
    result = solved(problem)
    assert [t.stops for t in result.trips] == [(0,)]
    (dropped,) = result.unserved
    assert dropped.reason is UnservedReason.OPTIONAL_DROPPED
    assert result.penalty == pytest.approx(1.0)
    assert result.all_mandatory_served


# --------------------------------------------------------------------------- diagnosis


def test_window_unreachable_from_the_hub_within_any_shift():
    problem = line_problem([delivery("far", 10, (360, 370))], [van()], [30])
    result = solved(problem)
    (u,) = result.unserved
    assert u.reason is UnservedReason.WINDOW_UNREACHABLE
    assert "06:10" in u.explanation and "06:30" in u.explanation


def test_load_above_every_vehicle_capacity():
    problem = line_problem(
        [delivery("big", 500, (360, 720)), delivery("ok", 50, (360, 720))],
        [van(id="small", capacity_kg=100), van(id="large", capacity_kg=300)],
        [5, 5],
    )
    result = solved(problem)
    (u,) = result.unserved
    assert (u.stop, u.reason) == (0, UnservedReason.TOO_HEAVY)
    assert "300" in u.explanation
    assert [t.stops for t in result.trips] == [(1,)]


def test_beyond_every_allowed_vehicle_range():
    problem = line_problem(
        [delivery("dunkerque", 10, (360, 720))],
        [van(id="doblo", range_km=150), van(id="ducato", range_km=180)],
        [95],
    )
    (u,) = solved(problem).unserved
    assert u.reason is UnservedReason.OUT_OF_RANGE
    assert "190" in u.explanation


def test_bikes_stay_in_their_zone_and_serve_only_allowed_kinds():
    bike = van(id="bike", max_km_from_hub=7.0, allowed_site_kinds=frozenset({"relay", "canteen"}))
    problem = line_problem(
        [
            delivery("near", 10, (420, 720), site_kind="relay"),
            delivery("lens", 10, (420, 720), site_kind="relay"),
            pickup("farm", 10, (420, 720)),
        ],
        [bike],
        [3, 12, 2],
    )
    result = solved(problem)
    reasons = {u.stop: u.reason for u in result.unserved}
    assert reasons == {1: UnservedReason.OUT_OF_RANGE, 2: UnservedReason.NO_ALLOWED_VEHICLE}
    assert diagnose(problem, 0) is None


def test_goods_arriving_too_late_are_the_reason():
    problem = line_problem([delivery("canteen", 10, (420, 570), release=600)], [van()], [5])
    (u,) = solved(problem).unserved
    assert u.reason is UnservedReason.GOODS_TOO_LATE


def test_a_saturated_fleet_leaves_a_stop_out_with_a_reason():
    """Two 80 kg deliveries, one 100 kg van, one trip, same narrow window: one is left out."""
    problem = line_problem(
        [delivery("a", 80, (420, 440)), delivery("b", 80, (420, 440))], [van()], [5, 6]
    )
    result = solved(problem)
    (u,) = result.unserved
    # No proof the fleet is full (that is NP-hard): what is known is said, no more.
    assert u.reason is UnservedReason.NOT_PLACED
    assert "could serve it on a trip of its own" in u.explanation
    assert "--time-limit" in u.explanation
    assert not result.all_mandatory_served


def test_a_large_fleet_is_offered_in_part_and_grows_when_stops_need_it():
    """40 vans of 3 trips (120 slots): 4 light stops need few vans; 12 light deliveries of
    20 minutes each, all to start between 400 and 420, need 6 vans at once (two stops each):
    more than the kg and the work suggest (4 vans), so the fleet offered must grow."""
    fleet = [van(id=f"van{i:02d}", max_trips=3) for i in range(40)]
    few = line_problem([delivery(f"s{i}", 10, (420, 600)) for i in range(4)], fleet, [5] * 4)
    result = ortools_solve(few, QUICK)
    assert check_result(few, result) == []
    assert result.all_mandatory_served
    assert int(result.statistics["fleet"]) < len(fleet)
    rush = line_problem(
        [delivery(f"s{i}", 10, (400, 420), service=20) for i in range(12)], fleet, [10] * 12
    )
    result = ortools_solve(rush, QUICK)
    assert check_result(rush, result) == []
    assert result.all_mandatory_served
    assert result.vehicles_used == 6
    assert result.statistics["fleet_attempts"] == 2
    assert solved(rush).vehicles_used == 6


def test_identical_vans_of_several_trips_are_all_used_when_needed():
    """OR-Tools tries one empty vehicle per class: trip slots of identical vans must not share
    one, or a van's later trip (which cannot start in time) hides the others' first trips."""
    fleet = [van(id=f"van{i:02d}", max_trips=3) for i in range(12)]
    rush = line_problem(
        [delivery(f"s{i}", 10, (400, 420), service=20) for i in range(12)], fleet, [10] * 12
    )
    result = solved(rush)
    assert result.all_mandatory_served and result.vehicles_used == 6


# --------------------------------------------------------------------------- multi-trip


def test_a_bike_makes_several_trips_reloading_at_the_hub():
    bike = van(id="bike", capacity_kg=100, max_trips=4, cost_per_hour=20)
    stops = [delivery(f"relay_{k}", 60, (420, 900), site_kind="relay") for k in range(3)]
    problem = line_problem(stops, [bike], [2, 3, 4], hub_fixed_minutes=10, hub_minutes_per_100kg=2)
    result = solved(problem)
    assert result.all_mandatory_served
    assert len(result.trips) == 3
    ends = [t.end for t in result.trips]
    starts = [t.start for t in result.trips]
    assert all(s >= e - 1e-6 for s, e in zip(starts[1:], ends, strict=False))


def test_daily_range_is_shared_by_all_trips_of_a_vehicle():
    bike = van(id="bike", capacity_kg=50, max_trips=3, range_km=25)
    stops = [delivery(f"relay_{k}", 40, (420, 900), site_kind="relay") for k in range(3)]
    result = solved(line_problem(stops, [bike], [5, 5, 5]))
    assert len(result.trips) == 2  # 3 trips would be 30 km
    assert result.km <= 25 + 1e-9


# --------------------------------------------------------------------------- two echelons


def test_deliveries_leave_only_after_their_goods_are_unloaded_at_the_hub():
    farm = pickup("farm", 80, (420, 480))
    canteen = delivery("canteen", 80, (480, 600), supplied_by=(0,))
    relay = delivery("relay", 20, (420, 600), site_kind="relay")
    problem = line_problem(
        [farm, canteen, relay],
        [van(capacity_kg=120, max_trips=3), van(id="van2", capacity_kg=120, max_trips=2)],
        [8, 6, 4],
        hub_fixed_minutes=10,
        hub_minutes_per_100kg=3,
    )
    result = solved(problem)
    assert result.all_mandatory_served
    trip_of = {v.stop: t for t in result.trips for v in t.visits}
    assert trip_of[1].start >= trip_of[0].end - 1e-6


def test_a_van_may_collect_then_deliver_what_it_collected():
    farm = pickup("farm", 60, (400, 460))
    canteen = delivery("canteen", 60, (420, 560), supplied_by=(0,))
    problem = line_problem([farm, canteen], [van(max_trips=2)], [10, 3], hub_fixed_minutes=5)
    result = solved(problem)
    assert [t.stops for t in result.trips] == [(0,), (1,)]


def test_goods_from_a_farm_that_cannot_be_collected_cannot_be_delivered():
    farm = pickup("farm", 60, (1000, 1010))  # after every shift
    canteen = delivery("canteen", 60, (420, 560), supplied_by=(0,))
    result = solved(line_problem([farm, canteen], [van(max_trips=2)], [10, 3]))
    reasons = {u.stop: u.reason for u in result.unserved}
    assert reasons == {0: UnservedReason.WINDOW_UNREACHABLE, 1: UnservedReason.GOODS_TOO_LATE}


def test_a_trip_may_deliver_then_collect_with_the_load_counted_all_along():
    """Deliver 70 kg then collect 60 kg: never more than 100 kg on board in a 100 kg van."""
    problem = line_problem(
        [delivery("canteen", 70, (420, 500)), pickup("farm", 60, (500, 560))],
        [van(cost_per_km=1.0)],
        [5, 6],
    )
    result = solved(problem)
    assert [t.stops for t in result.trips] == [(0, 1)]
    assert max(v.load_kg for v in result.trips[0].visits) <= 100


# --------------------------------------------------------------------------- determinism, API


def test_same_seed_and_solution_limit_give_the_same_routes():
    problem = random_day(seed=3, stops=12)
    options = SolverOptions(time_limit_s=None, solution_limit=80, workers=1)
    first, second = solve(problem, options), solve(problem, options)
    assert first.routes() == second.routes()
    assert first.objective == second.objective


def test_two_parallel_searches_are_deterministic_too_and_keep_the_best():
    problem = random_day(seed=5, stops=10)
    options = SolverOptions(
        time_limit_s=None,
        solution_limit=50,
        workers=2,
        searches=(ILS_SEARCH, replace(ILS_SEARCH, seed=9)),
    )
    first, second = ortools_solve(problem, options), ortools_solve(problem, options)
    assert check_result(problem, first) == []
    assert first.routes() == second.routes()
    assert int(first.statistics["searches"]) >= 2
    alone = ortools_solve(problem, replace(options, workers=1))
    assert first.objective is not None and alone.objective is not None
    assert first.objective <= alone.objective


def test_progress_reports_improving_objective_values():
    values: list[float] = []
    problem = random_day(seed=4, stops=10)
    result = solve(problem, QUICK, progress=values.append)
    assert values and values == sorted(values, reverse=True)
    assert result.objective is not None
    # the last value is the kept plan's cost, a stop left out for want of room priced 1 M€
    placeable = (UnservedReason.FLEET_SATURATED, UnservedReason.NOT_PLACED)
    saturated = [u for u in result.unserved if u.reason in placeable]
    penalized = result.cost + 1_000_000 * len(saturated)
    assert values[-1] == pytest.approx(penalized, abs=1.0)  # OR-Tools rounds its costs


def test_warm_start_from_a_previous_plan_is_never_worse():
    problem = random_day(seed=8, stops=12)
    first = solve(problem, QUICK)
    assert first.trips and first.unserved  # a day with both, so the ranking has to count
    again = solve(problem, replace(QUICK, solution_limit=20), initial_routes=first.routes())
    assert check_result(problem, again) == []
    assert again.rank() <= first.rank()
    assert again.unserved_mandatory <= first.unserved_mandatory


@pytest.mark.parametrize("engine", ENGINES)
def test_warm_start_with_no_time_to_search_returns_its_start(engine):
    """A busy machine: 10 ms for the day. The start is kept (or beaten), never lost."""
    problem = random_day(seed=8, stops=12)
    first = solve(problem, QUICK)
    hurried = SolverOptions(time_limit_s=0.01, workers=1, engine=engine)
    again = solve(problem, hurried, initial_routes=first.routes())
    assert check_result(problem, again) == []
    assert again.rank() <= first.rank()


@pytest.mark.parametrize("engine", ENGINES)
def test_a_search_with_no_time_still_returns_rounds_for_every_stop(engine):
    """10 ms for 30 stops: the construction serves every stop a trip of its own could."""
    problem = random_day(seed=3, stops=30, vehicles=15)
    result = solve(problem, SolverOptions(time_limit_s=0.01, workers=1, engine=engine))
    assert check_result(problem, result) == []
    assert result.found_solution and result.trips
    assert not [u for u in result.unserved if u.reason is UnservedReason.NOT_PLACED]


def test_options_need_a_limit():
    with pytest.raises(ValueError, match="limit"):
        SolverOptions(time_limit_s=None)


def test_a_day_without_stops_is_an_empty_plan():
    result = solve(line_problem([], [van()], []), QUICK)
    assert result.trips == () and result.cost == 0 and result.all_mandatory_served


# --------------------------------------------------------------------------- travel


def test_great_circle_distances_from_base_11_19_match_facts():
    """facts §1: Lens 3.3 km, Lille 28.4 km, Dunkerque 71.8 km as the crow flies."""
    assert great_circle_km(50.4470, 2.7930, 50.4322, 2.8328) == pytest.approx(3.3, abs=0.05)
    assert great_circle_km(50.4470, 2.7930, 50.6313, 3.0714) == pytest.approx(28.4, abs=0.1)
    assert great_circle_km(50.4470, 2.7930, 51.0364, 2.3775) == pytest.approx(71.8, abs=0.1)


def test_an_imported_matrix_replaces_distances_and_van_times_but_not_bike_times():
    hub, lens = Place("hub", 50.4470, 2.7930), Place("lens", 50.4322, 2.8328)
    travel = Travel(road_factor=1.3, matrix={("hub", "lens"): (5.0, 9.0)})
    assert travel.km(hub, lens) == 5.0
    assert travel.minutes(hub, lens, speed_kmh=40) == 9.0
    assert travel.minutes(hub, lens, speed_kmh=15, by_road=False) == pytest.approx(20.0)
    assert travel.km(lens, hub) == pytest.approx(
        great_circle_km(50.4322, 2.8328, 50.4470, 2.7930) * 1.3
    )
    assert travel.missing_pairs(["hub", "lens"]) == [("lens", "hub")]


def test_a_road_factor_below_one_is_refused():
    with pytest.raises(ValueError, match="road factor"):
        Travel(road_factor=0.9)


# --------------------------------------------------------------------------- properties


def random_day(seed: int, stops: int, vehicles: int = 2) -> RoutingProblem:
    """A reproducible small day: pickups and deliveries around a hub, mixed fleet."""
    import random

    rng = random.Random(seed)
    return _day_from(rng.random, stops, vehicles)


def _day_from(draw, n_stops: int, n_vehicles: int) -> RoutingProblem:
    points = [(0.0, 0.0)] + [(draw() * 20 - 10, draw() * 20 - 10) for _ in range(n_stops)]
    km = tuple(tuple(math.dist(a, b) for b in points) for a in points)
    stops: list[Stop] = []
    pickups: list[int] = []
    for k in range(n_stops):
        opens = 360 + draw() * 300
        window = (opens, opens + 30 + draw() * 300)
        kg = round(draw() * 80, 1)
        if draw() < 0.3:
            pickups.append(k)
            stops.append(
                pickup(f"farm_{k}", kg, window, service=draw() * 15, crates=float(int(draw() * 6)))
            )
        else:
            supplied = tuple(p for p in pickups if draw() < 0.4)
            mandatory = draw() < 0.8
            stops.append(
                delivery(
                    f"site_{k}",
                    kg,
                    window,
                    service=draw() * 15,
                    site_kind="relay" if draw() < 0.5 else "shop",
                    crates=float(int(draw() * 6)),
                    mandatory=mandatory,
                    penalty=0.0 if mandatory else draw() * 50,
                    release=None if draw() < 0.7 else 360 + draw() * 200,
                    supplied_by=supplied,
                )
            )
    vehicles = []
    for v in range(n_vehicles):
        start = 360 + draw() * 120
        bike = draw() < 0.4
        vehicles.append(
            Vehicle(
                id=f"v{v}",
                capacity_kg=60 + draw() * 140,
                capacity_crates=4 + int(draw() * 12),
                shift=(start, start + 240 + draw() * 300),
                cost_fixed=draw() * 30,
                cost_per_km=draw(),
                cost_per_hour=draw() * 30,
                range_km=30 + draw() * 150,
                max_km_from_hub=8.0 if bike else None,
                allowed_site_kinds=frozenset({"relay", "shop"}) if bike else None,
                max_trips=1 + int(draw() * 3),
                profile=1 if bike else 0,
            )
        )
    fast = km
    slow = tuple(tuple(d * 4 for d in row) for row in km)
    return RoutingProblem(
        stops=tuple(stops),
        vehicles=tuple(vehicles),
        km=km,
        minutes=(fast, slow),
        hub_fixed_minutes=draw() * 15,
        hub_minutes_per_100kg=draw() * 3,
    )


@st.composite
def days(draw):
    n_stops = draw(st.integers(1, 8))
    n_vehicles = draw(st.integers(1, 3))
    floats = st.floats(0, 1, allow_nan=False, allow_infinity=False)
    return _day_from(lambda: draw(floats), n_stops, n_vehicles)


PROPERTY = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(days())
def test_every_result_passes_the_independent_checker(problem):
    result = solve(problem, SolverOptions(time_limit_s=None, solution_limit=30, workers=1))
    assert check_result(problem, result) == []
    assert result.found_solution


@PROPERTY
@given(days())
def test_a_stop_alone_is_served_exactly_when_diagnosis_finds_no_obstacle(problem):
    alone = replace(
        problem,
        stops=(replace(problem.stops[0], supplied_by=(), mandatory=True),),
        km=tuple(row[:2] for row in problem.km[:2]),
        minutes=tuple(tuple(row[:2] for row in m[:2]) for m in problem.minutes),
    )
    result = solve(alone, SolverOptions(time_limit_s=None, solution_limit=10, workers=1))
    assert check_result(alone, result) == []
    reason = diagnose(alone, 0)
    if reason is None:
        assert [t.stops for t in result.trips] == [(0,)]
    else:
        assert [u.reason for u in result.unserved] == [reason.reason]


# --------------------------------------------------------------------------- scenarios


def _loaded(path):
    from foodchain.scenario import load_scenario

    scenario = load_scenario(path)
    return scenario, {s.id: s for s in scenario.sites}, {f.site_id: f for f in scenario.farms}


@pytest.fixture(scope="module")
def tiny_routing():
    return _loaded(SCENARIOS / "tiny.yaml")


@pytest.fixture(scope="module")
def lensois_routing():
    return _loaded(SCENARIOS / "lensois.yaml")


def test_tiny_scenario_thursday_with_hand_made_flows(tiny_routing):
    from foodchain.routing import Flow, build_day_problem

    scenario, sites, farms = tiny_routing
    thursday = date(2026, 12, 3)
    flows = [
        Flow("farm_nord", "carrot", "mat_basly", thursday, 20),
        Flow("farm_sud", "lettuce", "relay_loos", thursday, 30),
        Flow("farm_nord", "leek", "relay_lens", thursday, 40),
        Flow("farm_nord", "potato", "shop_lens", thursday, 60),
        Flow("farm_nord", "potato", "shop_lens", date(2026, 12, 4), 60),  # another day
    ]
    problem = build_day_problem(
        thursday,
        sites[scenario.hub],
        sites,
        farms,
        scenario.vehicles,
        flows,
        scenario.settings["road_factor"],
        optional_sites={"shop_lens"},
    )
    assert [s.site_id for s in problem.stops] == [
        "farm_nord",
        "mat_basly",
        "relay_lens",
        "relay_loos",
        "shop_lens",
    ]
    assert problem.stops[3].release == 420  # farm_sud brings its lettuce to the hub at 07:00
    result = solve(problem, QUICK)
    assert check_result(problem, result) == []
    assert result.all_mandatory_served
    visited = {problem.stops[v.stop].site_id for t in result.trips for v in t.visits}
    assert "farm_sud" not in visited and "farm_nord" in visited


def test_lensois_thursday_with_plausible_flows(lensois_routing):
    from foodchain.routing import Flow, build_day_problem

    scenario, sites, farms = lensois_routing
    thursday = date(2026, 12, 3)
    canteens = [
        "mat_basly",
        "mat_jaures",
        "mat_curie",
        "elem_basly",
        "elem_jaures",
        "elem_ferry",
        "foyer_logement",
    ]
    relays = ["relay_loos", "relay_lens", "relay_lievin", "relay_avion"]
    flows = []
    for k, canteen in enumerate(canteens):
        flows.append(Flow("farm_pied_des_terrils", "carrot", canteen, thursday, 12 + 3 * k))
        flows.append(Flow("farm_ecopole", "lettuce", canteen, thursday, 4 + k))
        flows.append(Flow("farm_anges_gardins", "leek", canteen, thursday, 8 + 2 * k))
    for k, relay in enumerate(relays):
        flows.append(Flow("farm_chemin_vert", "potato", relay, thursday, 30 + 5 * k))
        flows.append(Flow("farm_endives_vendin", "endive", relay, thursday, 10 + k))
        flows.append(Flow("farm_vergers_mazingarbe", "apple", relay, thursday, 15 + 2 * k))
    flows.append(Flow("farm_endives_vendin", "endive", "shop_lievin", thursday, 25))
    problem = build_day_problem(
        thursday,
        sites[scenario.hub],
        sites,
        farms,
        scenario.vehicles,
        flows,
        scenario.settings["road_factor"],
        optional_sites={"shop_lievin"},
    )
    visited_kinds = {s.site_id for s in problem.stops if s.kind is StopKind.PICKUP}
    assert visited_kinds == {
        "farm_pied_des_terrils",
        "farm_chemin_vert",
        "farm_endives_vendin",
        "farm_vergers_mazingarbe",
    }
    result = solve(problem, SolverOptions(time_limit_s=None, solution_limit=150, workers=1))
    assert check_result(problem, result) == []
    assert result.all_mandatory_served, [u.explanation for u in result.unserved]
    served = {problem.stops[v.stop].site_id for t in result.trips for v in t.visits}
    assert set(canteens) | set(relays) <= served


def test_lensois_friday_reaches_lille_and_dunkerque_by_van(lensois_routing):
    from foodchain.routing import Flow, build_day_problem

    scenario, sites, farms = lensois_routing
    friday = date(2026, 12, 4)
    relays = [
        "relay_sallaumines",
        "relay_vendin_le_vieil",
        "relay_harnes",
        "relay_lille",
        "relay_dunkerque",
    ]
    flows = [Flow("farm_route_hulluch", "potato", r, friday, 40) for r in relays]
    flows += [Flow("farm_ecopole", "lettuce", r, friday, 8) for r in relays]
    flows += [
        Flow("farm_ecopole", "lettuce", c, friday, 6)
        for c in ("mat_basly", "mat_jaures", "mat_curie")
    ]
    flows += [
        Flow("farm_route_hulluch", "onion", s, friday, 30) for s in ("shop_lens", "shop_loos")
    ]
    problem = build_day_problem(
        friday,
        sites[scenario.hub],
        sites,
        farms,
        scenario.vehicles,
        flows,
        scenario.settings["road_factor"],
        optional_sites={"shop_lens", "shop_loos"},
    )
    assert not [s for s in problem.stops if s.kind is StopKind.PICKUP]  # both bring their own
    result = solve(problem, SolverOptions(time_limit_s=None, solution_limit=100, workers=1))
    assert check_result(problem, result) == []
    assert result.all_mandatory_served, [u.explanation for u in result.unserved]
    for trip in result.trips:
        far = [
            problem.stops[v.stop].site_id
            for v in trip.visits
            if problem.stops[v.stop].site_id in ("relay_lille", "relay_dunkerque")
        ]
        if far:
            assert problem.vehicles[trip.vehicle].id.startswith("gnv_")


# --------------------------------------------------------------------------- territories


def _region_day(seed: int, farms: int, sites: int, vans: int) -> RoutingProblem:
    """Farms collected in the morning feed deliveries (one farm each) over 40 × 40 km."""
    import random

    rng = random.Random(seed)
    points = [(0.0, 0.0)] + [
        (rng.uniform(-20, 20), rng.uniform(-20, 20)) for _ in range(farms + sites)
    ]
    km = tuple(tuple(math.dist(a, b) * 1.3 for b in points) for a in points)
    minutes = tuple(tuple(d * 1.2 for d in row) for row in km)
    stops = [pickup(f"farm_{k}", rng.uniform(20, 80), (420, 660)) for k in range(farms)]
    stops += [
        delivery(f"site_{k}", rng.uniform(10, 40), (600, 960), supplied_by=(rng.randrange(farms),))
        for k in range(sites)
    ]
    fleet = [
        van(id=f"van{v:02d}", capacity_kg=500, max_trips=2, shift=(360, 1080)) for v in range(vans)
    ]
    return RoutingProblem(stops=tuple(stops), vehicles=tuple(fleet), km=km, minutes=(minutes,))


def test_a_large_day_is_solved_by_territories_and_passes_the_checker():
    """150 stops (farms feeding deliveries across the map) and 31 vans of 2 trips: above
    TERRITORY_STOPS and FLEET_SLOTS, so split; the merged plan is checked as one day."""
    from foodchain.routing.echelons import derive_hub_deadlines
    from foodchain.routing.territories import TERRITORY_STOPS, solve_day, territories

    problem = _region_day(5, 40, 110, 31)
    assert len(problem.stops) > TERRITORY_STOPS
    groups = territories(problem, 3)
    assert sorted(s for g in groups for s in g) == list(range(150))  # a partition
    assert max(len(g) for g in groups) <= 50
    result = solve_day(problem, SolverOptions(time_limit_s=None, solution_limit=40))
    assert result.statistics["territories"] == len(territories(derive_hub_deadlines(problem), 4))
    assert check_result(derive_hub_deadlines(problem), result) == []
    served = {v.stop for t in result.trips for v in t.visits}
    assert served.isdisjoint(u.stop for u in result.unserved)
    assert served | {u.stop for u in result.unserved} == set(range(150))
    for s in served:  # goods delivered only if collected the same day
        assert set(problem.stops[s].supplied_by) <= served
    assert len(served) >= 140


def test_a_day_within_one_territory_is_solved_whole():
    from foodchain.routing.territories import solve_day

    problem = random_day(3, 20, vehicles=3)
    result = solve_day(problem, QUICK)
    assert "territories" not in result.statistics
    assert check_result(problem, result) == []
