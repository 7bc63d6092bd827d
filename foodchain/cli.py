"""The command line: a thin client of the library. Only this module imports typer and rich."""

from __future__ import annotations

import datetime as dt
import json
import logging
import math
import time
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape as escape_markup
from rich.table import Table
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from foodchain import forecasts, menus, subscriptions, travel_matrix
from foodchain.allocation import BASKET, CANTEEN, SHOP, AllocationResult
from foodchain.allocation.export import write_allocation
from foodchain.allocation.load import allocate_week
from foodchain.catalogue import load_catalogue
from foodchain.db import describe_fault, open_database, shown_url, transaction
from foodchain.demand import WeekDemand, load_week_demand
from foodchain.documents import holds_documents
from foodchain.errors import FoodchainError, InputError, NotFoundError
from foodchain.files.writing import table_csv
from foodchain.generate import generate_scenario
from foodchain.importing import Importer, import_file
from foodchain.models import SiteKind
from foodchain.plan import PlanOptions, PlanRecord, plan_week
from foodchain.plan.rounds import WeekRounds, route_week
from foodchain.plan.saving import export_run, save_plan
from foodchain.plan.weekly import DEFAULT_TIME_LIMIT_S, MAX_SEED
from foodchain.report import COLUMNS as REPORT_COLUMNS
from foodchain.report import weekly_kpis, write_report
from foodchain.routing.options import SolverOptions
from foodchain.runs import (
    DISPLAY_KPIS,
    diff_runs,
    latest_run,
    list_runs,
    load_run,
    publish_run,
)
from foodchain.scenario import ensure_scenario, install_scenario, load_scenario
from foodchain.store import ImportReport
from foodchain.weeks import WEEKDAYS, Week, clock, parse_weekday, week_range


def escape(text: str) -> str:
    """Text from people's files made safe to print: rich markup escaped, and control
    characters (a terminal escape sequence in a dish name) shown as ``\\x1b``."""
    shown = "".join(
        c.encode("unicode_escape").decode() if c != "\n" and unicodedata.category(c) == "Cc" else c
        for c in text
    )
    return escape_markup(shown)


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
runs_app = typer.Typer(help="Stored weekly plans.", no_args_is_help=True)
app.add_typer(scenario_app, name="scenario")
app.add_typer(forecast_app, name="forecast")
app.add_typer(menu_app, name="menu")
app.add_typer(subscriptions_app, name="subscriptions")
app.add_typer(demand_app, name="demand")
app.add_typer(matrix_app, name="matrix")
app.add_typer(runs_app, name="runs")

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
    library = logging.getLogger("foodchain")
    if not any(isinstance(h, _ConsoleWarnings) for h in library.handlers):
        library.addHandler(_ConsoleWarnings(logging.WARNING))


class _ConsoleWarnings(logging.Handler):
    """The library's warnings (a writer waiting for the database) shown as the CLI's own."""

    def emit(self, record: logging.LogRecord) -> None:
        console.print(f"[yellow]{escape(record.getMessage())}[/yellow]")


PROBLEMS_SHOWN = 100
"""Problems of a refused file printed at most (an 8 MB file could have a million)."""


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
            for problem in exc.problems[:PROBLEMS_SHOWN]:
                console.print(f"  [red]✗[/red] {escape(str(problem))}")
            if len(exc.problems) > PROBLEMS_SHOWN:
                console.print(
                    f"  … and {len(exc.problems) - PROBLEMS_SHOWN:,} more: fix these first "
                    "(the same mistake often repeats on every line), then run again"
                )
        else:
            console.print(f"[red]Error:[/red] {escape(str(exc))}")
        raise typer.Exit(1) from None
    except SQLAlchemyError as exc:
        if Options.debug:
            raise
        console.print(f"[red]Error:[/red] {escape(describe_fault(exc))}")
        raise typer.Exit(1) from None
    except OSError as exc:
        if Options.debug:
            raise
        where = f" {exc.filename}" if exc.filename else ""
        console.print(
            f"[red]Error:[/red] cannot use{escape(where)}: {escape(exc.strerror or str(exc))}. "
            "Fix: check that the folder exists, is writable and has free space, or choose "
            "another path"
        )
        raise typer.Exit(1) from None
    except MemoryError:
        if Options.debug:
            raise
        console.print(
            "[red]Error:[/red] not enough memory for this command; nothing was written. Fix: "
            "close other programs, or split the file and import each part"
        )
        raise typer.Exit(1) from None
    except KeyboardInterrupt:
        if Options.debug:
            raise
        console.print(
            "[yellow]Interrupted.[/yellow] Nothing is half-written: each import, scenario load "
            "and plan run is saved in one transaction, so what was not finished was not saved, "
            "and documents are put in place whole. A run saved without its documents gets them "
            "with 'foodchain runs export RUN'. Run the command again."
        )
        raise typer.Exit(130) from None
    except typer.Exit:
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


