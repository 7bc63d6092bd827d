"""Generate the weekly data files of the Lensois scenario (deterministic, seeded).

Run from the repository root (Python 3.11, standard library + PyYAML only):

    python scenarios/generate_lensois.py

It reads ``scenarios/lensois.yaml`` (horizon, sites, portions, products, groups) and two input
files next to it, and rewrites three outputs:

* ``lensois/crops.yaml``       -> ``lensois/forecasts.csv``
* ``lensois/menu_cycles.yaml`` -> ``lensois/menus/<canteen_id>.csv`` (one per canteen)
* the subscription plan below  -> ``lensois/subscriptions.csv``

How quantities are derived
--------------------------
Forecasts: for every ISO week of the horizon (2026-W45 .. 2027-W26; 2026 has 53 weeks), every
farm and every crop it grows, the week takes the calendar letter (facts.md §4.1) of the month of
its Thursday, and

    kg = peak_kg × factor(letter) × week_factor × noise, rounded to ``round_kg`` (0.5 kg)

with factor H = 1.0, H/S = 0.8, S = 0.7, (H) = 0.4, (S) = 0.3, - = 0 (``factors`` in
crops.yaml), week_factor from ``week_factors`` (1 by default; less over Christmas) and
noise a uniform factor in [0.85, 1.15] drawn from a generator seeded with
``seed|farm|product|week`` (so a row does not change when another farm or crop is added).
Rows whose kg rounds to 0 are not written. Price, organic status and days available come from
the crop entry (or the farm's defaults: status = the farm's ``organic_status`` in the YAML,
days = the farm's ``days`` in crops.yaml).

Menus: each canteen follows the rotating cycle of its profile (``school`` for maternelle and
élémentaire, ``senior`` for the elderly home); a week uses the season of its Thursday's month
and cycle week = (weeks since the horizon start) mod (cycle length). School menus are written
for every week, holidays included; the holiday calendar removes the days off at demand time.
covers, portion_g and kg are left empty (they come from the canteen and the portion table),
except for dishes made of several products, where portion_g = table grams × the item's share.

Subscriptions: aggregated weekly and biweekly rows per relay point and basket size (the plan
below) plus individual subscribers ``S0001``.. drawn with a seeded generator (relay, size,
frequency, start, end, pauses around Christmas). Friday relay points are closed on
25 Dec 2026 and 1 Jan 2027 (both Fridays), so their rows pause 2026-W52 and 2026-W53.
"""

from __future__ import annotations

import csv
import datetime as dt
import random
import sys
from pathlib import Path
from typing import Any, NoReturn

import yaml

HERE = Path(__file__).resolve().parent
SCENARIO = HERE / "lensois.yaml"
DATA = HERE / "lensois"
WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]

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
CHRISTMAS = ["2026-W52", "2026-W53"]


# --------------------------------------------------------------------------- weeks
def parse_week(text: str) -> tuple[int, int]:
    year, _, week = str(text).partition("-W")
    return int(year), int(week)


def week_label(year: int, week: int) -> str:
    return f"{year}-W{week:02d}"


def horizon_weeks(first: str, last: str) -> list[tuple[int, int]]:
    day = dt.date.fromisocalendar(*parse_week(first), 1)
    end = dt.date.fromisocalendar(*parse_week(last), 1)
    weeks = []
    while day <= end:
        y, w, _ = day.isocalendar()
        weeks.append((y, w))
        day += dt.timedelta(days=7)
    return weeks


def thursday_month(year: int, week: int) -> int:
    return dt.date.fromisocalendar(year, week, 4).month


# --------------------------------------------------------------------------- helpers
def fail(message: str) -> NoReturn:
    sys.exit(f"generate_lensois: {message}")


def load_yaml(path: Path) -> Any:
    with path.open(encoding="utf-8") as f:
        return yaml.safe_load(f)


