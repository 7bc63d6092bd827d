"""Menus as canteen software exports them, names as people write them, and every defect of a
file reported at once, identical ones grouped."""

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import select

from foodchain import menus, subscriptions
from foodchain.catalogue import Catalogue, Unknown
from foodchain.db import transaction
from foodchain.errors import InputError, Problem, group_problems, line_ranges
from foodchain.files.reading import parse_bytes
from foodchain.forecasts import IMPORTER as FORECASTS
from foodchain.importing import import_file, parse_records
from foodchain.models import MenuLine, SiteKind
from foodchain.scenario import Scenario
from foodchain.store import ImportReport

from .snapshot import snapshot

MONDAY, TUESDAY = dt.date(2026, 11, 30), dt.date(2026, 12, 1)

# A week of a French school-catering export (the shape of the usual canteen software: one
# line per menu component, French headers, Windows-1252, ';' and decimal commas). Meat, fish,
# eggs, dairy and bread lines, an empty product, and cells we do not read on those lines
# ("1 pièce", a "Pain" course) are left out; only the vegetable and fruit lines are kept.
EXPORT = (
    "Date;Repas;Composante;Libellé du plat;Produit;Grammage\r\n"
    "lundi 30/11/2026;Déjeuner;Entrée;Carottes râpées vinaigrette;Carottes;60,5\r\n"
    "lundi 30/11/2026;Déjeuner;Plat;Sauté de dinde;Dinde;80\r\n"
    "lundi 30/11/2026;Déjeuner;Garniture;Purée;Pommes de terre;120\r\n"
    "lundi 30/11/2026;Déjeuner;Produit laitier;Yaourt nature;Yaourt;125\r\n"
    "lundi 30/11/2026;Déjeuner;Pain;Pain;Pain;1 tranche\r\n"
    "lundi 30/11/2026;Déjeuner;Dessert;Pomme;Pommes;\r\n"
    "mardi 01/12/2026;Déjeuner;Entrée;Œufs mayonnaise;Œufs;1 pièce\r\n"
    "mardi 01/12/2026;Déjeuner;Plat;Poisson pané;Colin;90\r\n"
    "mardi 01/12/2026;Déjeuner;Garniture;Poireaux à la crème;Poireaux;100\r\n"
    "mardi 01/12/2026;Déjeuner;Fromage;Emmental;Emmental;16\r\n"
    "mardi 01/12/2026;Déjeuner;Produit laitier;Fromage blanc aux pommes;Pommes;50\r\n"
    "mardi 01/12/2026;Déjeuner;Dessert;Compote de fruits;;\r\n"
)


def _menu(engine: Engine, *dates: dt.date) -> set[tuple[dt.date, str, str, str, float | None]]:
    with transaction(engine) as session:
        lines = session.exec(
            select(MenuLine).where(
                MenuLine.canteen_id == "mat_basly",
                MenuLine.date.in_(dates),  # type: ignore[attr-defined]
            )
        ).all()
    return {(m.date, m.course, m.item_id, m.dish, m.portion_g) for m in lines}


def _import_menu(engine: Engine, path: Path, dry_run: bool = False) -> ImportReport:
    return import_file(engine, menus.IMPORTER, path, dry_run, {"canteen": "mat_basly"})


def test_a_school_catering_export_imports_its_local_lines_and_counts_the_others(engine, tmp_path):
    path = tmp_path / "menus_decembre.csv"
    path.write_bytes(EXPORT.encode("cp1252"))
    report = _import_menu(engine, path)
    assert _menu(engine, MONDAY, TUESDAY) == {
        (MONDAY, "starter", "carrot", "Carottes râpées vinaigrette", 60.5),
        (MONDAY, "side", "potato", "Purée", 120.0),
        (MONDAY, "dessert", "apple", "Pomme", None),
        (TUESDAY, "side", "leek", "Poireaux à la crème", 100.0),
        (TUESDAY, "dessert", "apple", "Fromage blanc aux pommes", 50.0),  # dairy course
    }
    # the soup stored for Tuesday is gone: the file gives Tuesday's menu
    assert report.notes == [
        "7 lignes hors circuit local ignorées (Dinde, Yaourt, Pain…)",
    ]
    assert report.rows == 12


