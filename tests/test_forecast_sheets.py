"""Forecast sheets as farmers fill them: emptied cells, labelled changes, older files,
published weeks, and an XLSX template that guides the hand (issue 16, item 5)."""

import datetime as dt
import re

import pytest
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

from foodchain.db import transaction
from foodchain.files.reading import read_table
from foodchain.forecast_sheets import TEMPLATE_TITLE, forecast_export, forecast_template
from foodchain.forecasts import import_forecasts
from foodchain.models import Forecast, Run, RunStatus
from foodchain.seasons import crop_calendar, scenario_crop_calendar
from foodchain.weeks import Week

from .conftest import LENSOIS

W49, W50 = Week.parse("2026-W49"), Week.parse("2026-W50")
MADE = dt.datetime(2026, 11, 28, 10, 2)


def _forecast(engine, farm, product, week):
    with transaction(engine) as session:
        return session.get(Forecast, (farm, product, week))


def _template(engine, path, farm="farm_nord", weeks=(W49, W50), **kwargs):
    forecast_template(engine, farm, list(weeks), now=MADE, **kwargs).write(path)
    return path


def _edit_csv(path, edits):
    """Set cells of a written template: ``edits`` maps (product, week) → {column index: text}."""
    lines = path.read_text(encoding="utf-8-sig").splitlines()
    out = [lines[0]]
    for line in lines[1:]:
        cells = line.split(";")
        if len(cells) > 3:
            for index, value in edits.get((cells[1], cells[3]), {}).items():
                cells[index] = value
        out.append(";".join(cells))
    path.write_text("\r\n".join(out), encoding="utf-8-sig")


KG, PRICE = 4, 5


def _set_kg(engine, farm, product, week, kg, tmp_path, price=None):
    """Another import (the coordinator's, another sheet) changes the database meanwhile."""
    path = tmp_path / f"other-{product}-{week}-{kg}.csv"
    stored = _forecast(engine, farm, product, week)
    price = stored.price_eur_per_kg if price is None and stored else price or ""
    days = " ".join(stored.days_available) if stored else ""
    path.write_text(
        "farm;product;week;kg;price_eur_per_kg;days_available\n"
        f"{farm};{product};{week};{kg};{price};{days}\n",
        encoding="utf-8-sig",
    )
    import_forecasts(engine, path)


# --------------------------------------------------------------------------- emptied cells


def test_an_emptied_prefilled_kg_cell_sets_the_forecast_to_zero(engine, tmp_path):
    path = _template(engine, tmp_path / "t.csv")
    _edit_csv(path, {("carrot", "2026-W49"): {KG: ""}})  # the farmer clears 40 kg
    report = import_forecasts(engine, path)
    assert _forecast(engine, "farm_nord", "carrot", "2026-W49").kg == 0
    assert report.changed == 1 and report.removed == 0
    note = next(n for n in report.notes if "emptied" in n)
    assert "Carotte (carrot)" in note and "2026-W49" in note and "0 kg" in note
    # the rest of the sheet, untouched, changed nothing
    assert _forecast(engine, "farm_nord", "carrot", "2026-W50").kg == 30


def test_a_blank_row_never_forecast_stays_without_forecast(engine, tmp_path):
    # farm_sud never forecast leek: with every product listed, its rows come blank
    path = tmp_path / "sud.csv"
    forecast_template(engine, "farm_sud", [W50], now=MADE).write(path)
    assert "apple" in {c[1] for _, c in read_table(path).rows}  # W49's apple, blank in W50
    report = import_forecasts(engine, path)
    assert _forecast(engine, "farm_sud", "apple", "2026-W50") is None
    assert (report.added, report.changed, report.removed) == (0, 0, 0)
    assert any("without a quantity were skipped" in n for n in report.notes)


def test_a_hand_made_file_with_an_empty_kg_zeroes_the_stored_forecast(engine, tmp_path):
    path = tmp_path / "hand.csv"
    path.write_text("ferme;produit;semaine;kg\nfarm_nord;Poireau;S49 2026;\n", encoding="utf-8")
    import_forecasts(engine, path)
    assert _forecast(engine, "farm_nord", "leek", "2026-W49").kg == 0


def test_a_row_blank_when_the_sheet_was_made_keeps_a_forecast_stored_since(engine, tmp_path):
    path = tmp_path / "sud.csv"
    forecast_template(engine, "farm_sud", [W50], now=MADE).write(path)  # apple W50: blank
    _set_kg(engine, "farm_sud", "apple", "2026-W50", 12, tmp_path)
    import_forecasts(engine, path)  # the old sheet's blank is not the farmer clearing 12 kg
    assert _forecast(engine, "farm_sud", "apple", "2026-W50").kg == 12


def test_the_sheet_says_what_an_empty_cell_does(engine, tmp_path):
    path = _template(engine, tmp_path / "t.csv")
    hints = {cells[8] for _, cells in read_table(path).rows}
    assert all("vide = rien cette semaine" in h and "passe à 0" in h for h in hints)
    assert not any("pas de prévision" in h for h in hints)