@scenario_app.command("generate")
def scenario_generate(
    farms: Annotated[int, typer.Option(help="Number of farms (1-2000).")],
    relays: Annotated[int, typer.Option(help="Number of relay points (1-2000).")],
    canteens: Annotated[int, typer.Option(help="Number of canteens (1-2000).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder to write the scenario in.")],
    seed: Annotated[int, typer.Option(help="Seed: the same seed gives the same files.")] = 1,
    shops: Annotated[
        int | None, typer.Option(help="Partner shops (default: one per 15 relays and canteens).")
    ] = None,
    name: Annotated[str, typer.Option(help="Scenario id: writes NAME.yaml and NAME/.")] = "region",
    weeks: Annotated[
        str | None, typer.Option(help="Horizon, e.g. 2026-W45..2027-W26 (default: Lensois').")
    ] = None,
    force: Annotated[
        bool, typer.Option(help="Write into a non-empty folder, replacing NAME.yaml and NAME/.")
    ] = False,
) -> None:
    """Write a synthetic regional scenario on the Hauts-de-France map (for scale tests)."""
    with reported():
        horizon = None
        if weeks is not None:
            chosen = _weeks(weeks)
            horizon = (chosen[0], chosen[-1])
        started = time.perf_counter()
        path = generate_scenario(
            farms, relays, canteens, seed, out, shops=shops, name=name, weeks=horizon, force=force
        )
        console.print(
            f"[green]✓[/green] Wrote {escape(str(path))} ({farms} farms, {relays} relay points, "
            f"{canteens} canteens, seed {seed}) in {time.perf_counter() - started:.1f} s. "
            f"Check it with: foodchain scenario validate {escape(str(path))}"
        )


# --------------------------------------------------------------------------- people's files


class RoutingEngine(StrEnum):
    auto = "auto"
    ortools = "ortools"
    pyvrp = "pyvrp"


ENGINE_HELP = (
    "Routing engine: auto runs OR-Tools and PyVRP at once and keeps the best valid rounds."
)


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
            if holds_documents(out):
                raise FoodchainError(
                    f"{out} holds a plan's documents: write the allocation elsewhere (--out), "
                    "so that the documents keep matching their run"
                )
            written = write_allocation(result, out)
            console.print(f"Wrote {', '.join(p.name for p in written)} to {escape(str(out))}.")


# --------------------------------------------------------------------------- routing


def _print_rounds(rounds: WeekRounds) -> None:
    totals = {"km": 0.0, "co2": 0.0, "cost": 0.0}
    for day in rounds.days:
        problem, result = day.problem, day.result
        table = Table(title=f"Rounds of {WEEKDAYS[day.day.weekday()]} {day.day:%d/%m/%Y}")
        for column in ("vehicle", "trip", "leaves", "back", "km", "stops (arrival, kg on board)"):
            table.add_column(column, justify="right" if column in ("trip", "km") else "left")
        for trip in sorted(result.trips, key=lambda t: (problem.vehicles[t.vehicle].id, t.number)):
            stops = ", ".join(
                f"{problem.stops[v.stop].site_id} {clock(v.arrival)} {v.load_kg:.0f}"
                for v in trip.visits
            )
            table.add_row(
                problem.vehicles[trip.vehicle].id,
                str(trip.number + 1),
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
        f"{totals['cost']:.2f} € over {len(rounds.days)} days."
    )


