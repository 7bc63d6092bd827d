"""The week: its demand, the allocation, the rounds, and the weekly plan that saves a run."""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from collections.abc import Callable
from dataclasses import replace
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from foodchain.cli.app import (
    EXAMPLES,
    FORMAT_HELP,
    Format,
    Lang,
    app,
    console,
    database,
    escape,
    flag,
    group,
    language_option,
    notices,
    out_option,
    output_folder,
    reported,
    script_csv,
    time_limit_option,
    week_option,
)
from foodchain.errors import FoodchainError
from foodchain.plan.limits import (
    DEFAULT_SOLUTION_LIMIT,
    DEFAULT_TIME_LIMIT_S,
    MAX_SEED,
    MAX_SOLUTION_LIMIT,
)
from foodchain.weeks import WEEKDAYS, clock, parse_weekday

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from foodchain.allocation import AllocationResult
    from foodchain.demand import WeekDemand
    from foodchain.plan import PlanRecord
    from foodchain.plan.rounds import WeekRounds

demand_app = group("demand", "The week's demand.")


class RoutingEngine(StrEnum):
    auto = "auto"
    ortools = "ortools"
    pyvrp = "pyvrp"


ENGINE_HELP = (
    "Routing engine: auto runs OR-Tools and PyVRP at once and keeps the best valid rounds."
)


def demand_rows(demand: WeekDemand) -> tuple[list[str], list[list[Any]]]:
    header = ["kind", "destination_id", "item_id", "delivery_day", "weekday", "kg", "baskets"]
    rows: list[list[Any]] = [
        [
            "canteen",
            d.canteen_id,
            d.item_id,
            d.delivery_day.isoformat(),
            WEEKDAYS[d.delivery_day.weekday()],
            d.kg,
            None,
        ]
        for d in demand.canteens
    ]
    rows += [
        [
            "basket",
            b.relay_point_id,
            b.basket_type_id,
            b.delivery_day.isoformat(),
            WEEKDAYS[b.delivery_day.weekday()],
            None,
            b.baskets,
        ]
        for b in demand.baskets
    ]
    return header, rows


def _demand_json(demand: WeekDemand) -> str:
    return json.dumps(
        {
            "week": str(demand.week),
            "canteens": [
                {
                    "canteen_id": d.canteen_id,
                    "item_id": d.item_id,
                    "is_group": d.is_group,
                    "delivery_day": d.delivery_day.isoformat(),
                    "kg": d.kg,
                    "meal_days": [m.isoformat() for m in d.meal_days],
                }
                for d in demand.canteens
            ],
            "baskets": [
                {
                    "relay_point_id": b.relay_point_id,
                    "basket_type_id": b.basket_type_id,
                    "delivery_day": b.delivery_day.isoformat(),
                    "baskets": b.baskets,
                }
                for b in demand.baskets
            ],
            "skipped": [
                {"canteen_id": s.canteen_id, "day": s.day.isoformat(), "reason": s.reason}
                for s in demand.skipped
            ],
            "moved": [
                {
                    "relay_point_id": m.relay_point_id,
                    "usual_day": m.usual_day.isoformat(),
                    "day": m.day.isoformat(),
                    "reason": m.reason,
                }
                for m in demand.moved
            ],
        },
        indent=2,
        ensure_ascii=False,
    )


