"""Farmers' harvest forecasts: the file's columns and their import as farmers fill them
(the template and the export are written by ``foodchain.forecast_sheets``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from foodchain.catalogue import Catalogue, load_catalogue
from foodchain.db import write_transaction
from foodchain.files.columns import Column, Row, TableSpec, choice, number, text, week, weekdays
from foodchain.files.reading import parse_bytes, read_file
from foodchain.forecast_sheets import forecast_export as forecast_export
from foodchain.forecast_sheets import forecast_template as forecast_template
from foodchain.forecast_sheets import version_of
from foodchain.importing import Checks, Importer, parse_records
from foodchain.models import Forecast, ForecastIn, Run, RunStatus, SiteKind
from foodchain.organic import OrganicStatus
from foodchain.store import (
    ImportReport,
    Key,
    TableChanges,
    apply,
    diff,
    key_of,
    record_import,
    stored_rows,
)
from foodchain.weeks import WEEKDAYS

STATUS_WORDS = {
    "organic": "organic",
    "bio": "organic",
    "ab": "organic",
    "agriculture biologique": "organic",
    "oui": "organic",
    "yes": "organic",
    "conversion": "conversion",
    "en conversion": "conversion",
    "c1": "conversion",
    "c2": "conversion",
    "c3": "conversion",
    "hve": "hve",
    "haute valeur environnementale": "hve",
    "conventional": "conventional",
    "conventionnel": "conventional",
    "non": "conventional",
    "no": "conventional",
}

SPEC = TableSpec(
    "forecasts",
    (
        Column(
            "farm",
            text,
            "the farm's id, as in the template (e.g. farm_dupont)",
            ("ferme", "producteur", "exploitation", "id ferme", "farm id"),
        ),
        Column(
            "product",
            text,
            "a product id or name, e.g. carrot or Carotte",
            ("produit", "id produit", "product id", "legume"),
        ),
        Column("week", week, "the ISO week, e.g. 2026-W49", ("semaine", "sem", "iso week")),
        Column(
            "kg",
            number(0, 1_000_000, units=("kg",)),
            "the kg you expect to offer that week (0 if none), e.g. 120,5",
            ("quantite", "quantite kg", "quantity", "poids", "kg prevus", "kg offerts"),
            blank_ok=True,
        ),
        Column(
            "price_eur_per_kg",
            number(0, 1000, units=("€", "eur", "€/kg", "eur/kg")),
            "your price in euros per kg, e.g. 1,80 (empty: the catalogue price)",
            ("prix", "prix eur kg", "prix €/kg", "prix au kg", "price", "price eur kg"),
            required=False,
            blank_ok=True,
        ),
        Column(
            "organic_status",
            choice(STATUS_WORDS),
            "bio, conversion, hve or conventionnel (empty: the farm's status)",
            ("statut", "statut bio", "bio", "label", "certification", "status"),
            required=False,
            blank_ok=True,
        ),
        Column(
            "days_available",
            weekdays,
            "days the produce can be picked up, e.g. lun jeu (empty: the farm's pickup days)",
            ("jours", "jours disponibles", "disponibilite", "days", "days available"),
            required=False,
            blank_ok=True,
        ),
        Column(
            "made_at",
            text,
            "when the sheet was made (written by foodchain; leave it)",
            ("fait le", "fichier fait le", "made at"),
            required=False,
            blank_ok=True,
        ),
        Column(
            "version",
            text,
            "what the row held when the sheet was made (written by foodchain; leave it)",
            ("version ne pas modifier",),
            required=False,
            blank_ok=True,
        ),
    ),
    key=("farm", "product", "week"),
    ignored=("product_name", "nom du produit", "to_fill", "a remplir"),
)
_FIELDS = {"farm_id": "farm", "product_id": "product"}


def _build(row: Row, catalogue: Catalogue, options: dict[str, Any]) -> ForecastIn | None:
    v = row.values
    checks = Checks(row)  # every defect of the line at once
    farm_id = checks.ref(
        "farm", lambda t: catalogue.resolve_site(t, SiteKind.FARM, "farm"), v["farm"]
    )
    if farm_id and options.get("farm") and farm_id != options["farm"]:
        checks.add(
            "farm",
            f"this row is for {farm_id}, not {options['farm']}",
            "split the file",
            "faites un fichier par ferme",
        )
    product_id = checks.ref("product", catalogue.resolve_product, v["product"])
    if (
        v["week"] is not None
        and catalogue.horizon
        and not str(catalogue.horizon[0]) <= v["week"] <= str(catalogue.horizon[1])
    ):
        first, last = catalogue.horizon
        checks.add(
            "week",
            "week outside the planning horizon",
            f"use a week from {first} to {last}",
            f"choisissez une semaine de {first} à {last}",
        )
    seen: _Seen | None = options.get(_SEEN)
    clean = not checks.errors and not row.failed
    if clean and v["kg"] is None and seen is None:
        return None
    farm = catalogue.farms.get(farm_id or "")
    site = catalogue.sites.get(farm_id or "")
    product = catalogue.products.get(product_id or "")
    days = v["days_available"] or (list(site.windows) if site else []) or list(WEEKDAYS)
    data = {
        "farm_id": farm_id,
        "product_id": product_id,
        "week": v["week"],
        "kg": v["kg"] if v["kg"] is not None else 0.0,
        "price_eur_per_kg": v["price_eur_per_kg"]
        if v["price_eur_per_kg"] is not None
        else (product.price_eur_per_kg if product else 0.0),
        "organic_status": v["organic_status"]
        or (farm.organic_status if farm else OrganicStatus.CONVENTIONAL),
        "days_available": days,
    }
    record = checks.validated(ForecastIn, data, _FIELDS)
    if seen is None:
        return record
    seen.rows[(record.farm_id, record.product_id, record.week)] = row
    if v["kg"] is None:
        seen.blank.append(record)  # an empty kg cell: 0 kg if a forecast is stored for it
        return None
    return record


def _existing(
    session: Session, records: Sequence[ForecastIn], _options: dict[str, Any]
) -> list[dict[str, Any]]:
    farms = sorted({r.farm_id for r in records})
    weeks = sorted({r.week for r in records})
    return stored_rows(
        session, Forecast, col(Forecast.farm_id).in_(farms), col(Forecast.week).in_(weeks)
    )


IMPORTER: Importer[ForecastIn] = Importer(
    "forecasts", SPEC, Forecast, _build, _existing, partial_rows=True
)


# --------------------------------------------------------------------------- import as farmers fill


_SEEN = "_seen"


@dataclass
class _Seen:
    """What ``_build`` saw beyond the records it returns (passed through the options)."""

    rows: dict[Key, Row] = field(default_factory=dict)
    """Each row's parsed cells by its key (for its ``made_at`` and ``version`` stamps)."""
    blank: list[ForecastIn] = field(default_factory=list)
    """Rows with an empty kg cell, as 0 kg records."""


