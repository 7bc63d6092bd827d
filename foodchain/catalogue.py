"""Reference data that imports check names against: sites, products, groups, basket types.

Built from the database (``load_catalogue``) or from a scenario being loaded, so the same
importers validate a farmer's file and the scenario's bundled files.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any

from sqlmodel import Session, select

from foodchain.basket_rules import BasketRules, basket_rules
from foodchain.calendar_rules import CalendarRules, calendar_rules
from foodchain.cold_chain import ColdChainRules, cold_chain_rules
from foodchain.driver_rules import DriverRules, driver_rules
from foodchain.food_words import PRODUCT_ALIASES
from foodchain.models import (
    BasketType,
    BasketTypeIn,
    Canteen,
    CanteenIn,
    Farm,
    FarmIn,
    HolidayPeriod,
    HolidayPeriodIn,
    PortionRule,
    Product,
    ProductIn,
    Setting,
    Shop,
    ShopIn,
    Site,
    SiteIn,
    SiteKind,
    SubstitutionGroup,
    SubstitutionGroupIn,
)
from foodchain.timing import window_of
from foodchain.weeks import WEEKDAYS, Week, clock, fold


class Unknown(LookupError):
    """A name that matches nothing, or several things: ``fix`` (``fix_fr`` in French) lists
    what it could have been, ``suggestions`` the ids of the closest (none if none is close)."""

    def __init__(
        self, message: str, fix: str, fix_fr: str = "", suggestions: Sequence[str] = ()
    ) -> None:
        super().__init__(message)
        self.message = message
        self.fix = fix
        self.fix_fr = fix_fr or fix
        self.suggestions = tuple(suggestions)


@dataclass(frozen=True)
class Catalogue:
    sites: dict[str, SiteIn] = field(default_factory=dict)
    farms: dict[str, FarmIn] = field(default_factory=dict)
    canteens: dict[str, CanteenIn] = field(default_factory=dict)
    shops: dict[str, ShopIn] = field(default_factory=dict)
    products: dict[str, ProductIn] = field(default_factory=dict)
    groups: dict[str, SubstitutionGroupIn] = field(default_factory=dict)
    basket_types: dict[str, BasketTypeIn] = field(default_factory=dict)
    portions: dict[tuple[str, str, str], float] = field(default_factory=dict)
    """(course, family or '*', age group) → grams served per cover."""
    holidays: list[HolidayPeriodIn] = field(default_factory=list)
    horizon: tuple[Week, Week] | None = None
    hub: str = ""
    settings: dict[str, Any] = field(default_factory=dict)
    """Scenario-wide settings such as ``road_factor``."""

    def __post_init__(self) -> None:
        """Sites' windows as deliveries must meet them: on a day a canteen serves meals, its
        window closes at the scenario's ``calendar.canteen_deadline``; a relay point takes
        baskets moved off a holiday in its usual hours."""
        rules = self.calendar_rules
        deadline = None if rules.day_before else rules.deadline_minutes
        sites = dict(self.sites)
        for site_id, site in self.sites.items():
            canteen = self.canteens.get(site_id)
            if canteen is not None and deadline is not None:
                serving = {day for day, covers in canteen.covers.items() if covers > 0}
                sites[site_id] = _closing_by(site, serving, deadline)
            elif site.kind == SiteKind.RELAY and site.delivery_days:
                usual = site.windows.get(site.delivery_days[0])
                if usual is not None and len(site.windows) < 7:
                    windows = {day: site.windows.get(day, usual) for day in WEEKDAYS}
                    sites[site_id] = site.model_copy(update={"windows": windows})
        object.__setattr__(self, "sites", sites)

    def with_morning_deadline(self, mornings: Iterable[tuple[str, dt.date]]) -> Catalogue:
        """This catalogue for one week whose produce comes the day before (``day_before``)
        but for ``mornings`` (canteen, day): meals with no open delivery day before them,
        whose produce comes that morning, by ``canteen_deadline`` (a week holds each weekday
        once, so closing that weekday's window closes that morning's)."""
        deadline = self.calendar_rules.deadline_minutes
        if deadline is None or not mornings:
            return self
        days: dict[str, set[str]] = {}
        for canteen_id, day in mornings:
            days.setdefault(canteen_id, set()).add(WEEKDAYS[day.weekday()])
        sites = dict(self.sites)
        for canteen_id, weekdays in days.items():
            sites[canteen_id] = _closing_by(sites[canteen_id], weekdays, deadline)
        return replace(self, sites=sites)

    @property
    def road_factor(self) -> float:
        return float(self.settings.get("road_factor", 1.3))

    @property
    def hub_margin(self) -> float:
        """The hub's margin on farm prices: it sells at farm price × (1 + margin)."""
        return float(self.settings.get("hub_margin", 0.0))

    @cached_property
    def basket_rules(self) -> BasketRules:
        return basket_rules(self.settings)

    @cached_property
    def calendar_rules(self) -> CalendarRules:
        return calendar_rules(self.settings)

    @cached_property
    def driver_rules(self) -> DriverRules:
        return driver_rules(self.settings)

    @cached_property
    def cold_chain(self) -> ColdChainRules:
        return cold_chain_rules(self.settings)

    def closed(self, site_id: str, day: dt.date) -> str | None:
        """Why ``site_id`` takes no delivery on ``day`` (a holiday of the canteen's own
        calendar, or a public holiday closing every site), None if it is open."""
        return self.canteen_holiday(site_id, day) or self._holiday(
            self.calendar_rules.public_holidays, day
        )

    def canteen_holiday(self, site_id: str, day: dt.date) -> str | None:
        """The holiday of the canteen's own calendar on ``day``: it serves no meal then (on
        a public holiday an elderly home still serves meals, it only takes no delivery)."""
        canteen = self.canteens.get(site_id)
        return self._holiday(canteen.holiday_calendar if canteen else None, day)

    def _holiday(self, calendar: str | None, day: dt.date) -> str | None:
        if calendar is None:
            return None
        for period in self.holidays:
            if period.calendar == calendar and period.first_day <= day <= period.last_day:
                return period.name or "holiday"
        return None

    def open_on(self, site_id: str, day: dt.date) -> bool:
        """Both the site and the hub (every delivery goes through it) are open on ``day``."""
        return self.closed(site_id, day) is None and self.closed(self.hub, day) is None

    def sites_of(self, kind: SiteKind) -> dict[str, SiteIn]:
        return {k: s for k, s in self.sites.items() if s.kind == kind}

    @cached_property
    def _names(self) -> dict[str, _Names]:
        names = {
            f"site:{kind}": _Names({k: s.name for k, s in self.sites_of(kind).items()})
            for kind in SiteKind
        }
        names["site"] = _Names({k: s.name for k, s in self.sites.items()})
        names["product"] = _Names({k: p.name for k, p in self.products.items()}, PRODUCT_ALIASES)
        names["item"] = _Names(
            {k: p.name for k, p in self.products.items()}
            | {k: g.name for k, g in self.groups.items()},
            PRODUCT_ALIASES,
        )
        names["basket"] = _Names({k: b.name for k, b in self.basket_types.items()})
        return names

    def resolve_site(self, text: str, kind: SiteKind, what: str) -> str:
        return self._names[f"site:{kind}"].resolve(text, what)

    def resolve_any_site(self, text: str) -> str:
        return self._names["site"].resolve(text, "site")

    def resolve_product(self, text: str) -> str:
        return self._names["product"].resolve(text, "product")

    def resolve_item(self, text: str) -> str:
        """A product or a substitution group, by id or by name."""
        return self._names["item"].resolve(text, "product or substitution group")

    def resolve_basket_type(self, text: str) -> str:
        return self._names["basket"].resolve(text, "basket size")

    def item_family(self, item_id: str) -> str:
        """A product's family; a group's if all members share one, else '*'."""
        if item_id in self.products:
            return self.products[item_id].family
        families = {self.products[m].family for m in self.groups[item_id].members}
        return families.pop() if len(families) == 1 else "*"

    def item_edible_fraction(self, item_id: str) -> float:
        """A product's edible fraction; for a group, the mean over its members."""
        if item_id in self.products:
            return self.products[item_id].edible_fraction
        members = self.groups[item_id].members
        return sum(self.products[m].edible_fraction for m in members) / len(members)

    def portion_grams(self, course: str, item_id: str, age_group: str) -> float | None:
        family = self.item_family(item_id)
        for fam in (family, "*"):
            grams = self.portions.get((course, fam, age_group))
            if grams is not None:
                return grams
        return None


