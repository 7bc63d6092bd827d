"""What is stored: SQLModel tables, each with a non-table base model that validates.

SQLModel ``table=True`` classes do not validate on construction, so every record is first
built as its ``...In`` base model (``model_validate``), then converted to the table class.
The base models are also the domain objects the library passes around.
Natural keys are primary keys, so that importing the same file twice changes nothing.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from enum import StrEnum
from typing import Any, ClassVar

from pydantic import field_validator, model_validator
from sqlalchemy import JSON, DateTime, Index, String, Text, text
from sqlmodel import Field, SQLModel

from foodchain.organic import OrganicStatus
from foodchain.routing.cold import AMBIENT
from foodchain.routing.problem import ColdKind
from foodchain.weeks import WEEKDAYS, Week, parse_window

_WEEKDAY_SET = frozenset(WEEKDAYS)
SLUG = re.compile(r"^[a-z0-9][a-z0-9_\-]{0,63}$")
MAX_COVERS = 100_000
"""Meals a canteen may serve a day (a central kitchen serves a few thousand)."""


class SiteKind(StrEnum):
    HUB = "hub"
    FARM = "farm"
    RELAY = "relay"
    CANTEEN = "canteen"
    SHOP = "shop"


class OrganicRule(StrEnum):
    ORGANIC_100 = "organic_100"
    EGALIM = "egalim"


class AgeGroup(StrEnum):
    MATERNELLE = "maternelle"
    ELEMENTAIRE = "elementaire"
    ADULTE = "adulte"
    SENIOR = "senior"


class Course(StrEnum):
    STARTER = "starter"
    SOUP = "soup"
    MAIN = "main"
    SIDE = "side"
    DESSERT = "dessert"
    SNACK = "snack"


class Meal(StrEnum):
    LUNCH = "lunch"
    DINNER = "dinner"
    SNACK = "snack"


class Frequency(StrEnum):
    WEEKLY = "weekly"
    BIWEEKLY = "biweekly"


class Unit(StrEnum):
    KG = "kg"
    PIECE = "piece"
    BUNCH = "bunch"


class VehicleType(StrEnum):
    CNG_VAN_LARGE = "cng_van_large"
    CNG_VAN_SMALL = "cng_van_small"
    E_CARGO_BIKE = "e_cargo_bike"
    DIESEL_VAN = "diesel_van"
    ELECTRIC_VAN = "electric_van"


def _slug(value: str) -> str:
    if not SLUG.match(value):
        raise ValueError(
            f"{value!r} is not a valid id: use lowercase letters, digits, '_' or '-' (max 64)"
        )
    return value


def _printable(value: str) -> str:
    """Names are shown on screens and in documents: line breaks and tabs (a spreadsheet cell
    may hold them) become spaces, other control characters (NUL, escapes) are refused."""
    value = re.sub(r"[\t\n\r]+", " ", value)
    bad = next((c for c in value if unicodedata.category(c) == "Cc"), None)
    if bad is not None:
        raise ValueError(
            f"{value!r} holds the control character {bad!r} (position {value.index(bad) + 1}): "
            "remove it"
        )
    return value


def _weekdays(days: list[str]) -> list[str]:
    """Known weekday codes, once each, in week order."""
    wanted = set(days)
    if not wanted <= _WEEKDAY_SET:
        unknown = sorted(wanted - _WEEKDAY_SET)
        raise ValueError(f"unknown weekday(s) {unknown}; use {' '.join(WEEKDAYS)}")
    return [d for d in WEEKDAYS if d in wanted]


def _share(value: float) -> float:
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{value} is not a share between 0 and 1")
    return value


# --------------------------------------------------------------------------- sites


class SiteIn(SQLModel):
    id: str = Field(primary_key=True, max_length=64)
    kind: SiteKind = Field(sa_type=String(16))
    name: str = Field(min_length=1)
    commune: str = ""
    address: str = ""
    """Street and number (``rue de Bourgogne``); the postcode and commune have their fields."""
    postcode: str = Field(default="", max_length=10)
    contact_name: str = ""
    """Who receives the driver; empty until the coordinator fills it (never invented)."""
    phone: str = Field(default="", max_length=32)
    email: str = ""
    access_notes: str = ""
    """What a driver needs to know on arrival: gate, code, where to unload, parking."""
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    windows: dict[str, str] = Field(default_factory=dict, sa_type=JSON)
    service_minutes: float = Field(default=10.0, ge=0, le=240)
    service_minutes_per_100kg: float = Field(default=0.0, ge=0, le=120)
    delivery_days: list[str] = Field(default_factory=list, sa_type=JSON)

    _id = field_validator("id")(_slug)
    _name = field_validator("name")(_printable)
    _texts = field_validator("address", "contact_name", "access_notes")(_printable)
    _days = field_validator("delivery_days")(_weekdays)

    @field_validator("postcode", "phone")
    @classmethod
    def _code(cls, value: str) -> str:
        """Postcodes and phone numbers as people write them: digits, letters, spaces, + . -"""
        value = value.strip()
        if not re.fullmatch(r"[0-9A-Za-z +.()\-]*", value):
            raise ValueError(f"{value!r} holds characters a postcode or phone number does not")
        return value

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        value = value.strip()
        if value and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", value):
            raise ValueError(f"{value!r} is not an e-mail address (name@example.org)")
        return value

    @field_validator("windows")
    @classmethod
    def _windows(cls, windows: dict[str, str]) -> dict[str, str]:
        """Per weekday ``HH:MM-HH:MM``; ``'*'`` stands for every day a weekday does not name."""
        out: dict[str, str] = {}
        every = windows.get("*")
        for day in WEEKDAYS:
            text = windows.get(day, every)
            if text is not None:
                out[day] = "-".join(parse_window(text))
        unknown = set(windows) - set(WEEKDAYS) - {"*"}
        if unknown:
            raise ValueError(f"unknown weekday key(s) {sorted(unknown)}; use '*' or mon..sun")
        return out

    @model_validator(mode="after")
    def _relay_one_day(self) -> SiteIn:
        if self.kind is SiteKind.RELAY and len(self.delivery_days) != 1:
            raise ValueError("a relay point receives its baskets on exactly one delivery day")
        return self


class Site(SiteIn, table=True):
    __tablename__: ClassVar[str] = "site"


class FarmIn(SQLModel):
    site_id: str = Field(primary_key=True, foreign_key="site.id", max_length=64)
    organic_status: OrganicStatus = Field(default=OrganicStatus.CONVENTIONAL, sa_type=String(16))
    brings_own_produce: bool = False
    direct_destinations: list[str] = Field(default_factory=list, sa_type=JSON)
    """Relay points, canteens or shops the farm delivers itself, from the farm, with its own
    vehicle(s) (``depot`` the farm): their produce from this farm skips the hub."""


class Farm(FarmIn, table=True):
    __tablename__: ClassVar[str] = "farm"


class CanteenIn(SQLModel):
    site_id: str = Field(primary_key=True, foreign_key="site.id", max_length=64)
    age_group: AgeGroup = Field(sa_type=String(16))
    covers: dict[str, int] = Field(default_factory=dict, sa_type=JSON)
    local_share: float = Field(default=1.0, gt=0, le=1)
    organic_rule: OrganicRule = Field(default=OrganicRule.EGALIM, sa_type=String(16))
    organic_min_share: float = Field(default=0.2, ge=0, le=1)
    quality_min_share: float = Field(default=0.5, ge=0, le=1)
    holiday_calendar: str | None = Field(default=None, max_length=64)

    @field_validator("covers")
    @classmethod
    def _covers(cls, covers: dict[str, int]) -> dict[str, int]:
        _weekdays(list(covers))
        if any(not 0 <= c <= MAX_COVERS for c in covers.values()):
            raise ValueError(f"covers must be between 0 and {MAX_COVERS:,} a day")
        return {d: covers[d] for d in WEEKDAYS if covers.get(d)}

    @model_validator(mode="before")
    @classmethod
    def _rule_shares(cls, data: Any) -> Any:
        """The rule sets the shares unless the scenario gives them explicitly."""
        if isinstance(data, dict) and data.get("organic_rule") == OrganicRule.ORGANIC_100:
            data = {"organic_min_share": 1.0, "quality_min_share": 1.0, **data}
        return data


class Canteen(CanteenIn, table=True):
    __tablename__: ClassVar[str] = "canteen"


class ShopIn(SQLModel):
    site_id: str = Field(primary_key=True, foreign_key="site.id", max_length=64)
    max_kg_per_week: float = Field(ge=0, le=1_000_000)
    families: list[str] = Field(default_factory=list, sa_type=JSON)
    price_factor: float = Field(default=0.7, gt=0, le=2)


class Shop(ShopIn, table=True):
    __tablename__: ClassVar[str] = "shop"


# --------------------------------------------------------------------------- products


class ProductIn(SQLModel):
    id: str = Field(primary_key=True, max_length=64)
    name: str = Field(min_length=1)
    family: str = Field(min_length=1, max_length=32)
    unit: Unit = Field(default=Unit.KG, sa_type=String(8))
    kg_per_unit: float = Field(default=1.0, gt=0, le=100)
    shelf_life_days: int = Field(default=7, ge=1, le=365)
    edible_fraction: float = Field(default=1.0, gt=0, le=1)
    price_eur_per_kg: float = Field(default=0.0, ge=0, le=1000)
    kg_per_crate: float = Field(default=10.0, gt=0, le=100)
    temperature_class: str = Field(default=AMBIENT, min_length=1, max_length=32)
    """What temperature its produce keeps at (``settings.cold_chain`` says what each class
    needs in which months), e.g. ambient, fresh."""

    _id = field_validator("id")(_slug)
    _name = field_validator("name")(_printable)
    _temperature_class = field_validator("temperature_class")(_slug)


class Product(ProductIn, table=True):
    __tablename__: ClassVar[str] = "product"


class SubstitutionGroupIn(SQLModel):
    """Products a menu line may take interchangeably, e.g. 'soup vegetables'."""

    id: str = Field(primary_key=True, max_length=64)
    name: str = Field(min_length=1)
    members: list[str] = Field(sa_type=JSON, min_length=1)

    _id = field_validator("id")(_slug)
    _name = field_validator("name")(_printable)


class SubstitutionGroup(SubstitutionGroupIn, table=True):
    __tablename__: ClassVar[str] = "substitution_group"


class PortionRuleIn(SQLModel):
    """Grams served per cover for a course, product family ('*' = any) and age group."""

    course: Course = Field(primary_key=True, sa_type=String(16))
    family: str = Field(primary_key=True, max_length=32)
    age_group: AgeGroup = Field(primary_key=True, sa_type=String(16))
    grams: float = Field(gt=0, le=1000)


class PortionRule(PortionRuleIn, table=True):
    __tablename__: ClassVar[str] = "portion_rule"


class HolidayPeriodIn(SQLModel):
    """Days off (inclusive) of a holiday calendar such as ``zone_b``."""

    calendar: str = Field(primary_key=True, max_length=64)
    first_day: dt.date = Field(primary_key=True)
    last_day: dt.date
    name: str = ""

    @model_validator(mode="after")
    def _ordered(self) -> HolidayPeriodIn:
        if self.last_day < self.first_day:
            raise ValueError(f"holiday {self.name!r} ends before it starts")
        return self


class HolidayPeriod(HolidayPeriodIn, table=True):
    __tablename__: ClassVar[str] = "holiday_period"


# --------------------------------------------------------------------------- baskets


class BasketTypeIn(SQLModel):
    id: str = Field(primary_key=True, max_length=64)
    name: str = Field(min_length=1)
    min_kg: float = Field(gt=0, le=50)
    max_kg: float = Field(gt=0, le=50)
    min_products: int = Field(ge=1, le=30)
    max_products: int = Field(ge=1, le=30)
    price_eur: float = Field(default=0.0, ge=0, le=1000)
    max_share_per_product: float = Field(default=1.0, gt=0, le=1)
    product_caps: dict[str, float] = Field(default_factory=dict, sa_type=JSON)
    family_caps: dict[str, float] = Field(default_factory=dict, sa_type=JSON)
    organic_only: bool = False

    _id = field_validator("id")(_slug)
    _name = field_validator("name")(_printable)

    @field_validator("product_caps", "family_caps")
    @classmethod
    def _caps(cls, caps: dict[str, float]) -> dict[str, float]:
        for value in caps.values():
            _share(value)
        return caps

    @model_validator(mode="after")
    def _bands(self) -> BasketTypeIn:
        if self.max_kg < self.min_kg:
            raise ValueError("max_kg is below min_kg")
        if self.max_products < self.min_products:
            raise ValueError("max_products is below min_products")
        return self


class BasketType(BasketTypeIn, table=True):
    __tablename__: ClassVar[str] = "basket_type"


class SubscriptionIn(SQLModel):
    """Baskets of one size at one relay point; ``subscriber`` is empty for a counted group."""

    relay_point_id: str = Field(primary_key=True, foreign_key="site.id", max_length=64)
    basket_type_id: str = Field(primary_key=True, foreign_key="basket_type.id", max_length=64)
    subscriber: str = Field(default="", primary_key=True, max_length=64)
    frequency: Frequency = Field(default=Frequency.WEEKLY, primary_key=True, sa_type=String(16))
    start_week: str = Field(primary_key=True, max_length=8)
    count: int = Field(default=1, ge=1, le=10_000)
    end_week: str | None = Field(default=None, max_length=8)
    paused_weeks: list[str] = Field(default_factory=list, sa_type=JSON)
    contact: str = ""

    @model_validator(mode="after")
    def _weeks(self) -> SubscriptionIn:
        if self.end_week is not None and Week.parse(self.end_week) < Week.parse(self.start_week):
            raise ValueError(f"the subscription ends ({self.end_week}) before it starts")
        return self

    def baskets_in(self, week: Week) -> int:
        """Baskets due in ``week``: within start/end, not paused, on the biweekly parity."""
        start = Week.parse(self.start_week)
        if week < start or (self.end_week and week > Week.parse(self.end_week)):
            return 0
        if str(week) in self.paused_weeks:
            return 0
        if self.frequency == Frequency.BIWEEKLY and (week.index() - start.index()) % 2:
            return 0
        return self.count


class Subscription(SubscriptionIn, table=True):
    __tablename__: ClassVar[str] = "subscription"


# --------------------------------------------------------------------------- supply & demand


class ForecastIn(SQLModel):
    """A farm's harvest forecast of one product for one ISO week."""

    farm_id: str = Field(primary_key=True, foreign_key="site.id", max_length=64)
    product_id: str = Field(primary_key=True, foreign_key="product.id", max_length=64)
    week: str = Field(primary_key=True, max_length=8)
    kg: float = Field(ge=0, le=1_000_000)
    price_eur_per_kg: float = Field(ge=0, le=1000)
    organic_status: OrganicStatus = Field(sa_type=String(16))
    days_available: list[str] = Field(default_factory=list, sa_type=JSON)

    _days = field_validator("days_available")(_weekdays)