@app.command()
def route(
    week: Annotated[
        str | None, typer.Option(help="ISO week, e.g. 2026-W49 (default: the run's week).")
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
    """Plan the collection and delivery rounds of each day of a week.

    The week is allocated from the stored inputs, or, with --run, a stored plan's allocation
    is routed again with today's fleet, sites and travel times (after a breakdown, say)."""
    with reported():
        database = _engine()
        flows = None
        if run is not None:
            stored = load_run(database, run)
            if week is not None and _week(week) != _week(stored.week):
                raise FoodchainError(
                    f"--week {week}: run {run} plans week {stored.week}; "
                    "leave --week out or give that week"
                )
            week, flows = stored.week, stored.record.flows
        if week is None:
            raise FoodchainError("give --week (or --run, to route a stored plan's allocation)")
        the_week = _week(week)
        days = None
        if day is not None:
            try:
                days = [the_week.day(parse_weekday(day))]
            except ValueError as exc:
                raise FoodchainError(f"--day: {exc}") from None
        options = SolverOptions(time_limit_s=_time_limit(time_limit), engine=engine.value)
        with console.status(f"Routing {the_week}…") as status:

            def searching(day: dt.date) -> Callable[[float], None]:
                stage = f"Routing {WEEKDAYS[day.weekday()]} {day:%d/%m}"
                status.update(stage)
                return lambda value: status.update(escape(_progress_text(stage, value)))

            rounds = route_week(database, the_week, options, days, progress=searching, flows=flows)
        _print_rounds(rounds)


# --------------------------------------------------------------------------- the weekly plan


def _percent(share: float | None) -> str:
    return f"{share:.0%}" if share is not None else "-"


def _plan_summary(record: PlanRecord, run_id: int, folder: Path | None) -> None:
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
        f"{transport['km']:,.1f} km, {transport['trips']} trips, {transport['cost_eur']:,.2f} €",
    )
    table.add_row(
        "CO2",
        f"{transport['co2_kg']:,.1f} kg (diesel vans: {transport['diesel_co2_kg']:,.1f} kg, "
        f"saved {transport['co2_saved_kg']:,.1f} kg)",
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

    rules = Table(title="Canteens: organic and EGalim quality shares of purchase value")
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


def _progress_text(stage: str, value: float | None) -> str:
    return f"{stage}" + (f" — objective {value:,.2f}" if value is not None else "")


@app.command()
def plan(
    week: Annotated[str, typer.Option(help="ISO week, e.g. 2026-W49.")],
    scenario: Annotated[
        Path | None,
        typer.Option(help="Scenario YAML, loaded first if the database holds no scenario."),
    ] = None,
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
        typer.Option(
            help="Save the plan even if its rounds leave mandatory stops out (a coordinator's "
            "decision: such a plan is refused by default)."
        ),
    ] = False,
    out: Annotated[
        Path | None,
        typer.Option(help="Folder for the documents (default plans/WEEK/run-N, the run's own)."),
    ] = None,
    seed: Annotated[int, typer.Option(min=0, max=MAX_SEED, help="Seed of the routing search.")] = 0,
    deterministic: Annotated[
        bool,
        typer.Option(help="Stop searches by amount of work, not time: same inputs, same plan."),
    ] = False,
    language: Annotated[
        Lang | None, typer.Option(help="Language of the documents (default: the scenario's).")
    ] = None,
    warm_start: Annotated[
        bool,
        typer.Option(
            help="Start each day's rounds from the week's latest stored plan when that day "
            "has the same stops (a re-plan after quantities changed keeps the rounds)."
        ),
    ] = False,
) -> None:
    """The weekly plan: allocation, rounds, documents, saved as a draft run."""
    with reported():
        the_week = _week(week)
        database = _engine()
        if scenario is not None and ensure_scenario(database, load_scenario(scenario)):
            console.print(f"Loaded the scenario {escape(str(scenario))}.")
        earlier = latest_run(database, str(the_week)) if warm_start else None
        if warm_start and earlier is None:
            console.print(f"No stored plan of {the_week} yet: rounds searched afresh.")
        options = PlanOptions(
            time_limit_s=_time_limit(time_limit),
            engine=engine.value,
            seed=seed,
            deterministic=deterministic,
            language=language.value if language else None,
            warm_start_run=earlier.id if earlier else None,
        )
        with console.status(f"Planning {the_week}…") as status:

            def show(stage: str, value: float | None) -> None:
                status.update(f"Planning {the_week}: {escape(_progress_text(stage, value))}")

            the_plan = plan_week(
                database, the_week, options, show, earlier.record if earlier else None
            )
            status.update("Saving the run and writing the documents…")
            saved = save_plan(database, the_plan, out, allow_unserved)
        _plan_summary(the_plan.record, saved.run_id, saved.folder)
        following = the_week.shift(1)
        if the_plan.record.stock_out and list_runs(database, str(following)):
            console.print(
                f"[yellow]{following} was planned with the stock an earlier run of "
                f"{the_week} left: plan {following} again to carry this run's stock "
                f"({sum(r.kg for r in the_plan.record.stock_out):,.1f} kg).[/yellow]"
            )


# --------------------------------------------------------------------------- runs and reports


def _time_limit(seconds: float) -> float:
    if not (math.isfinite(seconds) and 0 < seconds <= 86_400):
        raise FoodchainError(
            f"--time-limit {seconds}: give a number of seconds above 0 and at most 86400"
        )
    return seconds


def _when(moment: dt.datetime | None) -> str:
    return moment.astimezone().strftime("%Y-%m-%d %H:%M") if moment else ""


def _kpi_cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.3f}".rstrip("0").rstrip(".")
    return escape(str(value))


