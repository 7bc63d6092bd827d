"""Generate the weekly data files of the Lensois scenario (deterministic, seeded).

Run from the repository root, with foodchain installed (``pip install -e .``):

    python scenarios/generate_lensois.py

The forecast, menu and pause generators live in ``foodchain/generate.py`` (shared with
``foodchain scenario generate``); this script holds what is particular to the Lensois: the
subscription plan below, and which files to write.

It reads ``scenarios/lensois.yaml`` (horizon, sites, portions, products, groups) and two input
files next to it, and rewrites three outputs:

* ``lensois/crops.yaml``       -> ``lensois/forecasts.csv``
* ``lensois/menu_cycles.yaml`` -> ``lensois/menus/<canteen_id>.csv`` (one per canteen)
* the subscription plan below  -> ``lensois/subscriptions.csv``

How quantities are derived
--------------------------
Forecasts: for every ISO week of the horizon (2026-W45 .. 2027-W26; 2026 has 53 weeks), every
farm and every crop it grows,

    kg = peak_kg × season(Thursday) × week_factor × noise, rounded to ``round_kg`` (0.5 kg)

where season holds each month's level at mid-month and is linear in between; a month's level
is its calendar letter's factor (facts.md §4.1; H = 1.0, H/S = 0.8, S = 0.7, (H) = 0.4,
(S) = 0.3, - = 0, ``factors`` in crops.yaml) and, in a run of store months, the store's
level (down to 40% in the run's last month); week_factor from ``week_factors`` (1 by
default; less over Christmas) and noise a uniform factor in [0.85, 1.15] drawn from a
generator seeded with ``seed|farm|product|week`` (so a row does not change when another
farm or crop is added). Rows whose kg rounds to 0 are not written. Price, organic status
and days available come from the crop entry (or the farm's defaults: status = the farm's
``organic_status`` in the YAML, days = the farm's ``days`` in crops.yaml).

Menus: each canteen follows the rotating cycle of its profile (``school`` for maternelle and
élémentaire, ``senior`` for the elderly home); a week uses the season of its Thursday's month
and cycle week = (weeks since the horizon start) mod (cycle length). School menus are written
for every week, holidays included; the holiday calendar removes the days off at demand time.
covers, portion_g and kg are left empty (they come from the canteen and the portion table),
except for dishes made of several products, where portion_g = table grams × the item's share.

Subscriptions: aggregated weekly and biweekly rows per relay point and basket size (the plan
below) plus individual subscribers ``S0001``.. drawn with a seeded generator (relay, size,
frequency, start, end, pauses around Christmas). Relay points are closed on fixed-date public
holidays: 25 Dec 2026 and 1 Jan 2027 are Fridays, so the Friday rows pause 2026-W52 and W53.
"""

from __future__ import annotations

import random
import sys
from pathlib import Path
from typing import Any, NoReturn

from foodchain.errors import FoodchainError
from foodchain.generate import (
    FORECAST_HEADER,
    MENU_HEADER,
    SUBSCRIPTION_HEADER,
    forecasts,
    holiday_weeks,
    horizon_weeks,
    load_products,
    load_yaml,
    menus,
    pause_weeks,
    write_csv,
)

HERE = Path(__file__).resolve().parent
SCENARIO = HERE / "lensois.yaml"
DATA = HERE / "lensois"

# --------------------------------------------------------------------------- subscription plan
# Weekly baskets per relay point: (small, medium, large). Sized so that the network delivers
# 300–500 baskets a week (Anges Gardins: ~300 baskets/week in 2015, >10,000 in 2023, facts §2.2).
WEEKLY_PLAN: dict[str, tuple[int, int, int]] = {
    "relay_loos": (16, 22, 8),
    "relay_lens": (20, 26, 9),
    "relay_lievin": (12, 18, 7),
    "relay_avion": (7, 10, 4),
    "relay_grenay": (5, 8, 3),
    "relay_bully_les_mines": (8, 10, 4),
    "relay_mazingarbe": (5, 8, 3),
    "relay_sallaumines": (7, 9, 3),
    "relay_vendin_le_vieil": (5, 8, 3),
    "relay_harnes": (7, 10, 4),
    "relay_lille": (18, 22, 8),
    "relay_dunkerque": (9, 12, 4),
}
# Aggregated biweekly rows: (relay, size, count, start week). Two start weeks alternate.
BIWEEKLY_PLAN: list[tuple[str, str, int, str]] = [
    ("relay_lens", "small", 6, "2026-W45"),
    ("relay_loos", "medium", 5, "2026-W45"),
    ("relay_lille", "medium", 6, "2026-W45"),
    ("relay_lievin", "small", 4, "2026-W45"),
    ("relay_lens", "medium", 5, "2026-W46"),
    ("relay_loos", "small", 6, "2026-W46"),
    ("relay_lille", "small", 5, "2026-W46"),
    ("relay_harnes", "medium", 4, "2026-W46"),
    ("relay_dunkerque", "small", 4, "2026-W46"),
]
# Aggregated rows that start or end during the season: (relay, size, count, start, end).
CHANGES: list[tuple[str, str, int, str, str]] = [
    ("relay_dunkerque", "large", 3, "2027-W02", ""),  # new subscribers after the winter fair
    (
        "relay_vendin_le_vieil",
        "small",
        3,
        "2026-W47",
        "2027-W13",
    ),  # trial offer from the Nov fair, ends at Easter
    ("relay_lens", "medium", 4, "2027-W10", ""),  # works council joins in March
]
INDIVIDUALS = 36  # rows with a subscriber code S0001..