def _demand_tables(demand: WeekDemand) -> None:
    days = sorted({d.delivery_day for d in demand.canteens})
    canteen_table = Table(title=f"Canteen demand {demand.week} (kg of harvest)")
    canteen_table.add_column("canteen")
    canteen_table.add_column("product / group")
    for day in days:
        canteen_table.add_column(f"{WEEKDAYS[day.weekday()]} {day:%d/%m}", justify="right")
    canteen_table.add_column("total", justify="right")
    cells: dict[tuple[str, str], dict[Any, float]] = defaultdict(dict)
    for d in demand.canteens:
        cells[(d.canteen_id, d.item_id)][d.delivery_day] = d.kg
    for (canteen, item), by_day in sorted(cells.items()):
        canteen_table.add_row(
            canteen,
            item,
            *[f"{by_day[day]:.1f}" if day in by_day else "" for day in days],
            f"{sum(by_day.values()):.1f}",
        )
    canteen_table.add_section()
    canteen_table.add_row("total", "", *["" for _ in days], f"{demand.canteen_kg:.1f}")
    console.print(canteen_table)

    types = sorted({b.basket_type_id for b in demand.baskets})
    basket_table = Table(title=f"Baskets {demand.week}")
    basket_table.add_column("relay point")
    basket_table.add_column("day")
    for t in types:
        basket_table.add_column(t, justify="right")
    basket_table.add_column("total", justify="right")
    per_relay: dict[tuple[str, Any], dict[str, int]] = defaultdict(dict)
    for b in demand.baskets:
        per_relay[(b.relay_point_id, b.delivery_day)][b.basket_type_id] = b.baskets
    for (relay, day), counts in sorted(per_relay.items()):
        basket_table.add_row(
            relay,
            f"{WEEKDAYS[day.weekday()]} {day:%d/%m}",
            *[str(counts.get(t, "")) for t in types],
            str(sum(counts.values())),
        )
    basket_table.add_section()
    basket_table.add_row("total", "", *["" for _ in types], str(demand.basket_count))
    console.print(basket_table)

    reasons: dict[tuple[str, str], list[str]] = defaultdict(list)
    for s in demand.skipped:
        reasons[(s.canteen_id, s.reason)].append(f"{WEEKDAYS[s.day.weekday()]} {s.day:%d/%m}")
    for (canteen, reason), days_off in sorted(reasons.items()):
        console.print(f"  {canteen}: no demand on {', '.join(days_off)} — {reason}")
    for m in demand.moved:
        console.print(
            f"  {m.relay_point_id}: baskets of {WEEKDAYS[m.usual_day.weekday()]} "
            f"{m.usual_day:%d/%m} delivered {WEEKDAYS[m.day.weekday()]} {m.day:%d/%m} — "
            f"{escape(m.reason)}"
        )


WeekOption = Annotated[str, typer.Option(help="ISO week, e.g. 2026-W49.", metavar="WEEK")]


@demand_app.command(
    "show",
    help="The week's demand per destination × product × delivery day, and baskets per relay "
    "point." + EXAMPLES + "foodchain demand show --week 2026-W49 --format csv > demand.csv",
)
def demand_show(
    week: WeekOption,
    format: Annotated[Format, typer.Option(help=FORMAT_HELP)] = Format.table,
) -> None:
    from foodchain.demand import load_week_demand

    with reported():
        demand = load_week_demand(database(), week_option(week))
        if format is Format.json:
            typer.echo(_demand_json(demand))
        elif format is Format.csv:
            header, rows = demand_rows(demand)
            typer.echo(script_csv(header, rows), nl=False)
        else:
            _demand_tables(demand)


# --------------------------------------------------------------------------- allocation


