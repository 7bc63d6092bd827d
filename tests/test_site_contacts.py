"""Sites' contact details from the coordinator's spreadsheet: only contact columns change, a
blank cell keeps, '-' clears, every defect at once, and ``init`` keeps what people set."""

import shutil

import pytest
from openpyxl import load_workbook

from foodchain.db import transaction
from foodchain.errors import FoodchainError
from foodchain.importing import import_file
from foodchain.models import Site
from foodchain.scenario import ensure_scenario, install_scenario, load_scenario
from foodchain.site_contacts import IMPORTER, email, phone, postcode

from .conftest import TINY
from .snapshot import snapshot


def _site(engine, site_id):
    with transaction(engine) as session:
        return session.get(Site, site_id)


def _fields(site):
    return {name: getattr(site, name) for name in Site.model_fields}


def _write(tmp_path, text, encoding="cp1252", name="contacts.csv"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def test_a_french_excel_file_changes_only_the_contact_columns(cli, engine, tmp_path):
    before = _fields(_site(engine, "mat_basly"))
    path = _write(
        tmp_path,
        "Site;Adresse;Code postal;Contact;Téléphone;Courriel;Consignes d'accès;Remarque\r\n"
        "École maternelle Émile Basly;rue Léon Blum;62 750;Mme Lefèvre, cuisine;"
        "03 21 12 34 56;cuisine.basly@example.org;portail côté cour, sonner;à vérifier\r\n",
    )
    output = cli("sites", "import", path)
    assert "0 added, 1 changed, 0 removed were written" in output
    assert "columns ignored: 'Remarque'" in output
    after = _fields(_site(engine, "mat_basly"))
    assert {k: v for k, v in after.items() if before[k] != v} == {
        "address": "rue Léon Blum",
        "postcode": "62750",
        "contact_name": "Mme Lefèvre, cuisine",
        "phone": "03 21 12 34 56",
        "email": "cuisine.basly@example.org",
        "access_notes": "portail côté cour, sonner",
    }
    assert "0 added, 0 changed" in cli("sites", "import", path)  # the same file again


def test_a_blank_cell_keeps_the_stored_value_and_a_dash_clears_it(cli, engine, tmp_path):
    first = _write(
        tmp_path,
        "identifiant;téléphone;e-mail;accès\n"
        "farm_nord;03 21 00 00 01;nord@example.org;cour de la ferme\n"
        "farm_sud;0321000002;sud@example.org;hangar\n",
        name="first.csv",
    )
    cli("sites", "import", first)
    second = _write(
        tmp_path,
        "site;téléphone;e-mail;accès;adresse\nfarm_nord;;-;;\nfarm_sud;;;-;1 rue du Marais\n",
        name="second.csv",
    )
    cli("sites", "import", second)
    nord, sud = _site(engine, "farm_nord"), _site(engine, "farm_sud")
    assert (nord.phone, nord.email, nord.access_notes) == (
        "03 21 00 00 01",
        "",
        "cour de la ferme",
    )
    assert (sud.phone, sud.email, sud.access_notes, sud.address) == (
        "0321000002",
        "sud@example.org",
        "",
        "1 rue du Marais",
    )


def test_every_defect_of_every_line_is_reported_at_once_and_nothing_written(cli, engine, tmp_path):
    before = snapshot(engine)
    path = _write(
        tmp_path,
        "site;téléphone;courriel;code postal\r\n"
        "farm_nord;03 21 00 00 01;cuisine.example.org;62750\r\n"
        "ferme_du_nrod;03 21 00 00 02;a@example.org;62750\r\n"
        "farm_sud;03 21 AB 00 03;b@example.org;627\r\n",
    )
    output = cli("sites", "import", path, code=1)
    assert snapshot(engine) == before
    flat = " ".join(output.split())
    assert "4 problem(s); nothing was written" in flat
    assert (
        "line 2, column 'courriel': 'email': not an e-mail address "
        "(value: 'cuisine.example.org'). Fix: une adresse e-mail" in flat
    )
    assert (
        "line 3, column 'site': unknown site (value: 'ferme_du_nrod'). Fix: vouliez-vous "
        "dire farm_nord (Ferme du Nord)" in flat
    )
    assert "line 4, column 'téléphone'" in flat and "(value: '03 21 AB 00 03')" in flat
    assert "Fix: un numéro de 10 chiffres" in flat
    assert "line 4, column 'code postal': 'postcode': not a French postcode" in flat


def test_dry_run_lists_each_change_and_writes_nothing(cli, engine, tmp_path):
    before = snapshot(engine)
    path = _write(tmp_path, "site;telephone\nshop_lens;03 21 99 99 99\n", encoding="utf-8-sig")
    output = cli("sites", "import", path, "--dry-run")
    assert "1 changed" in output and "would be written" in output
    assert "site shop_lens: phone:  → 03 21 99 99 99" in output
    assert snapshot(engine) == before


def test_only_existing_sites_are_changed_never_created(engine, tmp_path):
    path = _write(tmp_path, "site;phone\nnew_farm;03 21 00 00 00\n")
    with pytest.raises(FoodchainError, match="unknown site"):
        import_file(engine, IMPORTER, path)
    assert _site(engine, "new_farm") is None


def test_a_file_without_a_contact_column_is_refused(engine, tmp_path):
    path = _write(tmp_path, "site;nom\nfarm_nord;Ferme du Nord\n")
    with pytest.raises(FoodchainError, match="no contact column"):
        import_file(engine, IMPORTER, path)


def test_cells_as_spreadsheets_write_them():
    assert postcode("2100") == "02100"  # a spreadsheet dropped the leading 0
    assert postcode("62 750") == "62750"
    assert phone("321123456") == "0321123456"
    assert phone("'+33 3 21 12 34 56") == "+33 3 21 12 34 56"  # our export's apostrophe
    assert phone("-") == "" and email("-") == "" and postcode("-") == ""
    assert email("mailto:a@example.org") == "a@example.org"
    for bad in ("03 21", "03 21 12 34 56 78", "3615 ULLA", "+33"):
        with pytest.raises(ValueError):
            phone(bad)
    with pytest.raises(ValueError):
        postcode("B-7500")


def test_export_is_a_template_the_import_reads_back(cli, engine, tmp_path):
    cli("sites", "import", _write(tmp_path, "site;phone\nfarm_nord;+33 3 21 00 00 01\n"))
    before = snapshot(engine)
    for name in ("contacts.csv", "contacts.xlsx"):
        out = tmp_path / name
        assert "Wrote 7 rows" in cli("sites", "export", "--out", out)
        output = cli("sites", "import", out)
        assert "0 added, 0 changed, 0 removed" in output and "ignored" not in output
    assert snapshot(engine) == before
    sheet = load_workbook(tmp_path / "contacts.xlsx").worksheets[0]
    header = [c.value for c in next(sheet.iter_rows())]
    assert header[:2] == ["site", "nom"] and "téléphone" in header


# --------------------------------------------------------------------------- init again


def _tiny_with_contacts(tmp_path, **values):
    """tiny.yaml with contact values given to farm_nord."""
    shutil.copytree(TINY.parent / "tiny", tmp_path / "tiny")
    given = "".join(f'    {k}: "{v}"\n' for k, v in values.items())
    text = TINY.read_text(encoding="utf-8").replace(
        '    name: "Ferme du Nord"', given + '    name: "Ferme du Nord"'
    )
    path = tmp_path / "tiny.yaml"
    path.write_text(text, encoding="utf-8")
    return load_scenario(path)


def test_init_again_keeps_the_contacts_imported_since(cli, engine, tiny, tmp_path):
    cli(
        "sites",
        "import",
        _write(tmp_path, "site;téléphone;code postal\nfarm_nord;03 21 00 00 01;62750\n"),
    )
    assert ensure_scenario(engine, tiny).outcome == "same"  # plan --scenario: no edit seen
    report = install_scenario(engine, tiny)
    nord = _site(engine, "farm_nord")
    assert (nord.phone, nord.postcode) == ("03 21 00 00 01", "62750")
    assert report.changed == 0
    assert any("2 site contact value(s)" in n and "farm_nord.phone" in n for n in report.notes)


def test_a_value_edited_in_the_yaml_applies_unless_people_changed_it(engine, tmp_path):
    install_scenario(
        engine, _tiny_with_contacts(tmp_path / "a", phone="0321000001", email="a@x.fr")
    )
    assert _site(engine, "farm_nord").phone == "0321000001"
    path = _write(tmp_path, "site;e-mail\nfarm_nord;nord@example.org\n")
    import_file(engine, IMPORTER, path)
    edited = _tiny_with_contacts(tmp_path / "b", phone="0321000009", email="b@x.fr")
    report = install_scenario(engine, edited)
    nord = _site(engine, "farm_nord")
    assert nord.phone == "0321000009"  # nobody changed it in the database: the YAML's edit
    assert nord.email == "nord@example.org"  # imported since: kept
    assert any("farm_nord.email" in n for n in report.notes)
    assert install_scenario(engine, edited).changed == 0


def test_a_value_cleared_by_import_is_not_refilled_by_init(engine, tmp_path):
    scenario = _tiny_with_contacts(tmp_path, access_notes="portail vert")
    install_scenario(engine, scenario)
    import_file(engine, IMPORTER, _write(tmp_path, "site;accès\nfarm_nord;-\n"))
    install_scenario(engine, scenario)
    assert _site(engine, "farm_nord").access_notes == ""
