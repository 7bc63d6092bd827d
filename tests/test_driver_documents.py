"""The documents people work from: a driver finds each stop and knows what to load, a farmer
reads what to harvest and when to hand it over, a canteen signs and files its delivery note.

Properties read back from the written files (HTML parsed, CSV and XLSX read), never from the
code that wrote them."""

from __future__ import annotations

import datetime as dt
import gzip
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
import segno
from openpyxl import load_workbook

from foodchain.db import open_database
from foodchain.documents import RunStamp, write_documents
from foodchain.documents.i18n import WORDS
from foodchain.documents.pages import css_string
from foodchain.documents.route_sheets import QR_SCALE
from foodchain.files.reading import read_table
from foodchain.plan import PlanOptions, PlanRecord, plan_week
from foodchain.scenario import install_scenario, load_scenario
from foodchain.weeks import Week, clock

from .conftest import TINY

CONTACT = {
    "address": "12 rue de l'Exemple",
    "postcode": "62750",
    "contact_name": "Accueil cuisine (exemple)",
    "phone": "00 00 00 00 00",
    "access_notes": "portail côté cour (exemple)",
}
"""Test values (not real people) given to the first canteen, to find them on the sheet."""


def _stamp(run: int) -> RunStamp:
    return RunStamp(run, "draft", dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC))


VOID = frozenset({"br", "meta", "img", "hr", "input", "link", "wbr"})


class _Tables(HTMLParser):
    """Sections of a page: their title, rows of cells (text and link targets), and SVGs."""

    def __init__(self) -> None:
        super().__init__()
        self.sections: list[dict[str, list[Any]]] = []
        self._cell: dict[str, list[str]] | None = None
        self._row: list[dict[str, list[str]]] | None = None
        self._in: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in VOID:
            self._in.append(tag)
        if tag == "section":
            self.sections.append({"title": [], "head": [], "rows": [], "svg": [], "links": []})
        elif tag == "tr" and self.sections:
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = {"text": [], "href": []}
        elif tag == "a" and self.sections:
            href = dict(attrs).get("href") or ""
            (self._cell["href"] if self._cell is not None else self.sections[-1]["links"]).append(
                href
            )
        elif tag == "svg" and self.sections:
            self.sections[-1]["svg"].append(dict(attrs))

    def handle_endtag(self, tag: str) -> None:
        if self._in and self._in[-1] == tag:
            self._in.pop()
        if tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append(self._cell)
            self._cell = None
        elif tag == "tr" and self._row is not None and self.sections:
            kind = "head" if "thead" in self._in else "rows" if "tbody" in self._in else "foot"
            if kind != "foot":
                self.sections[-1][kind].append(self._row)
            self._row = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell["text"].append(data.strip())
        elif self.sections and self._in and self._in[-1] == "h2":
            self.sections[-1]["title"].append(data.strip())


def _parse(path: Path) -> list[dict[str, list[Any]]]:
    parser = _Tables()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser.sections


@pytest.fixture(scope="module")
def record(tmp_path_factory: pytest.TempPathFactory) -> PlanRecord:
    engine = open_database(f"sqlite:///{tmp_path_factory.mktemp('tiny') / 'foodchain.db'}")
    install_scenario(engine, load_scenario(TINY))
    plain = plan_week(engine, Week.parse("2026-W49"), PlanOptions(deterministic=True)).record
    canteen = next(f.destination_id for f in plain.flows if f.purpose == "canteen")
    sites = {**plain.sites, canteen: plain.sites[canteen].model_copy(update=CONTACT)}
    return plain.model_copy(update={"sites": sites})


