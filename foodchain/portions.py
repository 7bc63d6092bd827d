"""Default portion table: grams SERVED per cover by course, product family and age group.

Mid-range of the GEMRCN values quoted in facts.md §3.3 (general knowledge, to verify against
the official tables). A course the scenario's ``portions:`` gives replaces that course here.
Harvest kg = covers × grams ÷ edible fraction (see ``foodchain.demand``).
"""

from __future__ import annotations

Portions = dict[str, dict[str, dict[str, float]]]

DEFAULT_PORTIONS: Portions = {
    "starter": {
        "*": {"maternelle": 60, "elementaire": 80, "adulte": 105, "senior": 90},
        "leaf": {"maternelle": 25, "elementaire": 35, "adulte": 50, "senior": 40},
        "fruit_veg": {"maternelle": 70, "elementaire": 90, "adulte": 110, "senior": 100},
    },
    "soup": {"*": {"maternelle": 60, "elementaire": 80, "adulte": 100, "senior": 100}},
    "main": {"*": {"maternelle": 110, "elementaire": 135, "adulte": 175, "senior": 175}},
    "side": {
        "*": {"maternelle": 110, "elementaire": 135, "adulte": 175, "senior": 175},
        "tuber": {"maternelle": 110, "elementaire": 145, "adulte": 210, "senior": 175},
    },
    "dessert": {"*": {"maternelle": 75, "elementaire": 125, "adulte": 150, "senior": 125}},
    "snack": {"*": {"maternelle": 75, "elementaire": 100, "adulte": 120, "senior": 100}},
}


def merged_portions(overrides: Portions, families: set[str]) -> Portions:
    """The scenario's courses as given; other courses from the defaults (for the families the
    scenario has, and '*')."""
    table: Portions = {
        course: {f: dict(a) for f, a in by_family.items() if f == "*" or f in families}
        for course, by_family in DEFAULT_PORTIONS.items()
        if course not in overrides
    }
    for course, by_family in overrides.items():
        table[course] = {str(f): dict(a or {}) for f, a in (by_family or {}).items()}
    return table
