"""The record as the documents read it: what each stop moves, who comes when, in words.

Every document goes through one view so that the route sheets, the map, the pick lists and
the delivery notes agree on the same kg, rounded the same way.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from urllib.parse import quote

from foodchain.allocation import Flow
from foodchain.allocation.export import kg
from foodchain.documents.i18n import Language
from foodchain.documents.pages import Link, RunStamp
from foodchain.files.writing import XlsxLayout
from foodchain.plan.record import PlanRecord, ProductInfo, StopRow
from foodchain.weeks import WEEKDAYS, clock, fold


@dataclass(frozen=True)
class Amount:
    """A quantity as people count it: crates of a product sold by weight (full crates and what
    is left for one more), or pieces/bunches of one sold by the piece; the kg always."""

    kg: float
    crates: int | None = None
    """Full crates; None when the crate size is unknown or the product is counted by piece."""
    rest_kg: float = 0.0
    """Kg in one more, partly filled crate."""
    pieces: int | None = None
    unit: str = ""
    """``piece`` or ``bunch`` when ``pieces`` is given."""

    def text(self, t: Language, brief: bool = False) -> str:
        """``brief``: a part crate is its kg alone (a driver's sheet, where every line
        counts), not "(less than a crate)"."""
        weight = t("kg_amount", kg=t.kg(self.kg))
        if self.pieces is not None:
            plural = {"piece": "pieces", "bunch": "bunches"}.get(self.unit, self.unit)
            unit = t.optional("unit", self.unit if self.pieces == 1 else plural)
            return t("pieces_amount", n=self.pieces, unit=unit, weight=weight)
        if self.crates is None:
            return weight
        if not self.crates:
            return weight if brief else t("part_crate_amount", weight=weight)
        crates = t("n_crates", n=self.crates) if self.crates > 1 else t("n_crate", n=1)
        if self.rest_kg:
            return t("crates_rest_amount", crates=crates, rest=t.kg(self.rest_kg), weight=weight)
        return t("crates_amount", crates=crates, weight=weight)


def amount(product: ProductInfo | None, kilograms: float) -> Amount:
    """``kilograms`` of ``product`` in crates (sold by weight) or pieces (sold by the piece),
    the kg rounded to 100 g as a scale shows them."""
    weight = round_kg(kilograms)
    if product is None:
        return Amount(weight)
    if product.unit != "kg" and product.kg_per_unit > 0:
        return Amount(
            weight, pieces=max(1, round(kilograms / product.kg_per_unit)), unit=product.unit
        )
    if not product.kg_per_crate:
        return Amount(weight)
    crates = int((weight + 0.05) // product.kg_per_crate)
    rest = round_kg(weight - crates * product.kg_per_crate)
    return Amount(weight, crates, rest)


def round_kg(kilograms: float) -> float:
    """To 100 g, never -0."""
    value = round(kilograms, 1)
    return value if value > 0 else 0.0


@dataclass(frozen=True)
class Line:
    """What a stop picks up or drops: one product, or the baskets of one size."""

    label: str
    kg: float
    baskets: int | None = None
    units: str = ""
    amount: Amount | None = None
    """Crates or pieces, for a product."""
    key: str = ""
    """The product's or the basket size's id."""

    def text(self, t: Language) -> str:
        if self.baskets is not None:
            return t("basket_line", name=self.label, count=self.baskets, kg=t.number(self.kg))
        if self.units:
            return t("product_units_line", name=self.label, kg=t.number(self.kg), units=self.units)
        return t("product_line", name=self.label, kg=t.number(self.kg))


class PlanView:
    """Indexes of the record and the words to show its ids, dates and times."""

    def __init__(self, record: PlanRecord, t: Language, stamp: RunStamp | None = None) -> None:
        self.record = record
        self.t = t
        self.stamp = stamp
        """The run the documents come from: every page carries it (``Page.stamp``)."""
        self.run_id = stamp.run_id if stamp is not None else None
        """The stored run the plan is, when it is one (delivery note numbers carry it)."""
        self.xlsx = XlsxLayout(stamp=stamp.text(t) if stamp is not None else "")
        """How people's XLSX documents are laid out: the run stamp on every printed page."""
        self.flows = [f for f in record.flows if kg(f.kg) > 0]
        self.trips = record.trips()
        self._visits: dict[tuple[str, dt.date], list[StopRow]] = defaultdict(list)
        for rows in self.trips.values():
            for row in rows:
                if row.action in ("pickup", "delivery"):
                    self._visits[(row.site_id, row.day)].append(row)
        self._filled = {(f.relay_point_id, f.day, f.basket_type_id): f.filled for f in record.fills}
        self._collected: dict[tuple[str, dt.date], list[Flow]] = defaultdict(list)
        self._delivered: dict[tuple[str, dt.date], list[Flow]] = defaultdict(list)
        for f in self.flows:
            self._collected[(f.farm_id, f.pickup_day)].append(f)
            self._delivered[(f.destination_id, f.delivery_day)].append(f)
        self._order: dict[str, str] = {}

    # ----------------------------------------------------------------- names and words

    def name(self, key: str) -> str:
        return self.record.name(key)

    def order(self, key: str) -> str:
        """Sort key of a name, accents ignored (Échalote between Chou and Navet)."""
        if key not in self._order:
            self._order[key] = fold(self.name(key))
        return self._order[key]

    def footer(self) -> str:
        record = self.record
        return self.t("footer", week=record.week, scenario=record.scenario or "-")

    def hub_name(self) -> str:
        return self.name(self.record.hub_id)

    def address(self, site_id: str) -> str:
        """Street address, postcode and commune, the commune once."""
        site = self.record.sites.get(site_id)
        if site is None:
            return ""
        parts = [site.address] if site.address else []
        town = " ".join(p for p in (site.postcode, site.commune) if p)
        parts += [town] if town and (not site.commune or site.commune not in site.address) else []
        return ", ".join(parts)

    def town(self, site_id: str) -> str:
        """Postcode and commune, as far as they are known."""
        site = self.record.sites.get(site_id)
        return " ".join(p for p in (site.postcode, site.commune) if p) if site else ""

    def where(self, site_id: str) -> str:
        """The address for a driver: the street, or a statement that it is not known."""
        site = self.record.sites.get(site_id)
        if site is not None and site.address:
            return self.address(site_id)
        town = self.town(site_id)
        return f"{town} - {self.t('address_missing')}" if town else self.t("address_missing")

    def where_and_who(self, site_id: str) -> list[str]:
        """Address and contact, or one short statement when neither is known (a route
        sheet's row stays one line shorter for each such stop)."""
        site = self.record.sites.get(site_id)
        if site is None or site.address or site.contact_name or site.phone:
            return [self.where(site_id), self.contact(site_id)]
        town = self.town(site_id)
        missing = self.t("address_contact_missing")
        return [f"{town} - {missing}" if town else missing]

    def contact(self, site_id: str) -> str:
        """Who to ask for, and their phone, or a statement that nobody is named."""
        site = self.record.sites.get(site_id)
        if site is None or not (site.contact_name or site.phone):
            return self.t("contact_missing")
        who = [site.contact_name] if site.contact_name else []
        who += [self.t("phone", phone=site.phone)] if site.phone else []
        return ", ".join(who)

    def access(self, site_id: str) -> str:
        site = self.record.sites.get(site_id)
        return self.t("access", notes=site.access_notes) if site and site.access_notes else ""

    def navigation(self, site_id: str) -> list[Link]:
        """A ``geo:`` link (phones open their maps app) and an OpenStreetMap link."""
        site = self.record.sites.get(site_id)
        if site is None:
            return []
        at = f"{site.lat:.5f},{site.lon:.5f}"
        label = quote(site.name, safe="")
        osm = (
            f"https://www.openstreetmap.org/?mlat={site.lat:.5f}&mlon={site.lon:.5f}"
            f"#map=18/{site.lat:.5f}/{site.lon:.5f}"
        )
        return [
            Link(self.t("nav_geo"), f"geo:{at}?q={at}({label})"),
            Link(self.t("nav_osm"), osm),
        ]

    def amount(self, product_id: str, kilograms: float) -> Amount:
        return amount(self.record.products.get(product_id), kilograms)

    def vehicle_type(self, vehicle_id: str) -> str:
        vehicle = self.record.vehicles.get(vehicle_id)
        return vehicle.type if vehicle else ""

    def units(self, product_id: str, kilograms: float) -> str:
        """``≈ 3 pièces`` for products sold by the piece or bunch, else empty."""
        product = self.record.products.get(product_id)
        if product is None or product.unit == "kg" or product.kg_per_unit <= 0:
            return ""
        count = max(1, round(kilograms / product.kg_per_unit))
        plural = {"piece": "pieces", "bunch": "bunches"}.get(product.unit, product.unit)
        unit = self.t.optional("unit", product.unit if count == 1 else plural)
        return self.t("approx_units", n=count, unit=unit)

    def window(self, row: StopRow) -> str:
        if row.window is not None:
            return f"{clock(row.window[0])}-{clock(row.window[1])}"
        site = self.record.sites.get(row.site_id)
        return site.windows.get(WEEKDAYS[row.day.weekday()], "") if site else ""

    # ----------------------------------------------------------------- what moves

    def picked_up(self, farm_id: str, day: dt.date) -> list[Line]:
        """A farm's flows collected that day, per product."""
        return self._per_product(self._collected.get((farm_id, day), []))

    def dropped(self, site_id: str, day: dt.date) -> list[Line]:
        """A destination's flows delivered that day: baskets per size, other goods per product."""
        flows = self._delivered.get((site_id, day), [])
        baskets: dict[str, float] = defaultdict(float)
        for f in flows:
            if f.purpose == "basket":
                baskets[f.item_id] += f.kg
        lines = [
            Line(self.name(size), kg(total), self._filled.get((site_id, day, size), 0), key=size)
            for size, total in sorted(baskets.items())
        ]
        return lines + self._per_product([f for f in flows if f.purpose != "basket"])

    def _per_product(self, flows: list[Flow]) -> list[Line]:
        totals: dict[str, float] = defaultdict(float)
        for f in flows:
            totals[f.product_id] += f.kg
        return [
            Line(
                self.name(product),
                kg(total),
                units=self.units(product, total),
                amount=self.amount(product, kg(total)),
                key=product,
            )
            for product, total in sorted(totals.items(), key=lambda p: self.order(p[0]))
        ]

    def stop_lines(self, row: StopRow) -> list[Line]:
        if row.action == "pickup":
            return self.picked_up(row.site_id, row.day)
        if row.action == "delivery":
            return self.dropped(row.site_id, row.day)
        return []

    def stop_words(self, row: StopRow) -> str:
        """The kg a visit moves; for one part of a split stop, also the site's total."""
        moved = self.t.kg(row.pickup_kg + row.delivery_kg)
        if row.parts == 1:
            return self.t("stop_kg", kg=moved)
        total = self.t.kg(sum(line.kg for line in self.stop_lines(row)))
        return self.t("part_of", part=row.part, parts=row.parts, kg=moved, total=total)

    # ----------------------------------------------------------------- who comes when

    def visits(self, site_id: str, day: dt.date) -> list[StopRow]:
        return self._visits.get((site_id, day), [])

    def handover(self, farm_id: str, day: dt.date) -> str:
        """How a farm's harvest of the day reaches the hub."""
        if self.record.brings(farm_id, day):
            return self.t("bring_to_hub", hub=self.hub_name())
        return self._visit_words("collected_at", farm_id, day)

    def delivery(self, site_id: str, day: dt.date) -> str:
        """When the site is delivered that day, and by which farm when the farm itself
        brings it from its farm (``Flow.delivered_by``)."""
        words = self._visit_words("delivery_at", site_id, day)
        farms = sorted(
            {
                f.delivered_by
                for f in self.flows
                if f.delivered_by and f.destination_id == site_id and f.delivery_day == day
            }
        )
        if not farms:
            return words
        direct = self.t("direct_from_farm", farm=", ".join(self.name(f) for f in farms))
        return f"{words} · {direct}"

    def action(self, row: StopRow) -> str:
        """What the driver does at a row; leaving from or back at a depot that is not the hub
        (a farm's own round) names it."""
        if row.action in ("depart", "return") and row.site_id != self.record.hub_id:
            return self.t(f"action_{row.action}_from", site=self.name(row.site_id))
        return self.t.optional("action", row.action)

    def _visit_words(self, key: str, site_id: str, day: dt.date) -> str:
        visits = self.visits(site_id, day)
        if not visits:
            return self.t("not_planned")
        return ", ".join(
            self.t(key, time=clock(v.arrival), vehicle=v.vehicle_id)
            for v in sorted(visits, key=lambda v: v.arrival)
        )
