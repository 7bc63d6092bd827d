"""The command line: a thin client of the library. Only this module imports typer and rich."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from sqlalchemy import Engine

from foodchain import forecasts, menus, subscriptions, travel_matrix
from foodchain.allocation import BASKET, CANTEEN, SHOP, AllocationResult
from foodchain.allocation.export import write_allocation
from foodchain.allocation.load import allocate_week
from foodchain.catalogue import load_catalogue
from foodchain.db import open_database, shown_url, transaction
from foodchain.demand import WeekDemand, load_week_demand
from foodchain.errors import FoodchainError, InputError, NotFoundError
from foodchain.files.writing import table_csv
from foodchain.importing import Importer, import_file
from foodchain.models import SiteKind
from foodchain.routing.solver import SolverOptions
from foodchain.routing.week import WeekRounds, route_week
from foodchain.scenario import install_scenario, load_scenario
from foodchain.store import ImportReport
from foodchain.weeks import WEEKDAYS, Week, parse_weekday, week_range

app = typer.Typer(
    help="Plan the week of a short food supply chain (Loos-en-Gohelle and the Lensois).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
scenario_app = typer.Typer(help="Check scenarios.", no_args_is_help=True)
forecast_app = typer.Typer(help="Farmers' harvest forecasts.", no_args_is_help=True)
menu_app = typer.Typer(help="Canteen menus.", no_args_is_help=True)
subscriptions_app = typer.Typer(help="Basket subscriptions.", no_args_is_help=True)
demand_app = typer.Typer(help="The week's demand.", no_args_is_help=True)
matrix_app = typer.Typer(help="Road distance/time tables.", no_args_is_help=True)
app.add_typer(scenario_app, name="scenario")
app.add_typer(forecast_app, name="forecast")
app.add_typer(menu_app, name="menu")
app.add_typer(subscriptions_app, name="subscriptions")
app.add_typer(demand_app, name="demand")
app.add_typer(matrix_app, name="matrix")

console = Console(highlight=False)
PRIVATE_FIELDS = set(subscriptions.SPEC.private)
"""Never printed, even in a dry run's list of changes."""


class Options:
    db: str | None = None
    debug: bool = False


@app.callback()
def main(
    db: Annotated[
        str | None,
        typer.Option(help="Database URL (default: FOODCHAIN_DB, else sqlite:///foodchain.db)."),
    ] = None,
    debug: Annotated[bool, typer.Option(help="Show the Python traceback on errors.")] = False,
) -> None:
    Options.db = db
    Options.debug = debug


@contextmanager
def reported() -> Iterator[None]:
    """Turn foodchain errors into a red message and exit code 1 (traceback only with --debug)."""
    try:
        yield
    except FoodchainError as exc:
        if Options.debug:
            raise
        if isinstance(exc, InputError):
            console.print(f"[red]{len(exc.problems)} problem(s); nothing was written:[/red]")
            for problem in exc.problems:
                console.print(f"  [red]✗[/red] {escape(str(problem))}")
        else:
            console.print(f"[red]Error:[/red] {escape(str(exc))}")
        raise typer.Exit(1) from None
    except (typer.Exit, KeyboardInterrupt):
        raise
    except Exception as exc:
        if Options.debug:
            raise
        console.print(
            f"[red]Internal error ({type(exc).__name__}):[/red] {escape(str(exc))}\n"
            "Nothing was written. Run again with --debug and report the traceback."
        )
        raise typer.Exit(1) from None


def _engine() -> Engine:
    return open_database(Options.db)


def _weeks(text: str) -> list[Week]:
    try:
        return week_range(text)
    except ValueError as exc:
        raise FoodchainError(f"--weeks: {exc}") from None


def _week(text: str) -> Week:
    try:
        return Week.parse(text)
    except ValueError as exc:
        raise FoodchainError(f"--week: {exc}") from None


def _shown(row: dict[str, Any], fields: list[str]) -> str:
    return ", ".join(f"{k}={'***' if k in PRIVATE_FIELDS else row[k]}" for k in fields)


