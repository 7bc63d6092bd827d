"""People's files as they really come: French spreadsheets, re-imports, templates, round trips."""

import datetime as dt
import io
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook, load_workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from sqlmodel import select

from foodchain import menus, subscriptions, travel_matrix
from foodchain.db import transaction
from foodchain.errors import FoodchainError
from foodchain.files.reading import read_table
from foodchain.forecasts import IMPORTER as FORECASTS
from foodchain.importing import Importer, import_file
from foodchain.models import Forecast, MenuLine, Subscription
from foodchain.scenario import install_scenario, load_scenario

from .conftest import TINY
from .snapshot import snapshot


def _forecast(engine, farm, product, week):
    with transaction(engine) as session:
        return session.get(Forecast, (farm, product, week))


def test_french_excel_forecast_is_understood(cli, engine, tmp_path):
    path = tmp_path / "prévisions.csv"
    text = (
        "Ferme;Produit;Semaine;Quantité (kg);Prix (€/kg);Statut;Jours disponibles;Remarque\r\n"
        "farm_nord;Carottes;2026-W50;1 234,5;2,10;Bio;lun, jeu;belle récolte\r\n"
        "farm_nord;Poireau;S50 2026;12,5 kg;;;;\r\n"
    )
    path.write_bytes(text.encode("cp1252"))
    output = cli("forecast", "import", path)
    assert "columns ignored: 'Remarque'" in output
    carrot = _forecast(engine, "farm_nord", "carrot", "2026-W50")
    assert (carrot.kg, carrot.price_eur_per_kg, carrot.organic_status) == (1234.5, 2.1, "organic")
    assert carrot.days_available == ["mon", "thu"]
    leek = _forecast(engine, "farm_nord", "leek", "2026-W50")
    assert leek.kg == 12.5
    assert leek.price_eur_per_kg == 3.0  # blank price: the catalogue's
    assert leek.organic_status == "organic"  # blank status: the farm's
    assert leek.days_available == ["mon", "thu"]  # blank days: the farm's pickup days


def test_importing_the_same_file_twice_changes_nothing(cli, engine, tmp_path):
    path = tmp_path / "f.csv"
    path.write_text("farm,product,week,kg\nfarm_sud,leek,2026-W50,8\n", encoding="utf-8-sig")
    assert "1 added" in cli("forecast", "import", path)
    before = snapshot(engine)
    assert "0 added, 0 changed, 0 removed" in cli("forecast", "import", path)
    assert snapshot(engine) == before


def test_template_fill_import_round_trip_csv_and_xlsx(cli, engine, tmp_path):
    for suffix in (".csv", ".xlsx"):
        path = tmp_path / f"template{suffix}"
        cli(
            "forecast",
            "template",
            "--farm",
            "farm_nord",
            "--weeks",
            "2026-W49..2026-W50",
            "-o",
            path,
        )
        table = read_table(path)
        assert table.header[:5] == [
            "ferme",
            "produit",
            "nom du produit",
            "semaine",
            "quantité (kg)",
        ]
        assert "à remplir" in table.header
        products = {cells[1] for _, cells in table.rows}
        assert products == {"carrot", "potato", "leek", "apple"}
        # fill: every kg becomes 7 (a farmer typing in the quantity column)
        if suffix == ".csv":
            lines = path.read_text(encoding="utf-8-sig").splitlines()
            filled = [lines[0]] + [
                ";".join(c if i != 4 else "7" for i, c in enumerate(line.split(";")))
                for line in lines[1:]
            ]
            path.write_text("\n".join(filled), encoding="utf-8-sig")
        else:
            book = load_workbook(path)
            sheet = book.active
            assert sheet is not None
            for row in range(2, sheet.max_row + 1):
                sheet.cell(row, 5).value = 7
            book.save(path)
        cli("forecast", "import", path)
        with transaction(engine) as session:
            rows = session.exec(select(Forecast).where(Forecast.farm_id == "farm_nord")).all()
        assert len(rows) == 8
        assert {r.kg for r in rows} == {7.0}


