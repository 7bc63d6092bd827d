"""Canteen menus as their managers export them: one line per dish ingredient and day.

Importing a menu replaces the canteen's lines on the dates the file covers, so a dish taken
off the menu disappears and re-importing the same file changes nothing. A blank dish (no
dish column, or an empty cell) keeps the dish already stored for the line.

Canteen software exports the whole menu: meat, fish, eggs, dairy, bread. A line is *outside
the local supply chain* — left out and counted in a note ("6 lignes hors circuit local
ignorées (Dinde, Pain, Oeufs…)"), whatever its other cells hold — when its product is not in
the catalogue (see ``Catalogue.resolve_item``: plurals, articles and usual names match) and

- its product cell is empty, or
- its product starts with a word of ``food_words.NOT_LOCAL`` (Dinde, Pain, Oeufs, Yaourt…), or
- its course is the dairy course (produit laitier, fromage), or
- no local product is written like it or named inside it (Brocoli, when no farm grows it).

Otherwise an unknown product is an error naming the closest products: a typo ("Carrotes") or
a local product with extra words ("Carottes râpées") is never skipped silently.

The dairy course (produit laitier, fromage) is read as dessert: it is served at the end of
the meal, and only its rare local products (fruit) are kept.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from sqlmodel import Session, col

from foodchain.catalogue import Catalogue, Unknown, name_words
from foodchain.files.columns import (
    Column,
    ParsedTable,
    Row,
    TableSpec,
    choice,
    header_key,
    integer,
    number,
)
from foodchain.files.columns import text as text_cell
from foodchain.food_words import NOT_LOCAL
from foodchain.importing import Checks, Importer, Skip
from foodchain.models import MenuLine, MenuLineIn, SiteKind
from foodchain.store import stored_rows
from foodchain.weeks import WEEKDAYS, Week, fold, parse_date

COURSE_WORDS = {
    "starter": "starter",
    "entree": "starter",
    "hors d oeuvre": "starter",
    "hors d'oeuvre": "starter",
    "hors d'œuvre": "starter",
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
    "legumes": "side",
    "feculent": "side",
    "dessert": "dessert",
    "fruit": "dessert",
    "produit laitier": "dessert",
    "produits laitiers": "dessert",
    "laitage": "dessert",
    "fromage": "dessert",
    "dairy": "dessert",
    "cheese": "dessert",
    "snack": "snack",
    "gouter": "snack",
    "collation": "snack",
}
COURSE_WORDS |= {
    f"{word}s": course for word, course in COURSE_WORDS.items() if not word.endswith("s")
}
DAIRY_COURSES = frozenset(
    header_key(w)
    for w in ("produit laitier", "produits laitiers", "laitage", "fromage", "dairy", "cheese")
)
"""Courses of dairy products: a line of them is local only if its product is in the catalogue."""

_WEEKDAY = re.compile(
    r"^(lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche|lun|mar|mer|jeu|ven|sam|dim|"
    r"mon|tue|wed|thu|fri|sat|sun)[a-z]*\.?\s+"
)


def menu_date(cell: str) -> Any:
    """A date as menu software writes it: ``01/12/2026``, ``2026-12-01``, also after a day's
    name (``mardi 01/12/2026``) or with a midnight time (``01/12/2026 00:00:00``)."""
    t = _WEEKDAY.sub("", fold(cell))
    t = re.sub(r"\s+00:00(:00)?$", "", t)
    try:
        return parse_date(t)
    except ValueError:
        raise ValueError(
            f"{cell!r} is not a date; write it like 2026-12-01 or 01/12/2026"
        ) from None


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
            text_cell,
            "the canteen's id (may be left out: --canteen gives it)",
            ("cantine", "restaurant", "site", "etablissement"),
            required=False,
            blank_ok=True,
            help_fr="l'identifiant de la cantine (facultatif : --canteen le donne)",
        ),
        Column(
            "date",
            menu_date,
            "the day of the meal, e.g. 2026-12-01 or 01/12/2026",
            ("jour", "date du repas", "date de service"),
            help_fr="le jour du repas, par exemple 01/12/2026",
        ),
        Column(
            "meal",
            choice(MEAL_WORDS),
            "déjeuner, dîner or goûter (empty: déjeuner)",
            ("repas", "service", "type de repas"),
            required=False,
            blank_ok=True,
            help_fr="déjeuner, dîner ou goûter (vide : déjeuner)",
        ),
        Column(
            "course",
            choice(COURSE_WORDS),
            "entrée, soupe, plat, garniture, produit laitier, dessert or goûter",
            ("composante", "categorie", "type", "type de plat", "composante du menu"),
            help_fr="entrée, soupe, plat, garniture, produit laitier, dessert ou goûter",
        ),
        Column(
            "dish",
            text_cell,
            "the dish as on the menu, e.g. Carottes râpées (empty: the dish already stored)",
            (
                "plat",
                "libelle",
                "libelle du plat",
                "libelle plat",
                "nom du plat",
                "intitule",
                "intitule du plat",
                "recette",
                "menu",
                "designation",
            ),
            required=False,
            blank_ok=True,
            help_fr="le plat tel qu'au menu, par exemple Carottes râpées",
        ),
        Column(
            "item",
            text_cell,
            "the product or substitution group it needs, e.g. carrot or soup_vegetables "
            "(empty, or meat, fish, dairy, bread...: the line is left out)",
            (
                "produit",
                "groupe",
                "ingredient",
                "produit ou groupe",
                "product",
                "aliment",
                "denree",
                "matiere premiere",
            ),
            blank_ok=True,
            help_fr="le produit ou le groupe de produits, par exemple Carottes ou "
            "soup_vegetables (vide, ou viande, poisson, laitage, pain... : ligne ignorée)",
        ),
        Column(
            "covers",
            integer(0, 100_000),
            "number of meals (empty: the canteen's usual covers that day)",
            ("couverts", "nombre de couverts", "convives", "repas servis", "nb couverts"),
            required=False,
            blank_ok=True,
            help_fr="nombre de repas (vide : les couverts habituels de la cantine ce jour-là)",
        ),
        Column(
            "portion_g",
            number(0.001, 2000, units=("g",)),
            "grams served per cover (empty: the portion table by age group)",
            ("grammage", "grammage g", "portion", "portion g", "grammes"),
            required=False,
            blank_ok=True,
            help_fr="grammes servis par couvert, par exemple 80 (vide : le tableau des "
            "portions par âge)",
        ),
        Column(
            "kg",
            number(0, 100_000, units=("kg",)),
            "kg to deliver, if you already know it (then taken as is)",
            ("quantite", "quantite kg", "quantity", "poids", "poids kg"),
            required=False,
            blank_ok=True,
            help_fr="kg à livrer, si vous le savez déjà (pris tel quel)",
        ),
    ),
    key=("date", "meal", "course", "item"),
)
_FIELDS = {"item_id": "item", "canteen_id": "canteen"}


_NOT_LOCAL_WORDS = frozenset(name_words(w) for words in NOT_LOCAL.values() for w in words)


def _not_local(row: Row, catalogue: Catalogue) -> Skip | None:
    """A Skip if the line is outside the local supply chain (see the module's rules)."""
    product = row.cells.get("item", "").strip()
    if not product:
        return Skip("not local")
    try:
        catalogue.resolve_item(product)
        return None
    except Unknown as exc:
        words = name_words(product)
        if (
            any(words[: len(w)] == w for w in _NOT_LOCAL_WORDS)
            or header_key(row.cells.get("course", "")) in DAIRY_COURSES
            or not exc.suggestions
        ):
            return Skip("not local", product)
        return None


def _build(row: Row, catalogue: Catalogue, options: dict[str, Any]) -> MenuLineIn | Skip:
    skip = _not_local(row, catalogue)
    if skip is not None:
        return skip
    v = row.values
    checks = Checks(row)
    canteen_id: str = options["canteen"]
    if v["canteen"]:
        named = checks.ref(
            "canteen",
            lambda t: catalogue.resolve_site(t, SiteKind.CANTEEN, "canteen"),
            v["canteen"],
        )
        if named is not None and named != canteen_id:
            checks.add(
                "canteen",
                f"this line is for {named}, but the import is for {canteen_id}",
                "import each canteen's lines with its own --canteen",
                "importez les lignes de chaque cantine avec son propre --canteen",
            )
    day = v["date"]
    if day is not None and catalogue.horizon:
        first, last = catalogue.horizon
        if not first <= Week.of(day) <= last:
            start, end = first.monday(), last.day("sun")
            checks.add(
                "date",
                f"date outside the planning horizon ({first}..{last})",
                f"give a date from {start} to {end}",
                f"donnez une date du {start:%d/%m/%Y} au {end:%d/%m/%Y}",
            )
    item_id = checks.ref("item", catalogue.resolve_item, v["item"])
    canteen = catalogue.canteens[canteen_id]
    if v["kg"] is None and checks.ok("kg"):
        weekday = WEEKDAYS[day.weekday()] if day is not None else None
        if (
            weekday
            and v["covers"] is None
            and checks.ok("covers")
            and weekday not in canteen.covers
        ):
            checks.add(
                "date",
                f"the canteen serves no meals on {weekday} and the line gives no covers",
                "check the date, or give the number of covers on this line",
                "vérifiez la date, ou donnez le nombre de couverts sur la ligne",
            )
        if (
            item_id is not None
            and v["course"] is not None
            and v["portion_g"] is None
            and checks.ok("portion_g")
            and catalogue.portion_grams(v["course"], item_id, canteen.age_group) is None
        ):
            checks.add(
                "course",
                f"no portion size for {v['course']} / {catalogue.item_family(item_id)} / "
                f"{canteen.age_group}",
                "give portion_g (grammage) or kg on the line, or add it to the portion table",
                "donnez le grammage ou les kg sur la ligne, ou ajoutez la portion au tableau "
                "des portions du scénario",
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
    return checks.validated(MenuLineIn, data, _FIELDS)


def _covered(parsed: ParsedTable) -> dict[str, Any]:
    """The dates a file covers: of every line it gives a date, skipped lines too (a day
    whose menu became fish and bread no longer needs the carrots stored for it)."""
    rows = parsed.rows + parsed.rejected
    return {"dates": {r.values["date"] for r in rows if r.values["date"] is not None}}


def _existing(
    session: Session, records: Sequence[MenuLineIn], options: dict[str, Any]
) -> list[dict[str, Any]]:
    dates = sorted({r.date for r in records} | set(options.get("dates", ())))
    return stored_rows(
        session,
        MenuLine,
        col(MenuLine.canteen_id) == options["canteen"],
        col(MenuLine.date).in_(dates),
    )


IMPORTER: Importer[MenuLineIn] = Importer(
    "menus",
    SPEC,
    MenuLine,
    _build,
    _existing,
    replaces=True,
    partial_rows=True,
    keep_blank=("dish",),
    covered=_covered,
)
