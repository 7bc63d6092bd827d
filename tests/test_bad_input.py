"""One defect per file: each is refused with file, line, column, value and a fix; nothing written."""

import random
import shutil

import pytest

from .conftest import DATA, TINY
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
        [
            "line 3",
            "column 'produit'",
            "'poirau'",
            "unknown product or substitution group",
            "vouliez-vous dire leek (Poireau) ?",
        ],
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
        ["line 3", "column 'composante'", "'boisson'", "not one of"],
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
    # spreadsheets: a formula whose result the file does not hold is refused (one that holds
    # its result is read: test_hostile.py); a merge down a column is read, across columns not
    (
        "forecast_formula.xlsx",
        "forecast",
        ["line 3", "column 'D (quantité (kg))'", "'=D2/2'", "formula", "Paste special"],
    ),
    (
        "forecast_merged_across_columns.xlsx",
        "forecast",
        ["line 3", "column 'D (quantité (kg))'", "'12'", "D3:E3", "merged", "unmerge"],
    ),
    ("forecast_infinity.csv", "forecast", ["line 3", "column 'kg'", "'inf'", "not a finite"]),
    (
        "forecast_week_without_year.csv",
        "forecast",
        ["line 3", "column 'week'", "'W49'", "not an ISO week", "2026-W49"],
    ),
    (
        "forecast_week_that_does_not_exist.csv",
        "forecast",
        ["line 3", "column 'week'", "'2026-W54'", "weeks 1 to 53"],
    ),
    (
        "forecast_date_instead_of_week.csv",
        "forecast",
        ["line 3", "column 'week'", "'01/12/2026'", "not an ISO week"],
    ),
    (
        "menu_infinity.csv",
        "menu",
        ["line 3", "column 'quantité (kg)'", "'Infinity'", "not a finite number"],
    ),
    (
        "menu_duplicate_line.csv",
        "menu",
        ["line 3", "column 'date + repas + composante + produit'", "carrot", "as line 2"],
    ),
    (
        "menu_zero_portion.csv",
        "menu",
        ["line 3", "column 'grammage (g)'", "'0'", "at least 0.001"],
    ),
    (
        "menu_portion_in_kg.csv",
        "menu",
        ["line 3", "column 'grammage (g)'", "'0,12 kg'", "unit 'kg'", "only g"],
    ),
    (
        "menu_date_before_the_season.csv",
        "menu",
        ["line 3", "column 'date'", "'07/09/2026'", "outside the planning horizon"],
    ),
    ("menu_binary.xlsx", "menu", ["not a valid XLSX"]),
    (
        "subscriptions_duplicate_row.csv",
        "subscriptions",
        ["line 3", "column 'point relais + panier + abonné + fréquence + début'", "relay_loos"],
    ),
    (
        "subscriptions_week_without_year.csv",
        "subscriptions",
        ["line 3", "column 'début'", "'W49'", "not an ISO week"],
    ),
    (
        "subscriptions_starts_after_the_season.csv",
        "subscriptions",
        ["line 3", "column 'début'", "'2027-W10'", "after the planning horizon", "2026-W50"],
    ),
    (
        "subscriptions_fractional_count.csv",
        "subscriptions",
        ["line 3", "column 'nombre'", "'2,5'", "whole number"],
    ),
    ("subscriptions_binary.csv", "subscriptions", ["binary data"]),
    ("subscriptions_not_a_workbook.xlsx", "subscriptions", ["XLSX workbook cannot be read"]),
    (
        "matrix_unknown_site.csv",
        "matrix",
        ["line 4", "column 'vers'", "'relais_arras'", "unknown site", "identifiants connus :"],
    ),
    (
        "matrix_missing_pair.csv",
        "matrix",
        ["line 4", "column 'de'", "'farm_sud'", "no row from farm_sud to farm_nord"],
    ),
    (
        "matrix_negative_km.csv",
        "matrix",
        ["line 3", "column 'distance (km)'", "'-12,7'", "at least 0"],
    ),
    ("matrix_nan_minutes.csv", "matrix", ["line 2", "column 'durée (min)'", "'NaN'"]),
    (
        "matrix_minus_infinity.csv",
        "matrix",
        ["line 3", "column 'durée (min)'", "'-inf'", "not a finite number"],
    ),
    (
        "matrix_duplicate_pair.csv",
        "matrix",
        ["line 4", "column 'de + vers'", "farm_nord / base_11_19", "as line 2"],
    ),
    ("matrix_leg_to_itself.csv", "matrix", ["line 3", "column 'vers'", "'base_11_19'", "itself"]),
    ("matrix_binary.csv", "matrix", ["binary data"]),
    ("matrix_truncated.xlsx", "matrix", ["XLSX workbook cannot be read"]),
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
    assert len(CASES) + len(SCENARIO_CASES) >= 60


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


