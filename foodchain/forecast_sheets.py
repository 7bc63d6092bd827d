"""The forecast sheets farmers fill: the template and the export, stamped with when they were
made and what each row held then, so that an import can tell a value the farmer changed from
one changed in the database since (``foodchain.forecasts.import_forecasts``)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping, Sequence
from itertools import combinations
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine
from sqlmodel import select

from foodchain.catalogue import Catalogue, load_catalogue
from foodchain.db import transaction
from foodchain.errors import NotFoundError
from foodchain.files.writing import Sheet
from foodchain.models import Forecast, Setting, SiteKind
from foodchain.weeks import WEEKDAYS, Week

if TYPE_CHECKING:
    from foodchain.seasons import CropCalendar

FRENCH_HEADERS = {
    "farm": "ferme",
    "product": "produit",
    "product_name": "nom du produit",
    "week": "semaine",
    "kg": "quantité (kg)",
    "price_eur_per_kg": "prix (€/kg)",
    "organic_status": "statut",
    "days_available": "jours disponibles",
    "to_fill": "à remplir",
    "made_at": "fait le",
    "version": "version (ne pas modifier)",
}
STATUSES = ("organic", "conversion", "hve", "conventional")
FRENCH_WORDS: Mapping[str, Mapping[str, str]] = {
    "organic_status": {"organic": "bio", "conventional": "conventionnel"},
    "days_available": dict(
        zip(WEEKDAYS, ("lun", "mar", "mer", "jeu", "ven", "sam", "dim"), strict=True)
    ),
}
"""Cells written in French (the importer reads both languages)."""
TEMPLATE_TITLE = "Prévisions"
FILLED = ("kg",)
"""The column the farmer fills: highlighted in XLSX."""
CHECKED = ("price_eur_per_kg", "organic_status", "days_available")
"""Pre-filled columns the farmer checks: drop-down lists for status and days."""

_KEYS = ["farm", "product", "product_name", "week", "kg", "price_eur_per_kg"]
_KEYS += ["organic_status", "days_available"]


def version_of(row: Mapping[str, Any] | None) -> str:
    """A short stamp of a stored forecast's values (kg, price, status, days), written on each
    row of a sheet: when the stored row's stamp no longer matches, the database changed after
    the sheet was made. ``""`` for no forecast. Starts with a letter so that no spreadsheet
    takes it for a number."""
    if row is None:
        return ""
    values = [
        round(float(row["kg"]), 6),
        round(float(row["price_eur_per_kg"]), 6),
        str(row["organic_status"]),
        list(row["days_available"]),
    ]
    digest = hashlib.sha256(json.dumps(values).encode()).hexdigest()
    return "v" + digest[:10]


def made_at(now: dt.datetime | None = None) -> str:
    """When a sheet was made, as its ``made_at`` column says it (local time, to the minute)."""
    return (now or dt.datetime.now()).strftime("%Y-%m-%d %H:%M")


def farm_or_fail(catalogue: Catalogue, farm: str) -> str:
    try:
        return catalogue.resolve_site(farm, SiteKind.FARM, "farm")
    except LookupError as exc:
        raise NotFoundError(f"{exc}: {farm!r}. {getattr(exc, 'fix', '')}") from None


def day_choices(pickup: Sequence[str], used: Sequence[str] = ()) -> list[str]:
    """The drop-down list of the days column: every set of the farm's pickup days (all of
    them first), then the other sets its forecasts already use."""
    days = [d for d in WEEKDAYS if d in pickup] or list(WEEKDAYS)
    sets = [" ".join(c) for n in range(len(days), 0, -1) for c in combinations(days, n)]
    if len(sets) > 40:  # a farm open every day: the whole week and each day alone
        sets = [" ".join(days), *days]
    return sets + sorted(set(used) - set(sets))


def forecast_template(
    engine: Engine,
    farm: str,
    weeks: list[Week],
    calendar: CropCalendar | None = None,
    now: dt.datetime | None = None,
) -> Sheet:
    """Rows for the farm's products × weeks, pre-filled with the week's or last known values.

    With a crop ``calendar`` (by default the scenario's, stored by ``init``), a week lists
    only the products in season then, and those the farm already forecast that week whatever
    the calendar says."""
    with transaction(engine) as session:
        catalogue = load_catalogue(session)
        if calendar is None:
            stored = session.get(Setting, "crop_calendar")
            if stored is not None and isinstance(stored.value, dict):
                from foodchain.seasons import crop_calendar

                calendar = crop_calendar(stored.value, "the stored crop calendar")
        farm_id = farm_or_fail(catalogue, farm)
        history = session.exec(
            select(Forecast).where(Forecast.farm_id == farm_id).order_by(Forecast.week)
        ).all()
    grown = calendar.crops.get(farm_id, frozenset()) if calendar else frozenset()
    products = sorted({f.product_id for f in history} | (grown & set(catalogue.products)))
    products = products or sorted(catalogue.products)
    by_product: dict[str, list[Forecast]] = {}
    for f in history:
        by_product.setdefault(f.product_id, []).append(f)
    farm_status = catalogue.farms[farm_id].organic_status if farm_id in catalogue.farms else None
    pickup = list(catalogue.sites[farm_id].windows)
    stamp = made_at(now)
    rows: list[list[Any]] = []
    for w in weeks:
        for product_id in products:
            past = [f for f in by_product.get(product_id, []) if f.week <= str(w)]
            same = past[-1] if past and past[-1].week == str(w) else None
            if same is None and calendar and calendar.in_season(product_id, w, farm_id) is False:
                continue
            last = past[-1] if past else None
            product = catalogue.products[product_id]
            hint = (
                f"kg prévus en {w} (dernier connu : {last.kg:g} kg en {last.week})"
                if last and not same
                else f"kg prévus en {w}"
            )
            rows.append(
                [
                    farm_id,
                    product_id,
                    product.name,
                    str(w),
                    same.kg if same else None,
                    last.price_eur_per_kg if last else product.price_eur_per_kg,
                    str(last.organic_status if last else farm_status or "conventional"),
                    " ".join(last.days_available if last else pickup),
                    hint + " ; 0 ou vide = rien cette semaine (une prévision déjà enregistrée "
                    "passe à 0). Vérifiez prix, statut, jours.",
                    stamp,
                    version_of(vars(same) if same else None),
                ]
            )
    used = sorted({str(r[7]) for r in rows})
    return Sheet(
        [*_KEYS, "to_fill", "made_at", "version"],
        rows,
        FRENCH_HEADERS,
        title=TEMPLATE_TITLE,
        fill=FILLED,
        choices={"organic_status": STATUSES, "days_available": day_choices(pickup, used)},
        strict=("organic_status",),
        muted=("made_at", "version"),
        words=FRENCH_WORDS,
    )


def forecast_export(
    engine: Engine, farm: str | None, weeks: list[Week], now: dt.datetime | None = None
) -> Sheet:
    """Stored forecasts, in the import format (so an export can be edited and re-imported)."""
    with transaction(engine) as session:
        catalogue = load_catalogue(session)
        query = select(Forecast).where(Forecast.week.in_([str(w) for w in weeks]))  # type: ignore[attr-defined]
        if farm:
            query = query.where(Forecast.farm_id == farm_or_fail(catalogue, farm))
        found = session.exec(query).all()
    stamp = made_at(now)
    rows = [
        [
            f.farm_id,
            f.product_id,
            catalogue.products[f.product_id].name,
            f.week,
            f.kg,
            f.price_eur_per_kg,
            str(f.organic_status),
            " ".join(f.days_available),
            stamp,
            version_of(vars(f)),
        ]
        for f in sorted(found, key=lambda f: (f.farm_id, f.week, f.product_id))
    ]
    return Sheet(
        [*_KEYS, "made_at", "version"],
        rows,
        FRENCH_HEADERS,
        title="Prévisions enregistrées",
        fill=FILLED,
        muted=("made_at", "version"),
        words=FRENCH_WORDS,
    )