def test_the_dish_stored_is_kept_when_the_file_has_no_dish_column(engine, tmp_path):
    export = tmp_path / "export.csv"
    export.write_bytes(EXPORT.encode("cp1252"))
    _import_menu(engine, export)
    bare = tmp_path / "sans_plats.csv"
    bare.write_text(
        "Date;Composante;Produit;Grammage\n30/11/2026;Entrée;Carottes;60,5\n", encoding="utf-8"
    )
    report = _import_menu(engine, bare)
    assert (MONDAY, "starter", "carrot", "Carottes râpées vinaigrette", 60.5) in _menu(
        engine, MONDAY
    )
    assert report.changed == 0


def test_a_typo_of_a_local_product_is_refused_with_its_line_and_a_real_id(engine, tmp_path):
    path = tmp_path / "menu.csv"
    path.write_bytes(
        (
            "Date;Composante;Libellé du plat;Produit\r\n"
            "30/11/2026;Plat;Rôti de porc;Porc\r\n"
            "30/11/2026;Entrée;Carottes râpées;Carrotes\r\n"
            "01/12/2026;Garniture;Gratin;Poireaux gratinés\r\n"
        ).encode("cp1252")
    )
    before = snapshot(engine)
    with pytest.raises(InputError) as error:
        _import_menu(engine, path)
    assert snapshot(engine) == before
    typo, extra_words = error.value.problems
    assert (typo.line, typo.column, typo.value) == (3, "Produit", "Carrotes")
    assert typo.message == "unknown product or substitution group"
    assert typo.fix.startswith("vouliez-vous dire carrot (Carotte) ?")  # French file, French fix
    assert (extra_words.line, extra_words.value) == (4, "Poireaux gratinés")
    assert "leek (Poireau)" in extra_words.fix


def test_an_english_file_gets_english_fixes(engine, tmp_path):
    path = tmp_path / "menu.csv"
    path.write_text("date,course,item\n2026-11-30,starter,carrots rapees\n", encoding="utf-8")
    with pytest.raises(InputError) as error:
        _import_menu(engine, path)
    assert error.value.problems[0].fix.startswith("did you mean carrot (Carotte)?")


def test_a_day_whose_lines_all_left_the_local_chain_loses_its_stored_lines(engine, tmp_path):
    assert _menu(engine, TUESDAY)  # the bundled menu has a soup on Tuesday
    path = tmp_path / "menu.csv"
    path.write_text("Date;Composante;Produit\n01/12/2026;Plat;Poisson\n", encoding="utf-8")
    report = _import_menu(engine, path)
    assert _menu(engine, TUESDAY) == set()
    assert report.notes == ["1 ligne hors circuit local ignorée (Poisson)"]


def test_a_subscription_line_with_three_defects_reports_all_three_in_one_run(engine, tmp_path):
    path = tmp_path / "abonnements.csv"
    path.write_text(
        "point relais;panier;nombre;début\n"
        "Point relais Lens;Petit panier;2;2026-W49\n"
        "relais_arras;géant;0;2026-W49\n",
        encoding="utf-8",
    )
    before = snapshot(engine)
    with pytest.raises(InputError) as error:
        import_file(engine, subscriptions.IMPORTER, path)
    assert snapshot(engine) == before
    found = {(p.line, p.column, p.value) for p in error.value.problems}
    assert found == {
        (3, "point relais", "relais_arras"),
        (3, "panier", "géant"),
        (3, "nombre", "0"),
    }


def test_a_menu_line_with_three_defects_reports_all_three_in_one_run(engine, tmp_path):
    path = tmp_path / "menu.csv"
    path.write_text(
        "Date;Composante;Produit;Grammage\n31/11/2026;Entrée;Carrotes;douze\n", encoding="utf-8"
    )
    with pytest.raises(InputError) as error:
        _import_menu(engine, path)
    assert {(p.line, p.column, p.value) for p in error.value.problems} == {
        (2, "Date", "31/11/2026"),
        (2, "Produit", "Carrotes"),
        (2, "Grammage", "douze"),
    }