def test_template_is_prefilled_with_the_weeks_values_or_the_last_known(cli, tmp_path):
    path = tmp_path / "t.csv"
    cli(
        "forecast",
        "template",
        "--farm",
        "farm_nord",
        "--weeks",
        "2026-W50..2026-W51",
        "-o",
        path,
        "--lang",
        "en",
    )
    rows = {(c[1], c[3]): c for _, c in read_table(path).rows}
    assert rows[("carrot", "2026-W50")][4] == "30"  # the week's own forecast
    assert rows[("carrot", "2026-W51")][4] == ""  # no forecast: kg left to fill...
    assert "30 kg en 2026-W50" in rows[("carrot", "2026-W51")][8]  # ...with the last known
    assert rows[("carrot", "2026-W51")][5] == "2"  # last known price


def test_export_can_be_reimported_unchanged(cli, engine, tmp_path):
    path = tmp_path / "export.xlsx"
    cli("forecast", "export", "--weeks", "2026-W49..2026-W50", "-o", path)
    before = snapshot(engine)
    assert "0 added, 0 changed" in cli("forecast", "import", path)
    assert snapshot(engine) == before


def test_menu_import_replaces_the_days_it_covers(cli, engine, tmp_path):
    path = tmp_path / "menu.csv"
    path.write_bytes(
        "Date;Repas;Composante;Plat;Produit;Couverts\r\n"
        "30/11/2026;Déjeuner;Entrée;Carottes râpées;Carottes;25\r\n"
        "30/11/2026;Déjeuner;Plat;Hachis végétarien;pomme de terre;\r\n".encode("cp1252")
    )
    output = cli("menu", "import", path, "--canteen", "mat_basly")
    assert "1 added, 1 changed, 1 removed" in output
    with transaction(engine) as session:
        monday = session.exec(select(MenuLine).where(MenuLine.date == dt.date(2026, 11, 30))).all()
        others = session.exec(select(MenuLine).where(MenuLine.date != dt.date(2026, 11, 30))).all()
    assert {(m.course, m.item_id, m.covers) for m in monday} == {
        ("starter", "carrot", 25),
        ("main", "potato", None),
    }
    assert len(others) == 5  # the other days of the week are untouched


def test_subscription_codes_and_contacts_are_never_printed(cli, engine, tmp_path):
    path = tmp_path / "abonnements.csv"
    path.write_text(
        "point relais;panier;nombre;abonné;fréquence;début;contact\n"
        "Point relais Lens;Petit panier;1;Mme Dupont;quinzaine;2026-W50;dupont@example.org\n",
        encoding="utf-8",
    )
    for args in (["--dry-run"], []):
        output = cli("subscriptions", "import", path, *args)
        assert "Dupont" not in output and "example.org" not in output
    with transaction(engine) as session:
        sub = session.get(
            Subscription, ("relay_lens", "small", "Mme Dupont", "biweekly", "2026-W50")
        )
    assert sub is not None and sub.count == 1 and sub.contact == "dupont@example.org"