def write_csv(path: Path, header: list[str], rows: list[list[Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def fmt(value: float, digits: int) -> str:
    return f"{value:.{digits}f}"


def load_products(scenario: dict[str, Any]) -> dict[str, dict[str, str]]:
    with (HERE / scenario["products"]).open(encoding="utf-8", newline="") as f:
        return {row["id"]: row for row in csv.DictReader(f)}


# --------------------------------------------------------------------------- forecasts
def forecasts(
    scenario: dict[str, Any], crops: dict[str, Any], products: dict[str, Any]
) -> list[list[Any]]:
    sites = {s["id"]: s for s in scenario["sites"]}
    weeks = horizon_weeks(scenario["horizon"]["first_week"], scenario["horizon"]["last_week"])
    factors = {str(k): float(v) for k, v in crops["factors"].items()}
    calendars = {p: str(c).split() for p, c in crops["calendar"].items()}
    seed, noise, step = crops["seed"], float(crops["noise"]), float(crops["round_kg"])
    week_factors = {str(k): float(v) for k, v in (crops.get("week_factors") or {}).items()}
    rows: list[list[Any]] = []
    for farm_id, farm in crops["farms"].items():
        site = sites.get(farm_id)
        if site is None or site["kind"] != "farm":
            fail(f"crops.yaml: {farm_id} is not a farm of lensois.yaml")
        window_days = set(site["windows"])
        for product, crop in farm["crops"].items():
            if product not in products:
                fail(f"crops.yaml: {farm_id}: unknown product {product}")
            calendar = str(crop["calendar"]).split() if "calendar" in crop else calendars[product]
            if len(calendar) != 12 or any(letter not in factors for letter in calendar):
                fail(
                    f"crops.yaml: {farm_id}/{product}: "
                    f"calendar needs 12 letters among {list(factors)}"
                )
            days = crop.get("days", farm["days"])
            if not set(days) <= window_days:
                fail(
                    f"crops.yaml: {farm_id}/{product}: "
                    f"days {days} not among window days {sorted(window_days)}"
                )
            status = crop.get("status", site["farm"]["organic_status"])
            for year, week in weeks:
                label = week_label(year, week)
                factor = factors[calendar[thursday_month(year, week) - 1]] * week_factors.get(
                    label, 1.0
                )
                if factor == 0:
                    continue
                rng = random.Random(f"{seed}|{farm_id}|{product}|{label}")
                kg = crop["peak_kg"] * factor * rng.uniform(1 - noise, 1 + noise)
                kg = round(kg / step) * step
                if kg <= 0:
                    continue
                rows.append(
                    [
                        farm_id,
                        product,
                        label,
                        fmt(kg, 1),
                        fmt(crop["price"], 2),
                        status,
                        " ".join(days),
                    ]
                )
    rows.sort(key=lambda r: (r[2], r[0], r[1]))
    return rows


# --------------------------------------------------------------------------- menus
def parse_line(text: str) -> tuple[str, str, str, list[tuple[str, float | None]]]:
    parts = [p.strip() for p in text.split("|")]
    if len(parts) == 3:
        parts.insert(0, "lunch")
    if len(parts) != 4:
        fail(f"menu_cycles.yaml: bad line {text!r}")
    meal, course, dish, items_text = parts
    items: list[tuple[str, float | None]] = []
    for chunk in items_text.split("+"):
        words = chunk.split()
        items.append((words[0], float(words[1]) if len(words) > 1 else None))
    if len(items) > 1 and any(share is None for _, share in items):
        fail(f"menu_cycles.yaml: several items need a share each: {text!r}")
    return meal, course, dish, items


def menus(
    scenario: dict[str, Any], cycles: dict[str, Any], products: dict[str, Any]
) -> dict[str, list[list[Any]]]:
    groups = {g["id"] for g in scenario["groups"]}
    portions = scenario["portions"]
    weeks = horizon_weeks(scenario["horizon"]["first_week"], scenario["horizon"]["last_week"])
    out: dict[str, list[list[Any]]] = {}
    for site in scenario["sites"]:
        if site["kind"] != "canteen":
            continue
        age = site["canteen"]["age_group"]
        profile = cycles["senior" if age in ("senior", "adulte") else "school"]
        service_days = set(site["canteen"]["covers"])
        rows: list[list[Any]] = []
        seen: set[tuple[str, str, str, str]] = set()
        for index, (year, week) in enumerate(weeks):
            season = profile["seasons"][thursday_month(year, week)]
            cycle = profile["cycles"][season]
            plan = cycle[index % len(cycle)]
            for day in WEEKDAYS:
                if day not in plan:
                    continue
                if day not in service_days:
                    fail(f"menu_cycles.yaml: {season} has {day}, not a service day of {site['id']}")
                date = dt.date.fromisocalendar(year, week, WEEKDAYS.index(day) + 1).isoformat()
                for line in plan[day]:
                    meal, course, dish, items = parse_line(line)
                    for item, share in items:
                        if item not in products and item not in groups:
                            fail(f"menu_cycles.yaml: unknown product or group {item!r}")
                        portion = ""
                        if share is not None:
                            if item not in products:
                                fail(f"menu_cycles.yaml: a shared item must be a product: {line!r}")
                            table = portions[course]
                            grams = table.get(products[item]["family"], table["*"])[age]
                            portion = str(round(grams * share))
                        key = (date, meal, course, item)
                        if key in seen:
                            fail(f"menu_cycles.yaml: duplicate line {key} for {site['id']}")
                        seen.add(key)
                        rows.append([date, meal, course, dish, item, "", portion, ""])
        out[site["id"]] = rows
    return out


# --------------------------------------------------------------------------- subscriptions
def subscriptions(scenario: dict[str, Any], seed: int) -> list[list[Any]]:
    sites = {s["id"]: s for s in scenario["sites"]}
    first = scenario["horizon"]["first_week"]
    relays = [s["id"] for s in scenario["sites"] if s["kind"] == "relay"]
    if set(WEEKLY_PLAN) != set(relays):
        fail("subscription plan and relay points of lensois.yaml differ")

    weeks = [week_label(y, w) for y, w in horizon_weeks(first, scenario["horizon"]["last_week"])]

    def pauses(
        relay: str, frequency: str, start: str, end: str, extra: tuple[str, ...] | set[str] = ()
    ) -> str:
        """Pause weeks kept only where the row would deliver (inside start..end, on its beat)."""
        wanted = set(extra) | (set(CHRISTMAS) if "fri" in sites[relay]["delivery_days"] else set())
        s, e = weeks.index(start), weeks.index(end) if end else len(weeks) - 1
        step = 2 if frequency == "biweekly" else 1
        return " ".join(w for w in weeks[s : e + 1 : step] if w in wanted)

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
    products = load_products(scenario)

    forecast_rows = forecasts(scenario, crops, products)
    write_csv(
        DATA / "forecasts.csv",
        ["farm", "product", "week", "kg", "price_eur_per_kg", "organic_status", "days_available"],
        forecast_rows,
    )
    menu_rows = menus(scenario, cycles, products)
    menu_files = {m["canteen"]: m["file"] for m in scenario["files"]["menus"]}
    for canteen, rows in menu_rows.items():
        if canteen not in menu_files:
            fail(f"lensois.yaml: files.menus has no file for canteen {canteen}")
        write_csv(
            HERE / menu_files[canteen],
            ["date", "meal", "course", "dish", "item", "covers", "portion_g", "kg"],
            rows,
        )
    subscription_rows = subscriptions(scenario, crops["seed"])
    write_csv(
        DATA / "subscriptions.csv",
        [
            "relay_point",
            "basket_type",
            "count",
            "subscriber",
            "frequency",
            "start",
            "end",
            "paused_weeks",
        ],
        subscription_rows,
    )

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