_STOPWORDS = frozenset(
    ["a", "au", "aux", "d", "de", "des", "du", "en", "et", "l", "la", "le", "les", "pour"]
)


def _closing_by(site: SiteIn, weekdays: set[str], deadline: float) -> SiteIn:
    """The site with its window closing by ``deadline`` on ``weekdays`` (a window already
    closing earlier, or one opening at or after the deadline, which the scenario's checks
    refuse, is kept)."""
    windows = dict(site.windows)
    for weekday in weekdays:
        text = site.windows.get(weekday)
        if text is None:
            continue
        opens, closes = window_of(text)
        if opens < deadline < closes:
            windows[weekday] = f"{text.split('-')[0]}-{clock(deadline)}"
    return site.model_copy(update={"windows": windows}) if windows != site.windows else site


def name_words(text: str) -> tuple[str, ...]:
    """How names are compared: folded words, singular, without articles ('Les Anges Gardins'
    → ``('ange', 'gardin')``, 'Pommes de terre' → ``('pomme', 'terre')``)."""
    t = fold(text).replace("œ", "oe").replace("æ", "ae")
    return tuple(
        w[:-1] if len(w) > 3 and w.endswith(("s", "x")) else w
        for w in re.findall(r"[a-z0-9]+", t)
        if w not in _STOPWORDS
    )


