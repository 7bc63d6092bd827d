"""Synthetic scenario data: the shared generators, and a whole region on the Hauts-de-France map.

The data files of a scenario are generated from a few inputs by the functions of the first part,
which ``scenarios/generate_lensois.py`` uses for the bundled Lensois files:

* ``forecasts``: crop plans (the shape of ``lensois/crops.yaml``) -> forecast rows, with
  kg = peak_kg × factor(calendar letter of the month of the week's Thursday) × week_factor ×
  noise (seeded with ``seed|farm|product|week``), rounded;
* ``menus``: rotating menu cycles (the shape of ``lensois/menu_cycles.yaml``) -> menu rows;
* ``pause_weeks`` and ``holiday_weeks``: the pause weeks of a subscription row.

``generate_scenario`` (second part) writes a synthetic regional scenario of any size: farms
spread over the countryside around the hub, relay points, canteens and partner shops in real
towns of Nord and Pas-de-Calais, the crops, menus, basket sizes and vehicle types of a template
scenario (the Lensois by default), subscriptions, and a fleet sized to the demand. It is
deterministic: the same arguments give the same files, byte for byte.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import math
import random
import re
import shutil
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from foodchain.bundled import bundled_scenario
from foodchain.errors import FoodchainError
from foodchain.models import SLUG
from foodchain.routing.travel import great_circle_km
from foodchain.weeks import WEEKDAYS, Week, iter_weeks

FORECAST_HEADER = [
    "farm",
    "product",
    "week",
    "kg",
    "price_eur_per_kg",
    "organic_status",
    "days_available",
]
MENU_HEADER = ["date", "meal", "course", "dish", "item", "covers", "portion_g", "kg"]
SUBSCRIPTION_HEADER = [
    "relay_point",
    "basket_type",
    "count",
    "subscriber",
    "frequency",
    "start",
    "end",
    "paused_weeks",
]

# --------------------------------------------------------------------------- files


def load_yaml(path: Path) -> Any:
    with path.open(encoding="utf-8") as f:
        return yaml.safe_load(f)


def load_products(path: Path) -> dict[str, dict[str, str]]:
    """The products file as rows by id (the generators need family and nothing else checked)."""
    with path.open(encoding="utf-8", newline="") as f:
        return {row["id"]: row for row in csv.DictReader(f)}


def write_csv(path: Path, header: list[str], rows: Iterable[list[Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def fmt(value: float, digits: int) -> str:
    return f"{value:.{digits}f}"


# --------------------------------------------------------------------------- weeks


def horizon_weeks(scenario: Mapping[str, Any]) -> list[Week]:
    horizon = scenario["horizon"]
    return list(
        iter_weeks(Week.parse(str(horizon["first_week"])), Week.parse(str(horizon["last_week"])))
    )


def thursday_month(week: Week) -> int:
    """The month a week belongs to for the crop calendar and the menu seasons (ISO rule)."""
    return week.day("thu").month


FIXED_PUBLIC_HOLIDAYS = ((1, 1), (5, 1), (5, 8), (7, 14), (8, 15), (11, 1), (11, 11), (12, 25))
"""French public holidays on a fixed date (month, day) [GK]; Easter-based ones are not here."""


def holiday_weeks(weeks: Iterable[Week], weekday: str) -> set[str]:
    """Weeks whose ``weekday`` is a fixed-date public holiday: a relay point is closed then."""
    return {
        str(w) for w in weeks if (w.day(weekday).month, w.day(weekday).day) in FIXED_PUBLIC_HOLIDAYS
    }


def pause_weeks(
    weeks: Sequence[str], start: str, end: str, frequency: str, wanted: Iterable[str]
) -> str:
    """Pause weeks kept only where the row would deliver (inside start..end, on its beat)."""
    chosen = set(wanted)
    s, e = weeks.index(start), weeks.index(end) if end else len(weeks) - 1
    step = 2 if frequency == "biweekly" else 1
    return " ".join(w for w in weeks[s : e + 1 : step] if w in chosen)


# --------------------------------------------------------------------------- forecasts


STORE_LETTERS = frozenset({"S", "(S)", "H/S"})
STORE_END_LEVEL = 0.4
"""What is left to offer in a store's last month, as a share of its first month's: stores
run down through the winter (apples are not offered in April as in November)."""


def month_levels(calendar: Sequence[str], factors: Mapping[str, float]) -> list[float]:
    """Each month's factor: its letter's, times the store's level in a run of store months
    (from 1 in the run's first month down to ``STORE_END_LEVEL`` in its last)."""
    levels = [factors[letter] for letter in calendar]
    stored = [letter in STORE_LETTERS for letter in calendar]
    if all(stored):
        return levels
    for first in range(12):
        if stored[first] and not stored[first - 1]:  # a run of store months starts here
            run = [first]
            while stored[(run[-1] + 1) % 12]:
                run.append((run[-1] + 1) % 12)
            for position, month in enumerate(run):
                share = position / (len(run) - 1) if len(run) > 1 else 0.0
                levels[month] *= 1.0 - (1.0 - STORE_END_LEVEL) * share
    return levels


def season_factor(levels: Sequence[float], day: dt.date) -> float:
    """The crop's factor on ``day``: each month's level holds at mid-month, linear between
    (weekly ramps: a season starts and ends over weeks, not on the 1st of a month)."""
    mid = dt.date(day.year, day.month, 15)
    other = day.month % 12 + 1 if day >= mid else (day.month - 2) % 12 + 1
    year = day.year + (1 if day >= mid and day.month == 12 else 0)
    year -= 1 if day < mid and day.month == 1 else 0
    other_mid = dt.date(year, other, 15)
    share = abs((day - mid).days) / abs((other_mid - mid).days)
    return levels[day.month - 1] * (1 - share) + levels[other - 1] * share


def forecasts(
    scenario: Mapping[str, Any], crops: Mapping[str, Any], products: Mapping[str, Any]
) -> list[list[Any]]:
    """Forecast rows (``FORECAST_HEADER``) of every farm × crop × week of the horizon, kg > 0."""
    sites = {s["id"]: s for s in scenario["sites"]}
    weeks = horizon_weeks(scenario)
    thursdays = [w.day("thu") for w in weeks]
    labels = [str(w) for w in weeks]
    factors = {str(k): float(v) for k, v in crops["factors"].items()}
    calendars = {p: str(c).split() for p, c in crops["calendar"].items()}
    seed, noise, step = crops["seed"], float(crops["noise"]), float(crops["round_kg"])
    week_factors = {str(k): float(v) for k, v in (crops.get("week_factors") or {}).items()}
    rows: list[list[Any]] = []
    for farm_id, farm in crops["farms"].items():
        site = sites.get(farm_id)
        if site is None or site["kind"] != "farm":
            raise FoodchainError(f"crops.yaml: {farm_id} is not a farm of the scenario")
        window_days = set(site["windows"])
        for product, crop in farm["crops"].items():
            if product not in products:
                raise FoodchainError(f"crops.yaml: {farm_id}: unknown product {product}")
            calendar = str(crop["calendar"]).split() if "calendar" in crop else calendars[product]
            if len(calendar) != 12 or any(letter not in factors for letter in calendar):
                raise FoodchainError(
                    f"crops.yaml: {farm_id}/{product}: "
                    f"calendar needs 12 letters among {list(factors)}"
                )
            days = crop.get("days", farm["days"])
            if not set(days) <= window_days:
                raise FoodchainError(
                    f"crops.yaml: {farm_id}/{product}: "
                    f"days {days} not among window days {sorted(window_days)}"
                )
            status = crop.get("status", site["farm"]["organic_status"])
            price, shown_days = fmt(crop["price"], 2), " ".join(days)
            levels = month_levels(calendar, factors)
            for label, thursday in zip(labels, thursdays, strict=True):
                factor = season_factor(levels, thursday) * week_factors.get(label, 1.0)
                if factor == 0:
                    continue
                rng = random.Random(f"{seed}|{farm_id}|{product}|{label}")
                kg = crop["peak_kg"] * factor * rng.uniform(1 - noise, 1 + noise)
                kg = round(kg / step) * step
                if kg <= 0:
                    continue
                rows.append([farm_id, product, label, fmt(kg, 1), price, status, shown_days])
    rows.sort(key=lambda r: (r[2], r[0], r[1]))
    return rows


# --------------------------------------------------------------------------- menus


def parse_line(text: str) -> tuple[str, str, str, list[tuple[str, float | None]]]:
    """A cycle line: ``course | dish | items`` or ``meal | course | dish | items``."""
    parts = [p.strip() for p in text.split("|")]
    if len(parts) == 3:
        parts.insert(0, "lunch")
    if len(parts) != 4:
        raise FoodchainError(f"menu_cycles.yaml: bad line {text!r}")
    meal, course, dish, items_text = parts
    items: list[tuple[str, float | None]] = []
    for chunk in items_text.split("+"):
        words = chunk.split()
        items.append((words[0], float(words[1]) if len(words) > 1 else None))
    if len(items) > 1 and any(share is None for _, share in items):
        raise FoodchainError(f"menu_cycles.yaml: several items need a share each: {text!r}")
    return meal, course, dish, items


def menus(
    scenario: Mapping[str, Any],
    cycles: Mapping[str, Any],
    products: Mapping[str, Any],
    offsets: Mapping[str, int] | None = None,
) -> dict[str, list[list[Any]]]:
    """Menu rows (``MENU_HEADER``) of every canteen for every week of the horizon.

    A canteen follows the cycle of its profile (``senior`` for seniors and adults, else
    ``school``); cycle week = (weeks since the horizon start + its offset) mod cycle length.
    """
    groups = {g["id"] for g in scenario["groups"]}
    portions = scenario["portions"]
    weeks = horizon_weeks(scenario)
    parsed: dict[str, tuple[str, str, str, list[tuple[str, float | None]]]] = {}
    out: dict[str, list[list[Any]]] = {}
    for site in scenario["sites"]:
        if site["kind"] != "canteen":
            continue
        age = site["canteen"]["age_group"]
        profile = cycles["senior" if age in ("senior", "adulte") else "school"]
        service_days = set(site["canteen"]["covers"])
        offset = (offsets or {}).get(site["id"], 0)
        rows: list[list[Any]] = []
        seen: set[tuple[str, str, str, str]] = set()
        for index, week in enumerate(weeks):
            season = profile["seasons"][thursday_month(week)]
            cycle = profile["cycles"][season]
            plan = cycle[(index + offset) % len(cycle)]
            for day in WEEKDAYS:
                if day not in plan:
                    continue
                if day not in service_days:
                    raise FoodchainError(
                        f"menu_cycles.yaml: {season} has {day}, not a service day of {site['id']}"
                    )
                date = week.day(day).isoformat()
                for line in plan[day]:
                    if line not in parsed:
                        parsed[line] = parse_line(line)
                    meal, course, dish, items = parsed[line]
                    for item, share in items:
                        if item not in products and item not in groups:
                            raise FoodchainError(
                                f"menu_cycles.yaml: unknown product or group {item!r}"
                            )
                        portion = ""
                        if share is not None:
                            if item not in products:
                                raise FoodchainError(
                                    f"menu_cycles.yaml: a shared item must be a product: {line!r}"
                                )
                            table = portions[course]
                            grams = table.get(products[item]["family"], table["*"])[age]
                            portion = str(round(grams * share))
                        key = (date, meal, course, item)
                        if key in seen:
                            raise FoodchainError(
                                f"menu_cycles.yaml: duplicate line {key} for {site['id']}"
                            )
                        seen.add(key)
                        rows.append([date, meal, course, dish, item, "", portion, ""])
        out[site["id"]] = rows
    return out


# =========================================================================== a whole region

TEMPLATE = "lensois"
"""The bundled scenario whose catalogue, crops, menu cycles, baskets and vehicle types a region
reuses by default; its crops.yaml and menu_cycles.yaml lie beside its products file."""

MAX_COUNT = 2000
NEAR_FARM_KM = 15.0
"""Road km within which a collected farm may open at 06:30-07:00 (its produce can then feed a
canteen the same morning); farther farms are collected from 08:00 or in the afternoon, so
that a morning does not chain far pickups to canteen deliveries."""
REACH_KM = 70.0
"""Road km from the hub to any generated site: what one hub's vans serve in a day."""
FARM_RADIUS_KM = 40.0
"""Crow km from the hub to the farthest farm (about 52 road km)."""
SUPPLY_RATIO = 1.5
"""The farms' mean weekly offer ÷ the estimated weekly demand: each farm offers the hub this
share of its harvest (the rest goes to its other outlets)."""
SUPPLY_SCALE = (0.25, 2.0)
"""Bounds of the factor applied to the template farms' peak kg to reach SUPPLY_RATIO."""
BASKETS_PER_RELAY = (20, 54)
"""Weekly baskets of a relay point's weekly rows; a biweekly row adds at most 6."""
FLEET_MARGIN = 1.25
STOPS_PER_TRIP = 6
"""Stops of one area (AREA_DEGREES) that share a trip, at most (fleet sizing)."""
AREA_DEGREES = (0.09, 0.14)
"""Latitude × longitude of the areas whose stops share a trip: about 10 × 10 km."""
AREA_DRIVE_MINUTES = 10.0
"""Driving from one stop to the next inside an area."""
VAN_MINUTES = {"canteen": 240.0, "morning": 390.0, "afternoon": 330.0}
"""Van minutes a stop can use: 05:30-09:30 for the canteens' 07:00-09:30 windows, 06:00-12:30
for shops and morning pickups, 12:00-17:30 for relay points and afternoon pickups."""
KG_PER_CRATE = 8.0
CRATES_PER_STOP = 3.0
"""Estimate of crates: kg ÷ 8 plus 3 half-full crates per stop (several products each)."""
MAX_BIKES = 10


@dataclass(frozen=True)
class Commune:
    name: str
    lat: float
    lon: float
    population: int
    """Inhabitants, thousands [GK]: the weight of the commune when placing relays, canteens."""


# Commune centres [GK] (facts.md §1 where listed; others town centres from general knowledge,
# ±500 m). Coastal towns (Dunkerque 93 road km, Calais, Boulogne-sur-Mer) are beyond one hub's
# day (REACH_KM) and left out.
COMMUNES: tuple[Commune, ...] = (
    Commune("Loos-en-Gohelle", 50.4578, 2.7936, 7),
    Commune("Lens", 50.4322, 2.8328, 31),
    Commune("Liévin", 50.4228, 2.7786, 30),
    Commune("Avion", 50.4103, 2.8336, 17),
    Commune("Grenay", 50.4497, 2.7469, 7),
    Commune("Bully-les-Mines", 50.4428, 2.7247, 12),
    Commune("Mazingarbe", 50.4711, 2.7181, 8),
    Commune("Harnes", 50.4461, 2.9058, 12),
    Commune("Sallaumines", 50.4175, 2.8608, 10),
    Commune("Noyelles-sous-Lens", 50.4303, 2.8725, 7),
    Commune("Vendin-le-Vieil", 50.4739, 2.8661, 8),
    Commune("Wingles", 50.4939, 2.8542, 9),
    Commune("Méricourt", 50.4011, 2.8661, 11),
    Commune("Courrières", 50.4578, 2.9478, 10),
    Commune("Oignies", 50.4689, 2.9933, 10),
    Commune("Libercourt", 50.4831, 3.0161, 8),
    Commune("Hénin-Beaumont", 50.4217, 2.9508, 26),
    Commune("Carvin", 50.4928, 2.9583, 17),
    Commune("Billy-Montigny", 50.4172, 2.9022, 8),
    Commune("Rouvroy", 50.3939, 2.9025, 8),
    Commune("Hulluch", 50.4869, 2.8147, 3),
    Commune("Douvrin", 50.5067, 2.8269, 5),
    Commune("Vimy", 50.3725, 2.8106, 5),
    Commune("Nœux-les-Mines", 50.4811, 2.6656, 12),
    Commune("Hersin-Coupigny", 50.4469, 2.6494, 6),
    Commune("Barlin", 50.4569, 2.6181, 8),
    Commune("Houdain", 50.4506, 2.5369, 7),
    Commune("Divion", 50.4700, 2.5075, 7),
    Commune("Bruay-la-Buissière", 50.4836, 2.5508, 21),
    Commune("Auchel", 50.5083, 2.4733, 10),
    Commune("Marles-les-Mines", 50.5042, 2.5028, 5),
    Commune("Calonne-Ricouart", 50.4858, 2.4794, 5),
    Commune("Béthune", 50.5303, 2.6408, 25),
    Commune("Lillers", 50.5619, 2.4806, 10),
    Commune("Isbergues", 50.6228, 2.4569, 9),
    Commune("Aire-sur-la-Lys", 50.6386, 2.3969, 10),
    Commune("La Bassée", 50.5342, 2.8067, 7),
    Commune("Merville", 50.6433, 2.6403, 10),
    Commune("Estaires", 50.6450, 2.7236, 6),
    Commune("Hazebrouck", 50.7233, 2.5386, 21),
    Commune("Bailleul", 50.7389, 2.7347, 15),
    Commune("Armentières", 50.6881, 2.8806, 25),
    Commune("Saint-Omer", 50.7500, 2.2522, 14),
    Commune("Arras", 50.2910, 2.7775, 41),
    Commune("Achicourt", 50.2744, 2.7578, 8),
    Commune("Saint-Pol-sur-Ternoise", 50.3811, 2.3347, 5),
    Commune("Avesnes-le-Comte", 50.2769, 2.5294, 2),
    Commune("Bapaume", 50.1036, 2.8508, 4),
    Commune("Vitry-en-Artois", 50.3267, 2.9833, 5),
    Commune("Douai", 50.3714, 3.0800, 39),
    Commune("Sin-le-Noble", 50.3614, 3.1144, 16),
    Commune("Somain", 50.3583, 3.2806, 12),
    Commune("Aniche", 50.3303, 3.2525, 10),
    Commune("Denain", 50.3286, 3.3958, 20),
    Commune("Valenciennes", 50.3570, 3.5235, 43),
    Commune("Saint-Amand-les-Eaux", 50.4478, 3.4275, 16),
    Commune("Orchies", 50.4739, 3.2436, 9),
    Commune("Cambrai", 50.1761, 3.2347, 32),
    Commune("Seclin", 50.5486, 3.0294, 12),
    Commune("Annœullin", 50.5283, 2.9328, 10),
    Commune("Pont-à-Marcq", 50.5222, 3.1142, 3),
    Commune("Haubourdin", 50.6092, 2.9869, 15),
    Commune("Lille", 50.6313, 3.0714, 236),
    Commune("Lambersart", 50.6500, 3.0250, 28),
    Commune("Marcq-en-Barœul", 50.6711, 3.0972, 39),
    Commune("Villeneuve-d'Ascq", 50.6233, 3.1450, 62),
    Commune("Roubaix", 50.6942, 3.1746, 98),
    Commune("Tourcoing", 50.7239, 3.1612, 98),
    Commune("Wattrelos", 50.7017, 3.2164, 40),
)


@dataclass(frozen=True)
class _Template:
    doc: dict[str, Any]
    products_file: Path
    products: dict[str, dict[str, str]]
    crops: dict[str, Any]
    cycles: dict[str, Any]


def _load_template(path: Path) -> _Template:
    try:
        doc = load_yaml(path)
        products_file = path.parent / str(doc["products"])
        crops = load_yaml(products_file.parent / "crops.yaml")
        cycles = load_yaml(products_file.parent / "menu_cycles.yaml")
        products = load_products(products_file)
    except (OSError, KeyError, TypeError, yaml.YAMLError) as exc:
        raise FoodchainError(
            f"cannot read the template scenario {path} ({exc}): it needs its products file "
            "with crops.yaml and menu_cycles.yaml beside it, as the bundled lensois has"
        ) from None
    return _Template(doc, products_file, products, crops, cycles)


def _check_arguments(
    farms: int, relays: int, canteens: int, shops: int | None, name: str, out_dir: Path
) -> None:
    counts = {"--farms": farms, "--relays": relays, "--canteens": canteens}
    if shops is not None:
        counts["--shops"] = shops
    for option, count in counts.items():
        if not 1 <= count <= MAX_COUNT:
            raise FoodchainError(f"{option} must be between 1 and {MAX_COUNT}, not {count}")
    if not SLUG.match(name):
        raise FoodchainError(
            f"the name {name!r} is not a valid id: use lowercase letters, digits, '_' or '-'"
        )
    if out_dir.exists() and not out_dir.is_dir():
        raise FoodchainError(f"{out_dir} is a file, not a folder")


def generate_scenario(
    farms: int,
    relays: int,
    canteens: int,
    seed: int,
    out_dir: Path,
    *,
    shops: int | None = None,
    name: str = "region",
    weeks: tuple[Week, Week] | None = None,
    template: Path | None = None,
    force: bool = False,
) -> Path:
    """Write ``out_dir/<name>.yaml`` and its data files in ``out_dir/<name>/``; return the YAML.

    ``shops`` defaults to one per 15 relay points and canteens (2 to 40); ``weeks`` to the
    template's horizon; ``template`` to the bundled Lensois scenario (package data: no source
    tree needed). An existing non-empty ``out_dir`` is refused unless ``force``, which replaces
    ``<name>.yaml`` and ``<name>/`` (nothing else in the folder is touched).
    """
    if shops is None:
        shops = max(2, min(40, round((relays + canteens) / 15)))
    _check_arguments(farms, relays, canteens, shops, name, out_dir)
    if out_dir.is_dir() and any(out_dir.iterdir()) and not force:
        raise FoodchainError(
            f"{out_dir} is not empty: choose a new folder, or pass --force to replace "
            f"{name}.yaml and {name}/ in it"
        )
    base = _load_template(bundled_scenario(TEMPLATE) if template is None else template)
    if (out_dir / name).resolve() == base.products_file.parent.resolve():
        raise FoodchainError(
            f"{out_dir / name} holds the template scenario's files: choose another"
        )
    region = _Region(base, seed, name, weeks)
    region.place_farms(farms)
    region.place_relays(relays)
    region.place_canteens(canteens)
    region.place_shops(shops)
    region.plan_crops()
    region.size_fleet()
    return region.write(out_dir)


_PLAIN_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_YAML11_WORDS = {"y", "n", "yes", "no", "on", "off", "true", "false", "null"}


def _key(key: Any) -> str:
    text = str(key)
    plain = _PLAIN_KEY.fullmatch(text) and text.lower() not in _YAML11_WORDS
    return text if plain else json.dumps(text, ensure_ascii=False)


def _flow(value: Any) -> str:
    """A value in YAML flow style (strings as JSON strings, which YAML reads as written)."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_key(k)}: {_flow(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_flow(v) for v in value) + "]"
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, int | float):
        return repr(value)
    return json.dumps(str(value), ensure_ascii=False)


def _yaml_text(doc: Mapping[str, Any], indent: str = "") -> str:
    """A scenario document as YAML in the bundled scenarios' style: nested mappings and lists
    of mappings as blocks, one line per field, each field's value in flow style.

    Written by hand rather than by PyYAML's emitter: much faster on a region of hundreds of
    sites, and the same bytes whether or not libyaml is installed."""
    lines: list[str] = []
    for key, value in doc.items():
        if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            lines.append(f"{indent}{_key(key)}:\n")
            for item in value:
                fields = [f"{_key(k)}: {_flow(v)}" for k, v in item.items()]
                lines.append(f"{indent}  - " + f"\n{indent}    ".join(fields) + "\n")
        elif isinstance(value, dict) and any(isinstance(v, dict | list) for v in value.values()):
            lines.append(f"{indent}{_key(key)}:\n" + _yaml_text(value, indent + "  "))
        else:
            lines.append(f"{indent}{_key(key)}: {_flow(value)}\n")
    return "".join(lines)


def _area(site: Mapping[str, Any]) -> tuple[str, int, int]:
    """Sites of a kind in one area: what a van may serve on one trip (fleet sizing)."""
    lat, lon = AREA_DEGREES
    return site["kind"], math.floor(site["lat"] / lat), math.floor(site["lon"] / lon)


def _region_settings(settings: Mapping[str, Any]) -> dict[str, Any]:
    """The template's settings without what names the template's own sites (its buy-in
    supplier: the region's baskets give way down to their floor, then stay unfilled; the
    farms of its CO2 rules) and without the canteens' delivery deadline (sized to the
    Lensois fleet, not to a generated one)."""
    out = dict(settings)
    if isinstance(out.get("baskets"), Mapping):
        out["baskets"] = {k: v for k, v in out["baskets"].items() if k != "buy_in"}
    if isinstance(out.get("co2"), Mapping):
        out["co2"] = {k: v for k, v in out["co2"].items() if k != "farms"}
    if isinstance(out.get("calendar"), Mapping):
        out["calendar"] = {k: v for k, v in out["calendar"].items() if k != "canteen_deadline"}
    return out


class _Region:
    """The region being generated: its YAML document, crop plans and subscription rows."""

    def __init__(
        self, template: _Template, seed: int, name: str, weeks: tuple[Week, Week] | None
    ) -> None:
        self.template = template
        self.seed = seed
        self.name = name
        tdoc = template.doc
        self.road_factor = float((tdoc.get("settings") or {}).get("road_factor", 1.3))
        hub = next(s for s in tdoc["sites"] if s["id"] == tdoc["hub"])
        self.hub = hub
        horizon = (
            {"first_week": str(weeks[0]), "last_week": str(weeks[1])}
            if weeks is not None
            else {k: str(v) for k, v in tdoc["horizon"].items()}
        )
        self.doc: dict[str, Any] = {
            "scenario": name,
            "name": "",
            "horizon": horizon,
            "hub": hub["id"],
            "settings": _region_settings(tdoc.get("settings") or {}),
            "calendars": tdoc.get("calendars") or {},
            "portions": tdoc["portions"],
            "products": f"{name}/products.csv",
            "groups": tdoc["groups"],
            "sites": [hub],
        }
        self.weeks = horizon_weeks(self.doc)
        self.labels = [str(w) for w in self.weeks]
        self.farm_plans: dict[str, dict[str, Any]] = {}
        self.subscriptions: list[list[Any]] = []
        self.offsets: dict[str, int] = {}
        self.vehicles: list[dict[str, Any]] = []
        self.counts = {"farms": 0, "relays": 0, "canteens": 0, "shops": 0}
        self.reachable = [c for c in COMMUNES if self.road_km(c.lat, c.lon) <= REACH_KM - 1.0]

    def rng(self, purpose: str) -> random.Random:
        """One generator per purpose, so that more canteens do not move the farms."""
        return random.Random(f"{self.seed}|region|{purpose}")

    def road_km(self, lat: float, lon: float) -> float:
        return great_circle_km(self.hub["lat"], self.hub["lon"], lat, lon) * self.road_factor

    # ----------------------------------------------------------------------- places

    def _offset(self, lat: float, lon: float, km: float, bearing: float) -> tuple[float, float]:
        dlat = km * math.cos(bearing) / 111.2
        dlon = km * math.sin(bearing) / (111.2 * math.cos(math.radians(lat)))
        return lat + dlat, lon + dlon

    def _in_town(self, rng: random.Random, commune: Commune) -> tuple[float, float]:
        """A point around the commune's centre, within REACH_KM of the hub."""
        spread = min(3.0, 0.6 + 0.25 * math.sqrt(commune.population))
        spread = min(spread, (REACH_KM - self.road_km(commune.lat, commune.lon)) / self.road_factor)
        lat, lon = self._offset(
            commune.lat, commune.lon, spread * math.sqrt(rng.random()), rng.uniform(0, 2 * math.pi)
        )
        return round(lat, 4), round(lon, 4)

    def _town(self, rng: random.Random) -> Commune:
        return rng.choices(self.reachable, [c.population for c in self.reachable])[0]

    def _nearest(self, lat: float, lon: float) -> Commune:
        return min(COMMUNES, key=lambda c: great_circle_km(lat, lon, c.lat, c.lon))

    def _add(self, site: dict[str, Any]) -> None:
        self.doc["sites"].append(site)

    def place_farms(self, count: int) -> None:
        """Farms in the countryside: a disk around the hub, away from the big towns' centres."""
        rng = self.rng("farms")
        archetypes = list(self.template.crops["farms"])
        first = archetypes[:]
        rng.shuffle(first)
        statuses = ["organic", "conversion", "hve", "conventional"]
        early, late = ["06:30-09:30", "07:00-10:00"], ["08:00-12:00", "13:30-17:00", "14:00-17:00"]
        for i in range(count):
            while True:
                km = FARM_RADIUS_KM * math.sqrt(rng.uniform(0.01, 1.0))
                lat, lon = self._offset(
                    self.hub["lat"], self.hub["lon"], km, rng.uniform(0, 2 * math.pi)
                )
                urban = any(
                    c.population >= 20
                    and great_circle_km(lat, lon, c.lat, c.lon)
                    < 1.5 + 0.2 * math.sqrt(c.population)
                    for c in COMMUNES
                )
                if not urban:
                    break
            archetype = first[i] if i < len(first) else rng.choice(archetypes)
            plan = self.template.crops["farms"][archetype]
            status = "organic" if i == 0 else rng.choices(statuses, [40, 25, 10, 25])[0]
            brings = i > 0 and rng.random() < 0.15 + 0.35 * km / FARM_RADIUS_KM
            days = list(plan["days"])
            if brings:
                window = "06:00-08:00"
            elif km * self.road_factor <= NEAR_FARM_KM and rng.random() < 0.7:
                window = rng.choice(early)
            else:
                window = rng.choice(late)
            farm_id = f"farm_{i + 1:04d}"
            commune = self._nearest(lat, lon)
            self._add(
                {
                    "id": farm_id,
                    "kind": "farm",
                    "name": f"Ferme synthétique n°{i + 1} ({commune.name})",
                    "commune": commune.name,
                    "lat": round(lat, 4),
                    "lon": round(lon, 4),
                    "windows": {d: window for d in days},
                    "service_minutes": 15,
                    "service_minutes_per_100kg": 3,
                    "farm": {"organic_status": status, "brings_own_produce": brings},
                }
            )
            size = math.exp(rng.gauss(0.0, 0.35))
            crops: dict[str, Any] = {}
            for product, crop in plan["crops"].items():
                entry: dict[str, Any] = {
                    "peak_kg": crop["peak_kg"] * size,
                    "price": round(crop["price"] * rng.uniform(0.9, 1.1), 2),
                }
                if "calendar" in crop:
                    entry["calendar"] = crop["calendar"]
                if "days" in crop:
                    entry["days"] = crop["days"]
                crops[product] = entry
            self.farm_plans[farm_id] = {"days": days, "crops": crops}
        self.counts["farms"] = count

    def place_relays(self, count: int) -> None:
        rng = self.rng("relays")
        per_town: dict[str, int] = {}
        sizes = [b["id"] for b in self.template.doc["basket_types"]]
        shares = [0.36, 0.48, 0.16] if len(sizes) == 3 else [1.0 / len(sizes)] * len(sizes)
        for i in range(count):
            commune = self._town(rng)
            per_town[commune.name] = per_town.get(commune.name, 0) + 1
            lat, lon = self._in_town(rng, commune)
            day = rng.choices(["tue", "thu", "fri"], [3, 4, 5])[0]
            far = self.road_km(lat, lon) > 25
            relay_id = f"relay_{i + 1:04d}"
            self._add(
                {
                    "id": relay_id,
                    "kind": "relay",
                    "name": f"Point relais {commune.name} {per_town[commune.name]} (synthétique)",
                    "commune": commune.name,
                    "lat": lat,
                    "lon": lon,
                    "delivery_days": [day],
                    "windows": {day: "10:00-16:00" if far else "12:00-16:30"},
                    "service_minutes": 15 if far else 12,
                    "service_minutes_per_100kg": 2,
                }
            )
            closed = holiday_weeks(self.weeks, day)
            first = self.labels[0]
            total = rng.randint(*BASKETS_PER_RELAY)
            counts = [max(1, round(total * s)) for s in shares]
            counts[len(counts) // 2] += total - sum(counts)
            for size, n in zip(sizes, counts, strict=True):
                if n > 0:
                    paused = pause_weeks(self.labels, first, "", "weekly", closed)
                    self.subscriptions.append([relay_id, size, n, "", "weekly", first, "", paused])
            if rng.random() < 0.4 and len(self.labels) > 1:
                start = rng.choice(self.labels[:2])
                paused = pause_weeks(self.labels, start, "", "biweekly", closed)
                size = rng.choice(sizes[:2])
                n = rng.randint(2, 6)
                self.subscriptions.append([relay_id, size, n, "", "biweekly", start, "", paused])
        self.counts["relays"] = count

    def place_canteens(self, count: int) -> None:
        """Maternelles, élémentaires and seniors' homes; the first is a Loos maternelle."""
        rng = self.rng("canteens")
        loos = next(c for c in COMMUNES if c.name == "Loos-en-Gohelle")
        organic_towns = {loos.name} | {c.name for c in self.reachable if rng.random() < 0.1}
        per_town: dict[tuple[str, str], int] = {}
        school = next(  # the calendar of the template's schools, not its public holidays
            (
                part["holiday_calendar"]
                for site in self.template.doc["sites"]
                if isinstance(part := site.get("canteen"), Mapping) and part.get("holiday_calendar")
            ),
            None,
        )
        for i in range(count):
            commune = loos if i == 0 else self._town(rng)
            kind = (
                "maternelle"
                if i == 0
                else rng.choices(["maternelle", "elementaire", "senior"], [35, 45, 20])[0]
            )
            lat, lon = self._in_town(rng, commune)
            key = (kind, commune.name)
            per_town[key] = per_town.get(key, 0) + 1
            n = per_town[key]
            if kind == "senior":
                prefix, label = "ehpad", f"Résidence seniors {commune.name} {n}"
                covers = 5 * rng.randint(6, 18)
                weekend = 5 * round(covers * 0.9 / 5)
                canteen: dict[str, Any] = {
                    "age_group": "senior",
                    "covers": {d: covers if d not in ("sat", "sun") else weekend for d in WEEKDAYS},
                    "local_share": 0.15,
                    "organic_rule": "egalim",
                }
                days, window = ["mon", "thu"], "07:30-10:00"
            else:
                organic = kind == "maternelle" and commune.name in organic_towns
                low, high = (8, 24) if kind == "maternelle" else (16, 44)
                covers = 5 * rng.randint(low, high)
                prefix = "mat" if kind == "maternelle" else "elem"
                label = (
                    f"École {'maternelle' if kind == 'maternelle' else 'élémentaire'} "
                    f"{commune.name} {n}"
                )
                canteen = {
                    "age_group": kind,
                    "covers": {"mon": covers, "tue": covers, "thu": covers, "fri": covers - 5},
                    "local_share": 1.0 if organic else rng.choice([0.2, 0.3, 0.4]),
                    "organic_rule": "organic_100" if organic else "egalim",
                }
                if school:
                    canteen["holiday_calendar"] = school
                days = ["mon", "tue", "thu", "fri"] if organic else ["mon", "thu"]
                window = "07:00-09:30"
            canteen_id = f"{prefix}_{i + 1:04d}"
            self._add(
                {
                    "id": canteen_id,
                    "kind": "canteen",
                    "name": f"{label} (synthétique)",
                    "commune": commune.name,
                    "lat": lat,
                    "lon": lon,
                    "delivery_days": days,
                    "windows": {"*": window},
                    "service_minutes": 15,
                    "service_minutes_per_100kg": 2,
                    "canteen": canteen,
                }
            )
            self.offsets[canteen_id] = rng.randrange(4)
        self.counts["canteens"] = count

    def place_shops(self, count: int) -> None:
        rng = self.rng("shops")
        fresh = ["root", "tuber", "brassica", "allium", "cucurbit", "fruit"]
        for i in range(count):
            commune = self._town(rng)
            lat, lon = self._in_town(rng, commune)
            days = rng.choice([["tue", "fri"], ["thu"], ["tue"], ["fri"]])
            self._add(
                {
                    "id": f"shop_{i + 1:04d}",
                    "kind": "shop",
                    "name": f"Épicerie partenaire {commune.name} {i + 1} (synthétique)",
                    "commune": commune.name,
                    "lat": lat,
                    "lon": lon,
                    "delivery_days": days,
                    "windows": {"*": "08:00-12:00"},
                    "service_minutes": 15,
                    "service_minutes_per_100kg": 2,
                    "shop": {
                        "max_kg_per_week": rng.randrange(100, 310, 10),
                        "families": [] if rng.random() < 0.6 else fresh,
                        "price_factor": rng.choice([0.6, 0.65, 0.7]),
                    },
                }
            )
        self.counts["shops"] = count

    # ----------------------------------------------------------------------- demand and supply

    def sites_of(self, kind: str) -> list[dict[str, Any]]:
        return [s for s in self.doc["sites"] if s["kind"] == kind]

    def _kg_per_cover(self, age: str) -> float:
        """Harvest kg of one lunch: starter + side + dessert of the portion table ÷ 0.8."""
        portions = self.doc["portions"]
        grams = sum(float(portions[c]["*"][age]) for c in ("starter", "side", "dessert"))
        return grams / 1000.0 / 0.8

    def delivery_kg(self) -> dict[str, dict[str, float]]:
        """Estimated kg per destination and delivery weekday of a school week."""
        out: dict[str, dict[str, float]] = {}
        targets = {
            b["id"]: (b["min_kg"] + b["max_kg"]) / 2 for b in self.template.doc["basket_types"]
        }
        for relay in self.sites_of("relay"):
            out[relay["id"]] = {relay["delivery_days"][0]: 0.0}
        for relay_id, size, n, *_ in self.subscriptions:
            day = next(iter(out[relay_id]))
            out[relay_id][day] += n * targets[size]
        for site in self.sites_of("canteen"):
            canteen = site["canteen"]
            per_cover = self._kg_per_cover(canteen["age_group"]) * canteen["local_share"]
            days = site["delivery_days"]
            kg = {d: 0.0 for d in days}
            for day, covers in canteen["covers"].items():
                index = WEEKDAYS.index(day)
                earlier = [d for d in days if WEEKDAYS.index(d) <= index]
                kg[earlier[-1] if earlier else days[-1]] += covers * per_cover
            out[site["id"]] = kg
        for site in self.sites_of("shop"):
            days = site["delivery_days"]
            out[site["id"]] = {d: site["shop"]["max_kg_per_week"] / len(days) for d in days}
        return out

    def plan_crops(self) -> None:
        """Scale the farms' peak kg so that the mean offer is SUPPLY_RATIO × the demand."""
        crops = self.template.crops
        factors = {str(k): float(v) for k, v in crops["factors"].items()}
        calendars = {p: str(c).split() for p, c in crops["calendar"].items()}
        months = [thursday_month(w) for w in self.weeks]
        mean: dict[str, float] = {}
        offer = 0.0
        for plan in self.farm_plans.values():
            for product, crop in plan["crops"].items():
                letters = (
                    str(crop["calendar"]).split() if "calendar" in crop else calendars[product]
                )
                key = " ".join(letters)
                if key not in mean:
                    mean[key] = sum(factors[letters[m - 1]] for m in months) / len(months)
                offer += crop["peak_kg"] * mean[key]
        shops = {s["id"] for s in self.sites_of("shop")}
        demand = sum(
            kg
            for site, by_day in self.delivery_kg().items()
            for kg in by_day.values()
            if site not in shops
        )
        low, high = SUPPLY_SCALE
        scale = min(high, max(low, SUPPLY_RATIO * demand / offer)) if offer > 0 else 1.0
        for plan in self.farm_plans.values():
            for crop in plan["crops"].values():
                crop["peak_kg"] = max(1.0, round(crop["peak_kg"] * scale, 1))

    # ----------------------------------------------------------------------- fleet

    def size_fleet(self) -> None:
        """Vans for the busiest morning and afternoon, bikes for the sites near the hub.

        For each weekday and half-day, a stop costs its service time plus its share of a
        trip from the hub and back (shared with the stops of its kind in its 10 km area, up
        to STOPS_PER_TRIP, plus AREA_DRIVE_MINUTES), divided by the minutes a van has for it
        (VAN_MINUTES); crates (kg ÷ 8 + 3 per stop) ÷ a van's crates give another bound.
        Pickups carry what the deliveries need, shared among the collected farms. Early vans
        (shifts starting before 08:00) take the busiest morning (canteens, shops, morning
        pickups), late vans the busiest afternoon (relay points, afternoon pickups); every
        third van is a large one; × FLEET_MARGIN. Vehicles may make several trips a day: the
        routing decides.
        """
        by_type: dict[str, list[dict[str, Any]]] = {}
        for v in self.template.doc["vehicles"]:
            by_type.setdefault(v["type"], []).append(v)
        anywhere = [v for v in self.template.doc["vehicles"] if v.get("max_km_from_hub") is None]
        if not anywhere:
            raise FoodchainError("the template scenario has no vehicle that goes anywhere")
        large = by_type.get("cng_van_large") or anywhere[:1]
        small = by_type.get("cng_van_small") or anywhere[:1]
        bikes = by_type.get("e_cargo_bike") or []
        crates = (large[0]["capacity_crates"] + 2 * small[0]["capacity_crates"]) / 3
        speed = min(v["speed_kmh"] for v in anywhere)
        hub_minutes = float(self.hub.get("service_minutes", 20))

        sites = {s["id"]: s for s in self.doc["sites"]}
        stops: dict[tuple[str, str], list[tuple[str, float]]] = {}
        deliveries = self.delivery_kg()
        for site_id, by_day in deliveries.items():
            half = "afternoon" if sites[site_id]["kind"] == "relay" else "morning"
            for day, kg in by_day.items():
                stops.setdefault((day, half), []).append((site_id, kg))
        total = sum(kg for by_day in deliveries.values() for kg in by_day.values())
        collected = [s for s in self.sites_of("farm") if not s["farm"]["brings_own_produce"]]
        visits = sum(len(s["windows"]) for s in collected) or 1
        for farm in collected:
            for day, window in farm["windows"].items():
                half = "morning" if window < "12:00" else "afternoon"
                stops.setdefault((day, half), []).append((farm["id"], total / visits))

        need = {"morning": 0.0, "afternoon": 0.0}
        for (_day, half), todo in stops.items():
            areas = Counter(_area(sites[site_id]) for site_id, _kg in todo)
            vans = 0.0
            for site_id, kg in todo:
                site = sites[site_id]
                shared = min(STOPS_PER_TRIP, areas[_area(site)])
                drive = 2 * self.road_km(site["lat"], site["lon"]) / speed * 60
                minutes = (
                    site["service_minutes"]
                    + site["service_minutes_per_100kg"] * kg / 100
                    + (drive + hub_minutes) / shared
                    + (AREA_DRIVE_MINUTES if shared > 1 else 0.0)
                )
                vans += minutes / VAN_MINUTES["canteen" if site["kind"] == "canteen" else half]
            kg = sum(k for _s, k in todo)
            by_crates = (kg / KG_PER_CRATE + CRATES_PER_STOP * len(todo)) / crates
            need[half] = max(need[half], vans, by_crates)
        early = max(1, math.ceil(FLEET_MARGIN * need["morning"]))
        late = max(1, math.ceil(FLEET_MARGIN * need["afternoon"]))

        def shifts(models: list[dict[str, Any]], is_early: bool) -> list[str]:
            chosen = [m["shift"] for m in models if (m["shift"] < "08:00") == is_early]
            return list(dict.fromkeys(chosen or [m["shift"] for m in models]))

        numbers: dict[str, int] = {}

        def add(model: dict[str, Any], shift: str) -> None:
            prefix = str(model["id"]).rstrip("0123456789").rstrip("_")
            numbers[prefix] = numbers.get(prefix, 0) + 1
            n = numbers[prefix]
            self.vehicles.append(
                {
                    **model,
                    "id": f"{prefix}_{n:02d}",
                    "name": f"{str(model['name']).rstrip('0123456789').rstrip()} {n}",
                    "shift": shift,
                }
            )

        for count, is_early in ((early, True), (late, False)):
            for i in range(count):
                models = large if i % 3 == 0 else small
                options = shifts(models, is_early)
                add(models[0], options[(i // 3) % len(options)])
        if bikes:
            limit = bikes[0].get("max_km_from_hub") or REACH_KM
            near = sum(
                1
                for s in self.doc["sites"]
                if s["kind"] in ("relay", "canteen", "shop")
                and self.road_km(s["lat"], s["lon"]) <= limit
            )
            options = list(dict.fromkeys(b["shift"] for b in bikes))
            for i in range(min(MAX_BIKES, math.ceil(near / 3))):
                add(bikes[0], options[i % len(options)])

    # ----------------------------------------------------------------------- writing

    def write(self, out_dir: Path) -> Path:
        data = out_dir / self.name
        yaml_path = out_dir / f"{self.name}.yaml"
        if data.exists():
            shutil.rmtree(data)
        data.mkdir(parents=True)
        shutil.copyfile(self.template.products_file, data / "products.csv")
        counts = self.counts
        doc = self.doc
        doc["name"] = (
            f"Région synthétique des Hauts-de-France ({counts['farms']} fermes, "
            f"{counts['relays']} points relais, {counts['canteens']} cantines, graine {self.seed})"
        )
        doc["basket_types"] = self.template.doc["basket_types"]
        doc["vehicles"] = self.vehicles
        canteens = [s["id"] for s in self.sites_of("canteen")]
        doc["files"] = {
            "forecasts": [f"{self.name}/forecasts.csv"],
            "subscriptions": [f"{self.name}/subscriptions.csv"],
            "menus": [{"canteen": c, "file": f"{self.name}/menus/{c}.csv"} for c in canteens],
        }
        crops = {**self.template.crops, "seed": self.seed, "farms": self.farm_plans}
        products = self.template.products
        write_csv(data / "forecasts.csv", FORECAST_HEADER, forecasts(doc, crops, products))
        for canteen, rows in menus(doc, self.template.cycles, products, self.offsets).items():
            write_csv(data / "menus" / f"{canteen}.csv", MENU_HEADER, rows)
        write_csv(data / "subscriptions.csv", SUBSCRIPTION_HEADER, self.subscriptions)
        header = (
            f"# Synthetic region generated by `foodchain scenario generate` (seed {self.seed}).\n"
            "# Relay points, canteens and shops are invented points around real commune "
            "centres [GK];\n# farms are invented points in the countryside around the hub. "
            "Crops, menu cycles,\n# portions, baskets and vehicle types come from the "
            "Lensois scenario (facts.md).\n"
        )
        yaml_path.write_text(header + _yaml_text(doc), encoding="utf-8")
        return yaml_path