def test_identical_errors_come_back_grouped_with_their_lines(lensois: Scenario):
    weeks = [f"2026-W{w}" for w in range(45, 53)]
    products = sorted(lensois.catalogue().products)
    lines = [f"ferme_x;{p};{w};10" for p in products for w in weeks][:116]
    lines[48] = f"ferme_x;{products[0]};2026-W45;douze"  # line 50: a kg that is not a number
    data = ("ferme;produit;semaine;kg\n" + "\n".join(lines) + "\n").encode()
    raw = parse_bytes(data, "previsions.csv", ".csv")
    with pytest.raises(InputError) as error:
        parse_records(FORECASTS, raw, lensois.catalogue(), {})
    assert len(error.value.problems) == 117  # line 50 has both defects, each reported
    grouped = error.value.grouped()
    assert sorted((p.message, p.lines) for p in grouped) == [
        ("'kg': not a number", ()),
        ("unknown farm", tuple(range(2, 118))),
    ]
    shown = str(next(p for p in grouped if p.message == "unknown farm"))
    assert "lines 2-117 (116 lines), column 'ferme': unknown farm" in shown
    assert "(value: 'ferme_x')" in shown
    assert any(str(p).startswith("previsions.csv, line 50, column 'kg'") for p in grouped)


def test_grouping_merges_only_identical_defects():
    a = Problem("f.csv", "unknown farm", "fix", line=2, column="farm", value="x")
    problems = [
        a,
        Problem("f.csv", "unknown farm", "fix", line=3, column="farm", value="y"),
        Problem("f.csv", "unknown farm", "fix", line=4, column="farm", value="x"),
        Problem("f.csv", "the file is empty"),
    ]
    grouped = group_problems(problems)
    assert [(p.value, p.line, p.lines) for p in grouped] == [
        ("x", 2, (2, 4)),
        ("y", 3, ()),
        (None, None, ()),
    ]
    assert line_ranges([9, 2, 3, 4, 7, 10]) == "2-4, 7, 9-10"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Betteraves", "beetroot"),
        ("Carottes", "carrot"),
        ("carotte", "carrot"),
        ("Pommes de terre", "potato"),
        ("Pommes", "apple"),
        ("Poireaux", "leek"),
        ("Oignons", "onion"),
        ("Chicons", "endive"),
        ("Radis", "radish"),
        ("Petits pois", "peas"),
        ("Choux-fleurs", "cauliflower"),
        ("Choux", "cabbages"),
        ("Fruits de saison", "seasonal_fruit"),
        ("soup_vegetables", "soup_vegetables"),
    ],
)
def test_products_match_as_cooks_write_them(lensois: Scenario, text, expected):
    assert lensois.catalogue().resolve_item(text) == expected


def test_a_farm_is_found_by_its_name_and_suggestions_are_real_ids(lensois: Scenario):
    catalogue: Catalogue = lensois.catalogue()
    for name in (
        "Les Anges Gardins",
        "les anges gardins",
        "LES ANGES GARDINS – Ferme de Vieille-Église",
    ):
        assert catalogue.resolve_site(name, SiteKind.FARM, "farm") == "farm_anges_gardins"
    with pytest.raises(Unknown) as typo:
        catalogue.resolve_site("farm_anges_jardins", SiteKind.FARM, "farm")
    assert typo.value.suggestions[0] == "farm_anges_gardins"
    assert "farm_anges_gardins (Les Anges Gardins – ferme de Vieille-Église)" in typo.value.fix
    assert "ange gardin" not in typo.value.fix  # no folded index keys
    with pytest.raises(Unknown) as ambiguous:
        catalogue.resolve_item("Légumes")
    assert ambiguous.value.message.startswith("ambiguous")
    assert set(ambiguous.value.suggestions) == {"soup_vegetables", "cooked_vegetables"}


def test_a_forecast_line_with_three_defects_reports_all_three(lensois: Scenario):
    data = b"ferme;produit;semaine;kg\nferme_x;carotes_x;2026-W49;douze\n"
    raw = parse_bytes(data, "previsions.csv", ".csv")
    with pytest.raises(InputError) as error:
        parse_records(FORECASTS, raw, lensois.catalogue(), {})
    assert {(p.line, p.column) for p in error.value.problems} == {
        (2, "ferme"),
        (2, "produit"),
        (2, "kg"),
    }
