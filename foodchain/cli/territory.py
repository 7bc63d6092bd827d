"""The territory: loading a scenario, checking one, generating one, and listing what it holds
(sites, products, vehicles) so that people can find the ids the other commands take."""

from __future__ import annotations

import time
from collections import defaultdict
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from foodchain.cli.app import (
    DRY_RUN_HELP,
    EXAMPLES,
    FORMAT_HELP,
    Format,
    Options,
    app,
    console,
    database,
    emit_data,
    escape,
    flag,
    group,
    out_option,
    reported,
    weeks_option,
)

if TYPE_CHECKING:
    from foodchain.scenario import Scenario
    from foodchain.store import ImportReport

scenario_app = group("scenario", "Check and generate scenarios.")
sites_app = group("sites", "Farms, canteens, relay points, shops and the hub.")
products_app = group("products", "The product catalogue.")
vehicles_app = group("vehicles", "The fleet.")

SCENARIO_HELP = "Scenario: a YAML file, or the name of a bundled one (lensois)."


def read_scenario(text: str) -> Scenario:
    """A scenario by path or bundled name."""
    from foodchain.bundled import scenario_path
    from foodchain.scenario import load_scenario

    return load_scenario(scenario_path(text))


def print_changes(report: ImportReport, detail: bool) -> None:
    """What an import or a scenario load did (or would do): counts, notes, and with
    ``detail`` each row named by its key, with its changed values old → new."""
    verb = "would be" if report.dry_run else "were"
    console.print(
        f"[bold]{report.kind}[/bold] from {escape(report.source)}: "
        f"{report.added} added, {report.changed} changed, {report.removed} removed "
        f"{verb} written; {report.unchanged} unchanged."
    )
    for note in report.notes:
        console.print(f"  [yellow]note:[/yellow] {escape(note)}")
    for warning in report.warnings:
        console.print(f"  [yellow]warning:[/yellow] {escape(warning)}")
    if not detail:
        return
    from foodchain.subscriptions import SPEC

    private = set(SPEC.private)  # never printed, even in a dry run's list of changes
    limit = 30

    def masked(row: dict[str, object]) -> dict[str, object]:
        return {k: "***" if k in private and v else v for k, v in row.items()}

    for changes in report.tables:
        for row in changes.added[:limit]:
            console.print(f"  [green]+[/green] {escape(changes.label(masked(row)))}")
        for old, new in changes.changed[:limit]:
            shown = [
                f"{d.split(':', 1)[0]}: ***" if d.split(":", 1)[0] in private else d
                for d in changes.differences(old, new)
            ]
            what = f"{changes.label(masked(new))}: {'; '.join(shown)}"
            console.print(f"  [yellow]~[/yellow] {escape(what)}")
        for row in changes.removed[:limit]:
            console.print(f"  [red]-[/red] {escape(changes.label(masked(row)))}")
        hidden = sum(max(0, len(rows) - limit) for rows in (changes.added, changes.changed))
        hidden += max(0, len(changes.removed) - limit)
        if hidden:
            console.print(f"  … and {hidden} more {changes.table} row(s)")


@app.command(
    help="Create or upgrade the database schema and load a scenario (safe to run again)."
    + EXAMPLES
    + "foodchain init --scenario lensois --dry-run"
)
def init(
    scenario: Annotated[str, typer.Option(help=SCENARIO_HELP, metavar="SCENARIO")],
    dry_run: Annotated[bool, flag("--dry-run", DRY_RUN_HELP)] = False,
) -> None:
    from foodchain.db import describe_database
    from foodchain.scenario import install_scenario

    with reported():
        loaded = read_scenario(scenario)
        report = install_scenario(database(create=True), loaded, dry_run=dry_run)
        print_changes(report, detail=dry_run)
        console.print(
            f"Scenario [bold]{escape(loaded.name)}[/bold] in "
            f"{escape(describe_database(Options.db))}: "
            f"{len(loaded.sites)} sites, {len(loaded.products)} products, "
            f"{len(loaded.vehicles)} vehicles, {len(loaded.forecasts)} forecasts, "
            f"{len(loaded.menu_lines)} menu lines, {len(loaded.subscriptions)} subscriptions."
        )