def _contains(words: tuple[str, ...], part: tuple[str, ...]) -> bool:
    """``part`` appears in ``words`` in order (not necessarily side by side)."""
    rest = iter(words)
    return all(w in rest for w in part)


class _Names:
    """Ids and display names of one kind of thing, matched as people write them.

    A text names a thing when it is its id; else when its words (see ``name_words``) are
    those of exactly one id, name, name without its bracketed part ('Radis (botte)' → radis)
    or alias; else when they appear, in order, in exactly one of those ('Betteraves' →
    'Betterave rouge', 'Anges Gardins' → 'Les Anges Gardins – ferme de Vieille-Église').
    Two things matching equally well is an error that lists both, never a guess."""

    def __init__(self, names: dict[str, str], aliases: dict[str, str] | None = None) -> None:
        self.names = names
        self.exact: dict[tuple[str, ...], set[str]] = {}
        variants: list[tuple[tuple[str, ...], str]] = []
        for key, name in names.items():
            forms = {key, name, re.sub(r"\(.*?\)", " ", name)}
            for form in forms:
                words = name_words(form)
                if words:
                    self.exact.setdefault(words, set()).add(key)
                    variants.append((words, key))
        for alias, key in (aliases or {}).items():
            if key in names and name_words(alias) not in self.exact:
                self.exact[name_words(alias)] = {key}
        self.variants = variants
        self._cache: dict[tuple[str, str], str | Unknown] = {}

    def label(self, key: str) -> str:
        """``carrot (Carotte)``: an id with its name, as suggestions show it."""
        name = self.names.get(key, "")
        return f"{key} ({name})" if name and name != key else key

    def resolve(self, text: str, what: str) -> str:
        """The id ``text`` names, or ``Unknown`` whose fix suggests real ids with their names."""
        if text in self.names:
            return text
        found = self._cache.get((text, what))
        if found is None:
            found = self._cache[(text, what)] = self._match(text, what)
        if isinstance(found, Unknown):  # a new exception each time: no traceback piles up
            raise Unknown(found.message, found.fix, found.fix_fr, found.suggestions)
        return found

    def _match(self, text: str, what: str) -> str | Unknown:
        words = name_words(text)
        if not words:
            return self._unknown(what, [])
        for candidates in (
            self.exact.get(words, set()),
            {key for form, key in self.variants if _contains(form, words)},
        ):
            if len(candidates) == 1:
                return next(iter(candidates))
            if candidates:
                ids = sorted(candidates)
                shown = [self.label(k) for k in ids[:5]]
                more = f" (and {len(ids) - 5} more)" if len(ids) > 5 else ""
                return Unknown(
                    f"ambiguous {what}: it could be {', '.join(shown)}{more}",
                    f"write the id of the one you mean: {', '.join(ids)}",
                    "écrivez l'identifiant de celui que vous voulez dire : "
                    f"{', '.join(shown)}{more}",
                    ids,
                )
        # Suggested: the things whose name the text holds ('Carottes râpées' → carrot),
        # longest name first, then the names written alike (difflib).
        suggested: list[str] = []
        inside = sorted(
            ((form, key) for form, key in self.variants if _contains(words, form)),
            key=lambda fk: -len(fk[0]),
        )
        keys = {" ".join(form): form for form in self.exact}
        close = difflib.get_close_matches(" ".join(words), list(keys), 6, CLOSE)
        for key in [k for _form, k in inside] + [
            k for text in close for k in sorted(self.exact[keys[text]])
        ]:
            if key not in suggested:
                suggested.append(key)
        return self._unknown(what, suggested[:3])

    def _unknown(self, what: str, suggested: list[str]) -> Unknown:
        known = sorted(self.names)
        listing = ", ".join(known[:12]) + (
            f" (and {len(known) - 12} more)" if len(known) > 12 else ""
        )
        shown = ", ".join(self.label(k) for k in suggested)
        return Unknown(
            f"unknown {what}",
            (f"did you mean {shown}? " if suggested else "") + f"known: {listing or 'none yet'}",
            (f"vouliez-vous dire {shown} ? " if suggested else "")
            + f"identifiants connus : {listing or 'aucun'}",
            suggested,
        )