@pytest.fixture(scope="module")
def documents(record: PlanRecord, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("documents") / "run-3"
    write_documents(record, folder, stamp=_stamp(3))
    return folder


def _number(text: str | None) -> float:
    return float(str(text).replace(",", ".").replace("\u202f", "")) if text else 0.0


# --------------------------------------------------------------------------- route sheets


def test_every_stop_has_an_address_or_says_it_is_missing_and_links_to_its_place(
    record: PlanRecord, documents: Path
) -> None:
    fr = WORDS["fr"]
    stops = 0
    for (day, vehicle, trip), rows in record.trips().items():
        sections = _parse(documents / "route_sheets" / f"{day.isoformat()}_{vehicle}.html")
        section = sections[trip - 1]
        assert f"Tournée {trip} " in " ".join(section["title"])
        table = section["rows"]
        assert len(table) == len(rows)
        for row, cells in zip(rows, table, strict=True):
            if row.action not in ("pickup", "delivery"):
                continue
            stops += 1
            site = record.sites[row.site_id]
            place = cells[2]["text"]
            assert place[0] == site.name
            if not site.address and not site.phone:  # one statement for both
                town = " ".join(p for p in (site.postcode, site.commune) if p)
                assert f"{town} - {fr['address_contact_missing']}" in place
            elif site.address:
                assert f"{site.address}, {site.postcode} {site.commune}" in place
            else:
                assert any(fr["address_missing"] in line for line in place), place
            if site.phone:
                assert any(site.phone in line and site.contact_name in line for line in place)
                assert any(site.access_notes in line for line in place)
            elif site.address:
                assert fr["contact_missing"] in place
            at = f"{site.lat:.5f},{site.lon:.5f}"
            geo = [h for h in cells[2]["href"] if h.startswith("geo:")]
            osm = [h for h in cells[2]["href"] if "openstreetmap.org" in h]
            assert geo and geo[0].startswith(f"geo:{at}"), cells[2]["href"]
            assert osm and f"mlat={site.lat:.5f}" in osm[0] and f"mlon={site.lon:.5f}" in osm[0]
            assert cells[-1]["text"] == ["☐"]  # the box to tick
    assert stops == sum(r.action in ("pickup", "delivery") for r in record.stops) > 0
    assert any(
        CONTACT["phone"] in p.read_text(encoding="utf-8")
        for p in documents.glob("route_sheets/*.html")
    )


def test_each_trip_has_a_qr_code_of_its_itinerary_in_stop_order(
    record: PlanRecord, documents: Path
) -> None:
    for (day, vehicle, trip), rows in record.trips().items():
        section = _parse(documents / "route_sheets" / f"{day.isoformat()}_{vehicle}.html")[trip - 1]
        departure = section["rows"][0][2]["href"]  # the hub's row, where the trip starts
        links = [h for h in [*section["links"], *departure] if "/maps/dir/" in h]
        assert len(links) == len(section["svg"]) == 1
        points = [
            f"{record.sites[r.site_id].lat:.5f},{record.sites[r.site_id].lon:.5f}" for r in rows
        ]
        found = [m.group(0) for m in re.finditer(r"\d+\.\d{5},\d+\.\d{5}", links[0])]
        # origin, destination, then the waypoints: the hub out and back, the stops in order
        assert [found[0], *found[2:], found[1]] == [
            p for i, p in enumerate(points) if i == 0 or p != points[i - 1]
        ]
        page = (documents / "route_sheets" / f"{day.isoformat()}_{vehicle}.html").read_text(
            encoding="utf-8"
        )
        assert segno.make(links[0], error="l").svg_inline(scale=QR_SCALE, border=2) in page


def test_loads_are_counted_in_crates_or_pieces_that_agree_with_the_kg(
    record: PlanRecord, documents: Path
) -> None:
    checked = 0
    for path in documents.glob("route_sheets/*.csv"):
        sheet = read_table(path)
        at = {name: sheet.header.index(name) for name in sheet.header}
        for _, cells in sheet.rows:
            label, kilograms = cells[at["Produit ou panier"]], _number(cells[at["Quantité (kg)"]])
            product = next((p for p in record.products.values() if p.name == label), None)
            if product is None:
                continue
            crates, pieces = cells[at["Caisses pleines"]], cells[at["Pièces ou bottes"]]
            if product.unit != "kg":
                assert not crates and abs(int(pieces) * product.kg_per_unit - kilograms) <= (
                    product.kg_per_unit / 2 + 1e-9
                ), (label, pieces, kilograms)
            else:
                assert product.kg_per_crate and not pieces
                rest = _number(cells[at["Caisse entamée (kg)"]])
                assert 0 <= rest < product.kg_per_crate
                assert int(crates) * product.kg_per_crate + rest == pytest.approx(
                    kilograms, abs=0.051
                )
            checked += 1
    assert checked


def test_no_quantity_reads_minus_zero_or_to_the_gram_on_a_route_sheet(documents: Path) -> None:
    for path in documents.glob("route_sheets/*.html"):
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"-0(,0+)?\b", text), path
        assert not re.search(r"\d,\d{3} kg", text), path