_FIELD_NAMES = {
    "kg": "kg",
    "price_eur_per_kg": "price (€/kg)",
    "organic_status": "status",
    "days_available": "days",
}


def _shown(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, list):
        return " ".join(map(str, value)) or "(none)"
    return str(value)


def forecast_label(catalogue: Catalogue, farm_id: str, product_id: str, week: str) -> str:
    """How a report names a forecast: farm, product and week, names with their ids."""
    site = catalogue.sites.get(farm_id)
    product = catalogue.products.get(product_id)
    farm = f"{site.name} ({farm_id})" if site and site.name != farm_id else farm_id
    name = product.name if product else product_id
    return f"{farm} · {name if name == product_id else f'{name} ({product_id})'} · {week}"


def import_forecasts(engine: Engine, path: Path, dry_run: bool = False) -> ImportReport:
    """Import a forecast sheet entirely or not at all, reading it as farmers fill it.

    * An empty kg cell means "none this week": a forecast stored for that row is set to 0 kg
      (said in a note); a row never forecast stays without one. A sheet stamped by
      foodchain (``version`` column) whose row had no forecast when it was made leaves a
      forecast stored since untouched.
    * Every change is labelled with its farm, product and week (``TableChanges.label``).
    * A value stored after the sheet was made (its row's ``version`` stamp no longer matches
      the database) and different from the file's is a warning, one per value; the file's
      value is still written (the farmer's latest word), the warning says what it replaces.
    * A week changed that has a published plan gets a note: re-plan it.
    """
    data = read_file(path)
    raw = parse_bytes(data, str(path), path.suffix.lower())
    seen = _Seen()
    with write_transaction(engine) as session:
        catalogue = load_catalogue(session)
        records, parsed, skipped = parse_records(IMPORTER, raw, catalogue, {_SEEN: seen})
        stamped = "version" in parsed.labels
        filled = {key_of(Forecast, r) for r in records}
        blank = [r for r in seen.blank if key_of(Forecast, r) not in filled]
        stored = {
            (row["farm_id"], row["product_id"], row["week"]): row
            for row in _existing(session, [*records, *blank], {})
        }
        cleared = [
            r
            for r in blank
            if (key := key_of(Forecast, r)) in stored
            and not (stamped and not seen.rows[key].values["version"])
        ]
        changes = diff(Forecast, stored.values(), [*records, *cleared])
        report = ImportReport(IMPORTER.kind, str(path), len(raw.rows), [changes], dry_run)
        for key in {*filled, *(key_of(Forecast, r) for r in cleared)}:
            changes.labels[key] = forecast_label(catalogue, *key)
        emptied = [
            changes.labels[key] for r in cleared if stored[key := key_of(Forecast, r)]["kg"] != 0
        ]
        if emptied:
            report.notes.append(
                f"{len(emptied)} emptied kg cell(s) set a stored forecast to 0 kg (none this "
                "week): " + "; ".join(emptied[:5]) + (" …" if len(emptied) > 5 else "")
            )
        if len(skipped) - len(cleared):
            report.notes.append(
                f"{len(skipped) - len(cleared)} row(s) without a quantity were skipped"
            )
        if parsed.unknown_headers:
            report.notes.append(
                "columns ignored: " + ", ".join(repr(h) for h in parsed.unknown_headers)
            )
        if stamped:
            report.warnings.extend(_stale(changes, seen))
        elif changes.changed:
            report.notes.append(
                "this file has no 'version' column: values changed in the database since it "
                "was made cannot be told apart (make a new template to get one)"
            )
        report.notes.extend(published_weeks_notes(session, changes))
        if dry_run:
            session.rollback()
            return report
        apply(session, Forecast, changes)
        record_import(session, report, data)
    return report