def _allocation_summary(result: AllocationResult) -> None:
    from foodchain.allocation import BASKET, CANTEEN, SHOP

    table = Table(title=f"Allocation {result.week} ({result.status})", show_header=False)
    table.add_column("", style="bold")
    table.add_column("", justify="right")
    met = result.kg_to(CANTEEN)
    table.add_row("supply offered", f"{result.supply_kg:,.1f} kg")
    table.add_row(
        "canteens",
        f"{met:,.1f} of {result.canteen_demand_kg:,.1f} kg ({met / result.canteen_demand_kg:.0%})"
        if result.canteen_demand_kg
        else "no demand",
    )
    table.add_row(
        "baskets",
        f"{result.baskets_filled} of {result.baskets_due} filled, {result.kg_to(BASKET):,.1f} kg",
    )
    if result.bought_kg:
        table.add_row(
            "bought in", f"{result.bought_kg:,.1f} kg, {result.bought_eur:,.2f} € before VAT"
        )
    table.add_row("partner shops", f"{result.kg_to(SHOP):,.1f} kg")
    table.add_row("unsold", f"{result.unsold_kg:,.1f} kg")
    table.add_row("fairness index", f"{result.fairness_overall:.3f}")
    table.add_row(
        "solve",
        f"{result.stats['solve_seconds']:.2f} s, {int(result.stats['variables'])} variables, "
        f"{int(result.stats['integer_variables'])} integer",
    )
    console.print(table)
    baskets = Table(title="Basket contents (kg per basket, pieces in brackets)")
    types = sorted({b.basket_type_id for b in result.baskets})
    baskets.add_column("product")
    for t in types:
        baskets.add_column(t, justify="right")
    content = {(b.basket_type_id, b.product_id): b for b in result.baskets}
    for product in sorted({b.product_id for b in result.baskets}):
        cells = []
        for t in types:
            line = content.get((t, product))
            units = f" ({line.units_per_basket})" if line and line.units_per_basket else ""
            cells.append(f"{line.kg_per_basket:.2f}{units}" if line else "")
        baskets.add_row(product, *cells)
    baskets.add_row(
        "total",
        *[
            f"{sum(b.kg_per_basket for b in result.baskets if b.basket_type_id == t):.2f}"
            for t in types
        ],
    )
    console.print(baskets)
    for note in result.notes:
        console.print(f"[yellow]Note:[/yellow] {escape(note)}")
    for title, rows in (
        ("Largest shortfalls", sorted(result.shortfalls, key=lambda s: -s.kg)[:10]),
        ("Largest unsold", sorted(result.surplus, key=lambda s: -s.kg)[:10]),
    ):
        if rows:
            console.print(f"[bold]{title}[/bold]")
            for row in rows:
                console.print(f"  {row.kg:8.1f} kg  {escape(row.reason)}")


@app.command(
    help="Decide who supplies what to whom and what goes in each basket, and explain the gaps."
    + EXAMPLES
    + "foodchain allocate --week 2026-W49 --out allocation-W49"
)
def allocate(
    week: WeekOption,
    out: Annotated[
        Path | None,
        out_option("Folder for allocation.csv, baskets.csv, shortfalls.csv, surplus.csv."),
    ] = None,
) -> None:
    from foodchain.allocation.export import write_allocation
    from foodchain.allocation.load import allocate_week
    from foodchain.documents import holds_documents

    with reported():
        output_folder(out)
        result = allocate_week(database(), week_option(week))
        _allocation_summary(result)
        if out is not None:
            if holds_documents(out):
                raise FoodchainError(
                    f"{out} holds a plan's documents: write the allocation elsewhere (--out), "
                    "so that the documents keep matching their run"
                )
            written = write_allocation(result, out)
            console.print(f"Wrote {', '.join(p.name for p in written)} to {escape(str(out))}.")


# --------------------------------------------------------------------------- routing


def _print_rounds(rounds: WeekRounds) -> None:
    from foodchain.routing.cold import cold_classes

    totals = {"km": 0.0, "co2": 0.0, "cost": 0.0}
    for day in rounds.days:
        problem, result = day.problem, day.result
        title = f"Rounds of {WEEKDAYS[day.day.weekday()]} {day.day:%d/%m/%Y}"
        if problem.hub_id != rounds.hub_id:  # a farm's own round, from the farm
            title += f": {problem.hub_id}'s own deliveries, from the farm"
        table = Table(title=title)
        for column in ("vehicle", "trip", "leaves", "back", "km", "stops (arrival, kg on board)"):
            table.add_column(column, justify="right" if column in ("trip", "km") else "left")
        for trip in sorted(result.trips, key=lambda t: (problem.vehicles[t.vehicle].id, t.number)):
            stops = ", ".join(
                f"{problem.stops[v.stop].site_id} {clock(v.arrival)} {v.load_kg:.0f}"
                for v in trip.visits
            )
            cold = any(cold_classes(problem, s) for s in trip.stops)
            table.add_row(
                problem.vehicles[trip.vehicle].id,
                f"{trip.number + 1}{' ❄' if cold else ''}",
                clock(trip.departure),
                clock(trip.back),
                f"{trip.km:.1f}",
                escape(stops),
            )
        console.print(table)
        console.print(
            f"  {result.km:.1f} km, {result.hours:.1f} h, {result.co2_kg:.1f} kg CO2, "
            f"{result.cost:.2f} €, {result.vehicles_used} vehicles, "
            f"solved in {result.seconds:.1f} s by {result.statistics.get('engine', '?')}"
        )
        if result.statistics.get("crashes"):
            console.print(
                "  [red]a search failed[/red] (the day kept the others' rounds): "
                + escape(str(result.statistics["crashes"]).splitlines()[-1])
            )
        for unserved in result.unserved:
            stop = problem.stops[unserved.stop]
            console.print(
                f"  [yellow]not served[/yellow] {stop.site_id}: {escape(unserved.explanation)}"
            )
        totals["km"] += result.km
        totals["co2"] += result.co2_kg
        totals["cost"] += result.cost
    console.print(
        f"Week {rounds.week}: {totals['km']:.1f} km, {totals['co2']:.1f} kg CO2, "
        f"{totals['cost']:.2f} € over {len({d.day for d in rounds.days})} days."
    )


