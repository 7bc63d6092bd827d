"""One defect per file: each is refused with file, line, column, value and a fix; nothing written."""

import pytest

from .conftest import DATA
from .snapshot import snapshot

BAD = DATA / "bad"

# file, command, fragments the message must contain (line, column, value, what is wrong)
CASES = [
    (
        "forecast_unknown_farm.csv",
        "forecast",
        [
            "line 3",
            "column 'farm'",
            "'ferme_inconnue'",
            "unknown farm",
            "known: farm_nord, farm_sud",
        ],
    ),
    ("forecast_farm_is_a_relay.csv", "forecast", ["line 3", "'relay_loos'", "unknown farm"]),
    (
        "forecast_unknown_product.csv",
        "forecast",
        ["line 3", "column 'product'", "'navet'", "unknown product"],
    ),
    (
        "forecast_missing_column.csv",
        "forecast",
        ["line 1", "the column 'week' is missing", "semaine"],
    ),
    ("forecast_bad_number.csv", "forecast", ["line 3", "column 'kg'", "'douze'", "not a number"]),
    ("forecast_negative_kg.csv", "forecast", ["line 3", "column 'kg'", "'-5'", "at least 0"]),
    (
        "forecast_week_out_of_range.csv",
        "forecast",
        [
            "line 3",
            "column 'week'",
            "'2027-W10'",
            "outside the planning horizon",
            "2026-W49 to 2026-W50",
        ],
    ),
    ("forecast_bad_week.csv", "forecast", ["line 3", "column 'week'", "'semaine 49'", "2026-W49"]),
    ("forecast_duplicate_key.csv", "forecast", ["line 3", "duplicate row", "as line 2"]),
    ("forecast_empty.csv", "forecast", ["forecast_empty.csv", "empty"]),
    ("forecast_header_only.csv", "forecast", ["header but no rows"]),
    ("forecast_binary.csv", "forecast", ["binary data", "CSV"]),
    ("forecast_not_xlsx.xlsx", "forecast", ["not a valid XLSX"]),
    ("forecast_old_excel.xls", "forecast", ["97-2003", ".xlsx"]),
    ("forecast_nan.csv", "forecast", ["line 3", "'NaN'", "not a number"]),
    ("forecast_huge_number.csv", "forecast", ["line 3", "'1e308'", "at most"]),
    ("forecast_mixed_units.csv", "forecast", ["line 3", "'12 lb'", "unit 'lb'"]),
    (
        "forecast_bad_status.csv",
        "forecast",
        ["line 3", "column 'organic_status'", "'organique'", "conversion"],
    ),
    (
        "forecast_bad_weekday.csv",
        "forecast",
        ["line 3", "column 'days_available'", "'lundo'", "not a weekday"],
    ),
    ("forecast_too_many_values.csv", "forecast", ["line 3", "5 values", "4 columns", "decimal"]),
    ("forecast_not_text.csv", "forecast", ["neither UTF-8 nor Windows-1252"]),
    (
        "menu_unknown_item.csv",
        "menu",
        ["line 3", "column 'produit'", "'brocoli'", "unknown product or substitution group"],
    ),
    ("menu_impossible_date.csv", "menu", ["line 3", "column 'date'", "'31/02/2026'"]),
    ("menu_no_service_that_day.csv", "menu", ["line 3", "serves no meals on wed"]),
    (
        "menu_date_outside_horizon.csv",
        "menu",
        ["line 3", "'05/01/2027'", "outside the planning horizon"],
    ),
    (
        "menu_unknown_course.csv",
        "menu",
        ["line 3", "column 'composante'", "'fromage'", "not one of"],
    ),
    (
        "menu_other_canteen.csv",
        "menu",
        ["line 3", "column 'cantine'", "'elem_x'", "unknown canteen"],
    ),
    (
        "subscriptions_unknown_relay.csv",
        "subscriptions",
        ["line 3", "column 'point relais'", "'relais_arras'", "unknown relay point"],
    ),
    (
        "subscriptions_unknown_basket.csv",
        "subscriptions",
        ["line 3", "column 'panier'", "'géant'", "unknown basket size"],
    ),
    (
        "subscriptions_bad_frequency.csv",
        "subscriptions",
        ["line 3", "column 'fréquence'", "'mensuel'", "quinzaine"],
    ),
    (
        "subscriptions_zero_count.csv",
        "subscriptions",
        ["line 3", "column 'nombre'", "'0'", "between 1 and"],
    ),
    (
        "subscriptions_ends_before_start.csv",
        "subscriptions",
        ["line 3", "ends (2026-W49) before it starts"],
    ),
    (
        "subscriptions_bad_pause_week.csv",
        "subscriptions",
        ["line 3", "column 'pauses'", "'2026-W99'"],
    ),
]


def _command(kind, path):
    if kind == "menu":
        return ["menu", "import", path, "--canteen", "mat_basly"]
    return [kind, "import", path]


def test_the_corpus_has_one_case_per_file():
    assert sorted(name for name, _, _ in CASES) == sorted(
        p.name
        for p in BAD.iterdir()
        if p.name not in ("forecast_three_defects.csv", "matrix_defects.csv")
    )
    assert len(CASES) >= 15


@pytest.mark.parametrize(("name", "kind", "fragments"), CASES, ids=[c[0] for c in CASES])
def test_bad_file_is_refused_and_nothing_is_written(cli, engine, name, kind, fragments):
    before = snapshot(engine)
    output = " ".join(cli(*_command(kind, BAD / name), code=1).split())
    assert "nothing was written" in output or "Error" in output
    assert name in output
    assert "Fix:" in output
    for fragment in fragments:
        assert fragment in output
    assert snapshot(engine) == before


def test_all_defects_of_a_file_are_reported_at_once(cli, engine):
    before = snapshot(engine)
    output = " ".join(cli("forecast", "import", BAD / "forecast_three_defects.csv", code=1).split())
    assert "3 problem(s)" in output
    for fragment in ("line 2", "'navet'", "line 3", "'-1'", "line 4", "'ferme_x'"):
        assert fragment in output
    assert snapshot(engine) == before


def test_dry_run_writes_nothing(cli, engine, tmp_path):
    path = tmp_path / "f.csv"
    path.write_text("ferme;produit;semaine;kg\nfarm_nord;carrot;2026-W50;99\n", encoding="utf-8")
    before = snapshot(engine)
    output = cli("forecast", "import", path, "--dry-run")
    assert "1 changed" in output and "would be written" in output
    assert "kg: 30.0 → 99.0" in output or "→ 99.0" in output
    assert snapshot(engine) == before


def test_debug_shows_the_traceback(cli):
    result = cli.runner.invoke(
        __import__("foodchain.cli", fromlist=["app"]).app,
        ["--db", cli.db_url, "--debug", "forecast", "import", str(BAD / "forecast_empty.csv")],
    )
    assert result.exit_code == 1
    assert result.exception is not None


def test_duplicate_subscriber_rows_do_not_print_the_subscriber(cli, tmp_path):
    path = tmp_path / "s.csv"
    row = "relay_loos;small;1;Mme Martin;weekly;2026-W49\n"
    path.write_text("relay_point;basket_type;count;subscriber;frequency;start\n" + row + row)
    output = cli("subscriptions", "import", path, code=1)
    assert "duplicate row" in output and "Martin" not in output
