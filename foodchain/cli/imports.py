"""People's files: farmers' forecast sheets, canteens' menus, subscriptions, travel tables,
sites' contact details."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from foodchain.cli.app import (
    DRY_RUN_HELP,
    EXAMPLES,
    Lang,
    console,
    database,
    escape,
    flag,
    group,
    language_option,
    out_option,
    output_folder,
    reported,
    weeks_option,
)
from foodchain.cli.territory import Kind, print_changes, sites_app

if TYPE_CHECKING:
    from foodchain.importing import Importer

forecast_app = group("forecast", "Farmers' harvest forecasts.")
menu_app = group("menu", "Canteen menus.")
subscriptions_app = group("subscriptions", "Basket subscriptions.")
matrix_app = group("matrix", "Road distance/time tables.")


def _import(importer: Importer[Any], file: Path, dry_run: bool, **options: Any) -> None:
    from foodchain.importing import import_file

    report = import_file(database(announce=True), importer, file, dry_run=dry_run, options=options)
    print_changes(report, detail=dry_run)


@forecast_app.command(
    "template",
    help="Write a forecast sheet for a farm to fill in, pre-filled with its last known values."
    + EXAMPLES
    + "foodchain forecast template --farm farm_anges_gardins --weeks 2026-W49..2026-W52 "
    "--out previsions.xlsx",
)
def forecast_template(
    farm: Annotated[str, typer.Option(help="Farm id or name (see 'foodchain sites list').")],
    weeks: Annotated[str, typer.Option(help="Weeks, e.g. 2026-W49..2026-W52.")],
    out: Annotated[Path, out_option("File to write (.csv or .xlsx).")],
    language: Annotated[Lang, language_option("Language of the headers.")] = Lang.fr,
) -> None:
    from foodchain import forecasts

    with reported():
        output_folder(out)
        sheet = forecasts.forecast_template(database(), farm, weeks_option(weeks))
        sheet.write(out, french=language is Lang.fr)
        console.print(f"Wrote {len(sheet.rows)} rows to {escape(str(out))}.")


@forecast_app.command(
    "import",
    help="Import a filled forecast sheet (CSV or XLSX); all or nothing."
    + EXAMPLES
    + "foodchain forecast import previsions.xlsx --dry-run",
)
def forecast_import(
    file: Path,
    dry_run: Annotated[bool, flag("--dry-run", DRY_RUN_HELP)] = False,
) -> None:
    from foodchain import forecasts

    with reported():
        report = forecasts.import_forecasts(database(announce=True), file, dry_run=dry_run)
        print_changes(report, detail=dry_run)


@forecast_app.command(
    "export",
    help="Export stored forecasts in the import format."
    + EXAMPLES
    + "foodchain forecast export --weeks 2026-W49..2026-W52 --out previsions.csv",
)
def forecast_export(
    weeks: Annotated[str, typer.Option(help="Weeks, e.g. 2026-W49..2026-W52.")],
    out: Annotated[Path, out_option("File to write (.csv or .xlsx).")],
    farm: Annotated[str | None, typer.Option(help="Farm id or name (default: every farm).")] = None,
    language: Annotated[Lang, language_option("Language of the headers.")] = Lang.fr,
) -> None:
    from foodchain import forecasts

    with reported():
        output_folder(out)
        sheet = forecasts.forecast_export(database(), farm, weeks_option(weeks))
        sheet.write(out, french=language is Lang.fr)
        console.print(f"Wrote {len(sheet.rows)} rows to {escape(str(out))}.")


@menu_app.command(
    "import",
    help="Import a canteen's menu; it replaces the canteen's lines on the dates it covers."
    + EXAMPLES
    + "foodchain menu import menus_decembre.csv --canteen mat_basly --dry-run",
)
def menu_import(
    file: Path,
    canteen: Annotated[str, typer.Option(help="Canteen id or name (see 'sites list').")],
    dry_run: Annotated[bool, flag("--dry-run", DRY_RUN_HELP)] = False,
) -> None:
    from foodchain import menus
    from foodchain.catalogue import load_catalogue
    from foodchain.db import transaction
    from foodchain.errors import NotFoundError
    from foodchain.models import SiteKind

    with reported():
        engine = database(announce=True)
        with transaction(engine) as session:
            catalogue = load_catalogue(session)
        try:
            canteen_id = catalogue.resolve_site(canteen, SiteKind.CANTEEN, "canteen")
        except LookupError as exc:
            raise NotFoundError(
                f"--canteen {canteen!r}: {exc}. {getattr(exc, 'fix', '')}"
            ) from None
        from foodchain.importing import import_file

        report = import_file(
            engine, menus.IMPORTER, file, dry_run=dry_run, options={"canteen": canteen_id}
        )
        print_changes(report, detail=dry_run)


@subscriptions_app.command(
    "import",
    help="Import basket subscriptions (counted per relay point, or one row per subscriber)."
    + EXAMPLES
    + "foodchain subscriptions import abonnements.csv --dry-run",
)
def subscriptions_import(
    file: Path,
    dry_run: Annotated[bool, flag("--dry-run", DRY_RUN_HELP)] = False,
) -> None:
    from foodchain import subscriptions

    with reported():
        _import(subscriptions.IMPORTER, file, dry_run)


@matrix_app.command(
    "import",
    help="Import a distance/time table (from_id, to_id, km, minutes) from OSRM, Valhalla or "
    "ORS." + EXAMPLES + "foodchain matrix import osrm_table.csv",
)
def matrix_import(
    file: Path,
    dry_run: Annotated[bool, flag("--dry-run", DRY_RUN_HELP)] = False,
) -> None:
    from foodchain import travel_matrix

    with reported():
        _import(travel_matrix.IMPORTER, file, dry_run)


@sites_app.command(
    "import",
    help="Import sites' contact details (address, postcode, contact, phone, e-mail, access) "
    "from a spreadsheet; a blank cell keeps the stored value, '-' clears it; all or nothing."
    + EXAMPLES
    + "foodchain sites import contacts.csv --dry-run",
)
def sites_import(
    file: Path,
    dry_run: Annotated[bool, flag("--dry-run", DRY_RUN_HELP)] = False,
) -> None:
    from foodchain import site_contacts

    with reported():
        _import(site_contacts.IMPORTER, file, dry_run)


@sites_app.command(
    "export",
    help="Write sites' contact details in the import's format (a sheet to fill and import)."
    + EXAMPLES
    + "foodchain sites export --out contacts.csv",
)
def sites_export(
    out: Annotated[Path, out_option("File to write (.csv or .xlsx).")],
    kind: Annotated[Kind | None, typer.Option(help="Only this kind of site.")] = None,
    language: Annotated[Lang, language_option("Language of the headers.")] = Lang.fr,
) -> None:
    from foodchain import site_contacts

    with reported():
        output_folder(out)
        sheet = site_contacts.contacts_sheet(database(), kind.value if kind else None)
        sheet.write(out, french=language is Lang.fr)
        console.print(f"Wrote {len(sheet.rows)} rows to {escape(str(out))}.")