def key_of_row(row: Mapping[str, Any]) -> Key:
    return (row["farm_id"], row["product_id"], row["week"])


def _stale(changes: TableChanges, seen: _Seen) -> list[str]:
    """One warning per value the file would write over a value stored after it was made."""
    warnings: list[str] = []
    for old, new in changes.changed:
        key = key_of_row(new)
        row = seen.rows[key]
        if row.values["version"] == version_of(old):
            continue  # the database still holds what the sheet was made from
        when = row.values["made_at"]
        made = f"made {when}" if when else "made earlier"
        for name, label in _FIELD_NAMES.items():
            if old[name] == new[name]:
                continue
            warnings.append(
                f"{changes.labels[key]}: {label} is {_shown(old[name])} in the database, "
                f"stored after this file was {made}; the file says {_shown(new[name])}, "
                f"which replaces it (line {row.line}; to keep "
                f"{_shown(old[name])}, write it in the file or make a new template)"
            )
    return warnings


def published_weeks_notes(session: Session, changes: TableChanges) -> list[str]:
    """A note per week the changes touch that has a published plan: it must be re-planned."""
    weeks = {
        row["week"]
        for row in (*changes.added, *(new for _old, new in changes.changed), *changes.removed)
    }
    if not weeks:
        return []
    runs = session.exec(
        select(Run).where(col(Run.week).in_(sorted(weeks)), Run.status == RunStatus.PUBLISHED)
    ).all()
    return [
        f"{run.week} has a published plan (run {run.id}): re-plan it "
        f"(foodchain plan --week {run.week}) and publish the new run with --replace"
        for run in sorted(runs, key=lambda r: r.week)
    ]