@app.command(
    help="Plan the collection and delivery rounds of each day of a week.\n\nThe week is "
    "allocated from the stored inputs, or, with --run, a stored plan's allocation is routed "
    "again with today's fleet, sites and travel times (after a breakdown, say)."
    + EXAMPLES
    + "foodchain route --week 2026-W49 --day thu --time-limit 10"
)
def route(
    week: Annotated[
        str | None,
        typer.Option(help="ISO week, e.g. 2026-W49 (default: the run's week).", metavar="WEEK"),
    ] = None,
    run: Annotated[
        int | None,
        typer.Option(help="Route this stored run's allocation instead of allocating anew."),
    ] = None,
    day: Annotated[
        str | None, typer.Option(help="One weekday only, e.g. thu (default: every day).")
    ] = None,
    time_limit: Annotated[float, typer.Option(help="Seconds of search per day.")] = 10.0,
    engine: Annotated[RoutingEngine, typer.Option(help=ENGINE_HELP)] = RoutingEngine.auto,
) -> None:
    from foodchain.consolidation import brought_days
    from foodchain.plan.rounds import route_week
    from foodchain.routing.options import SolverOptions
    from foodchain.runs import load_run

    with reported():
        engine_ = database()
        flows, fills = None, []
        brought: frozenset[tuple[dt.date, str]] = frozenset()
        if run is not None:
            stored = load_run(engine_, run)
            if week is not None and week_option(week) != week_option(stored.week):
                raise FoodchainError(
                    f"--week {week}: run {run} plans week {stored.week}; "
                    "leave --week out or give that week"
                )
            week, flows, fills = stored.week, stored.record.flows, stored.record.fills
            brought = brought_days(stored.record.collections)
        if week is None:
            raise FoodchainError("give --week (or --run, to route a stored plan's allocation)")
        the_week = week_option(week)
        days = None
        if day is not None:
            try:
                days = [the_week.day(parse_weekday(day))]
            except ValueError as exc:
                raise FoodchainError(f"--day: {exc}") from None
        options = SolverOptions(time_limit_s=time_limit_option(time_limit), engine=engine.value)
        with console.status(f"Routing {the_week}…") as status:

            def searching(day: dt.date) -> Callable[[float], None]:
                stage = f"Routing {WEEKDAYS[day.weekday()]} {day:%d/%m}"
                status.update(stage)
                return lambda value: status.update(escape(_progress_text(stage, value)))

            rounds = route_week(
                engine_,
                the_week,
                options,
                days,
                progress=searching,
                flows=flows,
                fills=fills,
                brought=brought,
            )
        _print_rounds(rounds)


# --------------------------------------------------------------------------- the weekly plan


def _percent(share: float | None) -> str:
    return f"{share:.0%}" if share is not None else "-"