class Forecast(ForecastIn, table=True):
    __tablename__: ClassVar[str] = "forecast"


class MenuLineIn(SQLModel):
    """One product (or substitution group) a canteen's dish needs on a day.

    ``kg`` given: taken as is. Otherwise kg = covers × grams ÷ edible fraction × local share.
    """

    canteen_id: str = Field(primary_key=True, foreign_key="site.id", max_length=64)
    date: dt.date = Field(primary_key=True)
    meal: Meal = Field(primary_key=True, sa_type=String(16))
    course: Course = Field(primary_key=True, sa_type=String(16))
    item_id: str = Field(primary_key=True, max_length=64)
    dish: str = ""
    covers: int | None = Field(default=None, ge=0, le=MAX_COVERS)
    portion_g: float | None = Field(default=None, gt=0, le=2000)
    kg: float | None = Field(default=None, ge=0, le=100_000)

    _dish = field_validator("dish")(_printable)


class MenuLine(MenuLineIn, table=True):
    __tablename__: ClassVar[str] = "menu_line"


# --------------------------------------------------------------------------- fleet


class VehicleIn(SQLModel):
    id: str = Field(primary_key=True, max_length=64)
    name: str = Field(min_length=1)
    type: VehicleType = Field(sa_type=String(24))
    depot_id: str = Field(foreign_key="site.id", max_length=64)
    capacity_kg: float = Field(gt=0, le=40_000)
    capacity_crates: int = Field(gt=0, le=10_000)
    shift: str = "06:00-14:00"
    cost_fixed_eur: float = Field(default=0.0, ge=0)
    cost_per_km_eur: float = Field(default=0.0, ge=0)
    cost_per_hour_eur: float = Field(default=0.0, ge=0)
    co2_kg_per_km: float = Field(default=0.0, ge=0, le=5)
    range_km: float = Field(gt=0, le=5000)
    speed_kmh: float = Field(gt=0, le=130)
    max_km_from_hub: float | None = Field(default=None, gt=0)
    allowed_kinds: list[SiteKind] = Field(default_factory=list, sa_type=JSON)
    cold: ColdKind = Field(default=ColdKind.NONE, sa_type=String(16))
    """Its body: none, insulated (isothermal, or a bike's insulated box) or refrigerated."""

    _id = field_validator("id")(_slug)
    _name = field_validator("name")(_printable)

    @field_validator("shift")
    @classmethod
    def _shift(cls, shift: str) -> str:
        return "-".join(parse_window(shift))


