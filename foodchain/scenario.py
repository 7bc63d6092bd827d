"""A scenario: a YAML file (territory, fleet, rules) and CSV files beside it (people's files).

``load_scenario`` reads and checks everything without touching a database and reports every
defect at once; ``install_scenario`` writes it in one transaction. Bundled CSVs go through the
same importers as the files people bring, so one set of rules checks both.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeVar

import yaml
from pydantic import BaseModel, ValidationError
from sqlalchemy import Engine
from sqlmodel import SQLModel, select

from foodchain import forecasts, menus, site_contacts, subscriptions
from foodchain.basket_rules import BasketRules
from foodchain.calendar_rules import CalendarRules
from foodchain.catalogue import Catalogue
from foodchain.cold_chain import ColdChainRules, cold_chain_rules
from foodchain.consolidation import ConsolidationRules
from foodchain.db import transaction, write_transaction
from foodchain.driver_rules import DriverRules
from foodchain.emissions import EmissionRules
from foodchain.errors import FoodchainError, InputError, Problem
from foodchain.files.columns import Column, TableSpec, choice, integer, number, parse_rows, text
from foodchain.files.reading import read_table
from foodchain.geocoding import keep_geocoded_positions
from foodchain.hub_work import HubWork
from foodchain.importing import Importer, parse_records
from foodchain.models import (
    BasketType,
    BasketTypeIn,
    Canteen,
    CanteenIn,
    Farm,
    FarmIn,
    Forecast,
    ForecastIn,
    HolidayPeriod,
    HolidayPeriodIn,
    MenuLine,
    MenuLineIn,
    PortionRule,
    PortionRuleIn,
    Product,
    ProductIn,
    Setting,
    Shop,
    ShopIn,
    Site,
    SiteIn,
    SiteKind,
    Subscription,
    SubscriptionIn,
    SubstitutionGroup,
    SubstitutionGroupIn,
    Unit,
    Vehicle,
    VehicleIn,
)
from foodchain.portions import merged_portions
from foodchain.routing.build import Flow, build_day_problem
from foodchain.routing.cold import AMBIENT
from foodchain.routing.diagnosis import diagnose
from foodchain.routing.problem import ColdRules, UnservedReason
from foodchain.routing.travel import LegSpeeds, Travel
from foodchain.seasons import scenario_crop_document
from foodchain.sending_rules import SendingRules
from foodchain.store import ImportReport, TableChanges, apply, diff, primary_key
from foodchain.supplier import Supplier
from foodchain.timing import window_of
from foodchain.weeks import WEEKDAYS, Week

M = TypeVar("M", bound=BaseModel)

PRODUCT_SPEC = TableSpec(
    "products",
    (
        Column("id", text, "a lowercase id, e.g. carrot"),
        Column("name", text, "the name people use, e.g. Carotte", ("nom",)),
        Column("family", text, "the family, e.g. root, leaf, brassica", ("famille",)),
        Column("unit", choice({u.value: u.value for u in Unit}), "kg, piece or bunch", ("unite",)),
        Column("kg_per_unit", number(0.001, 100), "kg in one unit (1 for kg)", ("kg par unite",)),
        Column("shelf_life_days", integer(1, 365), "days it keeps", ("conservation jours",)),
        Column("edible_fraction", number(0.01, 1), "edible share of harvested weight"),
        Column("price_eur_per_kg", number(0, 1000), "reference price in €/kg", ("prix",)),
        Column("kg_per_crate", number(0.1, 100), "kg in one crate", ("kg par caisse",)),
        Column(
            "temperature_class",
            text,
            "temperature class, e.g. ambient or fresh (settings.cold_chain; blank: ambient)",
            ("classe de température", "classe temperature", "froid"),
            required=False,
            blank_ok=True,
        ),
    ),
    key=("id",),
)


MAX_YAML_VALUES = 2_000_000
"""Values a scenario may hold once its aliases (``*name``) are expanded: the Lensois scenario
holds about 10,000; a few lines of nested aliases (a "billion laughs") would hold 10⁹."""


class _LineLoader(yaml.SafeLoader):
    """Safe YAML loader that remembers the line of every mapping (for error messages) and
    refuses a document whose aliases expand beyond ``MAX_YAML_VALUES``."""

    def compose_document(self) -> yaml.Node | None:
        node: yaml.Node | None = super().compose_document()
        sizes: dict[int, int] = {}
        if node is not None and _expanded_size(node, sizes) > MAX_YAML_VALUES:
            raise yaml.composer.ComposerError(
                None,
                None,
                f"its aliases (*name) expand to more than {MAX_YAML_VALUES:,} values",
                node.start_mark,
            )
        return node


def _expanded_size(node: yaml.Node, sizes: dict[int, int]) -> int:
    """Values under ``node`` with every alias expanded, each shared node counted once per use
    but measured once (``sizes``): linear in the document, whatever it expands to."""
    known = sizes.get(id(node))
    if known is not None:
        return known
    size = 1
    if isinstance(node, yaml.SequenceNode):
        size += sum(_expanded_size(child, sizes) for child in node.value)
    elif isinstance(node, yaml.MappingNode):
        size += sum(
            _expanded_size(key, sizes) + _expanded_size(value, sizes) for key, value in node.value
        )
    sizes[id(node)] = size = min(size, MAX_YAML_VALUES + 1)
    return size


class LineDict(dict[str, Any]):
    line: int = 0
    key_lines: dict[str, int] = {}  # noqa: RUF012 (replaced per mapping, never mutated)

    def line_of(self, where: str) -> int:
        """The line of the last key of ``where`` (``sites[2].lat``) this mapping holds."""
        for part in reversed(where.split(".")):
            found = self.key_lines.get(part.split("[")[0])
            if found is not None:
                return found
        return self.line


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> LineDict:
    mapping = LineDict({str(k): v for k, v in loader.construct_mapping(node, deep=True).items()})
    mapping.line = node.start_mark.line + 1
    mapping.key_lines = {
        str(key.value): key.start_mark.line + 1
        for key, _value in node.value
        if isinstance(key, yaml.ScalarNode)
    }
    return mapping


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


@dataclass
class Scenario:
    """Everything a scenario defines, validated, ready to install."""

    path: Path
    slug: str
    name: str
    horizon: tuple[Week, Week]
    hub: str
    settings: dict[str, Any]
    sites: list[SiteIn] = field(default_factory=list)
    farms: list[FarmIn] = field(default_factory=list)
    canteens: list[CanteenIn] = field(default_factory=list)
    shops: list[ShopIn] = field(default_factory=list)
    products: list[ProductIn] = field(default_factory=list)
    groups: list[SubstitutionGroupIn] = field(default_factory=list)
    portions: list[PortionRuleIn] = field(default_factory=list)
    holidays: list[HolidayPeriodIn] = field(default_factory=list)
    basket_types: list[BasketTypeIn] = field(default_factory=list)
    vehicles: list[VehicleIn] = field(default_factory=list)
    subscriptions: list[SubscriptionIn] = field(default_factory=list)
    forecasts: list[ForecastIn] = field(default_factory=list)
    menu_lines: list[MenuLineIn] = field(default_factory=list)
    fingerprint: str = ""

    def catalogue(self) -> Catalogue:
        return Catalogue(
            sites={s.id: s for s in self.sites},
            farms={f.site_id: f for f in self.farms},
            canteens={c.site_id: c for c in self.canteens},
            shops={s.site_id: s for s in self.shops},
            products={p.id: p for p in self.products},
            groups={g.id: g for g in self.groups},
            basket_types={b.id: b for b in self.basket_types},
            portions={(p.course, p.family, p.age_group): p.grams for p in self.portions},
            holidays=list(self.holidays),
            horizon=self.horizon,
            hub=self.hub,
            settings=dict(self.settings),
        )


class _Checker:
    """Collects problems while a YAML scenario is read, each with its line and field path."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.problems: list[Problem] = []
        self.site_nodes: dict[str, tuple[str, Any]] = {}
        """Site id → its place in the YAML (``sites[3]``) and its mapping, for messages."""

    def add(self, node: Any, where: str, message: str, fix: str = "", value: Any = None) -> None:
        line = node.line_of(where) if isinstance(node, LineDict) else None
        shown = None if value is None else str(value)
        self.problems.append(Problem(self.source, message, fix, line, where, shown))

    def model(self, model: type[M], data: Any, node: Any, where: str) -> M | None:
        if not isinstance(data, dict):
            self.add(node, where, "expected a mapping (key: value)", "see scenarios/README.md")
            return None
        try:
            return model.model_validate(dict(data))
        except ValidationError as exc:
            for error in exc.errors():
                loc = ".".join(str(p) for p in error["loc"])
                value = error.get("input")
                self.add(
                    node,
                    f"{where}.{loc}" if loc else where,
                    error["msg"],
                    "correct the value",
                    value if isinstance(value, str | int | float) else None,
                )
            return None