def plan_summary(record: PlanRecord, run_id: int, folder: Path | None) -> None:
    from foodchain.consolidation import collection_notes

    kpis = record.kpis
    fulfilment = kpis["fulfilment"]
    canteens, baskets, shops = fulfilment["canteens"], fulfilment["baskets"], fulfilment["shops"]
    transport = kpis["transport"]
    left_out = record.unserved_mandatory()
    if left_out:
        console.print(
            f"[bold red]{len(left_out)} mandatory stop(s) not served: their goods are "
            "allocated but not delivered.[/bold red]"
        )
        for u in left_out:
            console.print(
                f"  [red]not served[/red] {u.day:%a %d/%m} {escape(record.name(u.site_id))} "
                f"({u.kg:,.1f} kg): {escape(u.explanation)}"
            )
    table = Table(title=f"Plan {record.week}", show_header=False)
    table.add_column("", style="bold")
    table.add_column("")
    not_delivered = canteens.get("undelivered_kg", 0.0)
    table.add_row(
        "canteens",
        f"{canteens['delivered_kg']:,.1f} of {canteens['demand_kg']:,.1f} kg delivered "
        f"({_percent(canteens['share'])})"
        + (f", {not_delivered:,.1f} kg allocated but not delivered" if not_delivered else ""),
    )
    baskets_left = baskets.get("undelivered_kg", 0.0)
    table.add_row(
        "baskets",
        f"{baskets['filled']} of {baskets['due']} filled ({_percent(baskets['share'])}), "
        f"{baskets['kg']:,.1f} kg"
        + (f", {baskets_left:,.1f} kg not delivered" if baskets_left else ""),
    )
    table.add_row("partner shops", f"{shops.get('delivered_kg', shops['kg']):,.1f} kg")
    table.add_row("unsold", f"{kpis['unsold_kg']:,.1f} of {kpis['supply_kg']:,.1f} kg offered")
    stock = kpis.get("stock")
    if stock and (stock["in_kg"] or stock["out_kg"] or stock["lost_kg"]):
        source = f" (left by run {record.stock_from_run})" if record.stock_from_run else ""
        table.add_row(
            "stock",
            f"{stock['in_kg']:,.1f} kg held over{source}, {stock['out_kg']:,.1f} kg kept for "
            f"next week, {stock['lost_kg']:,.1f} kg lost",
        )
    table.add_row(
        "transport",
        f"{transport['km']:,.1f} km, {transport['trips']} trips, {transport['cost_eur']:,.2f} €"
        + _direct_words(transport),
    )
    table.add_row(
        "CO2",
        _co2_line(transport),
    )
    table.add_row(
        "food-miles",
        f"{kpis['food_miles_kg_km']:,.0f} kg·km"
        + (
            f" ({kpis['food_miles_km_per_kg']:.1f} km per kg)"
            if kpis["food_miles_km_per_kg"]
            else ""
        ),
    )
    table.add_row("fairness index", f"{kpis['fairness']['overall']:.3f}")
    money = kpis.get("economics")
    if money:
        table.add_row(
            "hub economics",
            f"{money['revenue_eur']:,.2f} € in, farms {money['farm_payments_eur']:,.2f} €"
            + (f", bought in {money['bought_in_eur']:,.2f} €" if money["bought_in_eur"] else "")
            + f", rounds {money['transport_eur']:,.2f} €: margin {money['margin_eur']:,.2f} €"
            + (
                f" ({money['logistics_eur_per_kg']:.2f} € of rounds per kg)"
                if money["logistics_eur_per_kg"] is not None
                else ""
            ),
        )
    console.print(table)
    for note in record.allocation_notes:
        console.print(f"[yellow]Note:[/yellow] {escape(note)}")
    hub = record.sites.get(record.hub_id)
    for note in collection_notes(record.collections, record.name, hub.windows if hub else None):
        console.print(f"[yellow]Collections:[/yellow] {escape(note)}")

    fleet = Table(title="Fleet")
    for column in ("vehicle type", "vehicles·days", "trips", "km", "hours", "CO2 kg", "cost €"):
        fleet.add_column(column, justify="left" if column == "vehicle type" else "right")
    for kind, k in transport["by_vehicle_type"].items():
        fleet.add_row(
            kind,
            str(k["vehicles"]),
            str(k["trips"]),
            f"{k['km']:.1f}",
            f"{k['hours']:.1f}",
            f"{k['co2_kg']:.1f}",
            f"{k['cost_eur']:.2f}",
        )
    console.print(fleet)

    rules = Table(title="Canteens: contribution to EGalim of the produce delivered")
    for column in ("canteen", "kg", "short kg", "organic", "quality", "rule"):
        rules.add_column(column, justify="left" if column == "canteen" else "right")
    for canteen, k in kpis["canteens"].items():
        rules.add_row(
            escape(record.name(canteen)),
            f"{k['delivered_kg']:.1f}",
            f"{k['short_kg']:.1f}",
            f"{_percent(k['organic_share'])} (≥ {k['organic_min']:.0%})",
            f"{_percent(k['quality_share'])} (≥ {k['quality_min']:.0%})",
            "[green]met[/green]" if k["rule_met"] else "[red]not met[/red]",
        )
    console.print(rules)

    if kpis["largest_shortfalls"]:
        console.print("[bold yellow]Short demand (largest first):[/bold yellow]")
        for short in kpis["largest_shortfalls"]:
            console.print(f"  {short['kg']:8.1f} kg  {escape(short['reason'])}")
    for unserved in record.unserved:
        if unserved in left_out:
            continue  # listed first
        console.print(
            f"[yellow]not served[/yellow] {unserved.day:%a %d/%m} "
            f"{escape(record.name(unserved.site_id))}: {escape(unserved.explanation)}"
        )
    short = canteens["short_kg"] > 0 or baskets["filled"] < baskets["due"]
    if short:
        console.print("[yellow]Demand is short this week (see above).[/yellow]")
    if folder is not None:
        console.print(
            f"Run [bold]{run_id}[/bold] saved as a draft (publish it with "
            f"'foodchain runs publish {run_id}'); documents in {escape(str(folder))}"
        )