class Vehicle(VehicleIn, table=True):
    __tablename__: ClassVar[str] = "vehicle"


# --------------------------------------------------------------------------- travel


class TravelLegIn(SQLModel):
    """Road distance and driving time between two sites, from a routing engine's table."""

    from_id: str = Field(primary_key=True, foreign_key="site.id", max_length=64)
    to_id: str = Field(primary_key=True, foreign_key="site.id", max_length=64)
    km: float = Field(ge=0, le=5000)
    minutes: float = Field(ge=0, le=6000)


class TravelLeg(TravelLegIn, table=True):
    __tablename__: ClassVar[str] = "travel_leg"


# --------------------------------------------------------------------------- bookkeeping


class Setting(SQLModel, table=True):
    """Scenario-wide values: name, horizon, hub, road factor."""

    __tablename__: ClassVar[str] = "setting"
    key: str = Field(primary_key=True, max_length=64)
    value: Any = Field(sa_type=JSON)


class ImportRecord(SQLModel, table=True):
    """Trace of every import that wrote something: what, from where, its fingerprint."""

    __tablename__: ClassVar[str] = "import_record"
    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=32)
    source: str
    sha256: str = Field(max_length=64)
    rows: int
    added: int
    changed: int
    removed: int
    at: dt.datetime


# --------------------------------------------------------------------------- plan runs