def _print_report(report: ImportReport, detail: bool) -> None:
    verb = "would be" if report.dry_run else "were"
    console.print(
        f"[bold]{report.kind}[/bold] from {escape(report.source)}: "
        f"{report.added} added, {report.changed} changed, {report.removed} removed "
        f"{verb} written; {report.unchanged} unchanged."
    )
    for note in report.notes:
        console.print(f"  [yellow]note:[/yellow] {escape(note)}")
    if not detail:
        return
    for changes in report.tables:
        limit = 30
        for row in changes.added[:limit]:
            keys = [k for k in row if k not in ("dish",)][:4]
            console.print(f"  [green]+[/green] {changes.table}: {escape(_shown(row, keys))}")
        for old, new in changes.changed[:limit]:
            diff = [k for k in new if old.get(k) != new[k]]
            text = ", ".join(
                f"{k}: {'***' if k in PRIVATE_FIELDS else old.get(k)} → "
                f"{'***' if k in PRIVATE_FIELDS else new[k]}"
                for k in diff
            )
            console.print(f"  [yellow]~[/yellow] {changes.table}: {escape(text)}")
        for row in changes.removed[:limit]:
            keys = list(row)[:5]
            console.print(f"  [red]-[/red] {changes.table}: {escape(_shown(row, keys))}")
        hidden = max(0, len(changes.added) - limit) + max(0, len(changes.changed) - limit)
        if hidden:
            console.print(f"  … and {hidden} more")


# --------------------------------------------------------------------------- init & scenario


@app.command()
def init(
    scenario: Annotated[Path, typer.Option(help="Scenario YAML to load.")],
    dry_run: Annotated[bool, typer.Option(help="Show what would change, write nothing.")] = False,
) -> None:
    """Create or upgrade the database schema and load a scenario (safe to run again)."""
    with reported():
        loaded = load_scenario(scenario)
        engine = _engine()
        report = install_scenario(engine, loaded, dry_run=dry_run)
        _print_report(report, detail=False)
        console.print(
            f"Scenario [bold]{escape(loaded.name)}[/bold] in {escape(shown_url(Options.db))}: "
            f"{len(loaded.sites)} sites, {len(loaded.products)} products, "
            f"{len(loaded.vehicles)} vehicles, {len(loaded.forecasts)} forecasts, "
            f"{len(loaded.menu_lines)} menu lines, {len(loaded.subscriptions)} subscriptions."
        )


@scenario_app.command("validate")
def scenario_validate(path: Path) -> None:
    """Check a scenario and its files without touching the database."""
    with reported():
        loaded = load_scenario(path)
        counts: dict[str, int] = defaultdict(int)
        for site in loaded.sites:
            counts[site.kind] += 1
        sites = ", ".join(f"{n} {k}" for k, n in sorted(counts.items()))
        console.print(
            f"[green]✓[/green] {escape(str(path))} is valid: {sites}; "
            f"{len(loaded.products)} products, {len(loaded.basket_types)} basket types, "
            f"{len(loaded.vehicles)} vehicles, {len(loaded.forecasts)} forecasts, "
            f"{len(loaded.menu_lines)} menu lines, {len(loaded.subscriptions)} subscriptions "
            f"({loaded.horizon[0]}..{loaded.horizon[1]})."
        )


# --------------------------------------------------------------------------- people's files


class Lang(StrEnum):
    fr = "fr"
    en = "en"


def _import(importer: Importer[Any], file: Path, dry_run: bool, **options: Any) -> None:
    with reported():
        report = import_file(_engine(), importer, file, dry_run=dry_run, options=options)
        _print_report(report, detail=dry_run)


@forecast_app.command("template")
def forecast_template(
    farm: Annotated[str, typer.Option(help="Farm id.")],
    weeks: Annotated[str, typer.Option(help="Weeks, e.g. 2026-W49..2026-W52.")],
    output: Annotated[Path, typer.Option("-o", "--output", help="File to write (.csv or .xlsx).")],
    lang: Annotated[Lang, typer.Option(help="Language of the headers.")] = Lang.fr,
) -> None:
    """Write a forecast sheet for a farm to fill in, pre-filled with its last known values."""
    with reported():
        sheet = forecasts.forecast_template(_engine(), farm, _weeks(weeks))
        sheet.write(output, french=lang is Lang.fr)
        console.print(f"Wrote {len(sheet.rows)} rows to {escape(str(output))}.")


