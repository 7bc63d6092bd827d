"""Basket subscriptions per relay point: counted groups or one row per subscriber.

Subscriber codes and contacts are optional; they are stored but never logged or printed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlmodel import Session

from foodchain.catalogue import Catalogue
from foodchain.files.columns import Column, Row, TableSpec, choice, integer, text, week, weeks
from foodchain.importing import Checks, Importer
from foodchain.models import SiteKind, Subscription, SubscriptionIn
from foodchain.store import stored_rows
from foodchain.weeks import Week

FREQUENCY_WORDS = {
    "weekly": "weekly",
    "hebdo": "weekly",
    "hebdomadaire": "weekly",
    "chaque semaine": "weekly",
    "toutes les semaines": "weekly",
    "biweekly": "biweekly",
    "fortnightly": "biweekly",
    "every other week": "biweekly",
    "quinzaine": "biweekly",
    "bimensuel": "biweekly",
    "toutes les 2 semaines": "biweekly",
    "toutes les deux semaines": "biweekly",
    "une semaine sur deux": "biweekly",
    "1 semaine sur 2": "biweekly",
}

SPEC = TableSpec(
    "subscriptions",
    (
        Column(
            "relay_point",
            text,
            "the relay point's id or name, e.g. relay_lens",
            ("point relais", "point de retrait", "relais", "depot", "relay"),
        ),
        Column(
            "basket_type",
            text,
            "the basket size: small, medium or large (or its name)",
            ("panier", "taille", "type de panier", "taille panier", "basket", "size"),
        ),
        Column(
            "count",
            integer(1, 10_000),
            "number of baskets (empty: 1)",
            ("nombre", "nb", "quantite", "paniers", "nombre de paniers", "baskets"),
            required=False,
            blank_ok=True,
        ),
        Column(
            "subscriber",
            text,
            "a subscriber code, e.g. S0042 (optional; never printed)",
            ("abonne", "code abonne", "adherent", "code"),
            required=False,
            blank_ok=True,
        ),
        Column(
            "frequency",
            choice(FREQUENCY_WORDS),
            "hebdomadaire (weekly) or quinzaine (every other week)",
            ("frequence", "rythme"),
            required=False,
            blank_ok=True,
        ),
        Column(
            "start",
            week,
            "first ISO week of delivery, e.g. 2026-W45",
            ("debut", "semaine de debut", "start week", "from"),
        ),
        Column(
            "end",
            week,
            "last ISO week of delivery (empty: no end)",
            ("fin", "semaine de fin", "end week", "to"),
            required=False,
            blank_ok=True,
        ),
        Column(
            "paused_weeks",
            weeks,
            "ISO weeks without delivery, e.g. 2026-W52 2026-W53",
            ("pauses", "semaines de pause", "absences", "paused"),
            required=False,
            blank_ok=True,
        ),
        Column(
            "contact",
            text,
            "e-mail or phone (optional; never printed)",
            ("email", "telephone", "tel", "mail"),
            required=False,
            blank_ok=True,
        ),
    ),
    key=("relay_point", "basket_type", "subscriber", "frequency", "start"),
    private=("subscriber", "contact"),
)
_FIELDS = {
    "relay_point_id": "relay_point",
    "basket_type_id": "basket_type",
    "start_week": "start",
    "end_week": "end",
}


def _build(row: Row, catalogue: Catalogue, _options: dict[str, Any]) -> SubscriptionIn:
    v = row.values
    checks = Checks(row)
    relay = checks.ref(
        "relay_point",
        lambda t: catalogue.resolve_site(t, SiteKind.RELAY, "relay point"),
        v["relay_point"],
    )
    basket = checks.ref("basket_type", catalogue.resolve_basket_type, v["basket_type"])
    if catalogue.horizon:
        first, last = catalogue.horizon
        if v["start"] and Week.parse(v["start"]) > last:
            checks.add(
                "start",
                "starts after the planning horizon",
                f"start by {last}",
                f"commencez au plus tard en {last}",
            )
        if v["end"] and Week.parse(v["end"]) < first:
            checks.add(
                "end",
                "ended before the planning horizon",
                f"end after {first}",
                f"finissez après {first}",
            )
    data = {
        "relay_point_id": relay,
        "basket_type_id": basket,
        "subscriber": v["subscriber"] or "",
        "frequency": v["frequency"] or "weekly",
        "start_week": v["start"],
        "count": v["count"] if v["count"] is not None else 1,
        "end_week": v["end"],
        "paused_weeks": v["paused_weeks"] or [],
        "contact": v["contact"] or "",
    }
    return checks.validated(SubscriptionIn, data, _FIELDS)


def _existing(
    session: Session, _records: Sequence[SubscriptionIn], _options: dict[str, Any]
) -> list[dict[str, Any]]:
    return stored_rows(session, Subscription)


IMPORTER: Importer[SubscriptionIn] = Importer(
    "subscriptions", SPEC, Subscription, _build, _existing, partial_rows=True
)