# --------------------------------------------------------------------------- helpers
def fail(message: str) -> NoReturn:
    sys.exit(f"generate_lensois: {message}")


# --------------------------------------------------------------------------- subscriptions
def subscriptions(scenario: dict[str, Any], seed: int) -> list[list[Any]]:
    sites = {s["id"]: s for s in scenario["sites"]}
    first = scenario["horizon"]["first_week"]
    relays = [s["id"] for s in scenario["sites"] if s["kind"] == "relay"]
    if set(WEEKLY_PLAN) != set(relays):
        fail("subscription plan and relay points of lensois.yaml differ")

    horizon = horizon_weeks(scenario)
    weeks = [str(w) for w in horizon]
    closed = {r: holiday_weeks(horizon, sites[r]["delivery_days"][0]) for r in relays}

    def pauses(
        relay: str, frequency: str, start: str, end: str, extra: tuple[str, ...] | set[str] = ()
    ) -> str:
        """The relay point's public holidays and the row's own pauses, where it delivers."""
        return pause_weeks(weeks, start, end, frequency, set(extra) | closed[relay])

    rows: list[list[Any]] = []
    for relay, counts in WEEKLY_PLAN.items():
        for size, count in zip(("small", "medium", "large"), counts, strict=True):
            rows.append(
                [relay, size, count, "", "weekly", first, "", pauses(relay, "weekly", first, "")]
            )
    for relay, size, count, start in BIWEEKLY_PLAN:
        rows.append(
            [relay, size, count, "", "biweekly", start, "", pauses(relay, "biweekly", start, "")]
        )
    for relay, size, count, start, end in CHANGES:
        rows.append(
            [relay, size, count, "", "weekly", start, end, pauses(relay, "weekly", start, end)]
        )

    rng = random.Random(f"{seed}|subscriptions")
    weights = [sum(WEEKLY_PLAN[r]) for r in relays]
    for n in range(1, INDIVIDUALS + 1):
        relay = rng.choices(relays, weights)[0]
        size = rng.choices(["small", "medium", "large"], [4, 4.5, 1.5])[0]
        frequency = "weekly" if rng.random() < 0.6 else "biweekly"
        start = rng.choice([first] * 6 + ["2026-W46", "2026-W48", "2027-W02", "2027-W10"])
        if frequency == "biweekly" and start == first and rng.random() < 0.5:
            start = "2026-W46"
        end = rng.choice([""] * 8 + ["2027-W12", "2027-W20"])
        holiday = rng.random()
        extra: set[str] = set()
        if holiday < 0.35:
            extra = {"2026-W52", "2026-W53"}
        elif holiday < 0.5:
            extra = {"2026-W53", "2027-W01"}
        elif holiday < 0.6:
            extra = {"2027-W08", "2027-W09"}  # winter school holidays
        count = 2 if rng.random() < 0.08 else 1
        paused = pauses(relay, frequency, start, end, extra)
        rows.append([relay, size, count, f"S{n:04d}", frequency, start, end, paused])
    return rows


# --------------------------------------------------------------------------- main
def main() -> None:
    scenario = load_yaml(SCENARIO)
    crops = load_yaml(DATA / "crops.yaml")
    cycles = load_yaml(DATA / "menu_cycles.yaml")
    products = load_products(HERE / scenario["products"])

    try:
        forecast_rows = forecasts(scenario, crops, products)
        menu_rows = menus(scenario, cycles, products)
    except FoodchainError as exc:
        fail(str(exc))
    write_csv(DATA / "forecasts.csv", FORECAST_HEADER, forecast_rows)
    menu_files = {m["canteen"]: m["file"] for m in scenario["files"]["menus"]}
    for canteen, rows in menu_rows.items():
        if canteen not in menu_files:
            fail(f"lensois.yaml: files.menus has no file for canteen {canteen}")
        write_csv(HERE / menu_files[canteen], MENU_HEADER, rows)
    subscription_rows = subscriptions(scenario, crops["seed"])
    write_csv(DATA / "subscriptions.csv", SUBSCRIPTION_HEADER, subscription_rows)

    supply: dict[str, float] = {}
    for row in forecast_rows:
        supply[row[2]] = supply.get(row[2], 0.0) + float(row[3])
    print(f"forecasts.csv: {len(forecast_rows)} rows, {len(supply)} weeks")
    for label in (
        "2026-W45",
        "2026-W49",
        "2027-W02",
        "2027-W10",
        "2027-W16",
        "2027-W20",
        "2027-W26",
    ):
        print(f"  supply {label}: {supply.get(label, 0):7.0f} kg")
    for canteen, rows in menu_rows.items():
        print(f"menus/{canteen}.csv: {len(rows)} lines")
    print(f"subscriptions.csv: {len(subscription_rows)} rows")


if __name__ == "__main__":
    main()
