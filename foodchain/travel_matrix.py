"""Distance/time matrices from a routing engine (OSRM, Valhalla, openrouteservice tables).

A CSV ``from_id,to_id,km,minutes`` replaces great-circle distance × road factor for the
pairs it gives; pairs it leaves out keep the default (``Travel.missing_pairs`` lists them).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlmodel import Session, select

from foodchain.catalogue import Catalogue
from foodchain.files.columns import Column, Row, TableSpec, number, text
from foodchain.importing import Importer, RowError, ref, validated
from foodchain.models import TravelLeg, TravelLegIn
from foodchain.store import stored_rows

SPEC = TableSpec(
    "travel matrix",
    (
        Column(
            "from_id",
            text,
            "the id of the site the leg starts from",
            ("de", "depart", "origine", "from"),
        ),
        Column(
            "to_id",
            text,
            "the id of the site the leg goes to",
            ("vers", "arrivee", "destination", "to"),
        ),
        Column(
            "km",
            number(0, 5000, units=("km",)),
            "road distance in km",
            ("distance", "distance km", "distance (km)"),
        ),
        Column(
            "minutes",
            number(0, 6000, units=("min", "mn")),
            "driving time in minutes",
            ("duree", "duree min", "temps", "duration", "min"),
        ),
    ),
    key=("from_id", "to_id"),
)


def _build(row: Row, catalogue: Catalogue, _options: dict[str, Any]) -> TravelLegIn:
    v = row.values
    origin = ref("from_id", catalogue.resolve_any_site, v["from_id"])
    destination = ref("to_id", catalogue.resolve_any_site, v["to_id"])
    if origin == destination:
        raise RowError("to_id", "a leg from a site to itself", "remove the row")
    data = {"from_id": origin, "to_id": destination, "km": v["km"], "minutes": v["minutes"]}
    return validated(TravelLegIn, data, row, {})


def _existing(
    session: Session, _records: Sequence[TravelLegIn], _options: dict[str, Any]
) -> list[dict[str, Any]]:
    return stored_rows(session, TravelLeg)


IMPORTER: Importer[TravelLegIn] = Importer("travel matrix", SPEC, TravelLeg, _build, _existing)


def load_matrix(session: Session) -> dict[tuple[str, str], tuple[float, float]]:
    return {(t.from_id, t.to_id): (t.km, t.minutes) for t in session.exec(select(TravelLeg)).all()}