class RunStatus(StrEnum):
    """A run is saved as a draft; publishing it supersedes the week's previous published run."""

    DRAFT = "draft"
    PUBLISHED = "published"
    SUPERSEDED = "superseded"


_PUBLISHED = text("status = 'published'")


class Run(SQLModel, table=True):
    """One stored weekly plan: its record, how it was made, and whether people were sent it.

    The partial unique index lets the database itself refuse a second published run of a
    week, whatever the code or a concurrent process does.
    """

    __tablename__: ClassVar[str] = "plan_run"
    __table_args__ = (
        Index(
            "ix_plan_run_one_published_per_week",
            "week",
            unique=True,
            sqlite_where=_PUBLISHED,
            postgresql_where=_PUBLISHED,
        ),
    )
    id: int | None = Field(default=None, primary_key=True)
    week: str = Field(index=True, max_length=8)
    status: RunStatus = Field(default=RunStatus.DRAFT, sa_type=String(16))
    created_at: dt.datetime = Field(sa_type=DateTime(timezone=True))
    published_at: dt.datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    fingerprint: str = Field(max_length=64)
    parameters: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    seed: int = 0
    statistics: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    kpis: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    record: str = Field(sa_type=Text)
    """The PlanRecord's ``model_dump_json()`` (170-500 kB for a Lensois week)."""
    scenario: str = ""


