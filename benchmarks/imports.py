"""Import speed: the Lensois scenario load and forecast files of growing size.

    python -m benchmarks.imports [--rows 1000 10000 100000] [--json OUT.json]

Each size gets a fresh SQLite file holding the Lensois scenario plus enough synthetic farms;
a forecast CSV as French Excel writes it (``;``, decimal commas, BOM) is imported, imported
again (nothing changes) and imported as a dry run. Prints a table, writes JSON.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.table import markdown
from foodchain.db import open_database, transaction
from foodchain.forecasts import IMPORTER
from foodchain.importing import import_file
from foodchain.models import Farm, Site, SiteKind
from foodchain.scenario import install_scenario, load_scenario
from foodchain.weeks import Week, iter_weeks

ROOT = Path(__file__).resolve().parent.parent


def _timed(fn: Any, *args: Any, **kwargs: Any) -> tuple[Any, float]:
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    return result, time.perf_counter() - start


def run(sizes: list[int]) -> list[dict[str, Any]]:
    scenario, load_s = _timed(load_scenario, ROOT / "scenarios" / "lensois.yaml")
    results: list[dict[str, Any]] = []
    weeks = [str(w) for w in iter_weeks(scenario.horizon[0], scenario.horizon[1])]
    products = [p.id for p in scenario.products]
    with tempfile.TemporaryDirectory() as tmp:
        for rows in sizes:
            engine = open_database(f"sqlite:///{tmp}/bench_{rows}.db")
            _, install_s = _timed(install_scenario, engine, scenario)
            farms_needed = -(-rows // (len(weeks) * len(products)))
            with transaction(engine) as session:
                for i in range(farms_needed):
                    fid = f"bench_farm_{i:04d}"
                    session.add(Site(id=fid, kind=SiteKind.FARM, name=fid, lat=50.4, lon=2.8))
                    session.flush()
                    session.add(Farm(site_id=fid))
            rng = random.Random(rows)
            lines = ["ferme;produit;semaine;quantité (kg);prix (€/kg);statut;jours disponibles"]
            keys = (
                (f"bench_farm_{i:04d}", p, w)
                for i in range(farms_needed)
                for w in weeks
                for p in products
            )
            for _, (farm, product, week) in zip(range(rows), keys, strict=False):
                kg = f"{rng.uniform(0, 500):.1f}".replace(".", ",")
                lines.append(f"{farm};{product};{week};{kg};2,10;bio;lun jeu")
            path = Path(tmp) / f"forecasts_{rows}.csv"
            path.write_text("\n".join(lines), encoding="utf-8-sig")
            first, first_s = _timed(import_file, engine, IMPORTER, path)
            again, again_s = _timed(import_file, engine, IMPORTER, path)
            _, dry_s = _timed(import_file, engine, IMPORTER, path, dry_run=True)
            assert first.added == rows and again.added == again.changed == 0
            results.append(
                {
                    "rows": rows,
                    "scenario_load_s": round(load_s, 3),
                    "scenario_install_s": round(install_s, 3),
                    "import_s": round(first_s, 3),
                    "reimport_unchanged_s": round(again_s, 3),
                    "dry_run_s": round(dry_s, 3),
                    "rows_per_s": round(rows / first_s),
                    "process_peak_rss_mb": round(
                        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
                    ),
                }
            )
            engine.dispose()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    results = run(args.rows)
    print(markdown(results))
    if args.json:
        args.json.write_text(
            json.dumps({"week_ref": str(Week(2026, 49)), "results": results}, indent=2)
        )


if __name__ == "__main__":
    main()
