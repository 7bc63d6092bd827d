"""Distance/time matrices imported from a routing engine's table."""

from foodchain.allocation.load import load_problem
from foodchain.weeks import Week

from .conftest import DATA
from .snapshot import snapshot


def test_matrix_import_is_idempotent_and_feeds_the_allocation(cli, engine, tmp_path):
    path = tmp_path / "osrm.csv"
    path.write_text(
        "de;vers;distance (km);durée (min)\n"
        "farm_nord;base_11_19;12,5;18\n"
        "base_11_19;farm_nord;12,7;19\n"
        "Ferme du Sud;base_11_19;3;6\n"
        "base_11_19;farm_sud;3,1;6\n"
        "farm_nord;farm_sud;14;20\n"
        "farm_sud;farm_nord;14;20\n",
        encoding="utf-8",
    )
    assert "6 added" in cli("matrix", "import", path)
    before = snapshot(engine)
    assert "0 added, 0 changed" in cli("matrix", "import", path)
    assert snapshot(engine) == before
    problem = load_problem(engine, Week(2026, 49))
    km = {s.farm_id: s.km_to_hub for s in problem.supplies}
    assert km == {"farm_nord": 12.5, "farm_sud": 3.0}


def test_bad_matrix_rows_are_refused_with_their_lines(cli, engine):
    before = snapshot(engine)
    output = " ".join(cli("matrix", "import", DATA / "bad" / "matrix_defects.csv", code=1).split())
    for fragment in (
        "line 2",
        "'mairie_arras'",
        "unknown site",
        "line 3",
        "itself",
        "line 4",
        "'-3'",
    ):
        assert fragment in output
    assert snapshot(engine) == before