# --------------------------------------------------------------------------- pick lists


def test_a_pick_list_says_when_and_where_and_has_no_destination(
    record: PlanRecord, documents: Path
) -> None:
    destinations = {record.name(f.destination_id) for f in record.flows}
    hub = record.sites[record.hub_id]
    for farm in {f.farm_id for f in record.flows}:
        path = documents / "pick_lists" / f"{farm}.html"
        text = path.read_text(encoding="utf-8")
        assert not any(name in text for name in destinations), farm
        sheet = read_table(path.with_suffix(".csv"))
        assert "Destination" not in sheet.header and "Usage" not in sheet.header
        sections = _parse(path)
        days = sorted({f.pickup_day for f in record.flows if f.farm_id == farm})
        assert len(sections) == len(days)
        for section, day in zip(sections, days, strict=True):
            assert section["title"] == [f"{WORDS_DAY[day.weekday()]} {day:%d/%m/%Y}"]
        brings = record.sites[farm].brings_own_produce
        if brings:
            day = min(f.pickup_day for f in record.flows if f.farm_id == farm)
            hours = hub.windows[("mon", "tue", "wed", "thu", "fri", "sat", "sun")[day.weekday()]]
            assert f"À apporter à {hub.name} (" in text and f"ouvert {hours}" in text
        else:
            assert "collecte vers " in text


WORDS_DAY = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")


def test_the_hub_packing_sheet_sends_every_kilo_to_its_destination(
    record: PlanRecord, documents: Path
) -> None:
    sheet = read_table(documents / "packing" / "hub.csv")
    at = {name: sheet.header.index(name) for name in sheet.header}
    per_destination: dict[str, float] = {}
    for _, cells in sheet.rows:
        name = cells[at["Destination"]]
        per_destination[name] = per_destination.get(name, 0.0) + _number(cells[at["Quantité (kg)"]])
    wanted: dict[str, float] = {}
    for f in record.flows:
        wanted[record.name(f.destination_id)] = (
            wanted.get(record.name(f.destination_id), 0.0) + f.kg
        )
    assert per_destination == pytest.approx(wanted, abs=0.01)


# --------------------------------------------------------------------------- delivery notes


def _note(path: Path) -> tuple[list[dict[str, Any]], dict[str, float], set[str]]:
    sheet = load_workbook(path).active
    assert sheet is not None
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    header = [str(h) for h in rows[0]]
    lines = [dict(zip(header, row, strict=True)) for row in rows[1:]]
    items = [line for line in lines if line["Jour de livraison"]]
    totals = {
        str(line["Produit"]): float(str(line["Montant HT (€)"]))
        for line in lines
        if not line["Jour de livraison"]
    }
    return items, totals, {str(line["N° de bon"]) for line in lines}


def test_delivery_note_totals_add_up_before_and_after_vat(
    record: PlanRecord, documents: Path
) -> None:
    notes = list(documents.glob("delivery_notes/*.xlsx"))
    assert notes
    for path in notes:
        items, totals, _ = _note(path)
        amounts = []
        for line in items:
            price, kilograms = float(str(line["Prix HT (€/kg)"])), float(str(line["Quantité (kg)"]))
            amount = float(str(line["Montant HT (€)"]))
            assert amount == pytest.approx(round(kilograms * price, 2), abs=0.005)
            amounts.append(amount)
        assert set(totals) == {"Total HT", "TVA 5,5\u00a0%", "Total TTC"}
        assert totals["Total HT"] == pytest.approx(sum(amounts), abs=0.005)
        assert totals["TVA 5,5\u00a0%"] == pytest.approx(
            round(totals["Total HT"] * 0.055, 2), abs=0.005
        )
        assert totals["Total HT"] + totals["TVA 5,5\u00a0%"] == pytest.approx(
            totals["Total TTC"], abs=0.005
        )
        assert totals["Total TTC"] > totals["Total HT"] > 0


