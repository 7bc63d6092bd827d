"""Farmers' harvest forecasts: the file's columns, import, template and export."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from foodchain.catalogue import Catalogue, load_catalogue
from foodchain.db import transaction
from foodchain.errors import NotFoundError
from foodchain.files.columns import Column, Row, TableSpec, choice, number, text, week, weekdays
from foodchain.files.writing import Sheet
from foodchain.importing import Importer, RowError, ref, validated
from foodchain.models import Forecast, ForecastIn, SiteKind
from foodchain.organic import OrganicStatus
from foodchain.store import stored_rows
from foodchain.weeks import WEEKDAYS, Week

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
    ),
    key=("farm", "product", "week"),
    ignored=("product_name", "nom du produit", "to_fill", "a remplir"),
)

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
}
_FIELDS = {"farm_id": "farm", "product_id": "product"}


def _build(row: Row, catalogue: Catalogue, options: dict[str, Any]) -> ForecastIn | None:
    v = row.values
    farm_id = ref("farm", lambda t: catalogue.resolve_site(t, SiteKind.FARM, "farm"), v["farm"])
    if options.get("farm") and farm_id != options["farm"]:
        raise RowError(
            "farm", f"this row is for {farm_id}, not {options['farm']}", "split the file"
        )
    product_id = ref("product", catalogue.resolve_product, v["product"])
    if catalogue.horizon and not str(catalogue.horizon[0]) <= v["week"] <= str(
        catalogue.horizon[1]
    ):
        first, last = catalogue.horizon
        raise RowError(
            "week", "week outside the planning horizon", f"use a week from {first} to {last}"
        )
    if v["kg"] is None:
        return None
    farm = catalogue.farms.get(farm_id)
    site = catalogue.sites[farm_id]
    days = v["days_available"] or list(site.windows) or list(WEEKDAYS)
    data = {
        "farm_id": farm_id,
        "product_id": product_id,
        "week": v["week"],
        "kg": v["kg"],
        "price_eur_per_kg": v["price_eur_per_kg"]
        if v["price_eur_per_kg"] is not None
        else catalogue.products[product_id].price_eur_per_kg,
        "organic_status": v["organic_status"]
        or (farm.organic_status if farm else OrganicStatus.CONVENTIONAL),
        "days_available": days,
    }
    return validated(ForecastIn, data, row, _FIELDS)


def _existing(
    session: Session, records: Sequence[ForecastIn], _options: dict[str, Any]
) -> list[dict[str, Any]]:
    farms = sorted({r.farm_id for r in records})
    weeks = sorted({r.week for r in records})
    return stored_rows(
        session, Forecast, col(Forecast.farm_id).in_(farms), col(Forecast.week).in_(weeks)
    )


IMPORTER: Importer[ForecastIn] = Importer("forecasts", SPEC, Forecast, _build, _existing)


# --------------------------------------------------------------------------- template & export


def _farm_or_fail(catalogue: Catalogue, farm: str) -> str:
    try:
        return catalogue.resolve_site(farm, SiteKind.FARM, "farm")
    except LookupError as exc:
        raise NotFoundError(f"{exc}: {farm!r}. {getattr(exc, 'fix', '')}") from None


def forecast_template(engine: Engine, farm: str, weeks: list[Week]) -> Sheet:
    """Rows for the farm's products × weeks, pre-filled with the week's or last known values."""
    with transaction(engine) as session:
        catalogue = load_catalogue(session)
        farm_id = _farm_or_fail(catalogue, farm)
        history = session.exec(
            select(Forecast).where(Forecast.farm_id == farm_id).order_by(Forecast.week)
        ).all()
    products = sorted({f.product_id for f in history}) or sorted(catalogue.products)
    by_product: dict[str, list[Forecast]] = {}
    for f in history:
        by_product.setdefault(f.product_id, []).append(f)
    farm_status = catalogue.farms[farm_id].organic_status if farm_id in catalogue.farms else None
    pickup = list(catalogue.sites[farm_id].windows)
    rows: list[list[Any]] = []
    for w in weeks:
        for product_id in products:
            past = [f for f in by_product.get(product_id, []) if f.week <= str(w)]
            same = past[-1] if past and past[-1].week == str(w) else None
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
                    hint + " ; 0 si rien, vide = pas de prévision. Vérifiez prix, statut, jours.",
                ]
            )
    keys = [
        "farm",
        "product",
        "product_name",
        "week",
        "kg",
        "price_eur_per_kg",
        "organic_status",
        "days_available",
        "to_fill",
    ]
    return Sheet(keys, rows, FRENCH_HEADERS)


def forecast_export(engine: Engine, farm: str | None, weeks: list[Week]) -> Sheet:
    """Stored forecasts, in the import format (so an export can be edited and re-imported)."""
    with transaction(engine) as session:
        catalogue = load_catalogue(session)
        query = select(Forecast).where(Forecast.week.in_([str(w) for w in weeks]))  # type: ignore[attr-defined]
        if farm:
            query = query.where(Forecast.farm_id == _farm_or_fail(catalogue, farm))
        found = session.exec(query).all()
    keys = ["farm", "product", "product_name", "week", "kg", "price_eur_per_kg"]
    keys += ["organic_status", "days_available"]
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
        ]
        for f in sorted(found, key=lambda f: (f.farm_id, f.week, f.product_id))
    ]
    return Sheet(keys, rows, FRENCH_HEADERS)
