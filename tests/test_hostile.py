"""Hostile input beyond the one-defect corpus: what is accepted on purpose, a file of 100,000
rows, formula injection in every table foodchain writes, subscribers' privacy."""

from __future__ import annotations

import csv
import io
import logging
import re
import resource
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from openpyxl import Workbook, load_workbook
from sqlalchemy import func
from sqlmodel import select

from foodchain.db import transaction
from foodchain.files.writing import neutralise
from foodchain.models import Farm, Forecast, Site, SiteKind
from foodchain.scenario import install_scenario
from foodchain.weeks import iter_weeks

from .conftest import TINY
from .snapshot import snapshot


def _forecast(engine, farm, product, week):
    with transaction(engine) as session:
        return session.get(Forecast, (farm, product, week))


def _xlsx(rows, merge=None) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    if merge:
        sheet.merge_cells(merge)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


HEADER = ["ferme", "produit", "semaine", "quantité (kg)"]


# --------------------------------------------------------------------------- accepted on purpose


def test_zero_kg_is_accepted_it_means_nothing_this_week(cli, engine, tmp_path):
    path = tmp_path / "f.csv"
    path.write_text("ferme;produit;semaine;kg\nfarm_nord;carrot;2026-W49;0\n", encoding="utf-8")
    cli("forecast", "import", path)
    assert _forecast(engine, "farm_nord", "carrot", "2026-W49").kg == 0.0


def test_a_week_written_2026_49_is_read_as_2026_w49(cli, engine, tmp_path):
    path = tmp_path / "f.csv"
    path.write_text("ferme;produit;semaine;kg\nfarm_nord;carrot;2026-49;9\n", encoding="utf-8")
    cli("forecast", "import", path)
    assert _forecast(engine, "farm_nord", "carrot", "2026-W49").kg == 9.0


def test_a_formula_whose_result_excel_stored_is_read_as_its_result(cli, engine, tmp_path):
    data = _xlsx(
        [
            HEADER,
            ["farm_nord", "carrot", "2026-W49", 40],
            ["farm_nord", "leek", "2026-W49", "=D2/2"],
        ]
    )
    # openpyxl writes no result; Excel and LibreOffice do: <f>D2/2</f><v>20</v>
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for item in source.infolist():
            content = source.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                assert b"<f>D2/2</f><v />" in content
                content = content.replace(b"<f>D2/2</f><v />", b"<f>D2/2</f><v>20</v>")
            target.writestr(item, content)
    path = tmp_path / "f.xlsx"
    path.write_bytes(out.getvalue())
    cli("forecast", "import", path)
    assert _forecast(engine, "farm_nord", "leek", "2026-W49").kg == 20.0


def test_a_cell_merged_down_a_column_gives_its_value_to_each_row(cli, engine, tmp_path):
    rows = [HEADER, ["farm_nord", "carrot", "2026-W49", 41], [None, "leek", "2026-W49", 7]]
    rows.append([None, None, None, None])  # a blank row inside the merge stays blank
    path = tmp_path / "f.xlsx"
    path.write_bytes(_xlsx(rows, merge="A2:A4"))
    cli("forecast", "import", path)
    assert _forecast(engine, "farm_nord", "carrot", "2026-W49").kg == 41.0
    assert _forecast(engine, "farm_nord", "leek", "2026-W49").kg == 7.0


def test_a_subscriber_name_too_long_is_refused_without_printing_it(cli, tmp_path):
    path = tmp_path / "s.csv"
    name = "Mme " + "Martin-Dupont" * 6
    path.write_text(
        f"point relais;panier;abonné;début\nrelay_loos;small;{name};2026-W49\n", encoding="utf-8"
    )
    output = cli("subscriptions", "import", path, code=1)
    assert "line 2" in output and "abonné" in output and "not shown" in output
    assert "Martin" not in output


# --------------------------------------------------------------------------- 100,000 rows