def test_note_numbers_are_unique_per_run_and_site(record: PlanRecord, tmp_path: Path) -> None:
    seen: dict[str, tuple[int, str]] = {}
    for run in (3, 4):
        folder = tmp_path / f"run-{run}"
        write_documents(record, folder, stamp=_stamp(run))
        for path in folder.glob("delivery_notes/*.xlsx"):
            _, _, numbers = _note(path)
            assert len(numbers) == 1, path
            number = numbers.pop()
            assert re.fullmatch(rf"BL-2026W49-R{run}-{path.stem}", number)
            assert number not in seen
            seen[number] = (run, path.stem)
            assert number in path.with_suffix(".html").read_text(encoding="utf-8")
    assert len(seen) == 2 * len({f.destination_id for f in record.flows if f.purpose == "canteen"})


def test_a_delivery_note_names_both_parties_lots_and_this_deliverys_egalim_share(
    record: PlanRecord, documents: Path
) -> None:
    for path in documents.glob("delivery_notes/*.html"):
        text = path.read_text(encoding="utf-8")
        assert record.supplier is not None and record.supplier.name in text
        assert "SIRET : à renseigner" in text
        assert "Contribution de cette livraison à EGalim" in text
        assert "Part EGalim" not in text and "minimum 100" not in text
        assert text.count('class="box"') == 3 * len(
            {f.delivery_day for f in record.flows if f.destination_id == path.stem}
        )
        canteen = record.sites[path.stem]
        assert canteen.name in text
        for f in record.flows:
            if f.destination_id == path.stem:
                assert (
                    f"récolte du {WORDS_DAY[f.pickup_day.weekday()]} {f.pickup_day:%d/%m/%Y}"
                    in text
                )


def test_an_older_record_without_supplier_or_crates_still_gives_its_documents(
    record: PlanRecord, tmp_path: Path
) -> None:
    old = record.model_copy(
        update={
            "supplier": None,
            "products": {
                k: p.model_copy(update={"kg_per_crate": None}) for k, p in record.products.items()
            },
        }
    )
    write_documents(old, tmp_path)
    note = next(tmp_path.glob("delivery_notes/*.html")).read_text(encoding="utf-8")
    assert WORDS["fr"]["supplier_missing"] in note
    assert "caisse" not in next(tmp_path.glob("route_sheets/*.html")).read_text(encoding="utf-8")


def test_driver_documents_speak_english_on_request(record: PlanRecord, tmp_path: Path) -> None:
    write_documents(record, tmp_path, "en", stamp=_stamp(1))
    sheet = "".join(p.read_text(encoding="utf-8") for p in tmp_path.glob("route_sheets/*.html"))
    assert "Itinerary" in sheet and "crate" in sheet and "caisse" not in sheet
    note = next(tmp_path.glob("delivery_notes/*.html")).read_text(encoding="utf-8")
    assert "Contribution of this delivery to EGalim" in note and "Total incl. VAT" in note


# --------------------------------------------------------------------------- printing


CHROMIUM = next(
    (
        shutil.which(name)
        for name in ("chromium", "chromium-browser", "google-chrome")
        if shutil.which(name)
    ),
    None,
)


def _pdf_pages(html: Path, tmp_path: Path) -> int:
    assert CHROMIUM is not None
    pdf = tmp_path / f"{html.stem}.pdf"
    subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-pdf-header-footer",
            f"--print-to-pdf={pdf}",
            html.resolve().as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    return len(re.findall(rb"/Type\s*/Page(?![s\w])", pdf.read_bytes()))


@pytest.mark.skipif(
    CHROMIUM is None,
    reason="no Chromium here (chromium, chromium-browser or google-chrome) to print the pages to PDF",
)
def test_a_route_sheet_prints_one_a4_page_per_trip_and_a_pick_list_one_page(
    record: PlanRecord, documents: Path, tmp_path: Path
) -> None:
    trips: dict[str, int] = {}
    for day, vehicle, _ in record.trips():
        key = f"{day.isoformat()}_{vehicle}"
        trips[key] = trips.get(key, 0) + 1
    for key, count in trips.items():
        assert _pdf_pages(documents / "route_sheets" / f"{key}.html", tmp_path) == count, key
    for path in documents.glob("pick_lists/*.html"):
        assert _pdf_pages(path, tmp_path) == 1, path


LENSOIS_RECORD = Path(__file__).parent / "data" / "records" / "lensois-2026-W49.json.gz"
"""The stored run of a Lensois week (2026-W49, run 1 of a plan made at 629cb64): trips of
seven stops, shops taking fourteen products, relay points taking three basket sizes."""