# --------------------------------------------------------------------------- scenarios

# name, edits of the tiny scenario (file: (old, new) pairs; "tiny.yaml" None = whole text),
# fragments the message must contain
SCENARIO_CASES = [
    (
        "relay_beyond_every_range",
        {
            "tiny.yaml": [
                ("lat: 50.4322\n    lon: 2.8328", "lat: 51.0500\n    lon: 2.3700"),  # Dunkerque
                ("range_km: 220", "range_km: 150"),
            ]
        },
        ["line 67", "column 'sites[4].lat'", "'relay_lens'", "no vehicle can reach this relay"],
        ["beyond the range of every vehicle", "range_km"],
    ),
    (
        "relay_window_closes_before_any_vehicle_arrives",
        {"tiny.yaml": [('windows: {thu: "12:00-16:30"}', 'windows: {thu: "05:00-05:40"}')]},
        ["line 61", "column 'sites[3].windows'", "'relay_loos'", "no vehicle can reach"],
        ["window closes at 05:40", "shift earlier"],
    ),
    (
        "relay_no_vehicle_may_serve",
        {
            "tiny.yaml": [
                ("allowed_kinds: [farm, relay, canteen, shop]", "allowed_kinds: [farm, canteen]"),
                ("allowed_kinds: [relay, canteen, shop]", "allowed_kinds: [canteen, shop]"),
            ]
        },
        ["line 55", "column 'sites[3].kind'", "'relay_loos'", "no vehicle serves relay sites"],
        ["allowed_kinds"],
    ),
    (
        "not_yaml",
        {"tiny.yaml": [('name: "Scénario', 'name: ["Scénario')]},
        ["line 7", "column 'character 1'", "'horizon: {first_week", "started on line 6"],
        ["indentation or quoting"],
    ),
    ("binary", {"tiny.yaml": None}, ["binary data"], [".yaml"]),
    ("a_list_not_a_mapping", {"tiny.yaml": "- sites\n- vehicles\n"}, ["YAML mapping"], ["tiny"]),
    (
        "unknown_hub",
        {"tiny.yaml": [("hub: base_11_19", "hub: base_11_20")]},
        ["line 8", "column 'hub'", "'base_11_20'", "not a site of kind hub"],
        ["base_11_19"],
    ),
    (
        "unknown_depot",
        {
            "tiny.yaml": [
                ("depot: base_11_19}\n  - {id: bike_1", "depot: base_99}\n  - {id: bike_1")
            ]
        },
        ["line 98", "column 'vehicles[0].depot_id'", "'base_99'", "depot is not a hub"],
        ["base_11_19"],
    ),
    (
        "menu_file_of_an_unknown_canteen",
        {"tiny.yaml": [("{canteen: mat_basly, file:", "{canteen: mat_zola, file:")]},
        ["line 105", "column 'files.menus'", "'mat_zola'", "unknown canteen"],
        ["canteen: ID"],
    ),
    (
        "duplicate_site_id",
        {"tiny.yaml": [("id: farm_sud", "id: farm_nord")]},
        ["line 45", "column 'sites[2].id'", "'farm_nord'", "duplicate site id", "sites[1]"],
        ["its own id"],
    ),
    (
        "latitude_200",
        {"tiny.yaml": [("lat: 50.4600", "lat: 200")]},
        ["line 40", "column 'sites[1].lat'", "'200'", "less than or equal to 90"],
        ["correct"],
    ),
    (
        "road_factor_not_a_number",
        {"tiny.yaml": [("road_factor: 1.3", "road_factor: 'un virgule trois'")]},
        ["line 9", "column 'settings.road_factor'", "'un virgule trois'", "a number from 1"],
        ["road_factor: 1.3"],
    ),
    (
        "supplier_siret_of_eight_digits",
        {
            "tiny.yaml": [
                ('postcode: "62750", commune', 'siret: "1234 5678", postcode: "62750", commune')
            ]
        },
        ["line 9", "column 'settings.supplier.siret'", "not a SIRET (14 digits)"],
        ["leave it empty"],
    ),
    (
        "site_name_with_a_nul_character",
        {"tiny.yaml": [('name: "Ferme du Nord"', 'name: "Ferme du\\0 Nord"')]},
        ["line 38", "column 'sites[1].name'", "control character", "position 9"],
        ["remove it"],
    ),
    (
        "covers_of_ten_to_the_twenty",
        {
            "tiny.yaml": [
                (
                    "canteen: {age_group: maternelle, covers: {mon: 20,",
                    "canteen: {age_group: maternelle, covers: {mon: 100000000000000000000,",
                )
            ]
        },
        ["line 81", "column 'sites[5].canteen.covers'", "covers must be between 0 and 100,000"],
        ["correct the value"],
    ),
    (
        "vehicle_cold_body_unknown",
        {
            "tiny.yaml": [
                (
                    "depot: base_11_19}\n  - {id: bike_1",
                    "depot: base_11_19, cold: isotherm}\n  - {id: bike_1",
                )
            ]
        },
        ["line 98", "column 'vehicles[0].cold'", "'isotherm'", "'insulated'"],
        ["correct the value"],
    ),
    (
        "cold_chain_in_month_13",
        {"tiny.yaml": [("road_factor: 1.3,", "road_factor: 1.3, cold_chain: {months: [5, 13]},")]},
        ["line 9", "column 'settings.cold_chain.months'", "months are 1 to 12"],
        ["[5, 6, 7, 8, 9]"],
    ),
    (
        "product_class_the_cold_chain_does_not_name",
        {
            "tiny.yaml": [
                ("road_factor: 1.3,", "road_factor: 1.3, cold_chain: {classes: {fresh: {}}},")
            ],
            "tiny/products.csv": [
                ("kg_per_crate\n", "kg_per_crate,temperature_class\n"),
                ("0.8,2.00,10\n", "0.8,2.00,10,frais\n"),
            ],
        },
        ["line 9", "product carrot", "'frais'", "does not name"],
        ["use one of ambient, fresh", "settings.cold_chain.classes"],
    ),
    (
        "fresh_goods_and_no_insulated_vehicle",
        {
            "tiny.yaml": [
                ("road_factor: 1.3,", "road_factor: 1.3, cold_chain: {classes: {fresh: {}}},")
            ],
            "tiny/products.csv": [
                ("kg_per_crate\n", "kg_per_crate,temperature_class\n"),
                ("0.7,4.00,4\n", "0.7,4.00,4,fresh\n"),
            ],
        },
        ["column 'sites[1]'", "'farm_nord'", "with fresh goods", "need an insulated vehicle"],
        ["a cold body (vehicles: cold)"],
    ),
    (
        "fresh_goods_beyond_their_time_on_board",
        {
            "tiny.yaml": [
                (
                    "road_factor: 1.3,",
                    "road_factor: 1.3, cold_chain: {classes: {fresh: {vehicle: none, "
                    "max_minutes_on_board: 5}}},",
                )
            ],
            "tiny/products.csv": [
                ("kg_per_crate\n", "kg_per_crate,temperature_class\n"),
                ("0.7,4.00,4\n", "0.7,4.00,4,fresh\n"),
            ],
        },
        ["with fresh goods (settings.cold_chain)", "min on board, at most 5"],
        ["allow its goods more time on board"],
    ),
    (
        "bundled_forecast_with_negative_kg",
        {"tiny/forecasts.csv": [("farm_nord,leek,2026-W49,20,", "farm_nord,leek,2026-W49,-20,")]},
        ["forecasts.csv", "line 4", "column 'kg'", "'-20'", "at least 0"],
        ["0 if none"],
    ),
]


PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"


def _edited_tiny(tmp_path, edits):
    """The tiny scenario copied into ``tmp_path`` with ``edits`` applied to its files."""
    shutil.copy(TINY, tmp_path / "tiny.yaml")
    shutil.copytree(TINY.parent / "tiny", tmp_path / "tiny")
    for name, change in edits.items():
        path = tmp_path / name
        if change is None:
            noise = random.Random(6)
            path.write_bytes(PNG + bytes(noise.randrange(256) for _ in range(400)))
        elif isinstance(change, str):
            path.write_text(change, encoding="utf-8")
        else:
            text = path.read_text(encoding="utf-8")
            for old, new in change:
                assert text.count(old) >= 1, old
                text = text.replace(old, new, 1)
            path.write_text(text, encoding="utf-8")
    return tmp_path / "tiny.yaml"


@pytest.mark.parametrize(
    ("name", "edits", "fragments", "fix"), SCENARIO_CASES, ids=[c[0] for c in SCENARIO_CASES]
)
def test_bad_scenario_is_refused_by_validate_and_init(
    cli, engine, tmp_path, name, edits, fragments, fix
):
    path = _edited_tiny(tmp_path, edits)
    before = snapshot(engine)
    for command in (["scenario", "validate", path], ["init", "--scenario", path]):
        output = " ".join(cli(*command, code=1).split())
        assert "nothing was written" in output
        assert "Fix:" in output
        for fragment in [*fragments, *fix]:
            assert fragment in output, fragment
    assert snapshot(engine) == before


def test_the_bundled_scenarios_have_every_site_reachable(tiny, lensois):
    assert tiny.sites and lensois.sites  # load_scenario checks reachability: both loaded


def test_the_corpus_covers_at_least_thirty_kinds_of_defect():
    kinds = {name.split("_", 1)[1].split(".")[0] for name, _, _ in CASES}
    kinds |= {name for name, _, _, _ in SCENARIO_CASES}
    assert len(kinds) >= 30