CLOSE = 0.72
"""How alike (difflib's ratio) a text and a name must be for the name to be suggested."""


def load_catalogue(session: Session) -> Catalogue:
    """Reference data as validated domain objects (enums as enums, not stored strings)."""
    settings = {s.key: s.value for s in session.exec(select(Setting)).all()}
    horizon = settings.get("horizon")

    def read(table: type[Any], model: type[Any], key: str) -> dict[str, Any]:
        return {
            getattr(row, key): model.model_validate(row, from_attributes=True)
            for row in session.exec(select(table)).all()
        }

    return Catalogue(
        sites=read(Site, SiteIn, "id"),
        farms=read(Farm, FarmIn, "site_id"),
        canteens=read(Canteen, CanteenIn, "site_id"),
        shops=read(Shop, ShopIn, "site_id"),
        products=read(Product, ProductIn, "id"),
        groups=read(SubstitutionGroup, SubstitutionGroupIn, "id"),
        basket_types=read(BasketType, BasketTypeIn, "id"),
        portions={
            (r.course, r.family, r.age_group): r.grams
            for r in session.exec(select(PortionRule)).all()
        },
        holidays=[
            HolidayPeriodIn.model_validate(h, from_attributes=True)
            for h in session.exec(select(HolidayPeriod)).all()
        ],
        horizon=(Week.parse(horizon[0]), Week.parse(horizon[1])) if horizon else None,
        hub=str(settings.get("hub", "")),
        settings=dict(settings.get("settings") or {}),
    )