# --------------------------------------------------------------------------- sending


class SendStatus(StrEnum):
    """A document e-mailed to an address, or tried and refused (retried by the next send)."""

    SENT = "sent"
    FAILED = "failed"


class SentDocument(SQLModel, table=True):
    """One document of a run e-mailed (or tried) to one address: what the next send of the
    week compares with, so that a re-published plan resends only what changed and a failed
    send is retried without sending twice what went. No SMTP setting is stored here."""

    __tablename__: ClassVar[str] = "sent_document"
    __table_args__ = (Index("ix_sent_document_week_address", "week", "address"),)
    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="plan_run.id", index=True)
    week: str = Field(max_length=8)
    recipient: str = Field(max_length=200)
    """The site's id, or ``driver:NAME`` for a driver (drivers have no site)."""
    address: str = Field(max_length=320)
    document: str = Field(max_length=200)
    """The document in the run's folder without extension: ``pick_lists/farm_a``."""
    files: dict[str, str] = Field(default_factory=dict, sa_type=JSON)
    """Each attached file's name -> SHA-256 of the bytes sent (stamped with the run)."""
    content_sha256: str = Field(max_length=64)
    """SHA-256 of the document's content without the run's stamp: equal across runs when what
    the person has to do is the same (what "unchanged" compares)."""
    sent_at: dt.datetime = Field(sa_type=DateTime(timezone=True))
    status: SendStatus = Field(sa_type=String(16))
    error: str = ""