def test_a_forecast_file_of_100000_rows_imports_every_row(cli, engine, lensois, tmp_path):
    """French Excel style (``;``, decimal commas, BOM). Speed: benchmarks/imports.py."""
    install_scenario(engine, lensois)
    weeks = [str(w) for w in iter_weeks(*lensois.horizon)]
    products = [p.id for p in lensois.products]
    farms = [f"big_farm_{i:03d}" for i in range(-(-100_000 // (len(weeks) * len(products))))]
    with transaction(engine) as session:
        for farm in farms:
            session.add(Site(id=farm, kind=SiteKind.FARM, name=farm, lat=50.4, lon=2.8))
        session.flush()
        session.add_all(Farm(site_id=farm) for farm in farms)
    lines = ["ferme;produit;semaine;quantité (kg);prix (€/kg);statut;jours disponibles"]
    keys = ((f, p, w) for f in farms for w in weeks for p in products)
    for n, (farm, product, week) in zip(range(100_000), keys, strict=False):
        lines.append(f"{farm};{product};{week};{n % 997},{n % 10};1,5;bio;lun jeu")
    path = tmp_path / "prévisions.csv"
    path.write_text("\r\n".join(lines) + "\r\n", encoding="utf-8-sig")
    assert "100000 added" in cli("forecast", "import", path)
    with transaction(engine) as session:
        stored = session.exec(
            select(func.count()).select_from(Forecast).where(Forecast.farm_id.like("big_farm_%"))  # type: ignore[attr-defined]
        ).one()
    assert stored == 100_000 == len(lines) - 1


# --------------------------------------------------------------------------- formula injection

INJECTED = {
    "base_11_19": '=cmd|" /C calc"!A0',
    "farm_nord": '=HYPERLINK("http://example.org","clic")',
    "farm_sud": "+33 6 12 34 56 78",
    "relay_loos": "@SUM(A1:A9)",
    "relay_lens": "-2+3 Lens",
    "mat_basly": "\tÉcole Basly",
    "shop_lens": "\rÉpicerie",
}
INJECTED_PRODUCT = "=1+1 Carotte"
_DANGER = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"^-?\d[\d ]*(,\d+)?([eE][-+]?\d+)?$")


def _injected_scenario(tmp_path: Path) -> Path:
    shutil.copy(TINY, tmp_path / "tiny.yaml")
    shutil.copytree(TINY.parent / "tiny", tmp_path / "tiny")
    text = (tmp_path / "tiny.yaml").read_text(encoding="utf-8")
    for site_id, name in INJECTED.items():
        start = text.index(f"- id: {site_id}\n")
        old = re.compile(r'name: "[^"]*"').search(text, start)
        assert old is not None
        quoted = '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'
        quoted = quoted.replace("\t", "\\t").replace("\r", "\\r")
        text = text[: old.start()] + f"name: {quoted}" + text[old.end() :]
    (tmp_path / "tiny.yaml").write_text(text, encoding="utf-8")
    products = tmp_path / "tiny" / "products.csv"
    products.write_text(
        products.read_text(encoding="utf-8").replace(
            "carrot,Carotte,", f'carrot,"{INJECTED_PRODUCT}",'
        ),
        encoding="utf-8",
    )
    return tmp_path / "tiny.yaml"


def _cells(path: Path) -> list[tuple[object, str]]:
    """(value, where) of every cell of a CSV or XLSX we wrote."""
    if path.suffix == ".csv":
        with path.open(encoding="utf-8-sig", newline="") as handle:
            return [
                (cell, f"{path.name}:{n}")
                for n, row in enumerate(csv.reader(handle, delimiter=";"), 1)
                for cell in row
            ]
    sheet = load_workbook(path).worksheets[0]
    return [
        (cell.value, f"{path.name}:{cell.coordinate}")
        for row in sheet.iter_rows()
        for cell in row
        if cell.value is not None
    ]


def test_every_table_written_neutralises_formulas_but_keeps_negative_numbers(cli, tmp_path):
    cli("init", "--scenario", _injected_scenario(tmp_path))
    out = tmp_path / "out"
    out.mkdir()
    for kind in ("export", "template"):
        for suffix in (".csv", ".xlsx"):
            target = out / f"{kind}{suffix}"
            weeks = ("--weeks", "2026-W49..2026-W50")
            farm = ("--farm", "farm_nord")
            cli("forecast", kind, *weeks, *farm, "-o", target)
    cli("allocate", "--week", "2026-W49", "--out", out / "allocation")
    cli("plan", "--week", "2026-W49", "--deterministic", "--out", out / "plan")
    written = sorted(p for p in out.rglob("*") if p.suffix in (".csv", ".xlsx"))
    assert len(written) > 10
    seen = set()
    for path in written:
        for value, where in _cells(path):
            if not isinstance(value, str):
                continue  # XLSX numbers (negative ones included) stay numbers
            assert not value.startswith(_DANGER) or _NUMBER.match(value), (where, value)
            seen |= {name for name in (*INJECTED.values(), INJECTED_PRODUCT) if name in value}
    assert neutralise(INJECTED["farm_nord"]) == "'" + INJECTED["farm_nord"]
    assert seen >= {INJECTED["farm_nord"], INJECTED["relay_loos"], INJECTED_PRODUCT}


def test_a_negative_number_stays_a_number(tmp_path):
    from foodchain.files.writing import write_table

    write_table(tmp_path / "t.csv", ["kg", "note"], [[-2.5, "-2.5"]])
    write_table(tmp_path / "t.xlsx", ["kg", "note"], [[-2.5, "-2.5"]])
    assert tmp_path.joinpath("t.csv").read_text(encoding="utf-8-sig").splitlines()[1] == (
        "-2,5;'-2.5"
    )
    sheet = load_workbook(tmp_path / "t.xlsx").worksheets[0]
    assert (sheet["A2"].value, sheet["B2"].value) == (-2.5, "'-2.5")


# --------------------------------------------------------------------------- privacy

SUBSCRIBERS = {
    "Mme Jeanne Martin": "jeanne.martin@example.org",
    "M. Karim Benali": "06 12 34 56 78",
    "Famille Wojcik": "+33 3 21 00 11 22",
}


def test_subscriber_names_and_contacts_never_reach_output_logs_or_documents(cli, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    path = tmp_path / "abonnements.csv"
    rows = [
        f"relay_loos;small;1;{name};hebdomadaire;2026-W49;{contact}"
        for name, contact in SUBSCRIBERS.items()
    ]
    path.write_text(
        "point relais;panier;nombre;abonné;fréquence;début;contact\n" + "\n".join(rows),
        encoding="utf-8",
    )
    outputs = [cli("subscriptions", "import", path, "--dry-run")]
    outputs.append(cli("subscriptions", "import", path))
    out = tmp_path / "plan"
    outputs.append(cli("plan", "--week", "2026-W49", "--deterministic", "--out", out))
    outputs.append(cli("demand", "show", "--week", "2026-W49", "--format", "csv"))
    outputs.append(cli("runs", "show", "1"))
    private = [*SUBSCRIBERS, *SUBSCRIBERS.values(), "Martin", "example.org", "56 78"]
    texts = {"output": "\n".join(outputs), "logs": caplog.text}
    texts |= {
        str(p.relative_to(out)): p.read_bytes().decode("utf-8", "replace")
        if p.suffix != ".xlsx"
        else str(_cells(p))
        for p in out.rglob("*")
        if p.is_file()
    }
    assert any(name.startswith("route_sheets/") for name in texts)
    assert {"routes.csv", "routes.geojson", "map.html"} <= set(texts)
    for name, text in texts.items():
        for secret in private:
            assert secret not in text, (name, secret)


def test_a_terminal_escape_in_a_dish_name_never_reaches_the_screen(cli, engine, tmp_path):
    """A dish named with escape sequences (clear the screen, move the cursor) is refused
    where it stands, and the message shows the characters escaped, not executed."""
    path = tmp_path / "menu.csv"
    path.write_bytes(
        "Date;Repas;Composante;Plat;Produit;Couverts\r\n"
        "30/11/2026;Déjeuner;Entrée;Carottes\x1b[2J\x1b[H râpées;Carottes;25\r\n".encode()
    )
    before = snapshot(engine)
    output = cli("menu", "import", path, "--canteen", "mat_basly", "--dry-run", code=1)
    assert "\x1b" not in output
    flat = " ".join(output.split())
    assert "line 2" in flat and "control character" in flat and "\\x1b" in flat
    assert snapshot(engine) == before


def test_text_printed_to_the_terminal_shows_control_characters_escaped():
    from foodchain.cli import escape

    assert escape("Ferme\x1b[31m rouge\x9b2J [bold]") == "Ferme\\x1b[31m rouge\\x9b2J \\[bold]"
    assert escape("deux\nlignes") == "deux\nlignes"


BILLION_LAUGHS = """\
a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]
b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]
e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]
f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]
g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]
h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g]
i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h]
sites: [*i]
"""


def _limited(*args: str | Path) -> subprocess.CompletedProcess[str]:
    """foodchain run in a process limited to 1 GB of memory and 60 s of CPU."""

    def limits() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))
        resource.setrlimit(resource.RLIMIT_CPU, (60, 60))

    return subprocess.run(
        [sys.executable, "-c", "from foodchain.cli import app; app()", *map(str, args)],
        preexec_fn=limits,
        capture_output=True,
        text=True,
        timeout=120,
        env={"COLUMNS": "200", "NO_COLOR": "1", "PATH": "/usr/bin:/bin"},
    )


def test_a_yaml_alias_bomb_is_refused_quickly_in_little_memory(tmp_path):
    """A 1 KB scenario whose aliases expand to 10⁹ values (it took 66 s and 3.2 GB, then was
    "valid"): refused within the limits, naming the cause."""
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text(BILLION_LAUGHS, encoding="utf-8")
    child = _limited("scenario", "validate", bomb)
    assert child.returncode == 1, child.stderr[-2000:]
    assert "aliases" in child.stdout and "2,000,000" in child.stdout


def _rezipped(source: Path, target: Path, change=lambda name, data: data, padding_mb=0):
    """``source`` (an XLSX) copied member by member into ``target``, ``change`` applied; with
    ``padding_mb``, that many MB of blanks inside its sheet (a few hundred KB once deflated,
    all of it parsed by a reader that trusts the file)."""
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as new:
        for item in old.infolist():
            data = change(item.filename, old.read(item.filename))
            if not (padding_mb and item.filename == "xl/worksheets/sheet1.xml"):
                new.writestr(item, data)
                continue
            end = data.rindex(b"</worksheet>")
            with new.open(item.filename, "w") as sheet:
                sheet.write(data[:end])
                for _ in range(padding_mb):
                    sheet.write(b" " * (1 << 20))
                sheet.write(data[end:])


def test_an_xlsx_declaring_a_huge_sheet_is_read_by_the_cells_it_holds(cli, tmp_path):
    """A forecast template whose sheet declares A1:XFD1048576 and holds one more cell there
    (such a file kept an import busy 200+ s): read by the cells it holds, within the limits,
    and the stray cell reported where it is."""
    template = tmp_path / "template.xlsx"
    cli("forecast", "template", "--weeks", "2026-W50", "--farm", "farm_nord", "-o", template)
    huge = tmp_path / "huge.xlsx"
    corner = b'<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c></row>'

    def declare(name: str, data: bytes) -> bytes:
        if name.startswith("xl/worksheets/"):
            data = re.sub(rb'<dimension ref="[^"]*"', b'<dimension ref="A1:XFD1048576"', data)
            return data.replace(b"</sheetData>", corner + b"</sheetData>")
        return data

    _rezipped(template, huge, declare)
    assert b"XFD1048576" in zipfile.ZipFile(huge).read("xl/worksheets/sheet1.xml")
    child = _limited("--db", cli.db_url, "forecast", "import", huge, "--dry-run")
    flat = " ".join(child.stdout.split())
    assert child.returncode in (0, 1), child.stderr[-2000:]
    assert "Internal error" not in flat
    if child.returncode == 1:
        assert "line 1048576" in flat, flat[-2000:]


def test_an_xlsx_zip_bomb_is_refused_before_it_is_unzipped(cli, tmp_path):
    template = tmp_path / "template.xlsx"
    cli("forecast", "template", "--weeks", "2026-W50", "--farm", "farm_nord", "-o", template)
    bomb = tmp_path / "bomb.xlsx"
    _rezipped(template, bomb, padding_mb=300)
    assert bomb.stat().st_size < 2 << 20
    child = _limited("--db", cli.db_url, "forecast", "import", bomb, "--dry-run")
    assert child.returncode == 1, child.stderr[-2000:]
    flat = " ".join(child.stdout.split())
    assert "unzips to 300 MB" in flat and "export it as CSV" in flat


def test_a_csv_with_old_mac_line_endings_is_read(cli, engine, tmp_path):
    path = tmp_path / "prevision.csv"
    path.write_bytes(b"ferme;produit;semaine;kg;prix\rfarm_nord;carrot;2026-W50;12;2,5\r")
    cli("forecast", "import", path)
    assert _forecast(engine, "farm_nord", "carrot", "2026-W50").kg == 12


def test_a_header_of_100000_columns_is_refused_where_it_is(cli, engine, tmp_path):
    path = tmp_path / "prevision.csv"
    header = ";".join(["ferme", "produit", "semaine", "kg", *(f"c{i}" for i in range(100_000))])
    path.write_text("\n" + header + "\nfarm_nord;carrot;2026-W50;12\n", encoding="utf-8")
    before = snapshot(engine)
    output = " ".join(cli("forecast", "import", path, code=1).split())
    assert "line 2" in output and "100,004 columns" in output and "at most 1,000" in output
    assert snapshot(engine) == before


def test_thousands_of_bad_lines_print_at_most_a_hundred_problems_and_the_count(cli, tmp_path):
    path = tmp_path / "prevision.csv"
    rows = "".join(f"ferme_{i};carotte;2026-W50;1\n" for i in range(5000))
    path.write_text("ferme;produit;semaine;kg\n" + rows, encoding="utf-8")
    output = cli("forecast", "import", path, code=1)
    assert output.count("✗") <= 100
    assert "more: fix these first" in " ".join(output.split())


def test_a_200_mb_csv_is_refused_before_it_is_read(cli, engine, tmp_path):
    """It took 5-6 GB (or a MemoryError traceback): refused by its size within the limits."""
    path = tmp_path / "prevision.csv"
    with path.open("wb") as f:
        f.write(b"ferme;produit;semaine;kg\n")
        f.truncate(200 * 2**20)  # sparse: no 200 MB written to the test disk
    child = _limited("--db", cli.db_url, "forecast", "import", path)
    flat = " ".join(child.stdout.split())
    assert child.returncode == 1, child.stderr[-2000:]
    assert "the file is 200 MB" in flat and "split it" in flat


def test_a_file_of_separators_only_is_refused_not_a_crash(cli, engine, tmp_path):
    """Found by the fuzzer: ';' alone (or ';;;' lines) was an internal error."""
    path = tmp_path / "prevision.csv"
    path.write_text(";\n;;;\n", encoding="utf-8")
    before = snapshot(engine)
    output = " ".join(cli("forecast", "import", path, code=1).split())
    assert "no header row" in output
    assert snapshot(engine) == before