@forecast_app.command("import")
def forecast_import(
    file: Path,
    dry_run: Annotated[bool, typer.Option(help="Show what would change, write nothing.")] = False,
) -> None:
    """Import a filled forecast sheet (CSV or XLSX); all or nothing."""
    _import(forecasts.IMPORTER, file, dry_run)


@forecast_app.command("export")
def forecast_export(
    weeks: Annotated[str, typer.Option(help="Weeks, e.g. 2026-W49..2026-W52.")],
    output: Annotated[Path, typer.Option("-o", "--output", help="File to write (.csv or .xlsx).")],
    farm: Annotated[str | None, typer.Option(help="Farm id (default: every farm).")] = None,
    lang: Annotated[Lang, typer.Option(help="Language of the headers.")] = Lang.fr,
) -> None:
    """Export stored forecasts in the import format."""
    with reported():
        sheet = forecasts.forecast_export(_engine(), farm, _weeks(weeks))
        sheet.write(output, french=lang is Lang.fr)
        console.print(f"Wrote {len(sheet.rows)} rows to {escape(str(output))}.")


@menu_app.command("import")
def menu_import(
    file: Path,
    canteen: Annotated[str, typer.Option(help="Canteen id.")],
    dry_run: Annotated[bool, typer.Option(help="Show what would change, write nothing.")] = False,
) -> None:
    """Import a canteen's menu; it replaces the canteen's lines on the dates it covers."""
    with reported():
        engine = _engine()
        with transaction(engine) as session:
            catalogue = load_catalogue(session)
        try:
            canteen_id = catalogue.resolve_site(canteen, SiteKind.CANTEEN, "canteen")
        except LookupError as exc:
            raise NotFoundError(
                f"--canteen {canteen!r}: {exc}. {getattr(exc, 'fix', '')}"
            ) from None
        report = import_file(
            engine, menus.IMPORTER, file, dry_run=dry_run, options={"canteen": canteen_id}
        )
        _print_report(report, detail=dry_run)


@subscriptions_app.command("import")
def subscriptions_import(
    file: Path,
    dry_run: Annotated[bool, typer.Option(help="Show what would change, write nothing.")] = False,
) -> None:
    """Import basket subscriptions (counted per relay point, or one row per subscriber)."""
    _import(subscriptions.IMPORTER, file, dry_run)


@matrix_app.command("import")
def matrix_import(
    file: Path,
    dry_run: Annotated[bool, typer.Option(help="Show what would change, write nothing.")] = False,
) -> None:
    """Import a distance/time table (from_id, to_id, km, minutes) from OSRM, Valhalla or ORS."""
    _import(travel_matrix.IMPORTER, file, dry_run)


# --------------------------------------------------------------------------- demand