valid_rows = st.lists(
    st.tuples(
        st.sampled_from(["carrot", "potato", "leek", "lettuce", "apple"]),
        st.sampled_from(["2026-W49", "2026-W50"]),
        st.decimals(min_value=0, max_value=99999, places=2, allow_nan=False),
        st.sampled_from(["bio", "conversion", "HVE", "conventionnel"]),
        st.lists(st.sampled_from(["lun", "mar", "jeu", "ven"]), min_size=1, unique=True),
    ),
    min_size=1,
    max_size=12,
    unique_by=lambda r: (r[0], r[1]),
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(rows=valid_rows)
def test_any_valid_forecast_file_round_trips(engine, tmp_path_factory, rows):
    path = tmp_path_factory.mktemp("rt") / "f.csv"
    lines = ["ferme;produit;semaine;quantité (kg);statut;jours"]
    lines += [
        f"farm_sud;{p};{w};{str(kg).replace('.', ',')};{s};{' '.join(d)}" for p, w, kg, s, d in rows
    ]
    path.write_text("\n".join(lines), encoding="utf-8-sig")
    import_file(engine, FORECASTS, path)
    for p, w, kg, _s, _d in rows:
        assert _forecast(engine, "farm_sud", p, w).kg == float(kg)
    assert import_file(engine, FORECASTS, path).changed == 0


HEADERS = {
    "forecasts": "farm;product;week;kg;organic_status;days_available\n",
    "menus": "date;meal;course;dish;item;covers;portion_g;kg\n",
    "subscriptions": "relay_point;basket_type;count;frequency;start;end;paused_weeks\n",
    "matrix": "from_id;to_id;km;minutes\n",
}
near_valid_cell = st.sampled_from(
    [
        "farm_nord",
        "farm_sud",
        "base_11_19",
        "carrot",
        "2026-W49",
        "2026-49",
        "W49",
        "01/12/2026",
        "12,5",
        "0",
        "-1",
        "bio",
        "lun",
        "entrée",
        "relay_loos",
        "small",
        "quinzaine",
        "",
        "NaN",
        "inf",
        "-Infinity",
        "1e308",
        "12 lb",
        "=1+1",
        "S99",
        "2026-W53",
        '"',
    ]
) | st.text(max_size=8)
near_valid_text = st.lists(
    st.lists(near_valid_cell, min_size=1, max_size=9).map(";".join), min_size=1, max_size=6
).map("\n".join)
xlsx_cell = near_valid_cell | st.floats() | st.integers() | st.sampled_from(["=A2*2", "=1/0"])
xlsx_sheet = st.tuples(
    st.lists(st.lists(xlsx_cell, min_size=1, max_size=9), min_size=1, max_size=6),
    st.none() | st.sampled_from(["A2:A3", "B2:C2", "A1:B1", "D2:D5", "C3:E4"]),
)


def _xlsx(header: str, rows: list[list[Any]], merge: str | None) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(header.strip().split(";"))
    for row in rows:
        sheet.append([ILLEGAL_CHARACTERS_RE.sub("", c) if isinstance(c, str) else c for c in row])
    if merge:
        sheet.merge_cells(merge)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


IMPORTERS: dict[str, Importer[Any]] = {
    "forecasts": FORECASTS,
    "menus": menus.IMPORTER,
    "subscriptions": subscriptions.IMPORTER,
    "matrix": travel_matrix.IMPORTER,
}


@settings(
    max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    kind=st.sampled_from(sorted(HEADERS)),
    body=st.one_of(
        st.binary(max_size=300).map(lambda b: ("f.csv", b)),
        st.binary(max_size=300).map(lambda b: ("f.xlsx", b"PK\x03\x04" + b)),
        near_valid_text.map(lambda t: ("f.csv", t)),
        xlsx_sheet.map(lambda sheet: ("f.xlsx", sheet)),
    ),
)
def test_fuzzed_files_never_crash_and_never_half_write(engine, tmp_path_factory, kind, body):
    """Every importer, CSV and XLSX: a FoodchainError (nothing written) or a clean import."""
    name, content = body
    path = tmp_path_factory.mktemp("fz") / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif isinstance(content, str):
        path.write_bytes((HEADERS[kind] + content).encode())
    else:
        path.write_bytes(_xlsx(HEADERS[kind], *content))
    before = snapshot(engine)
    try:
        import_file(engine, IMPORTERS[kind], path, options={"canteen": "mat_basly"})
    except FoodchainError:
        assert snapshot(engine) == before


HOSTILE_VALUES = [
    "[",
    "{",
    "'",
    "-1",
    "0",
    "200",
    "1e308",
    ".nan",
    ".inf",
    "~",
    "null",
    "yes",
    "''",
    "[1, 2]",
    "{a: 1}",
    "[[]]",
    "{mon: 5}",
    "!!binary aGk=",
    "!!set {a}",
    "2026-12-01",
    "2026-W99",
    "05:00-04:00",
    "farm_nord",
    "base_11_19",
    "relay_loos",
    "nowhere",
    "*anchor",
    "&anchor x",
    '"\\x00"',
]
TINY_LINES = TINY.read_text(encoding="utf-8").splitlines()


@st.composite
def mutated_tiny(draw: st.DrawFn) -> str:
    """The tiny scenario with a few lines changed: a value replaced, a line removed or repeated."""
    lines = list(TINY_LINES)
    for _ in range(draw(st.integers(1, 3))):
        i = draw(st.integers(0, len(lines) - 1))
        action = draw(st.sampled_from(["value", "value", "flow", "remove", "repeat"]))
        line = lines[i]
        if action == "value" and ":" in line:
            key = line[: line.index(":") + 1]
            lines[i] = f"{key} {draw(st.sampled_from(HOSTILE_VALUES) | st.text(max_size=6))}"
        elif action == "flow" and ": " in line:
            # inside a flow mapping {a: 1, b: 2}: replace one value
            parts = line.split(": ")
            j = draw(st.integers(1, len(parts) - 1))
            rest = parts[j].split(",", 1)
            value = draw(st.sampled_from(HOSTILE_VALUES))
            parts[j] = value + ("," + rest[1] if len(rest) > 1 else "}")
            lines[i] = ": ".join(parts)
        elif action == "remove":
            del lines[i]
        else:
            lines.insert(i, line)
    return "\n".join(lines) + "\n"


TINY_DOC = yaml.safe_load(TINY.read_text(encoding="utf-8"))
SCENARIO_KEYS = sorted(
    {*TINY_DOC, "id", "kind", "lat", "windows", "delivery_days", "canteen", "covers", "members"}
    | {"first_week", "file", "forecasts", "menus", "road_factor", "depot", "shift", "mon", "*"}
)
yaml_value = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-5, 300)
    | st.floats()
    | st.sampled_from(["farm_nord", "relay_loos", "small", "tiny/forecasts.csv", "07:00-09:00"])
    | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.sampled_from(SCENARIO_KEYS), inner, max_size=4)
    ),
    max_leaves=12,
)