@scenario_app.command(
    "validate",
    help="Check a scenario and its files without touching the database."
    + EXAMPLES
    + "foodchain scenario validate scenarios/lensois.yaml",
)
def scenario_validate(
    path: Annotated[str, typer.Argument(help=SCENARIO_HELP, metavar="SCENARIO")],
) -> None:
    with reported():
        loaded = read_scenario(path)
        counts: dict[str, int] = defaultdict(int)
        for site in loaded.sites:
            counts[site.kind] += 1
        sites = ", ".join(f"{n} {k}" for k, n in sorted(counts.items()))
        console.print(
            f"[green]✓[/green] {escape(str(loaded.path))} is valid: {sites}; "
            f"{len(loaded.products)} products, {len(loaded.basket_types)} basket types, "
            f"{len(loaded.vehicles)} vehicles, {len(loaded.forecasts)} forecasts, "
            f"{len(loaded.menu_lines)} menu lines, {len(loaded.subscriptions)} subscriptions "
            f"({loaded.horizon[0]}..{loaded.horizon[1]})."
        )


@scenario_app.command(
    "generate",
    help="Write a synthetic regional scenario on the Hauts-de-France map (for scale tests)."
    + EXAMPLES
    + "foodchain scenario generate --farms 300 --relays 150 --canteens 150 --out region",
)
def scenario_generate(
    farms: Annotated[int, typer.Option(help="Number of farms (1-2000).")],
    relays: Annotated[int, typer.Option(help="Number of relay points (1-2000).")],
    canteens: Annotated[int, typer.Option(help="Number of canteens (1-2000).")],
    out: Annotated[Path, out_option("Folder to write the scenario in.")],
    seed: Annotated[int, typer.Option(help="Seed: the same seed gives the same files.")] = 1,
    shops: Annotated[
        int | None, typer.Option(help="Partner shops (default: one per 15 relays and canteens).")
    ] = None,
    name: Annotated[str, typer.Option(help="Scenario id: writes NAME.yaml and NAME/.")] = "region",
    weeks: Annotated[
        str | None, typer.Option(help="Horizon, e.g. 2026-W45..2027-W26 (default: Lensois').")
    ] = None,
    force: Annotated[
        bool, flag("--force", "Write into a non-empty folder, replacing NAME.yaml and NAME/.")
    ] = False,
) -> None:
    from foodchain.generate import generate_scenario

    with reported():
        horizon = None
        if weeks is not None:
            chosen = weeks_option(weeks)
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


# --------------------------------------------------------------------------- listing


class Kind(StrEnum):
    hub = "hub"
    farm = "farm"
    canteen = "canteen"
    relay = "relay"
    shop = "shop"


def _show(
    title: str, format: Format, header: list[str], rows: list[list[object]], shown: list[str]
) -> None:
    """A listing as a table of the ``shown`` columns (fits 80 columns), or every column as
    CSV/JSON."""
    if emit_data(format, header, rows):
        return
    if not rows:
        console.print(f"No {title.lower()}.")
        return
    table = Table(title=f"{title} ({len(rows)})")
    picks = [header.index(name) for name in shown]
    for name in shown:
        table.add_column(name.replace("_", " "), overflow="fold")
    for row in rows:
        table.add_row(*(escape("" if row[i] is None else str(row[i])) for i in picks))
    console.print(table)


@sites_app.command(
    "list",
    help="Sites and their ids (the ids other commands take; names work too)."
    + EXAMPLES
    + "foodchain sites list --kind farm",
)
def sites_list(
    kind: Annotated[Kind | None, typer.Option(help="Only this kind of site.")] = None,
    format: Annotated[Format, typer.Option(help=FORMAT_HELP)] = Format.table,
) -> None:
    from foodchain.listing import site_rows

    with reported():
        header, rows = site_rows(database(), kind.value if kind else None)
        _show("Sites", format, header, rows, ["id", "kind", "name", "commune"])


