"""The documents of a weekly plan: one per person who needs one, every kg agreeing with the
record, escaped and neutralised where names from people's files go, in the plan's language."""

from __future__ import annotations

import csv
import datetime as dt
import json
import multiprocessing
import string
from collections import defaultdict
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import Engine

from foodchain.db import open_database
from foodchain.documents import MARK, RunStamp, write_documents
from foodchain.documents.i18n import WEEKDAY_NAMES, WORDS, Language
from foodchain.errors import FoodchainError
from foodchain.files.reading import read_table
from foodchain.plan import PlanOptions, PlanRecord, plan_week
from foodchain.plan.record import StopRow, UnservedRow
from foodchain.scenario import install_scenario, load_scenario
from foodchain.weeks import Week

from .conftest import LENSOIS, TINY

OPTIONS = PlanOptions(deterministic=True, solution_limit=50)
KG = 0.01
GRAM = 0.0005
"""Tables write kg to the gram: a sum of n rows is within n half-grams of the record's."""


def _kg(value: float, rows: int) -> object:
    return pytest.approx(value, abs=max(KG, GRAM * rows))


def _engine(folder: Path, scenario: Path) -> Engine:
    engine = open_database(f"sqlite:///{folder / 'foodchain.db'}")
    install_scenario(engine, load_scenario(scenario))
    return engine


@pytest.fixture(scope="module")
def record(tmp_path_factory: pytest.TempPathFactory) -> PlanRecord:
    engine = _engine(tmp_path_factory.mktemp("tiny"), TINY)
    return plan_week(engine, Week.parse("2026-W49"), OPTIONS).record