RunId = Annotated[
    int, typer.Argument(min=1, max=2**31 - 1, help="Run id (see 'foodchain runs list').")
]


@runs_app.command("list")
def runs_list(
    week: Annotated[str | None, typer.Option(help="Only this ISO week.")] = None,
) -> None:
    """Stored plans, newest first."""
    with reported():
        runs = list_runs(_engine(), str(_week(week)) if week else None)
        if not runs:
            console.print("No runs yet: make one with 'foodchain plan --week WEEK'.")
            return
        table = Table(title="Runs")
        for column in ("run", "week", "status", "created", "seed", *DISPLAY_KPIS):
            table.add_column(column, justify="right" if column in ("run", "seed") else "left")
        for run in runs:
            table.add_row(
                str(run.id),
                run.week,
                str(run.status),
                _when(run.created_at),
                str(run.seed),
                *(_kpi_cell(run.kpis.get(name)) for name in DISPLAY_KPIS),
            )
        console.print(table)


@runs_app.command("show")
def runs_show(
    run: RunId,
) -> None:
    """A stored plan's summary, parameters and solver statistics."""
    with reported():
        stored = load_run(_engine(), run)
        summary = stored.summary
        console.print(
            f"Run [bold]{summary.id}[/bold], {summary.week}, {summary.status}, created "
            f"{_when(summary.created_at)}"
            + (f", published {_when(summary.published_at)}" if summary.published_at else "")
            + f"; inputs {summary.fingerprint[:12]}, seed {summary.seed}."
        )
        console.print(
            "Parameters: " + escape(json.dumps(stored.parameters, sort_keys=True, default=str))
        )
        seconds = stored.statistics.get("seconds")
        if isinstance(seconds, int | float):
            console.print(f"Planned in {seconds:.1f} s.")
        engines = [
            f"{WEEKDAYS[d.day.weekday()]} {d.engine}" for d in stored.record.days if d.engine
        ]
        if engines:
            console.print("Rounds kept from: " + escape(", ".join(engines)) + ".")
        for d in stored.record.days:
            if d.crashes:
                console.print(
                    f"[red]A search failed on {WEEKDAYS[d.day.weekday()]}[/red] (the day kept "
                    "the others' rounds): " + escape(d.crashes.splitlines()[-1])
                )
        _plan_summary(stored.record, summary.id, None)