def _sequence(checker: _Checker, doc: dict[str, Any], key: str) -> list[Any]:
    items = doc.get(key) or []
    if not isinstance(items, list):
        checker.add(
            doc, key, f"'{key}' must be a list", f"write '{key}:' followed by '- ...' items"
        )
        return []
    return items


def load_scenario(path: Path) -> Scenario:
    """Read and check a scenario and its files; raise ``InputError`` with every problem."""
    source = str(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError([Problem(source, "scenario file not found", "check the path")]) from None
    except (OSError, ValueError) as exc:
        raise InputError(
            [Problem(source, f"cannot read the scenario ({exc})", "check the path")]
        ) from None
    doc = parse_yaml(data, source)
    check = _Checker(source)
    scenario = _read_header(check, doc, path, data)
    _read_sites(check, doc, scenario)
    _read_products_and_rules(check, doc, scenario)
    _read_fleet_and_baskets(check, doc, scenario)
    _check_calendar(check, scenario)
    _check_direct_deliveries(check, scenario)
    _check_cold_chain(check, scenario)
    if not check.problems:
        _check_reachable(check, scenario)
    if check.problems:
        raise InputError(check.problems)
    _read_people_files(doc, scenario)
    return scenario


def parse_yaml(data: bytes, source: str) -> LineDict:
    """The scenario's top mapping, every mapping in it knowing its lines; or ``InputError``."""
    if b"\x00" in data[:8192]:
        raise InputError(
            [
                Problem(
                    source,
                    "this is not a YAML text file: it contains binary data",
                    "give the scenario's .yaml file (see scenarios/tiny.yaml)",
                )
            ]
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(
            [
                Problem(
                    source,
                    "the scenario is not UTF-8 text",
                    "save it as UTF-8 from your editor",
                    line=data[: exc.start].count(b"\n") + 1,
                    value=data[max(0, exc.start - 20) : exc.end].decode("utf-8", "replace"),
                )
            ]
        ) from None
    try:
        doc = yaml.load(text, Loader=_LineLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        lines = text.splitlines()
        line = mark.line + 1 if mark else None
        context, started = getattr(exc, "context", None), getattr(exc, "context_mark", None)
        opened = (
            f" ({context}, started on line {started.line + 1})"
            if context and started and started.line + 1 != line
            else ""
        )
        raise InputError(
            [
                Problem(
                    source,
                    f"not valid YAML: {getattr(exc, 'problem', None) or exc}{opened}",
                    "fix the indentation or quoting at this line (YAML: 'key: value', lists "
                    "with '- ', nested blocks indented with spaces)",
                    line=line,
                    column=f"character {mark.column + 1}" if mark else None,
                    value=lines[mark.line].strip()[:80]
                    if mark and 0 <= mark.line < len(lines)
                    else None,
                )
            ]
        ) from None
    except RecursionError:
        raise InputError(
            [Problem(source, "the YAML is nested too deeply", "see scenarios/tiny.yaml")]
        ) from None
    if not isinstance(doc, LineDict):
        raise InputError(
            [
                Problem(
                    source,
                    "the scenario must be a YAML mapping (key: value lines)",
                    "start from scenarios/tiny.yaml",
                    value=str(doc)[:80] if doc is not None else "",
                )
            ]
        )
    return doc


def _read_header(check: _Checker, doc: dict[str, Any], path: Path, data: bytes) -> Scenario:
    horizon: tuple[Week, Week] = (Week(2026, 45), Week(2027, 26))
    raw = doc.get("horizon") or {}
    try:
        horizon = (Week.parse(raw["first_week"]), Week.parse(raw["last_week"]))
        if horizon[1] < horizon[0]:
            raise ValueError("last_week is before first_week")
    except (KeyError, TypeError, ValueError) as exc:
        check.add(
            doc,
            "horizon",
            f"bad planning horizon ({exc})",
            "horizon: {first_week: 2026-W45, last_week: 2027-W26}",
        )
    slug = str(doc.get("scenario") or "")
    if not slug:
        check.add(doc, "scenario", "the scenario has no slug", "add 'scenario: my_territory'")
    settings = doc.get("settings") or {}
    if not isinstance(settings, dict):
        check.add(doc, "settings", "'settings' must be a mapping", "settings: {road_factor: 1.3}")
        settings = {}
    for key, (low, high, example) in _NUMERIC_SETTINGS.items():
        value = settings.get(key)
        if value is not None and not (
            isinstance(value, int | float) and not isinstance(value, bool) and low <= value <= high
        ):
            check.add(
                settings,
                f"settings.{key}",
                f"{key} must be a number from {low:g} to {high:g}",
                f"settings: {{{key}: {example}}}",
                value,
            )
    if settings.get("language", "fr") not in ("fr", "en"):
        check.add(
            settings,
            "settings.language",
            "unknown language",
            "settings: {language: fr} (or en)",
            settings.get("language"),
        )
    for key, model in _SETTING_MODELS.items():
        if settings.get(key) is not None:
            check.model(model, settings[key], settings, f"settings.{key}")
    return Scenario(
        path=path,
        slug=slug,
        name=str(doc.get("name") or slug),
        horizon=horizon,
        hub=str(doc.get("hub") or ""),
        settings=dict(settings),
        fingerprint=hashlib.sha256(data).hexdigest(),
    )


_SETTING_MODELS: dict[str, type[BaseModel]] = {
    "travel": LegSpeeds,
    "co2": EmissionRules,
    "baskets": BasketRules,
    "calendar": CalendarRules,
    "supplier": Supplier,
    "sending": SendingRules,
    "drivers": DriverRules,
    "hub_work": HubWork,
    "consolidation": ConsolidationRules,
    "cold_chain": ColdChainRules,
}
"""Settings blocks read as rules elsewhere, each checked by its model when the scenario is
read (every problem names its setting's path)."""

_NUMERIC_SETTINGS: dict[str, tuple[float, float, str]] = {
    "road_factor": (1.0, 5.0, "1.3"),
    "diesel_co2_kg_per_km": (0.0, 10.0, "0.317"),
    "hub_margin": (0.0, 5.0, "0.6"),
}
"""Settings read as numbers elsewhere: (lowest, highest, an example)."""

_KIND_PART: dict[SiteKind, tuple[str, type[SQLModel]]] = {
    SiteKind.FARM: ("farm", FarmIn),
    SiteKind.CANTEEN: ("canteen", CanteenIn),
    SiteKind.SHOP: ("shop", ShopIn),
}


def _read_sites(check: _Checker, doc: dict[str, Any], scenario: Scenario) -> None:
    calendars = doc.get("calendars") or {}
    if not isinstance(calendars, dict):
        check.add(doc, "calendars", "'calendars' must map a name to periods", "see README")
        calendars = {}
    for name, periods in calendars.items():
        if not isinstance(periods, list | None):
            check.add(
                calendars,
                f"calendars.{name}",
                "a calendar must be a list of periods",
                "- {name: noel, first_day: 2026-12-19, last_day: 2027-01-03}",
                periods,
            )
            continue
        for i, period in enumerate(periods or []):
            item = check.model(
                HolidayPeriodIn,
                {**period, "calendar": name} if isinstance(period, dict) else period,
                period,
                f"calendars.{name}[{i}]",
            )
            if item is None:
                continue
            if any(
                (h.calendar, h.first_day) == (item.calendar, item.first_day)
                for h in scenario.holidays
            ):
                check.add(
                    period,
                    f"calendars.{name}[{i}].first_day",
                    "two periods of the calendar start on the same day",
                    "merge them into one period",
                    item.first_day.isoformat(),
                )
                continue
            scenario.holidays.append(item)
    seen: set[str] = set()
    for i, raw in enumerate(_sequence(check, doc, "sites")):
        where = f"sites[{i}]"
        if not isinstance(raw, dict):
            check.add(raw, where, "expected a mapping", "see scenarios/README.md")
            continue
        parts = {key: raw.get(key) for key in ("farm", "canteen", "shop")}
        base = {k: v for k, v in raw.items() if k not in parts}
        site = check.model(SiteIn, base, raw, where)
        if site is None:
            continue
        if site.id in seen:
            check.add(
                raw,
                f"{where}.id",
                f"duplicate site id (already used by {check.site_nodes[site.id][0]})",
                "give each site its own id",
                site.id,
            )
            continue
        seen.add(site.id)
        check.site_nodes[site.id] = (where, raw)
        scenario.sites.append(site)
        for kind, (key, model) in _KIND_PART.items():
            part = parts[key]
            if part is not None and not isinstance(part, dict):
                check.add(
                    raw, f"{where}.{key}", f"'{key}:' must be a mapping", "see scenarios/README.md"
                )
                continue
            if site.kind != kind:
                if part is not None:
                    check.add(
                        raw,
                        f"{where}.{key}",
                        f"a {site.kind} site has no '{key}' part",
                        f"remove '{key}:' or set kind: {kind}",
                    )
                continue
            if kind is not SiteKind.FARM and part is None:
                check.add(raw, where, f"a {kind} needs a '{key}:' part", "see scenarios/README.md")
                continue
            node = part if isinstance(part, LineDict) else raw
            record = check.model(
                model, {**(part or {}), "site_id": site.id}, node, f"{where}.{key}"
            )
            if isinstance(record, FarmIn):
                scenario.farms.append(record)
            elif isinstance(record, CanteenIn):
                _check_canteen(check, raw, where, site, record, calendars)
                scenario.canteens.append(record)
            elif isinstance(record, ShopIn):
                scenario.shops.append(record)
        if site.kind is SiteKind.FARM and parts["farm"] is None:
            scenario.farms.append(FarmIn(site_id=site.id))
    hubs = {s.id for s in scenario.sites if s.kind is SiteKind.HUB}
    if scenario.hub not in hubs:
        check.add(
            doc,
            "hub",
            f"the hub {scenario.hub!r} is not a site of kind hub",
            f"set hub: to one of {sorted(hubs) or 'a hub site id'}",
            scenario.hub,
        )


def _check_canteen(
    check: _Checker, raw: Any, where: str, site: SiteIn, canteen: CanteenIn, calendars: Any
) -> None:
    if canteen.holiday_calendar and canteen.holiday_calendar not in calendars:
        check.add(
            raw,
            f"{where}.canteen.holiday_calendar",
            "unknown holiday calendar",
            f"use one of {sorted(calendars)}",
            canteen.holiday_calendar,
        )
    if canteen.covers:
        first = WEEKDAYS.index(next(iter(canteen.covers)))
        if not any(WEEKDAYS.index(d) <= first for d in site.delivery_days):
            check.add(
                raw,
                f"{where}.delivery_days",
                "no delivery day on or before the first service day of the week",
                f"add {WEEKDAYS[first]} (or earlier) to delivery_days",
            )


def _read_products_and_rules(check: _Checker, doc: dict[str, Any], scenario: Scenario) -> None:
    products_file = doc.get("products")
    if not products_file:
        check.add(doc, "products", "no products file", "add 'products: my/products.csv'")
    else:
        path = scenario.path.parent / str(products_file)
        try:
            parsed = _parse_products(path)
            scenario.products.extend(parsed)
        except InputError as exc:
            check.problems.extend(exc.problems)
    product_ids = {p.id for p in scenario.products}
    families = {p.family for p in scenario.products}
    for i, raw in enumerate(_sequence(check, doc, "groups")):
        group = check.model(SubstitutionGroupIn, raw, raw, f"groups[{i}]")
        if group is None:
            continue
        unknown = [m for m in group.members if m not in product_ids]
        if unknown:
            check.add(
                raw,
                f"groups[{i}].members",
                f"unknown product(s) {unknown}",
                "list product ids from the products file",
            )
        if group.id in product_ids:
            check.add(
                raw,
                f"groups[{i}].id",
                "a group cannot share its id with a product",
                "rename the group",
                group.id,
            )
        if any(g.id == group.id for g in scenario.groups):
            check.add(raw, f"groups[{i}].id", "duplicate group id", "rename it", group.id)
            continue
        scenario.groups.append(group)
    overrides = doc.get("portions") or {}
    if not isinstance(overrides, dict):
        check.add(doc, "portions", "'portions' must be a mapping", "see scenarios/README.md")
        overrides = {}
    for course, by_family in list(overrides.items()):
        shapes = [by_family, *(by_family.values() if isinstance(by_family, dict) else ())]
        if not all(isinstance(part, dict | None) for part in shapes):
            check.add(
                overrides,
                f"portions.{course}",
                "expected grams by family and age group",
                "portions: {starter: {'*': {maternelle: 60, elementaire: 80}}}",
            )
            del overrides[course]
    portions = merged_portions(overrides, families)
    for course, by_family in portions.items():
        for family, by_age in (by_family or {}).items():
            for age, grams in (by_age or {}).items():
                rule = check.model(
                    PortionRuleIn,
                    {"course": course, "family": str(family), "age_group": age, "grams": grams},
                    overrides.get(course, doc),
                    f"portions.{course}.{family}.{age}",
                )
                if rule is None:
                    continue
                if rule.family != "*" and rule.family not in families:
                    check.add(
                        overrides.get(course, doc),
                        f"portions.{course}.{family}",
                        "unknown product family",
                        f"use '*' or one of {sorted(families)}",
                        family,
                    )
                scenario.portions.append(rule)


def _parse_products(path: Path) -> list[ProductIn]:
    parsed = parse_rows(PRODUCT_SPEC, read_table(path))
    problems = list(parsed.problems)
    products: list[ProductIn] = []
    seen: dict[str, int] = {}
    for row in parsed.rows:
        try:
            values = {k: v for k, v in row.values.items() if v is not None}  # blank: default
            product = ProductIn.model_validate(values)
        except ValidationError as exc:
            error = exc.errors()[0]
            key = str(error["loc"][0]) if error["loc"] else "id"
            problems.append(parsed.problem(row, key, error["msg"], "correct the value"))
            continue
        if product.id in seen:
            problems.append(
                parsed.problem(
                    row,
                    "id",
                    f"duplicate product id (line {seen[product.id]})",
                    "keep one row per product",
                )
            )
            continue
        seen[product.id] = row.line
        products.append(product)
    if problems:
        raise InputError(problems)
    return products


def _check_cold_chain(check: _Checker, scenario: Scenario) -> None:
    """Every product's temperature class is one ``settings.cold_chain`` names, or ambient:
    a misspelt class would travel in any vehicle without a word."""
    block = scenario.settings.get("cold_chain")
    if not isinstance(block, dict):
        return
    try:
        rules = ColdChainRules.model_validate(block)
    except ValidationError:
        return  # reported by the header's check
    known = rules.named_classes | {AMBIENT}
    for product in scenario.products:
        if product.temperature_class not in known:
            check.add(
                block,
                "settings.cold_chain.classes",
                f"product {product.id} has the temperature class "
                f"'{product.temperature_class}', which settings.cold_chain does not name",
                f"use one of {', '.join(sorted(known))} in the products file, or add "
                f"'{product.temperature_class}' under settings.cold_chain.classes",
                product.temperature_class,
            )


def _check_calendar(check: _Checker, scenario: Scenario) -> None:
    """``settings.calendar`` names a calendar of the scenario, and every canteen can be
    delivered before the deadline on the days it serves meals."""
    calendar = scenario.settings.get("calendar")
    if not isinstance(calendar, dict):
        return
    try:
        rules = CalendarRules.model_validate(calendar)
    except ValidationError:
        return  # reported by the header's check
    known = {h.calendar for h in scenario.holidays}
    if rules.public_holidays is not None and rules.public_holidays not in known:
        check.add(
            calendar,
            "settings.calendar.public_holidays",
            "no calendar of that name in 'calendars'",
            f"name one of: {', '.join(sorted(known)) or 'none yet (add it under calendars)'}",
            rules.public_holidays,
        )
    deadline = rules.deadline_minutes
    if deadline is None:
        return
    sites = {s.id: s for s in scenario.sites}
    for canteen in scenario.canteens:
        site = sites.get(canteen.site_id)
        if site is None:
            continue
        late = [
            day
            for day in site.delivery_days
            if canteen.covers.get(day, 0) > 0
            and day in site.windows
            and window_of(site.windows[day])[0] >= deadline
        ]
        if late:
            node = check.site_nodes.get(site.id, ("sites", calendar))
            check.add(
                node[1],
                f"{node[0]}.windows",
                f"the canteen's window opens at or after the delivery deadline "
                f"{rules.canteen_deadline} on {', '.join(late)}, a day it serves meals",
                "open its window earlier, or set a later settings.calendar.canteen_deadline",
                site.windows[late[0]],
            )


def _check_buy_in(
    check: _Checker, buy_in: dict[str, Any], scenario: Scenario, product_ids: set[str]
) -> None:
    """The buy-in supplier is a farm site that brings its own produce; its products exist."""
    where = "settings.baskets.buy_in"
    farm = next((f for f in scenario.farms if f.site_id == buy_in.get("farm")), None)
    if farm is None:
        check.add(
            buy_in,
            f"{where}.farm",
            "the buy-in supplier is not a farm site of the scenario",
            "add it under sites with kind: farm and farm: {brings_own_produce: true}",
            buy_in.get("farm"),
        )
    elif not farm.brings_own_produce:
        check.add(
            buy_in,
            f"{where}.farm",
            "the buy-in supplier delivers to the hub itself",
            "give its site farm: {brings_own_produce: true}",
            farm.site_id,
        )
    for key in ("products", "prices"):
        named = buy_in.get(key) or []
        for pid in sorted(set(named) - product_ids) if isinstance(named, list | dict) else []:
            check.add(buy_in, f"{where}.{key}", "unknown product", "use a product id", pid)


def _read_fleet_and_baskets(check: _Checker, doc: dict[str, Any], scenario: Scenario) -> None:
    product_ids = {p.id for p in scenario.products}
    families = {p.family for p in scenario.products}
    hubs = {s.id for s in scenario.sites if s.kind is SiteKind.HUB}
    ids: set[str] = set()
    for i, raw in enumerate(_sequence(check, doc, "basket_types")):
        basket = check.model(BasketTypeIn, raw, raw, f"basket_types[{i}]")
        if basket is None:
            continue
        for pid in set(basket.product_caps) - product_ids:
            check.add(
                raw, f"basket_types[{i}].product_caps", "unknown product", "use a product id", pid
            )
        for fam in set(basket.family_caps) - families:
            check.add(
                raw,
                f"basket_types[{i}].family_caps",
                "unknown family",
                f"use one of {sorted(families)}",
                fam,
            )
        if basket.id in ids:
            check.add(
                raw, f"basket_types[{i}].id", "duplicate basket type id", "rename it", basket.id
            )
        ids.add(basket.id)
        scenario.basket_types.append(basket)
    rules = scenario.settings.get("baskets")
    if isinstance(rules, dict):
        for key in ("steps_kg", "max_units"):
            named = rules.get(key)
            for pid in sorted(set(named or {}) - product_ids) if isinstance(named, dict) else []:
                check.add(
                    rules, f"settings.baskets.{key}", "unknown product", "use a product id", pid
                )
        buy_in = rules.get("buy_in")
        if isinstance(buy_in, dict):
            _check_buy_in(check, buy_in, scenario, product_ids)
    ids = set()
    delivering = {f.site_id for f in scenario.farms if f.direct_destinations}
    raw_vehicles = _sequence(check, doc, "vehicles")
    for i, raw in enumerate(raw_vehicles):
        data = raw
        if isinstance(raw, dict) and "depot" in raw:  # the YAML says 'depot:', the table depot_id
            data = {k: v for k, v in raw.items() if k != "depot"} | {"depot_id": raw["depot"]}
        vehicle = check.model(VehicleIn, data, raw, f"vehicles[{i}]")
        if vehicle is None:
            continue
        if vehicle.depot_id not in hubs | delivering:
            check.add(
                raw,
                f"vehicles[{i}].depot_id",
                "the depot is not a hub site, nor a farm that delivers directly",
                f"use one of {sorted(hubs)}, or give the farm direct_destinations",
                vehicle.depot_id,
            )
        if vehicle.id in ids:
            check.add(raw, f"vehicles[{i}].id", "duplicate vehicle id", "rename it", vehicle.id)
        ids.add(vehicle.id)
        scenario.vehicles.append(vehicle)
    if not raw_vehicles:
        check.add(doc, "vehicles", "the scenario has no vehicle", "add at least one vehicle")
    farm_ids = {f.site_id for f in scenario.farms}
    for key in ("co2", "consolidation"):
        block = scenario.settings.get(key)
        named = block.get("farms") if isinstance(block, dict) else None
        for farm_id in sorted(set(named) - farm_ids) if isinstance(named, dict) else []:
            check.add(
                named,
                f"settings.{key}.farms",
                "not a farm of the scenario",
                "use a farm's id",
                farm_id,
            )


_VISITED = (SiteKind.RELAY, SiteKind.CANTEEN, SiteKind.SHOP)


def _check_direct_deliveries(check: _Checker, scenario: Scenario) -> None:
    """A farm's direct destinations are relay points, canteens or shops, and the farm has a
    vehicle of its own (``depot`` the farm) to deliver them with."""
    kinds = {s.id: s.kind for s in scenario.sites}
    depots = {v.depot_id for v in scenario.vehicles}
    for farm in scenario.farms:
        if not farm.direct_destinations:
            continue
        where, raw = check.site_nodes[farm.site_id]
        node = raw.get("farm", raw) if isinstance(raw, dict) else raw
        field = f"{where}.farm.direct_destinations"
        for destination in farm.direct_destinations:
            if kinds.get(destination) not in _VISITED:
                check.add(
                    node,
                    field,
                    "not a relay point, canteen or shop of the scenario",
                    "list the ids of the relay points, canteens or shops the farm delivers itself",
                    destination,
                )
        if len(set(farm.direct_destinations)) != len(farm.direct_destinations):
            check.add(node, field, "a destination is listed twice", "list each once")
        if farm.site_id not in depots:
            check.add(
                node,
                field,
                "the farm has no vehicle to deliver with",
                f"add a vehicle with depot: {farm.site_id} under vehicles",
                farm.site_id,
            )


def _check_reachable(check: _Checker, scenario: Scenario) -> None:
    """Every site a vehicle must visit can be served by some vehicle of the hub, on a trip of
    its own, on each of its days: the routing engine's own diagnosis of an unserved stop,
    asked for a one-crate delivery (relay points, canteens, shops) or pickup (farms that do
    not bring their produce), with straight-line distances × the road factor; and, with a
    cold chain, for a crate of each class it rules (a vehicle cold enough, within its time
    on board)."""
    sites = {s.id: s for s in scenario.sites}
    farms = {f.site_id: f for f in scenario.farms}
    hub = sites[scenario.hub]
    road_factor = float(scenario.settings.get("road_factor", 1.3))
    classes = {p.id: p.temperature_class for p in scenario.products}
    rules = cold_chain_rules(scenario.settings).rules()
    loads: list[tuple[str, ColdRules | None]] = [("", None)]
    if rules is not None:
        ruled = set(rules.needs) | set(rules.max_minutes_on_board)
        loads += [
            (min(p for p, c in classes.items() if c == name), rules)
            for name in sorted(ruled & set(classes.values()))
        ]
    for site in scenario.sites:
        if site.kind in _VISITED:
            days = site.delivery_days or list(site.windows) or ["mon"]
        elif site.kind is SiteKind.FARM and not farms[site.id].brings_own_produce:
            days = list(site.windows) or ["mon"]
        else:
            continue
        found = None
        for weekday, (product, cold) in ((d, load) for d in days for load in loads):
            day = scenario.horizon[0].day(weekday)
            pickup = site.kind is SiteKind.FARM
            flow = [
                Flow(site.id, product, hub.id, day, 1.0)
                if pickup
                else Flow("", product, site.id, day, 1.0)
            ]
            problem = build_day_problem(
                day,
                hub,
                sites,
                farms,
                scenario.vehicles,
                [],
                road_factor,
                collected_for_later=flow if pickup else [],
                from_stock=[] if pickup else flow,
                travel=Travel.of(scenario.settings),
                cold=cold,
                classes=classes,
            )
            unserved = diagnose(problem, 0)
            if unserved is not None:
                found = (weekday, classes[product] if cold else "", unserved)
                break
        if found is None:
            continue
        weekday, kind, unserved = found
        where, node = check.site_nodes[site.id]
        field, fix = _REACH_FIX[unserved.reason]
        goods = f" with {kind} goods (settings.cold_chain)" if kind else ""
        check.add(
            node,
            f"{where}.{field}" if field else where,
            f"no vehicle can reach this {site.kind.value} on {weekday}{goods}: "
            f"{unserved.explanation}",
            fix.format(kind=site.kind.value, day=weekday, hub=scenario.hub),
            site.id,
        )


_REACH_FIX: dict[UnservedReason, tuple[str, str]] = {
    UnservedReason.NO_ALLOWED_VEHICLE: (
        "kind",
        "add {kind} to the allowed_kinds of a vehicle based at {hub}, or add such a vehicle",
    ),
    UnservedReason.OUT_OF_RANGE: (
        "lat",
        "check its lat/lon; or give a vehicle based at {hub} a range_km (and "
        "max_km_from_hub) that reaches it; or serve it from another hub",
    ),
    UnservedReason.TOO_HEAVY: ("", "add a vehicle based at {hub} that can carry a crate"),
    UnservedReason.WINDOW_UNREACHABLE: (
        "windows",
        "open its {day} window later or longer, or start a vehicle's shift earlier "
        "(vehicles: shift) or open the hub earlier",
    ),
    UnservedReason.GOODS_TOO_LATE: (
        "windows",
        "open its {day} window later, or start a vehicle's shift earlier",
    ),
    UnservedReason.FLEET_SATURATED: ("", "add a vehicle"),
    UnservedReason.NOT_PLACED: ("", "add a vehicle or give the search more time"),
    UnservedReason.OPTIONAL_DROPPED: ("", "add a vehicle"),
    UnservedReason.NO_DRIVER: ("", "add a driver that day (settings.drivers.per_day)"),
    UnservedReason.COLD_CHAIN: (
        "",
        "give a vehicle based at {hub} that serves {kind} sites a cold body (vehicles: cold), "
        "or allow its goods more time on board (settings.cold_chain)",
    ),
}


def _read_people_files(doc: dict[str, Any], scenario: Scenario) -> None:
    """Bundled forecasts, subscriptions and menus, through the people's importers."""
    check = _Checker(str(scenario.path))
    files = doc.get("files") or {}
    if not isinstance(files, dict):
        check.add(doc, "files", "'files' must be a mapping", "files: {forecasts: [PATH]}")
        files = {}
    catalogue = scenario.catalogue()
    base = scenario.path.parent
    seen: dict[tuple[Any, ...], str] = {}

    def read(importer: Importer[Any], name: str, options: dict[str, Any]) -> list[Any]:
        try:
            records, _parsed, _skipped = parse_records(
                importer, read_table(base / name), catalogue, options
            )
        except InputError as exc:
            check.problems.extend(exc.problems)
            return []
        fields = primary_key(importer.table)
        for record in records:
            key = (importer.kind, *(getattr(record, f) for f in fields))
            if key in seen and seen[key] != name:
                check.add(
                    files,
                    f"files.{importer.kind}",
                    f"{name} and {seen[key]} both give the {importer.kind} row "
                    + " / ".join(str(k) for k in key[1:3]),
                    "give each row in one file only",
                    name,
                )
                return []
            seen[key] = name
        return records

    def names(key: str) -> list[Any]:
        items = files.get(key) or []
        if not isinstance(items, list):
            check.add(files, f"files.{key}", f"'files.{key}' must be a list", f"{key}: [PATH]")
            return []
        unique: list[Any] = []  # a file named twice is read once
        for item in items:
            if isinstance(item, dict) or str(item) not in unique:
                unique.append(item if isinstance(item, dict) else str(item))
        return unique

    for name in names("forecasts"):
        scenario.forecasts.extend(read(forecasts.IMPORTER, str(name), {}))
    for name in names("subscriptions"):
        scenario.subscriptions.extend(read(subscriptions.IMPORTER, str(name), {}))
    for entry in names("menus"):
        canteen = entry.get("canteen") if isinstance(entry, dict) else None
        if not isinstance(canteen, str) or canteen not in catalogue.canteens:
            check.add(
                entry if isinstance(entry, LineDict) else files,
                "files.menus",
                "a menu file names an unknown canteen",
                f"files.menus: - {{canteen: ID, file: PATH}} with ID one of "
                f"{sorted(catalogue.canteens)}",
                str(canteen),
            )
            continue
        menu = str(entry.get("file"))
        scenario.menu_lines.extend(read(menus.IMPORTER, menu, {"canteen": canteen}))
    if check.problems:
        raise InputError(check.problems)


# --------------------------------------------------------------------------- install

_CONFIG: list[tuple[type[SQLModel], Callable[[Scenario], list[Any]], bool]] = [
    (Site, lambda s: s.sites, False),
    (Farm, lambda s: s.farms, False),
    (Canteen, lambda s: s.canteens, False),
    (Shop, lambda s: s.shops, False),
    (Product, lambda s: s.products, False),
    (SubstitutionGroup, lambda s: s.groups, False),
    (PortionRule, lambda s: s.portions, True),
    (HolidayPeriod, lambda s: s.holidays, True),
    (BasketType, lambda s: s.basket_types, False),
    (Vehicle, lambda s: s.vehicles, False),
]
"""Tables the scenario owns: upserted (and for rule tables, stale rows removed). Sites'
contact columns are people's once stored: a value imported since is kept
(``site_contacts.keep_people_contacts``)."""

_PEOPLE: list[tuple[type[SQLModel], Callable[[Scenario], list[Any]]]] = [
    (Subscription, lambda s: s.subscriptions),
    (Forecast, lambda s: s.forecasts),
    (MenuLine, lambda s: s.menu_lines),
]
"""Tables people update by import: the scenario only adds rows that are missing, so
re-running ``init`` never overwrites a forecast or menu imported since."""


def install_scenario(engine: Engine, scenario: Scenario, dry_run: bool = False) -> ImportReport:
    """Write the scenario in one transaction; running it again changes nothing."""
    report = ImportReport("scenario", str(scenario.path), 0, [], dry_run)
    with write_transaction(engine) as session:
        settings = [
            Setting(key="scenario", value=scenario.slug),
            Setting(key="scenario_name", value=scenario.name),
            Setting(key="horizon", value=[str(scenario.horizon[0]), str(scenario.horizon[1])]),
            Setting(key="hub", value=scenario.hub),
            Setting(key="settings", value=scenario.settings),
        ]
        crops = scenario_crop_document(scenario.path)
        if crops is not None:
            settings.append(Setting(key="crop_calendar", value=crops))
        plan: list[tuple[type[SQLModel], TableChanges]] = [
            (Setting, diff(Setting, session.exec(select(Setting)).all(), settings))
        ]
        for table, records, owned in _CONFIG:
            given = records(scenario)
            if table is Site:
                given, kept = site_contacts.keep_people_contacts(session, scenario.sites)
                if kept:
                    report.notes.append(site_contacts.kept_note(kept))
                given, placed = keep_geocoded_positions(session, given)
                if placed:
                    report.notes.append(
                        f"{len(placed)} position(s) geocoded since were kept over the "
                        f"scenario's ({', '.join(placed[:5])}{'…' if len(placed) > 5 else ''})"
                    )
            rows = [table.model_validate(r) for r in given]
            plan.append((table, diff(table, session.exec(select(table)).all(), rows, owned)))
        for table, records in _PEOPLE:
            rows = [table.model_validate(r) for r in records(scenario)]
            changes = diff(table, session.exec(select(table)).all(), rows)
            if changes.changed:
                report.notes.append(
                    f"{len(changes.changed)} {table.__tablename__} row(s) imported since were kept"
                )
            changes.changed = []
            plan.append((table, changes))
        report.tables = [changes for _table, changes in plan]
        if dry_run:
            session.rollback()
            return report
        for table, changes in plan:
            apply(session, table, changes)
            session.flush()
        site_contacts.record_scenario_values(session, scenario.sites)
    return report


def installed_scenario(engine: Engine) -> str | None:
    """The slug of the scenario the database holds, if any."""
    with transaction(engine) as session:
        setting = session.get(Setting, "scenario")
    return str(setting.value) if setting is not None else None


@dataclass(frozen=True)
class ScenarioLoad:
    """What ``ensure_scenario`` did: ``loaded`` (the database had none), ``same``,
    ``differs`` (the file changes the territory; nothing applied) or ``updated``."""

    outcome: Literal["loaded", "same", "differs", "updated"]
    report: ImportReport

    @property
    def territory_changes(self) -> list[TableChanges]:
        """Tables of the territory (settings, sites, products, fleet, rules) the file changes;
        rows people import (forecasts, menus, subscriptions) are not a version change."""
        people = {str(table.__tablename__) for table, _records in _PEOPLE}
        return [
            t
            for t in self.report.tables
            if t.table not in people and (t.added or t.changed or t.removed)
        ]


def ensure_scenario(engine: Engine, scenario: Scenario, update: bool = False) -> ScenarioLoad:
    """Load ``scenario`` into a database that has none yet.

    A database holding the same scenario is left alone (the coordinator's imports stay)
    unless the file changes its territory: then the changes are applied only with
    ``update``, and reported either way, so an edited file is never ignored without a word.
    One holding another scenario is an error rather than a mix of two territories.
    """
    present = installed_scenario(engine)
    if present is not None and present != scenario.slug:
        raise FoodchainError(
            f"the database holds the scenario '{present}', not '{scenario.slug}': "
            "use another --db, or run without --scenario"
        )
    if present is None:
        return ScenarioLoad("loaded", install_scenario(engine, scenario))
    preview = ScenarioLoad("same", install_scenario(engine, scenario, dry_run=True))
    if not preview.territory_changes:
        return preview
    if not update:
        return ScenarioLoad("differs", preview.report)
    return ScenarioLoad("updated", install_scenario(engine, scenario))