class Format(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


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


@demand_app.command("show")
def demand_show(
    week: Annotated[str, typer.Option(help="ISO week, e.g. 2026-W49.")],
    format: Annotated[Format, typer.Option(help="table, csv or json.")] = Format.table,
) -> None:
    """The week's demand per destination × product × delivery day, and baskets per relay point."""
    with reported():
        demand = load_week_demand(_engine(), _week(week))
        if format is Format.json:
            typer.echo(_demand_json(demand))
        elif format is Format.csv:
            header, rows = demand_rows(demand)
            typer.echo(table_csv(header, rows), nl=False)
        else:
            _demand_tables(demand)


# --------------------------------------------------------------------------- allocation


def _allocation_summary(result: AllocationResult) -> None:
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
    table.add_row("partner shops", f"{result.kg_to(SHOP):,.1f} kg")
    table.add_row("unsold", f"{result.unsold_kg:,.1f} kg")
    table.add_row("fairness index", f"{result.fairness_overall:.3f}")
    table.add_row(
        "solve",
        f"{result.stats['solve_seconds']:.2f} s, {int(result.stats['variables'])} variables, "
        f"{int(result.stats['integer_variables'])} integer",
    )
    console.print(table)
    baskets = Table(title="Basket contents (kg per basket)")
    types = sorted({b.basket_type_id for b in result.baskets})
    baskets.add_column("product")
    for t in types:
        baskets.add_column(t, justify="right")
    content = {(b.basket_type_id, b.product_id): b for b in result.baskets}
    for product in sorted({b.product_id for b in result.baskets}):
        baskets.add_row(
            product,
            *[
                f"{content[(t, product)].kg_per_basket:.2f}" if (t, product) in content else ""
                for t in types
            ],
        )
    baskets.add_row(
        "total",
        *[
            f"{sum(b.kg_per_basket for b in result.baskets if b.basket_type_id == t):.2f}"
            for t in types
        ],
    )
    console.print(baskets)
    for title, rows in (
        ("Largest shortfalls", sorted(result.shortfalls, key=lambda s: -s.kg)[:10]),
        ("Largest unsold", sorted(result.surplus, key=lambda s: -s.kg)[:10]),
    ):
        if rows:
            console.print(f"[bold]{title}[/bold]")
            for row in rows:
                console.print(f"  {row.kg:8.1f} kg  {escape(row.reason)}")


@app.command()
def allocate(
    week: Annotated[str, typer.Option(help="ISO week, e.g. 2026-W49.")],
    out: Annotated[
        Path | None,
        typer.Option(help="Folder for allocation.csv, baskets.csv, shortfalls.csv, surplus.csv."),
    ] = None,
) -> None:
    """Decide who supplies what to whom and what goes in each basket, and explain the gaps."""
    with reported():
        result = allocate_week(_engine(), _week(week))
        _allocation_summary(result)
        if out is not None:
            written = write_allocation(result, out)
            console.print(f"Wrote {', '.join(p.name for p in written)} to {escape(str(out))}.")


# --------------------------------------------------------------------------- routing


def _clock(minutes: float) -> str:
    return f"{int(minutes // 60):02d}:{int(minutes % 60):02d}"


def _print_rounds(rounds: WeekRounds) -> None:
    totals = {"km": 0.0, "co2": 0.0, "cost": 0.0}
    for day in rounds.days:
        problem, result = day.problem, day.result
        table = Table(title=f"Rounds of {WEEKDAYS[day.day.weekday()]} {day.day:%d/%m/%Y}")
        for column in ("vehicle", "trip", "leaves", "back", "km", "stops (arrival, kg on board)"):
            table.add_column(column, justify="right" if column in ("trip", "km") else "left")
        for trip in sorted(result.trips, key=lambda t: (problem.vehicles[t.vehicle].id, t.number)):
            stops = ", ".join(
                f"{problem.stops[v.stop].site_id} {_clock(v.arrival)} {v.load_kg:.0f}"
                for v in trip.visits
            )
            table.add_row(
                problem.vehicles[trip.vehicle].id,
                str(trip.number + 1),
                _clock(trip.departure),
                _clock(trip.back),
                f"{trip.km:.1f}",
                escape(stops),
            )
        console.print(table)
        console.print(
            f"  {result.km:.1f} km, {result.hours:.1f} h, {result.co2_kg:.1f} kg CO2, "
            f"{result.cost:.2f} €, {result.vehicles_used} vehicles, "
            f"solved in {result.seconds:.1f} s"
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
        f"{totals['cost']:.2f} € over {len(rounds.days)} days."
    )


@app.command()
def route(
    week: Annotated[str, typer.Option(help="ISO week, e.g. 2026-W49.")],
    day: Annotated[
        str | None, typer.Option(help="One weekday only, e.g. thu (default: every day).")
    ] = None,
    time_limit: Annotated[float, typer.Option(help="Seconds of search per day.")] = 10.0,
) -> None:
    """Allocate the week, then plan the collection and delivery rounds of each day."""
    with reported():
        the_week = _week(week)
        days = None
        if day is not None:
            try:
                days = [the_week.day(parse_weekday(day))]
            except ValueError as exc:
                raise FoodchainError(f"--day: {exc}") from None
        rounds = route_week(_engine(), the_week, SolverOptions(time_limit_s=time_limit), days)
        _print_rounds(rounds)