@runs_app.command("diff")
def runs_diff(
    run_a: Annotated[int, typer.Argument(help="The earlier run.")],
    run_b: Annotated[int, typer.Argument(help="The later run.")],
) -> None:
    """What changed between two plans: inputs, KPIs, deliveries, baskets, rounds."""
    with reported():
        diff = diff_runs(_engine(), run_a, run_b)
        console.print(
            f"Run {diff.a.id} ({diff.a.week}) -> run {diff.b.id} ({diff.b.week}): inputs "
            + ("identical" if diff.same_fingerprint else "[yellow]changed[/yellow]")
            + ", parameters "
            + ("identical" if diff.same_parameters else "[yellow]changed[/yellow]")
            + "."
        )
        if diff.is_empty:
            console.print("The two plans are the same.")
            return
        if diff.parameter_changes or diff.kpi_changes:
            table = Table(title="Parameters and KPIs")
            for column in ("key", "before", "after", "change"):
                table.add_column(column, justify="left" if column == "key" else "right")
            for change in [*diff.parameter_changes, *diff.kpi_changes]:
                delta = change.delta
                table.add_row(
                    escape(change.key),
                    _kpi_cell(change.old),
                    _kpi_cell(change.new),
                    f"{delta:+,.3f}" if delta is not None else "",
                )
            console.print(table)
        if diff.flow_changes:
            table = Table(title="Deliveries (kg)")
            for column in ("farm", "product", "to", "day", "before", "after"):
                table.add_column(
                    column, justify="right" if column in ("before", "after") else "left"
                )
            for flow in diff.flow_changes:
                table.add_row(
                    flow.farm_id,
                    flow.product_id,
                    flow.destination_id,
                    flow.delivery_day.isoformat(),
                    f"{flow.old_kg:.1f}",
                    f"{flow.new_kg:.1f}",
                )
            console.print(table)
        for basket in diff.basket_changes:
            console.print(
                f"basket {basket.basket_type}, {basket.product_id}: "
                f"{_kpi_cell(basket.old_kg)} -> {_kpi_cell(basket.new_kg)} kg per basket"
            )
        for route in diff.route_changes:
            console.print(
                f"{route.day} {route.vehicle_id}: {route.old_km:.1f} -> {route.new_km:.1f} km"
                + (
                    ""
                    if route.same_stops
                    else ", stops changed: "
                    + escape(" | ".join(" ".join(t) for t in route.new_trips) or "not used")
                )
            )


@runs_app.command("publish")
def runs_publish(
    run: RunId,
    replace: Annotated[
        bool, typer.Option(help="Supersede the week's published run with this one.")
    ] = False,
    force: Annotated[
        bool, typer.Option(help="Publish even if the run's rounds leave mandatory stops out.")
    ] = False,
) -> None:
    """Publish a draft: it becomes the week's plan and is never changed again."""
    with reported():
        summary = publish_run(_engine(), run, replace=replace, force=force)
        console.print(f"Run {summary.id} is the published plan of {summary.week}.")


@runs_app.command("export")
def runs_export(
    run: RunId,
    out: Annotated[
        Path | None,
        typer.Option(help="Folder for the documents (default plans/WEEK/run-N, the run's own)."),
    ] = None,
    language: Annotated[
        Lang | None, typer.Option(help="Language of the documents (default: the run's).")
    ] = None,
) -> None:
    """Write the documents of a stored run again, exactly as planned."""
    with reported():
        saved = export_run(_engine(), run, out, language.value if language else None)
        console.print(
            f"Wrote {len(saved.documents)} documents of run {run} to {escape(str(saved.folder))}."
        )


@app.command()
def report(
    weeks: Annotated[str, typer.Option(help="Weeks, e.g. 2026-W45..2026-W52.")],
    out: Annotated[Path, typer.Option(help="Folder for the CSV table and PNG chart.")] = Path(
        "reports"
    ),
) -> None:
    """KPIs over weeks (published runs, else the newest draft): a table, a CSV and a chart."""
    with reported():
        chosen = _weeks(weeks)
        rows = weekly_kpis(_engine(), chosen)
        if not rows:
            raise FoodchainError(
                f"no run in {weeks}: plan the weeks first with 'foodchain plan --week WEEK'"
            )
        table = Table(title=f"KPIs {chosen[0]}..{chosen[-1]}")
        table.add_column("week")
        table.add_column("run", justify="right")
        for name, _ in REPORT_COLUMNS:
            table.add_column(name.replace("_", " "), justify="right")
        for row in rows:
            table.add_row(
                row.week,
                f"{row.run_id}{'' if row.status == 'published' else '*'}",
                *(_kpi_cell(row.values[name]) for name, _ in REPORT_COLUMNS),
            )
        console.print(table)
        if any(r.status != "published" for r in rows):
            console.print("* not published: the newest draft of the week.")
        missing = len(chosen) - len(rows)
        if missing:
            console.print(f"{missing} week(s) without any run left out.")
        written = write_report(rows, out, f"kpis_{chosen[0]}_{chosen[-1]}")
        console.print(f"Wrote {', '.join(escape(str(p)) for p in written)}.")