@st.composite
def restructured_tiny(draw: st.DrawFn) -> str:
    """The tiny scenario with a section, an item of a list or a key replaced by any YAML."""
    doc = dict(TINY_DOC)
    for _ in range(draw(st.integers(1, 3))):
        key = draw(st.sampled_from(sorted(doc)))
        part = doc[key]
        if isinstance(part, list) and part and draw(st.booleans()):
            i = draw(st.integers(0, len(part) - 1))
            item = part[i]
            part = list(part)
            if isinstance(item, dict):
                part[i] = {**item, draw(st.sampled_from([*item, *SCENARIO_KEYS])): draw(yaml_value)}
            else:
                part[i] = draw(yaml_value)
            doc[key] = part
        elif isinstance(part, dict) and part and draw(st.booleans()):
            doc[key] = {**part, draw(st.sampled_from([*part, *SCENARIO_KEYS])): draw(yaml_value)}
        else:
            doc[key] = draw(yaml_value)
    return yaml.safe_dump(doc, allow_unicode=True)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=mutated_tiny() | restructured_tiny() | st.text(max_size=200))
def test_fuzzed_scenarios_never_crash_and_never_half_write(engine, tmp_path_factory, text):
    """Scenario loading from YAML text: a FoodchainError, or a scenario that installs cleanly;
    a failed install writes nothing."""
    folder = tmp_path_factory.mktemp("sc")
    (folder / "tiny").symlink_to(TINY.parent / "tiny")
    path = folder / "tiny.yaml"
    path.write_text(text, encoding="utf-8")
    before = snapshot(engine)
    try:
        install_scenario(engine, load_scenario(path))
    except FoodchainError:
        assert snapshot(engine) == before
