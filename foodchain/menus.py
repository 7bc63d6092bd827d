"""Canteen menus as their managers export them: one line per dish ingredient and day.

Importing a menu replaces the canteen's lines on the dates the file covers, so a dish taken
off the menu disappears and re-importing the same file changes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlmodel import Session, col

from foodchain.catalogue import Catalogue
from foodchain.files.columns import Column, Row, TableSpec, choice, date, integer, number, text
from foodchain.importing import Importer, RowError, ref, validated
from foodchain.models import MenuLine, MenuLineIn, SiteKind
from foodchain.store import stored_rows
from foodchain.weeks import WEEKDAYS, Week

COURSE_WORDS = {
    "starter": "starter",
    "entree": "starter",
    "hors d oeuvre": "starter",
    "hors d'oeuvre": "starter",
    "crudites": "starter",
    "soup": "soup",
    "soupe": "soup",
    "potage": "soup",
    "veloute": "soup",
    "main": "main",
    "plat": "main",
    "plat principal": "main",
    "plat protidique": "main",
    "side": "side",
    "accompagnement": "side",
    "garniture": "side",
    "legume": "side",
    "dessert": "dessert",
    "fruit": "dessert",
    "snack": "snack",
    "gouter": "snack",
    "collation": "snack",
}
MEAL_WORDS = {
    "lunch": "lunch",
    "dejeuner": "lunch",
    "midi": "lunch",
    "repas de midi": "lunch",
    "dinner": "dinner",
    "diner": "dinner",
    "soir": "dinner",
    "souper": "dinner",
    "snack": "snack",
    "gouter": "snack",
    "collation": "snack",
}

SPEC = TableSpec(
    "menus",
    (
        Column(
            "canteen",
            text,
            "the canteen's id (may be left out: --canteen gives it)",
            ("cantine", "restaurant", "site", "etablissement"),
            required=False,
            blank_ok=True,
        ),
        Column("date", date, "the day of the meal, e.g. 2026-12-01 or 01/12/2026", ("jour",)),
        Column(
            "meal",
            choice(MEAL_WORDS),
            "déjeuner, dîner or goûter (empty: déjeuner)",
            ("repas", "service"),
            required=False,
            blank_ok=True,
        ),
        Column(
            "course",
            choice(COURSE_WORDS),
            "entrée, soupe, plat, accompagnement, dessert or goûter",
            ("composante", "categorie", "type"),
        ),
        Column(
            "dish",
            text,
            "the dish as on the menu, e.g. Carottes râpées",
            ("plat", "libelle", "intitule", "recette", "menu"),
            required=False,
            blank_ok=True,
        ),
        Column(
            "item",
            text,
            "the product or substitution group it needs, e.g. carrot or soup_vegetables",
            ("produit", "groupe", "ingredient", "produit ou groupe", "product", "aliment"),
        ),
        Column(
            "covers",
            integer(0, 100_000),
            "number of meals (empty: the canteen's usual covers that day)",
            ("couverts", "nombre de couverts", "convives", "repas servis", "nb couverts"),
            required=False,
            blank_ok=True,
        ),
        Column(
            "portion_g",
            number(0.001, 2000, units=("g",)),
            "grams served per cover (empty: the portion table by age group)",
            ("grammage", "grammage g", "portion", "portion g", "grammes"),
            required=False,
            blank_ok=True,
        ),
        Column(
            "kg",
            number(0, 100_000, units=("kg",)),
            "kg to deliver, if you already know it (then taken as is)",
            ("quantite", "quantite kg", "quantity", "poids", "poids kg"),
            required=False,
            blank_ok=True,
        ),
    ),
    key=("date", "meal", "course", "item"),
)
_FIELDS = {"item_id": "item", "canteen_id": "canteen"}


def _build(row: Row, catalogue: Catalogue, options: dict[str, Any]) -> MenuLineIn:
    v = row.values
    canteen_id: str = options["canteen"]
    if v["canteen"]:
        named = ref(
            "canteen",
            lambda t: catalogue.resolve_site(t, SiteKind.CANTEEN, "canteen"),
            v["canteen"],
        )
        if named != canteen_id:
            raise RowError(
                "canteen",
                f"this line is for {named}, but the import is for {canteen_id}",
                "import each canteen's lines with its own --canteen",
            )
    day = v["date"]
    if catalogue.horizon:
        first, last = catalogue.horizon
        if not first <= Week.of(day) <= last:
            raise RowError(
                "date",
                f"date outside the planning horizon ({first}..{last})",
                f"give a date from {first.monday()} to {last.day('sun')}",
            )
    item_id = ref("item", catalogue.resolve_item, v["item"])
    canteen = catalogue.canteens[canteen_id]
    weekday = WEEKDAYS[day.weekday()]
    if v["kg"] is None:
        if v["covers"] is None and weekday not in canteen.covers:
            raise RowError(
                "date",
                f"the canteen serves no meals on {weekday} and the line gives no covers",
                "check the date, or give the number of covers on this line",
            )
        if v["portion_g"] is None and (
            catalogue.portion_grams(v["course"], item_id, canteen.age_group) is None
        ):
            raise RowError(
                "course",
                f"no portion size for {v['course']} / {catalogue.item_family(item_id)} / "
                f"{canteen.age_group}",
                "give portion_g (grammage) or kg on the line, or add it to the portion table",
            )
    data = {
        "canteen_id": canteen_id,
        "date": day,
        "meal": v["meal"] or "lunch",
        "course": v["course"],
        "item_id": item_id,
        "dish": v["dish"] or "",
        "covers": v["covers"],
        "portion_g": v["portion_g"],
        "kg": v["kg"],
    }
    return validated(MenuLineIn, data, row, _FIELDS)


def _existing(
    session: Session, records: Sequence[MenuLineIn], options: dict[str, Any]
) -> list[dict[str, Any]]:
    dates = sorted({r.date for r in records})
    return stored_rows(
        session,
        MenuLine,
        col(MenuLine.canteen_id) == options["canteen"],
        col(MenuLine.date).in_(dates),
    )


IMPORTER: Importer[MenuLineIn] = Importer("menus", SPEC, MenuLine, _build, _existing, replaces=True)