# --------------------------------------------------------------------------- labelled changes


def test_dry_run_change_lines_name_farm_product_and_week(engine, tmp_path):
    path = _template(engine, tmp_path / "t.csv")
    _edit_csv(
        path,
        {("carrot", "2026-W49"): {KG: "41"}, ("leek", "2026-W50"): {KG: "22", PRICE: "3,2"}},
    )
    report = import_forecasts(engine, path, dry_run=True)
    assert _forecast(engine, "farm_nord", "carrot", "2026-W49").kg == 40  # nothing written
    (table,) = report.tables
    labels = {table.label(new): (old, new) for old, new in table.changed}
    assert set(labels) == {
        "forecast Ferme du Nord (farm_nord) · Carotte (carrot) · 2026-W49",
        "forecast Ferme du Nord (farm_nord) · Poireau (leek) · 2026-W50",
    }
    old, new = labels["forecast Ferme du Nord (farm_nord) · Poireau (leek) · 2026-W50"]
    assert table.differences(old, new) == ["kg: 20.0 → 22.0", "price_eur_per_kg: 3.0 → 3.2"]


# --------------------------------------------------------------------------- older files


def test_an_older_file_warns_for_each_value_stored_since(engine, tmp_path):
    path = _template(engine, tmp_path / "old.csv")  # made when carrot W49 was 40 kg at 2 €
    _set_kg(engine, "farm_nord", "carrot", "2026-W49", 45, tmp_path, price=2.2)
    _set_kg(engine, "farm_nord", "leek", "2026-W50", 25, tmp_path)
    report = import_forecasts(engine, path, dry_run=True)
    carrot = [w for w in report.warnings if "Carotte (carrot) · 2026-W49" in w]
    assert len(carrot) == 2  # kg and price, one warning each
    kg = next(w for w in carrot if ": kg is" in w)
    assert "kg is 45 in the database" in kg and "the file says 40" in kg
    assert "2026-11-28 10:02" in kg and "farm_nord" in kg
    assert any("price (€/kg) is 2.2" in w and "says 2" in w for w in carrot)
    assert sum("Poireau (leek) · 2026-W50" in w for w in report.warnings) == 1
    assert len(report.warnings) == 3  # the rows nobody changed since say nothing


def test_an_older_file_still_writes_its_values(engine, tmp_path):
    path = _template(engine, tmp_path / "old.csv")
    _set_kg(engine, "farm_nord", "carrot", "2026-W49", 45, tmp_path)
    _edit_csv(path, {("carrot", "2026-W49"): {KG: "50"}})
    report = import_forecasts(engine, path)
    assert any("kg is 45" in w and "says 50" in w for w in report.warnings)
    assert _forecast(engine, "farm_nord", "carrot", "2026-W49").kg == 50


def test_a_fresh_file_and_an_export_warn_of_nothing(engine, tmp_path):
    _set_kg(engine, "farm_nord", "carrot", "2026-W49", 45, tmp_path)
    path = _template(engine, tmp_path / "new.csv")
    _edit_csv(path, {("carrot", "2026-W49"): {KG: "50"}})
    assert import_forecasts(engine, path).warnings == []
    export = tmp_path / "export.xlsx"
    forecast_export(engine, None, [W49, W50]).write(export)
    report = import_forecasts(engine, export)
    assert (report.added, report.changed, report.warnings) == (0, 0, [])


# --------------------------------------------------------------------------- published weeks


def _run(engine, week, status):
    now = dt.datetime(2026, 11, 27, tzinfo=dt.UTC)
    with transaction(engine) as session:
        run = Run(week=week, status=status, created_at=now, fingerprint="0" * 64, record="{}")
        session.add(run)
        session.flush()
        return run.id


def test_an_import_into_a_published_week_says_to_replan(engine, tmp_path):
    published = _run(engine, "2026-W49", RunStatus.PUBLISHED)
    _run(engine, "2026-W50", RunStatus.DRAFT)
    path = _template(engine, tmp_path / "t.csv")
    _edit_csv(path, {("carrot", "2026-W49"): {KG: "41"}, ("carrot", "2026-W50"): {KG: "31"}})
    report = import_forecasts(engine, path, dry_run=True)
    replan = [n for n in report.notes if "published plan" in n]
    assert replan == [
        f"2026-W49 has a published plan (run {published}): re-plan it "
        "(foodchain plan --week 2026-W49) and publish the new run with --replace"
    ]


def test_an_import_that_leaves_a_published_week_alone_says_nothing(engine, tmp_path):
    _run(engine, "2026-W49", RunStatus.PUBLISHED)
    path = _template(engine, tmp_path / "t.csv")
    _edit_csv(path, {("carrot", "2026-W50"): {KG: "31"}})
    report = import_forecasts(engine, path)
    assert report.changed == 1
    assert not any("published" in n for n in report.notes)