@pytest.fixture(scope="module")
def documents(record: PlanRecord, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("documents") / "2026-W49"
    write_documents(record, folder)
    return folder


def _number(text: str) -> float:
    return float(text.replace(",", ".")) if text else 0.0


def _column(path: Path, name: str) -> list[str]:
    table = read_table(path)
    index = table.header.index(name)
    return [cells[index] for _, cells in table.rows]


def _total(path: Path, name: str) -> float:
    return sum(_number(v) for v in _column(path, name))


def _files(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}


def _expected_files(record: PlanRecord) -> set[str]:
    farms = {f.farm_id for f in record.flows}
    canteens = {f.destination_id for f in record.flows if f.purpose == "canteen"}
    others = {f.destination_id for f in record.flows if f.purpose != "canteen"}
    sheets = {f"{day.isoformat()}_{vehicle}" for day, vehicle, _ in record.trips()}
    return (
        {"allocation.csv", "baskets.csv", "shortfalls.csv", "surplus.csv", "routes.csv"}
        | {"kpis.json", "routes.geojson", "map.html", "index.html"}
        | {f"route_sheets/{s}.{x}" for s in sheets for x in ("html", "csv")}
        | {f"pick_lists/{f}.{x}" for f in farms for x in ("html", "csv", "xlsx")}
        | ({"packing/hub.html", "packing/hub.csv"} if record.flows else set())
        | ({"packing/hub_schedule.csv"} if record.packing else set())
        | ({"packing/crates.csv"} if any(r.empties for r in record.stops) else set())
        | {f"packing_lists/{s}.{x}" for s in others for x in ("html", "csv")}
        | {f"delivery_notes/{c}.{x}" for c in canteens for x in ("html", "csv", "xlsx")}
    )


def _check_documents(record: PlanRecord, folder: Path, written: list[Path]) -> None:
    """Every expected document exists, and every table's kg agrees with the record."""
    on_disk = _files(folder)
    assert on_disk == _expected_files(record) | {MARK}
    assert {p.relative_to(folder).as_posix() for p in written} == on_disk - {MARK}
    assert not record.unserved
    flows = record.flows
    total = sum(f.kg for f in flows)
    assert _total(folder / "allocation.csv", "kg") == _kg(total, len(flows))
    # Pick lists: each farm's rows are its flows, summed per pickup day and product, and for
    # a farm that delivers some destinations itself, the other farms' produce its van takes
    # at the hub for them (on the day it is handed over).
    for farm in {f.farm_id for f in flows}:
        taken = [f for f in flows if f.delivered_by == farm and f.farm_id != farm]
        farm_kg = sum(f.kg for f in flows if f.farm_id == farm) + sum(f.kg for f in taken)
        expected: dict[tuple[str, str], float] = {}
        for f in flows:
            if f.farm_id == farm or f in taken:
                day = f.handed_over if f in taken and f.handed_over else f.pickup_day
                picked = (f"{day:%d/%m/%Y}", record.products[f.product_id].name)
                expected[picked] = expected.get(picked, 0.0) + f.kg
        for suffix in ("csv", "xlsx"):
            path = folder / "pick_lists" / f"{farm}.{suffix}"
            assert _total(path, "Quantité (kg)") == _kg(farm_kg, len(flows)), path
            sheet = read_table(path)
            columns = ("Jour de collecte", "Produit", "Quantité (kg)")
            day_at, product_at, kg_at = (sheet.header.index(c) for c in columns)
            picks: dict[tuple[str, str], float] = {}
            for _, c in sheet.rows:
                picked = (c[day_at][-10:], c[product_at])
                picks[picked] = picks.get(picked, 0.0) + _number(c[kg_at])
            assert picks == pytest.approx(expected, abs=0.012), path
    # Delivery notes: every row (day, product, farm) is the canteen's flows, summed.
    for canteen in {f.destination_id for f in flows if f.purpose == "canteen"}:
        wanted: dict[tuple[str, str, str], float] = {}
        for f in flows:
            if f.destination_id == canteen:
                line = (
                    f"{f.delivery_day:%d/%m/%Y}",
                    record.products[f.product_id].name,
                    record.sites[f.farm_id].name,
                )
                wanted[line] = wanted.get(line, 0.0) + f.kg
        note = read_table(folder / "delivery_notes" / f"{canteen}.csv")
        titles = ("Jour de livraison", "Produit", "Ferme", "Quantité (kg)")
        day_at, product_at, farm_at, kg_at = (note.header.index(c) for c in titles)
        noted: dict[tuple[str, str, str], float] = {}
        for _, c in note.rows:
            if not c[day_at]:
                continue  # a total row
            line = (c[day_at][-10:], c[product_at], c[farm_at])
            noted[line] = noted.get(line, 0.0) + _number(c[kg_at])
        assert noted == pytest.approx(wanted, abs=0.006), canteen
    # Canteens' delivery notes, shops' packing lists.
    for purpose, subfolder in (("canteen", "delivery_notes"), ("shop", "packing_lists")):
        for site in {f.destination_id for f in flows if f.purpose == purpose}:
            site_kg = sum(f.kg for f in flows if f.destination_id == site)
            path = folder / subfolder / f"{site}.csv"
            assert _total(path, "Quantité (kg)") == _kg(site_kg, len(flows)), path
    # Packing lists: each row (day, size, product) is the week's composition of that size
    # for the baskets filled at that relay point that day.
    for relay in {f.relay_point_id for f in record.fills}:
        composed: dict[tuple[str, str, str], tuple[float, float]] = {}
        for fill in record.fills:
            if fill.relay_point_id != relay or not fill.filled:
                continue
            for basket_line in record.baskets:
                if basket_line.basket_type_id == fill.basket_type_id:
                    row_key = (
                        f"{fill.day:%d/%m/%Y}",
                        record.names[fill.basket_type_id],
                        record.products[basket_line.product_id].name,
                    )
                    composed[row_key] = (float(fill.filled), basket_line.kg_per_basket)
        sheet = read_table(folder / "packing_lists" / f"{relay}.csv")
        titles = ("Jour de livraison", "Taille de panier", "Produit", "Paniers remplis")
        day_at, size_at, product_at, filled_at = (sheet.header.index(c) for c in titles)
        per_basket_at = sheet.header.index("Par panier (kg)")
        packed_rows = {
            (c[day_at][-10:], c[size_at], c[product_at]): (
                _number(c[filled_at]),
                _number(c[per_basket_at]),
            )
            for _, c in sheet.rows
            if c[day_at] and c[product_at]
        }
        assert packed_rows.keys() == composed.keys(), relay
        for row_key, (filled, per_basket) in composed.items():
            assert packed_rows[row_key][0] == filled and packed_rows[row_key][1] == pytest.approx(
                per_basket, abs=0.0006
            ), (relay, row_key)
    # Relay points: baskets filled x kg per basket is what the allocation sends them.
    for relay in {f.destination_id for f in flows if f.purpose == "basket"}:
        relay_kg = sum(f.kg for f in flows if f.destination_id == relay)
        table = read_table(folder / "packing_lists" / f"{relay}.csv")
        filled = table.header.index("Paniers remplis")
        per_basket = table.header.index("Par panier (kg)")
        packed = sum(_number(c[filled]) * _number(c[per_basket]) for _, c in table.rows)
        assert packed == pytest.approx(relay_kg, rel=2e-3, abs=KG), relay
        path = folder / "packing_lists" / f"{relay}.csv"
        assert _total(path, "Total (kg)") == _kg(relay_kg, len(table.rows))
    # The rounds deliver every flow and collect every flow of the farms they visit.
    routes = folder / "routes.csv"
    assert _total(routes, "delivery_kg") == _kg(total, len(record.stops))
    collected = sum(f.kg for f in flows if not record.sites[f.farm_id].brings_own_produce)
    assert _total(routes, "pickup_kg") == _kg(collected, len(record.stops))
    rows = [r for rows in record.trips().values() for r in rows]
    assert _column(routes, "arrival") == [
        "{:02d}:{:02d}".format(*divmod(round(r.arrival), 60)) for r in rows
    ]
    # Route sheets: the kg listed at each stop are what the stop moves.
    for (day, vehicle, _), rows in record.trips().items():
        sheet = read_table(folder / "route_sheets" / f"{day.isoformat()}_{vehicle}.csv")
        index = {name: sheet.header.index(name) for name in ("Ordre", "Tournée")}
        listed: dict[tuple[int, int], float] = defaultdict(float)
        for _, cells in sheet.rows:
            key = (int(cells[index["Tournée"]]), int(cells[index["Ordre"]]))
            listed[key] += _number(cells[sheet.header.index("Quantité (kg)")])
        for row in rows:
            moved = row.pickup_kg + row.delivery_kg
            assert listed[(row.trip, row.seq)] == _kg(moved, len(sheet.rows)), (day, row)


def test_the_tiny_plan_gives_every_document_and_the_kg_agree(
    record: PlanRecord, documents: Path
) -> None:
    assert record.flows and record.stops and record.fills
    written = [p for p in documents.rglob("*") if p.is_file() and p.name != MARK]
    _check_documents(record, documents, written)


def test_write_documents_returns_what_it_wrote(record: PlanRecord, tmp_path: Path) -> None:
    written = write_documents(record, tmp_path / "a" / "b")
    assert all(p.is_file() for p in written)
    _check_documents(record, tmp_path / "a" / "b", written)


def test_the_lensois_plan_gives_every_document_and_the_kg_agree(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    engine = _engine(tmp_path_factory.mktemp("lensois"), LENSOIS)
    options = PlanOptions(deterministic=True, solution_limit=5)
    record = plan_week(engine, Week.parse("2026-W49"), options).record
    folder = tmp_path_factory.mktemp("lensois_documents")
    _check_documents(record, folder, write_documents(record, folder))


def test_geojson_has_a_line_per_trip_from_the_hub_and_points_on_the_sites(
    record: PlanRecord, documents: Path
) -> None:
    collection = json.loads((documents / "routes.geojson").read_text(encoding="utf-8"))
    assert collection["type"] == "FeatureCollection"
    lines = [f for f in collection["features"] if f["geometry"]["type"] == "LineString"]
    points = [f for f in collection["features"] if f["geometry"]["type"] == "Point"]
    trips = record.trips()
    assert len(lines) == len(trips)
    assert len(points) == sum(len(rows) - 2 for rows in trips.values())
    hub = record.sites[record.hub_id]
    for line in lines:
        coordinates = line["geometry"]["coordinates"]
        assert coordinates[0] == coordinates[-1] == [hub.lon, hub.lat]
        props = line["properties"]
        assert len(coordinates) == len(
            trips[(dt.date.fromisoformat(props["day"]), props["vehicle_id"], props["trip"])]
        )
    lons = [s.lon for s in record.sites.values()]
    lats = [s.lat for s in record.sites.values()]
    for point in points:
        lon, lat = point["geometry"]["coordinates"]
        assert min(lons) <= lon <= max(lons) and min(lats) <= lat <= max(lats)
        site = record.sites[point["properties"]["site_id"]]
        assert (lon, lat) == (site.lon, site.lat)
        assert {"vehicle_id", "vehicle_type", "day", "trip", "seq", "site_name", "action"} <= set(
            point["properties"]
        )
        assert point["properties"]["arrival"][2] == ":"
    assert "crs" not in collection


def test_the_map_shows_every_vehicle_and_day(record: PlanRecord, documents: Path) -> None:
    page = (documents / "map.html").read_text(encoding="utf-8")
    assert "leaflet" in page.lower()
    for _, vehicle, _ in record.trips():
        assert vehicle in page
    for day in {day for day, _, _ in record.trips()}:
        assert WEEKDAY_NAMES["fr"][day.weekday()] in page


class _Page(HTMLParser):
    """The elements of a page that load something, its inline scripts and paragraphs."""

    def __init__(self) -> None:
        super().__init__()
        self.loads: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[tuple[dict[str, str | None], str]] = []
        self.paragraphs: list[str] = []
        self._open: tuple[str, dict[str, str | None]] | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag in ("script", "link", "img", "iframe", "embed", "object", "source"):
            self.loads.append((tag, attributes))
        if tag in ("script", "p"):
            self._open, self._text = (tag, attributes), []

    def handle_data(self, data: str) -> None:
        if self._open is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if self._open is not None and tag == self._open[0]:
            if tag == "script":
                self.scripts.append((self._open[1], "".join(self._text)))
            else:
                self.paragraphs.append("".join(self._text))
            self._open = None


def _parse(path: Path) -> _Page:
    page = _Page()
    page.feed(path.read_text(encoding="utf-8"))
    return page


def _map_data(page: _Page) -> dict[str, Any]:
    blocks = [text for attrs, text in page.scripts if attrs.get("id") == "plan-data"]
    assert len(blocks) == 1 and blocks[0].strip()
    data: dict[str, Any] = json.loads(blocks[0])
    return data


def test_the_map_needs_no_network_and_holds_every_trip_and_stop(
    record: PlanRecord, documents: Path
) -> None:
    page = _parse(documents / "map.html")
    # Nothing is fetched: no script, stylesheet, image or frame comes from elsewhere.
    for tag, attrs in page.loads:
        assert not attrs.get("src") and not attrs.get("href"), (tag, attrs)
    code = "".join(text for _, text in page.scripts)
    assert "Leaflet 1.9.4" in code and "L.map(" in code
    assert WORDS["fr"]["map_offline"] in page.paragraphs  # tiles need a network: said
    data = _map_data(page)
    days = data["days"]
    assert [d["day"] for d in days] == sorted({day.isoformat() for day, _, _ in record.trips()})
    assert [d["label"] for d in days] == [
        f"{WEEKDAY_NAMES['fr'][dt.date.fromisoformat(d['day']).weekday()]} "
        f"{dt.date.fromisoformat(d['day']):%d/%m/%Y}"
        for d in days
    ]
    trips = {(d["day"], t["vehicle"], t["trip"]): t["path"] for d in days for t in d["trips"]}
    stops = {
        (d["day"], s["vehicle"], s["trip"], s["seq"]): (s["site"], s["at"])
        for d in days
        for s in d["stops"]
    }
    expected_stops = {}
    for (day, vehicle, trip), rows in record.trips().items():
        sites = [record.sites[r.site_id] for r in rows]
        assert trips.pop((day.isoformat(), vehicle, trip)) == [[s.lat, s.lon] for s in sites]
        for row, site in zip(rows[1:-1], sites[1:-1], strict=True):
            expected_stops[(day.isoformat(), vehicle, trip, row.seq)] = (
                row.site_id,
                [site.lat, site.lon],
            )
    assert not trips  # no trip the record does not have
    assert stops == expected_stops
    for day in days:  # each day's layer is fitted to all of its rounds
        (south, west), (north, east) = day["bounds"]
        points = [p for t in day["trips"] for p in t["path"]]
        assert south == min(p[0] for p in points) and north == max(p[0] for p in points)
        assert west == min(p[1] for p in points) and east == max(p[1] for p in points)


def _pages(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*.html"))


def test_every_page_says_which_run_and_status_it_comes_from(
    record: PlanRecord, tmp_path: Path
) -> None:
    at = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)
    local = at.astimezone()
    write_documents(record, tmp_path / "draft", stamp=RunStamp(3, "draft", at))
    write_documents(record, tmp_path / "published", "en", RunStamp(2, "published", at))
    write_documents(record, tmp_path / "none")
    draft = f"BROUILLON - run 3 · planifié le {local:%d/%m/%Y à %H:%M}"
    published = f"PUBLISHED - run 2 · published {local:%Y-%m-%d %H:%M}"
    assert len(_pages(tmp_path / "draft")) > 5  # index, map, route sheets, lists, notes
    for folder, stamp in (("draft", draft), ("published", published)):
        for path in _pages(tmp_path / folder):
            text = path.read_text(encoding="utf-8")
            assert stamp in text, path  # at the top of the page (the map's header too)
            assert text.index(stamp) < text.index("<h1>"), path
        assert (
            (tmp_path / folder / MARK)
            .read_text(encoding="utf-8")
            .splitlines()[0]
            .endswith({"draft": "run 3 draft", "published": "run 2 published"}[folder])
        )
    for path in _pages(tmp_path / "none"):
        text = path.read_text(encoding="utf-8")
        assert "BROUILLON" not in text and "PUBLIÉ" not in text, path


def test_the_stamp_is_in_the_margin_of_every_printed_sheet(
    record: PlanRecord, tmp_path: Path
) -> None:
    """A CSS string that no stamp can break out of, in the page's top margin."""
    at = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)
    write_documents(record, tmp_path, stamp=RunStamp(3, "draft", at))
    text = (tmp_path / "index.html").read_text(encoding="utf-8")
    rule = text[text.index("@top-right") :].split(";")[0]
    # the escape's own space, then the text's (test_driver_documents reads it back)
    assert rule.startswith('@top-right { content: "BROUILLON \\00002d  run 3 ')
    assert rule.count('"') == 2 and "<" not in rule


def _headline(folder: Path) -> list[str]:
    page = _parse(folder / "index.html")
    return [p for p in page.paragraphs if "stamp" not in p]


def test_the_index_headline_gives_what_is_delivered_stops_left_out_first(
    record: PlanRecord, tmp_path: Path
) -> None:
    canteens = {s for s, site in record.sites.items() if site.kind == "canteen"}
    stop = next(r for r in record.stops if r.action == "delivery" and r.site_id in canteens)
    allocated = sum(f.kg for f in record.flows if f.purpose == "canteen")
    lost = sum(
        f.kg for f in record.flows if (f.destination_id, f.delivery_day) == (stop.site_id, stop.day)
    )
    assert lost > 0.1
    write_documents(record, tmp_path / "served")
    served = _headline(tmp_path / "served")
    assert served[0] == WORDS["fr"]["kpi_left_out_none"]
    number = f"{allocated:,.1f}".replace(",", "\u202f").replace(".", ",")
    assert served[1].startswith(f"Cantines : {number} kg livrés sur "), served
    assert "alloués" not in served[1]

    broken = record.model_copy(deep=True)
    broken.stops = [r for r in record.stops if r != stop]
    broken.unserved = [
        UnservedRow(
            day=stop.day,
            site_id=stop.site_id,
            action="delivery",
            kg=stop.delivery_kg,
            reason="no_vehicle_fits",
            explanation="too heavy for every vehicle",
        )
    ]
    write_documents(broken, tmp_path / "left_out")
    headline = _headline(tmp_path / "left_out")
    assert headline[0].startswith("Arrêts obligatoires non desservis : 1 ("), headline
    delivered = f"{allocated - lost:,.1f}".replace(",", "\u202f").replace(".", ",")
    assert headline[1].startswith(f"Cantines : {delivered} kg livrés sur "), headline
    assert headline[1].endswith(f" ; {number} kg alloués"), headline


def test_documents_speak_the_plans_language(record: PlanRecord, tmp_path: Path) -> None:
    assert record.language == "fr"
    write_documents(record, tmp_path / "fr")
    write_documents(record, tmp_path / "en", "en")
    farm = record.flows[0].farm_id
    fr = read_table(tmp_path / "fr" / "pick_lists" / f"{farm}.csv").header
    en = read_table(tmp_path / "en" / "pick_lists" / f"{farm}.csv").header
    assert "Produit" in fr and "Jour de collecte" in fr
    assert "Product" in en and "Pickup day" in en
    for name in ("allocation.csv", "routes.csv", "baskets.csv"):
        assert (
            read_table(tmp_path / "fr" / name).header == read_table(tmp_path / "en" / name).header
        )
    day = record.flows[0].pickup_day
    fr_page = (tmp_path / "fr" / "pick_lists" / f"{farm}.html").read_text(encoding="utf-8")
    en_page = (tmp_path / "en" / "pick_lists" / f"{farm}.html").read_text(encoding="utf-8")
    assert f"{WEEKDAY_NAMES['fr'][day.weekday()]} {day:%d/%m/%Y}" in fr_page
    assert f"{WEEKDAY_NAMES['en'][day.weekday()]} {day.isoformat()}" in en_page
    assert '<html lang="fr">' in fr_page and '<html lang="en">' in en_page
    index = (tmp_path / "en" / "index.html").read_text(encoding="utf-8")
    assert "Route sheets" in index and "Feuilles de route" not in index


def test_an_unknown_language_is_refused_before_writing(record: PlanRecord, tmp_path: Path) -> None:
    with pytest.raises(FoodchainError, match=r"'de'.*fr, en"):
        write_documents(record, tmp_path / "out", "de")
    assert not (tmp_path / "out").exists()
    bad = record.model_copy(update={"language": "xx"})
    with pytest.raises(FoodchainError, match="'xx'"):
        write_documents(bad, tmp_path / "out")


def test_both_languages_have_the_same_words() -> None:
    def fields(text: str) -> set[str]:
        return {name for _, name, _, _ in string.Formatter().parse(text) if name}

    assert WORDS["fr"].keys() == WORDS["en"].keys()
    for key, text in WORDS["fr"].items():
        assert fields(text) == fields(WORDS["en"][key]), key


HOSTILE_SITE = 'Ferme <script>alert("x")</script> `${alert(1)}` \\'
HOSTILE_PRODUCT = '=HYPERLINK("http://evil","clic")'


def test_names_from_peoples_files_are_escaped_and_neutralised(
    record: PlanRecord, tmp_path: Path
) -> None:
    hostile = record.model_copy(deep=True)
    farm = next(f.farm_id for f in record.flows if not record.sites[f.farm_id].brings_own_produce)
    product = next(f.product_id for f in record.flows if f.farm_id == farm)
    hostile.sites[farm] = hostile.sites[farm].model_copy(update={"name": HOSTILE_SITE})
    hostile.products[product] = hostile.products[product].model_copy(
        update={"name": HOSTILE_PRODUCT}
    )
    written = write_documents(hostile, tmp_path)
    pages = [p for p in written if p.suffix == ".html"]
    for page in pages:
        assert "<script>alert" not in page.read_text(encoding="utf-8"), page
    assert "${alert" not in (tmp_path / "map.html").read_text(encoding="utf-8")
    route_sheet = next(p for p in pages if p.parent.name == "route_sheets")
    pick_list = tmp_path / "pick_lists" / f"{farm}.html"
    for page in (pick_list, tmp_path / "index.html", route_sheet, tmp_path / "map.html"):
        assert "&lt;script&gt;alert(" in page.read_text(encoding="utf-8"), page
    products = _column(tmp_path / "pick_lists" / f"{farm}.csv", "Produit")
    assert f"'{HOSTILE_PRODUCT}" in products
    assert HOSTILE_PRODUCT not in products
    sheet = load_workbook(tmp_path / "pick_lists" / f"{farm}.xlsx").active
    assert sheet is not None
    cells = [c.value for row in sheet.iter_rows() for c in row]
    assert f"'{HOSTILE_PRODUCT}" in cells and HOSTILE_PRODUCT not in cells
    assert not any(c.data_type == "f" for row in sheet.iter_rows() for c in row)
    # Machine files keep the name as it is (JSON escapes it), names only in site_name.
    geo = json.loads((tmp_path / "routes.geojson").read_text(encoding="utf-8"))
    assert HOSTILE_SITE in {f["properties"].get("site_name") for f in geo["features"]}


def test_a_stored_record_renders_the_same_documents(record: PlanRecord, tmp_path: Path) -> None:
    stored = PlanRecord.model_validate_json(record.model_dump_json())
    first = write_documents(record, tmp_path / "first")
    second = write_documents(stored, tmp_path / "second")
    assert [p.relative_to(tmp_path / "first") for p in first] == [
        p.relative_to(tmp_path / "second") for p in second
    ]
    for a, b in zip(first, second, strict=True):
        if a.suffix in (".csv", ".json", ".geojson", ".html"):  # map.html included
            assert a.read_bytes() == b.read_bytes(), a


def _split(record: PlanRecord) -> tuple[PlanRecord, StopRow]:
    """The record with its biggest delivery split into two visits of the same trip."""
    split = record.model_copy(deep=True)
    big = max((r for r in record.stops if r.action == "delivery"), key=lambda r: r.delivery_kg)
    first = big.model_copy(update={"parts": 2, "delivery_kg": big.delivery_kg * 0.6})
    second = big.model_copy(
        update={"part": 2, "parts": 2, "seq": big.seq + 1, "delivery_kg": big.delivery_kg * 0.4}
    )
    later = [
        r.model_copy(update={"seq": r.seq + 1})
        for r in record.stops
        if (r.day, r.vehicle_id, r.trip) == (big.day, big.vehicle_id, big.trip) and r.seq > big.seq
    ]
    others = [
        r
        for r in record.stops
        if not (
            (r.day, r.vehicle_id, r.trip) == (big.day, big.vehicle_id, big.trip)
            and r.seq >= big.seq
        )
    ]
    split.stops = [*others, first, second, *later]
    return split, big


def test_a_split_stop_says_which_part_and_its_kg(record: PlanRecord, tmp_path: Path) -> None:
    split, big = _split(record)
    write_documents(split, tmp_path)
    page = tmp_path / "route_sheets" / f"{big.day.isoformat()}_{big.vehicle_id}.html"
    text = page.read_text(encoding="utf-8")
    for part, share in ((1, 0.6), (2, 0.4)):
        moved, total = (Language("fr").kg(k) for k in (big.delivery_kg * share, big.delivery_kg))
        assert f"partie {part} sur 2 : {moved} kg sur {total} kg" in text
    sheet = read_table(page.with_suffix(".csv"))
    parts = [c[sheet.header.index("Partie")] for _, c in sheet.rows]
    assert parts.count("1/2") == parts.count("2/2") == 1


def test_a_stop_left_out_of_the_rounds_is_reported(record: PlanRecord, tmp_path: Path) -> None:
    """The farm is told nobody comes, the coordinator sees the stop and why."""
    pickup = next(r for r in record.stops if r.action == "pickup")
    trip = (pickup.day, pickup.vehicle_id, pickup.trip)
    broken = record.model_copy(deep=True)
    broken.stops = [r for r in record.stops if (r.day, r.vehicle_id, r.trip) != trip]
    broken.unserved = [
        UnservedRow(
            day=pickup.day,
            site_id=pickup.site_id,
            action="pickup",
            kg=pickup.pickup_kg,
            reason="no_vehicle_fits",
            explanation="too heavy for every vehicle",
        )
    ]
    write_documents(broken, tmp_path)
    handovers = _column(tmp_path / "pick_lists" / f"{pickup.site_id}.csv", "Remise")
    days = _column(tmp_path / "pick_lists" / f"{pickup.site_id}.csv", "Jour de collecte")
    day = f"{WEEKDAY_NAMES['fr'][pickup.day.weekday()]} {pickup.day:%d/%m/%Y}"
    assert {h for h, d in zip(handovers, days, strict=True) if d == day} == {
        WORDS["fr"]["not_planned"]
    }
    assert "too heavy for every vehicle" in (tmp_path / "index.html").read_text(encoding="utf-8")


def test_a_week_without_goods_still_gives_the_data_files_and_the_index(
    record: PlanRecord, tmp_path: Path
) -> None:
    empty = record.model_copy(
        update={"flows": [], "stops": [], "fills": [], "baskets": [], "kpis": {}}
    )
    written = write_documents(empty, tmp_path)
    assert {p.relative_to(tmp_path).as_posix() for p in written} == {
        *("allocation.csv", "baskets.csv", "shortfalls.csv", "surplus.csv", "routes.csv"),
        *("kpis.json", "routes.geojson", "map.html", "index.html"),
    }
    assert json.loads((tmp_path / "routes.geojson").read_text(encoding="utf-8"))["features"] == []


def _empty(record: PlanRecord) -> PlanRecord:
    return record.model_copy(update={"flows": [], "stops": [], "fills": [], "baskets": []})


def test_a_new_plan_replaces_the_folder_whole(record: PlanRecord, tmp_path: Path) -> None:
    """No route sheet or pick list of the earlier plan stays beside the new plan's documents."""
    folder = tmp_path / "2026-W49"
    write_documents(record, folder)
    assert any((folder / "route_sheets").iterdir())
    write_documents(_empty(record), folder)
    assert _files(folder) == {
        *("allocation.csv", "baskets.csv", "shortfalls.csv", "surplus.csv", "routes.csv"),
        *("kpis.json", "routes.geojson", "map.html", "index.html", MARK),
    }
    assert [p.name for p in tmp_path.iterdir()] == ["2026-W49"]  # nothing left aside


def test_a_folder_of_other_files_is_not_replaced(record: PlanRecord, tmp_path: Path) -> None:
    (tmp_path / "accounts.xlsx").write_bytes(b"mine")
    with pytest.raises(FoodchainError, match="not plan documents"):
        write_documents(record, tmp_path)
    assert _files(tmp_path) == {"accounts.xlsx"}


def _write_repeatedly(record_json: str, folder: str, times: int) -> None:
    record = PlanRecord.model_validate_json(record_json)
    for _ in range(times):
        write_documents(record, Path(folder))


def test_two_plans_written_at_once_leave_one_plans_documents(
    record: PlanRecord, tmp_path: Path
) -> None:
    """Real processes writing two different plans into one folder, over and over. Each plan
    has pick lists the other lacks, so files of both in the folder would show as a mix."""
    farms = sorted({f.farm_id for f in record.flows})
    plans = tuple(
        record.model_copy(update={"flows": [f for f in record.flows if f.farm_id == farm]})
        for farm in farms[:2]
    )
    first, second = ({*_expected_files(r)} for r in plans)
    assert first - second and second - first
    references = [write_documents(r, tmp_path / f"reference{i}") for i, r in enumerate(plans)]
    folder = tmp_path / "shared" / "2026-W49"
    context = multiprocessing.get_context("spawn")
    writers = [
        context.Process(target=_write_repeatedly, args=(r.model_dump_json(), str(folder), 6))
        for r in plans
    ]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join(timeout=120)
        assert writer.exitcode == 0
    [winner] = [i for i, r in enumerate(plans) if _files(folder) == {*_expected_files(r), MARK}]
    for path in references[winner]:  # every file from the same plan, not a mix
        relative = path.relative_to(tmp_path / f"reference{winner}")
        if path.suffix in (".csv", ".json", ".geojson"):
            assert (folder / relative).read_bytes() == path.read_bytes(), relative
    assert [p.name for p in (tmp_path / "shared").iterdir()] == ["2026-W49"]


FORMULA_PAYLOADS = [
    '=HYPERLINK("http://evil","clic")',
    '\x01=HYPERLINK("http://evil")',
    "\x02=cmd|' /C calc'!A0",
    "\x1b@SUM(1+1)*cmd|' /C calc'!A0",
    " \t+1+1",
    "\r-2+3",
    "\x00\x00@A1",
    "\u00a0=1+1",
    "\u200b\ufeff-1",
]
"""Names that a spreadsheet would run as formulas, some behind control characters (the
cells found live in issue 18) or a non-breaking space."""


def _looks_like_formula(text: str) -> bool:
    invisible = "".join(map(chr, range(33))) + "\x7f\u00a0\u200b\ufeff"
    return text.lstrip(invisible).startswith(("=", "+", "-", "@"))


@pytest.mark.parametrize("payload", FORMULA_PAYLOADS)
def test_no_cell_of_any_table_document_is_a_formula(
    record: PlanRecord, tmp_path: Path, payload: str
) -> None:
    """Every site and product named with the payload; then every cell of every CSV and XLSX
    written is checked: never a formula, never text a spreadsheet would run as one."""
    hostile = record.model_copy(deep=True)
    for site in hostile.sites:
        hostile.sites[site] = hostile.sites[site].model_copy(update={"name": payload + site})
    for product in hostile.products:
        hostile.products[product] = hostile.products[product].model_copy(
            update={"name": payload + product}
        )
    written = write_documents(hostile, tmp_path)
    checked = 0
    for path in written:
        if path.suffix == ".csv":
            with path.open(encoding="utf-8-sig", newline="") as f:
                cells = [c for row in csv.reader(f, delimiter=";") for c in row]
        elif path.suffix == ".xlsx":
            sheet = load_workbook(path).active
            assert sheet is not None
            assert not [
                c.coordinate for row in sheet.iter_rows() for c in row if c.data_type == "f"
            ]
            cells = [c.value for row in sheet.iter_rows() for c in row if isinstance(c.value, str)]
        else:
            continue
        live = [c for c in cells if _looks_like_formula(c) and not c.startswith("'")]
        assert not live, (path.name, live[:3])
        checked += sum(1 for c in cells if payload.strip("\x00") and c.startswith("'"))
    assert checked > 0  # the payload reached the files, neutralised