def _direct_words(transport: dict[str, Any]) -> str:
    """The farms' own direct rounds among the week's (none in older records)."""
    direct = transport.get("direct_rounds") or {}
    if not direct.get("trips"):
        return ""
    return (
        f", of which farms' own direct rounds {direct['km']:,.1f} km, {direct['trips']} trips, "
        f"{direct['co2_kg']:,.1f} kg CO2"
    )


def _co2_line(transport: dict[str, Any]) -> str:
    """The rounds' CO2 against diesel vans of the same classes, and the farmers' own runs
    (records before like-for-like baselines lack the newer keys)."""
    farms = transport.get("farm_runs")
    gas = transport.get("biomethane_share") or 0.0
    return (
        f"{transport.get('co2_total_kg', transport['co2_kg']):,.1f} kg: rounds "
        f"{transport['co2_kg']:,.1f} kg"
        + (f" (bioGNV {gas:.0%})" if gas else "")
        + f", same-class diesel vans {transport['diesel_co2_kg']:,.1f} kg, saved "
        f"{transport['co2_saved_kg']:,.1f} kg"
        + (
            f"; farmers' own runs {farms['co2_kg']:,.1f} kg, {farms['km']:,.0f} km"
            if farms and farms.get("km")
            else ""
        )
    )


def _progress_text(stage: str, value: float | None) -> str:
    return f"{stage}" + (f" — objective {value:,.2f}" if value is not None else "")