# --------------------------------------------------------------------------- the XLSX template


def _validation_lists(book, sheet):
    """Column letter → the values of its drop-down list, read from the sheet it points to."""
    found = {}
    for validation in sheet.data_validations.dataValidation:
        assert validation.type == "list"
        name, ref = validation.formula1.split("!")
        found_ref = re.fullmatch(r"\$([A-Z]+)\$(\d+):\$[A-Z]+\$(\d+)", ref)
        assert found_ref is not None, ref
        col, first, last = found_ref.groups()
        values = [book[name][f"{col}{r}"].value for r in range(int(first), int(last) + 1)]
        for cells in str(validation.sqref).split():
            found[cells.split(":")[0].rstrip("0123456789")] = (values, validation, cells)
    return found


def test_the_xlsx_template_guides_the_farmer(engine, tmp_path):
    path = _template(engine, tmp_path / "t.xlsx")
    book = load_workbook(path)
    sheet = book.worksheets[0]  # the sheet imports read
    assert sheet.title == TEMPLATE_TITLE
    header = [c.value for c in sheet[1]]
    kg = header.index("quantité (kg)") + 1
    rows = sheet.max_row
    # the column to fill is highlighted, and only it
    for column in range(1, len(header) + 1):
        colours = {sheet.cell(r, column).fill.fgColor.rgb for r in range(1, rows + 1)}
        if column == kg:
            assert colours == {"00FFF2CC"}, colours
        else:
            assert "00FFF2CC" not in colours, header[column - 1]
    lists = _validation_lists(book, sheet)
    status_col = get_column_letter(header.index("statut") + 1)
    days_col = get_column_letter(header.index("jours disponibles") + 1)
    assert set(lists) == {status_col, days_col}
    statuses, validation, cells = lists[status_col]
    assert statuses == ["bio", "conversion", "hve", "conventionnel"]
    assert validation.errorStyle == "stop" and cells == f"{status_col}2:{status_col}{rows}"
    days, _, cells = lists[days_col]
    assert {"lun jeu", "lun", "jeu"} <= set(days) and cells == f"{days_col}2:{days_col}{rows}"
    # the values the template writes pass its own lists
    for r in range(2, rows + 1):
        assert sheet[f"{status_col}{r}"].value in statuses
        assert sheet[f"{days_col}{r}"].value in days
    assert book[validation.formula1.split("!")[0]].sheet_state == "hidden"


def test_the_xlsx_template_imports_back_unchanged(engine, tmp_path):
    path = _template(engine, tmp_path / "t.xlsx")
    report = import_forecasts(engine, path)
    assert (report.added, report.changed, report.removed, report.warnings) == (0, 0, 0, [])


# --------------------------------------------------------------------------- seasons

CALENDAR = {
    "factors": {"H": 1.0, "S": 0.7, "-": 0.0},
    "calendar": {
        "apple": "S S S - - - - H H H - -",  # none from November to January
        "potato": "S S S S S H H H H H S S",
        "lettuce": "- - - - H H H H H - - -",
        "leek": "H H H H - - H H H H H H",
        "carrot": "- - - - - - - - - - - -",
    },
    "farms": {"farm_sud": {"crops": {"leek": {"peak_kg": 5}, "potato": {"peak_kg": 40}}}},
}


def test_the_template_lists_only_products_in_season_and_those_forecast(engine, tmp_path):
    calendar = crop_calendar(CALENDAR)
    path = tmp_path / "sud.csv"
    forecast_template(engine, "farm_sud", [W49, W50], calendar=calendar, now=MADE).write(path)
    listed = {(c[1], c[3]) for _, c in read_table(path).rows}
    assert listed == {
        ("potato", "2026-W49"),
        ("potato", "2026-W50"),
        ("leek", "2026-W49"),  # grown by the farm (crops.yaml), in season, never forecast
        ("leek", "2026-W50"),
        ("apple", "2026-W49"),  # out of season but forecast that week: kept
        ("lettuce", "2026-W49"),  # idem
        ("lettuce", "2026-W50"),
    }  # apple W50: out of season, not forecast; carrot: neither grown nor forecast


def test_the_lensois_crop_calendar_is_found_beside_its_scenario():
    calendar = scenario_crop_calendar(LENSOIS)
    assert calendar is not None
    assert calendar.in_season("strawberry", W49) is False
    assert calendar.in_season("strawberry", Week.parse("2027-W24")) is True
    assert calendar.in_season("leek", W49) is True
    assert calendar.in_season("no_such_product", W49) is None
    assert "parsnip" in calendar.crops["farm_anges_gardins"]


@pytest.mark.parametrize("bad", ["H H", "H H H H H H H H H H H X"])
def test_a_calendar_with_wrong_letters_is_refused(bad):
    from foodchain.errors import FoodchainError

    with pytest.raises(FoodchainError, match="12 letters"):
        crop_calendar({**CALENDAR, "calendar": {"leek": bad}})