@pytest.mark.skipif(
    CHROMIUM is None,
    reason="no Chromium here (chromium, chromium-browser or google-chrome) to print the pages to PDF",
)
def test_the_longest_lensois_trips_print_on_one_a4_page_each(tmp_path: Path) -> None:
    """A real week's longest route sheets (most table rows and product lines), not only the
    tiny scenario's short trips: each trip on a page of its own, none running on."""
    record = PlanRecord.model_validate_json(gzip.decompress(LENSOIS_RECORD.read_bytes()))
    write_documents(record, tmp_path, stamp=_stamp(1))
    trips: dict[str, int] = {}
    for day, vehicle, _ in record.trips():
        key = f"{day.isoformat()}_{vehicle}"
        trips[key] = trips.get(key, 0) + 1

    def text_per_trip(key: str) -> float:
        page = (tmp_path / "route_sheets" / f"{key}.html").read_text(encoding="utf-8")
        return len(re.sub(r"<svg.*?</svg>|<[^>]*>", "", page, flags=re.S)) / trips[key]

    sheets = sorted(trips, key=text_per_trip, reverse=True)
    for key in sheets[:3]:
        assert _pdf_pages(tmp_path / "route_sheets" / f"{key}.html", tmp_path) == trips[key], key


def test_a_drivers_break_shows_on_the_route_sheet_and_in_routes_csv(
    record: PlanRecord, tmp_path: Path
) -> None:
    """The break the rounds place (on the return row of the trip before it) reaches the
    driver's sheet and the data file, each break once, on the row that holds it."""
    back = next(r for r in record.stops if r.action == "return")
    stops = [
        r.model_copy(update={"pause": (600.0, 620.0)}) if r is back else r for r in record.stops
    ]
    write_documents(record.model_copy(update={"stops": stops}), tmp_path, stamp=_stamp(3))
    sheet = tmp_path / "route_sheets" / f"{back.day.isoformat()}_{back.vehicle_id}.html"
    if not sheet.exists():  # the sheet's file name as the writer makes it
        sheet = next(
            p for p in (tmp_path / "route_sheets").glob("*.html") if back.vehicle_id in p.name
        )
    text = sheet.read_text(encoding="utf-8")
    assert text.count("pause au hub de 10:00 à 10:20 (20 min)") == 1
    table = read_table(tmp_path / "routes.csv")
    pauses = [
        dict(zip(table.header, cells, strict=False)).get("pause", "") for _, cells in table.rows
    ]
    expected = sorted(f"{clock(r.pause[0])}-{clock(r.pause[1])}" for r in stops if r.pause)
    assert "10:00-10:20" in expected and sorted(p for p in pauses if p) == expected


def test_every_xlsx_document_prints_its_run_stamp_and_still_reads_as_data(
    documents: Path,
) -> None:
    """A printed XLSX pick list or delivery note says which run it comes from, in the page
    header (a cell would break the table people and scripts read back)."""
    books = sorted(documents.rglob("*.xlsx"))
    assert {p.parent.name for p in books} >= {"pick_lists", "delivery_notes"}
    for path in books:
        sheet = load_workbook(path).active
        assert sheet is not None
        assert sheet.oddHeader is not None
        assert str(sheet.oddHeader.right.text).startswith("BROUILLON - run 3"), path
        assert read_table(path).header == read_table(path.with_suffix(".csv")).header, path


def _css_unescaped(quoted: str) -> str:
    """A CSS string's text as CSS reads it: a backslash, 1 to 6 hex digits and one optional
    whitespace are one character (CSS Syntax 3, "consume an escaped code point")."""
    body = quoted[1:-1]
    return re.sub(r"\\([0-9a-fA-F]{1,6})[ \t\n]?", lambda m: chr(int(m.group(1), 16)), body)


@pytest.mark.parametrize(
    "text",
    ["Plan 2026-W49, scénario lensois, préparé par foodchain", "BROUILLON - run 3 · à 14:05"],
)
def test_the_printed_header_and_footer_keep_their_spaces(text: str) -> None:
    """The run stamp and the footer go into the page margins as CSS strings: every space
    of the text is still there when CSS reads them (an escape eats the space after it)."""
    quoted = str(css_string(text))
    assert quoted[0] == quoted[-1] == '"' and '"' not in quoted[1:-1] and "<" not in quoted
    assert _css_unescaped(quoted) == text
