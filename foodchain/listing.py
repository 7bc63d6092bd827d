"""What the territory holds, as rows people can read and scripts can parse: sites, products
and vehicles with the ids the other commands take."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine
from sqlmodel import select

from foodchain.db import transaction
from foodchain.models import Product, Site, Vehicle

Rows = tuple[list[str], list[list[Any]]]


def site_rows(engine: Engine, kind: str | None = None) -> Rows:
    """Sites (of one ``kind``), by kind then id."""
    header = ["id", "kind", "name", "commune", "address", "lat", "lon", "delivery_days"]
    with transaction(engine) as session:
        query = select(Site)
        if kind is not None:
            query = query.where(Site.kind == kind)
        sites = sorted(session.exec(query).all(), key=lambda s: (str(s.kind), s.id))
    rows = [
        [s.id, str(s.kind), s.name, s.commune, s.address, s.lat, s.lon, " ".join(s.delivery_days)]
        for s in sites
    ]
    return header, rows


def product_rows(engine: Engine) -> Rows:
    """Products by id, with how they are counted and kept."""
    header = [
        "id",
        "name",
        "family",
        "unit",
        "kg_per_unit",
        "kg_per_crate",
        "shelf_life_days",
        "price_eur_per_kg",
        "temperature_class",
    ]
    with transaction(engine) as session:
        products = sorted(session.exec(select(Product)).all(), key=lambda p: p.id)
    rows = [
        [
            p.id,
            p.name,
            p.family,
            str(p.unit),
            p.kg_per_unit,
            p.kg_per_crate,
            p.shelf_life_days,
            p.price_eur_per_kg,
            p.temperature_class,
        ]
        for p in products
    ]
    return header, rows


def vehicle_rows(engine: Engine) -> Rows:
    """Vehicles by id: what they carry, when they run, where they go."""
    header = [
        "id",
        "name",
        "type",
        "depot_id",
        "capacity_kg",
        "capacity_crates",
        "shift",
        "range_km",
        "speed_kmh",
        "max_km_from_hub",
        "allowed_kinds",
        "cold",
    ]
    with transaction(engine) as session:
        vehicles = sorted(session.exec(select(Vehicle)).all(), key=lambda v: v.id)
    rows = [
        [
            v.id,
            v.name,
            str(v.type),
            v.depot_id,
            v.capacity_kg,
            v.capacity_crates,
            v.shift,
            v.range_km,
            v.speed_kmh,
            v.max_km_from_hub,
            " ".join(str(k) for k in v.allowed_kinds),
            str(v.cold),
        ]
        for v in vehicles
    ]
    return header, rows