@products_app.command(
    "list", help="Products and their ids." + EXAMPLES + "foodchain products list --format csv"
)
def products_list(
    format: Annotated[Format, typer.Option(help=FORMAT_HELP)] = Format.table,
) -> None:
    from foodchain.listing import product_rows

    with reported():
        header, rows = product_rows(database())
        _show(
            "Products", format, header, rows, ["id", "name", "family", "unit", "temperature_class"]
        )


@vehicles_app.command(
    "list", help="The fleet: vehicles, capacity, shift." + EXAMPLES + "foodchain vehicles list"
)
def vehicles_list(
    format: Annotated[Format, typer.Option(help=FORMAT_HELP)] = Format.table,
) -> None:
    from foodchain.listing import vehicle_rows

    with reported():
        header, rows = vehicle_rows(database())
        _show("Vehicles", format, header, rows, ["id", "type", "capacity_kg", "shift", "cold"])


class Provider(StrEnum):
    ban = "ban"
    nominatim = "nominatim"


@sites_app.command(
    "geocode",
    help="Place sites on their street address (BAN, the French national address base, or "
    "Nominatim): shows old → new positions and writes them in one transaction; an answer far "
    "from the stored position or a weak match is shown for review, not applied. Needs "
    "pip install 'foodchain\\[geocode]' and the network; nothing is geocoded unless this "
    "command runs." + EXAMPLES + "foodchain sites geocode --kind canteen --dry-run",
)
def sites_geocode(
    kind: Annotated[Kind | None, typer.Option(help="Only this kind of site.")] = None,
    provider: Annotated[
        Provider, typer.Option(help="ban (api-adresse.data.gouv.fr) or nominatim (OSM, 1/s).")
    ] = Provider.ban,
    dry_run: Annotated[bool, flag("--dry-run", DRY_RUN_HELP)] = False,
    only_missing: Annotated[
        bool, flag("--only-missing", "Skip sites already geocoded from their current address.")
    ] = False,
) -> None:
    from foodchain.errors import FoodchainError
    from foodchain.geocoding import Status, geocode_sites, make_geocoder

    with reported():
        geocoder = make_geocoder(provider.value)
        report = geocode_sites(
            database(announce=True),
            geocoder,
            provider=provider.value,
            kind=kind.value if kind else None,
            only_missing=only_missing,
            dry_run=dry_run,
        )
        marks = {
            Status.APPLY: "[green]✓[/green]",
            Status.UNCHANGED: "[dim]=[/dim]",
            Status.REVIEW: "[yellow]?[/yellow]",
            Status.SKIPPED: "[dim]-[/dim]",
            Status.FAILED: "[red]✗[/red]",
        }
        for p in report.proposals:
            where = f"{p.old[0]:.5f}, {p.old[1]:.5f}"
            if p.new is not None:
                where += f" → {p.new[0]:.5f}, {p.new[1]:.5f} ({p.moved_km:.2f} km"
                where += f", score {p.score:.2f})" if p.score is not None else ")"
            text = f"{p.site_id} ({p.name}): {where}"
            if p.label:
                text += f" {p.label!r}"
            if p.reason:
                text += f"; {p.reason}"
            console.print(f"  {marks[p.status]} {escape(text)}")
        counts = {s: len(report.having(s)) for s in Status}
        failed = counts[Status.FAILED]
        verb = "would be" if dry_run or failed else "were"
        console.print(
            f"[bold]{counts[Status.APPLY]} position(s) {verb} written[/bold] "
            f"({report.provider}); {counts[Status.UNCHANGED]} unchanged, "
            f"{counts[Status.REVIEW]} to review, {counts[Status.SKIPPED]} skipped."
        )
        if failed:
            raise FoodchainError(
                f"{failed} lookup(s) failed, so nothing was written. Fix: check the network "
                "(or the service's status) and run the command again"
            )