@app.command(
    help="The weekly plan: allocation, rounds, documents, saved as a draft run."
    + EXAMPLES
    + "foodchain plan --week 2026-W49 --scenario lensois"
)
def plan(
    week: WeekOption,
    scenario: Annotated[
        str | None,
        typer.Option(
            help="Scenario (YAML file or bundled name), loaded first if the database holds "
            "none; if it holds an older version, the changes are listed and applied only "
            "with --update.",
            metavar="SCENARIO",
        ),
    ] = None,
    update: Annotated[
        bool, flag("--update", "Apply the changes --scenario makes to the stored territory.")
    ] = False,
    time_limit: Annotated[
        float,
        typer.Option(
            help="Seconds of routing search for the whole week, shared among its days "
            "(rounds always come out: a first plan is built before any search)."
        ),
    ] = DEFAULT_TIME_LIMIT_S,
    engine: Annotated[RoutingEngine, typer.Option(help=ENGINE_HELP)] = RoutingEngine.auto,
    allow_unserved: Annotated[
        bool,
        flag(
            "--allow-unserved",
            "Save the plan even if its rounds leave mandatory stops out (a coordinator's "
            "decision: such a plan is refused by default).",
        ),
    ] = False,
    out: Annotated[
        Path | None,
        out_option("Folder for the documents (default plans/WEEK/run-N, the run's own)."),
    ] = None,
    seed: Annotated[int, typer.Option(min=0, max=MAX_SEED, help="Seed of the routing search.")] = 0,
    deterministic: Annotated[
        bool,
        flag(
            "--deterministic",
            "Stop searches by amount of work (--work), not time: same inputs, same plan. "
            "Slower: 36 s instead of 4 s for the Lensois week 2026-W49.",
        ),
    ] = False,
    work: Annotated[
        int,
        typer.Option(
            min=1,
            max=MAX_SOLUTION_LIMIT,
            help="With --deterministic: the search's work budget, solutions per day (more: "
            "better rounds, longer).",
        ),
    ] = DEFAULT_SOLUTION_LIMIT,
    language: Annotated[
        Lang | None, language_option("Language of the documents (default: the scenario's).")
    ] = None,
    warm_start: Annotated[
        bool,
        flag(
            "--warm-start",
            "Start each day's rounds from the week's latest stored plan when that day "
            "has the same stops (a re-plan after quantities changed keeps the rounds).",
        ),
    ] = False,
) -> None:
    from foodchain.plan import PlanOptions, plan_week
    from foodchain.plan.saving import save_plan
    from foodchain.runs import latest_run, list_runs

    with reported():
        the_week = week_option(week)
        output_folder(out)
        engine_ = database(create=scenario is not None, announce=True)
        if scenario is not None:
            _ensure_scenario(engine_, scenario, update)
        earlier = latest_run(engine_, str(the_week)) if warm_start else None
        if warm_start and earlier is None:
            console.print(f"No stored plan of {the_week} yet: rounds searched afresh.")
        options = PlanOptions(
            time_limit_s=time_limit_option(time_limit),
            engine=engine.value,
            seed=seed,
            deterministic=deterministic,
            solution_limit=work,
            language=language.value if language else None,
            warm_start_run=earlier.id if earlier else None,
        )
        if deterministic:
            notices.print(
                f"[yellow]Deterministic: each day's search stops after {work} solutions, not "
                "after a time: expect tens of seconds or more (--work sets the budget)."
                "[/yellow]"
            )
        with console.status(f"Planning {the_week}…") as status:

            def show(stage: str, value: float | None) -> None:
                status.update(f"Planning {the_week}: {escape(_progress_text(stage, value))}")

            the_plan = plan_week(
                engine_, the_week, options, show, earlier.record if earlier else None
            )
            status.update("Saving the run and writing the documents…")
            saved = save_plan(engine_, the_plan, out, allow_unserved)
        plan_summary(the_plan.record, saved.run_id, saved.folder)
        following = the_week.shift(1)
        if the_plan.record.stock_out and list_runs(engine_, str(following)):
            console.print(
                f"[yellow]{following} was planned with the stock an earlier run of "
                f"{the_week} left: plan {following} again to carry this run's stock "
                f"({sum(r.kg for r in the_plan.record.stock_out):,.1f} kg).[/yellow]"
            )


def _ensure_scenario(engine: Engine, scenario: str, update: bool) -> None:
    """Load the scenario into a new database; on one holding an older version, list what
    the file changes and apply it only with ``update``."""
    from foodchain.cli.territory import print_changes, read_scenario
    from foodchain.scenario import ensure_scenario

    loaded = ensure_scenario(engine, read_scenario(scenario), update)
    if loaded.outcome == "loaded":
        console.print(f"Loaded the scenario {escape(scenario)}.")
    elif loaded.outcome == "differs":
        console.print(
            f"[yellow]{escape(scenario)} differs from the scenario stored in the database; "
            "this plan uses the stored one. Run again with --update to apply:[/yellow]"
        )
        print_changes(replace(loaded.report, tables=loaded.territory_changes), detail=True)
    elif loaded.outcome == "updated":
        console.print(f"Updated the stored scenario from {escape(scenario)}:")
        print_changes(loaded.report, detail=True)
