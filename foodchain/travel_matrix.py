"""Distance/time matrices from a routing engine (OSRM, Valhalla, openrouteservice tables).

A CSV ``from_id,to_id,km,minutes`` replaces great-circle distance × road factor for the
pairs it gives. Among the sites a file names, every pair (both ways) must be given: a table
with holes would make the rounds mix road and straight-line distances without anyone knowing,
so it is refused. Sites a file does not name keep the default.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlmodel import Session, select

from foodchain.catalogue import Catalogue
from foodchain.errors import Problem
from foodchain.files.columns import Column, ParsedTable, Row, TableSpec, number, text
from foodchain.importing import Checks, Importer
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
    checks = Checks(row)
    origin = checks.ref("from_id", catalogue.resolve_any_site, v["from_id"])
    destination = checks.ref("to_id", catalogue.resolve_any_site, v["to_id"])
    if origin is not None and origin == destination:
        checks.add("to_id", "a leg from a site to itself", "remove the row", "supprimez la ligne")
    data = {"from_id": origin, "to_id": destination, "km": v["km"], "minutes": v["minutes"]}
    return checks.validated(TravelLegIn, data, {})


def _existing(
    session: Session, _records: Sequence[TravelLegIn], _options: dict[str, Any]
) -> list[dict[str, Any]]:
    return stored_rows(session, TravelLeg)


def _every_pair(legs: Sequence[tuple[Row, TravelLegIn]], parsed: ParsedTable) -> list[Problem]:
    """One problem per site from which some pair among the file's sites is missing, placed
    on the first row that names the site."""
    pairs = {(leg.from_id, leg.to_id) for _row, leg in legs}
    first: dict[str, tuple[Row, str]] = {}
    for row, leg in legs:
        first.setdefault(leg.from_id, (row, "from_id"))
    for row, leg in legs:
        first.setdefault(leg.to_id, (row, "to_id"))
    problems = []
    for origin in sorted(first):
        missing = [d for d in sorted(first) if d != origin and (origin, d) not in pairs]
        if not missing:
            continue
        row, column = first[origin]
        shown = ", ".join(missing[:5]) + (f" and {len(missing) - 5} more" if missing[5:] else "")
        problems.append(
            parsed.problem(
                row,
                column,
                f"the table has no row from {origin} to {shown} ({len(missing)} pair(s) missing): "
                "among the sites a table names, every pair is needed both ways",
                f"export the routing engine's table with every site as both source and "
                f"destination (add the rows {origin} → {missing[0]}...), or leave {origin} out",
            )
        )
    return problems


IMPORTER: Importer[TravelLegIn] = Importer(
    "travel matrix", SPEC, TravelLeg, _build, _existing, check_rows=_every_pair, partial_rows=True
)


def load_matrix(session: Session) -> dict[tuple[str, str], tuple[float, float]]:
    return {(t.from_id, t.to_id): (t.km, t.minutes) for t in session.exec(select(TravelLeg)).all()}
