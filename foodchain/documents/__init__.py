"""Every document of a weekly plan, made from its record alone.

A stored run is re-exported from its record years later, so nothing here reads the database.
People's documents (route sheets, pick lists, packing lists, delivery notes, map, index) speak
the plan's language; machine files keep English column names.
"""

from __future__ import annotations

from pathlib import Path

from foodchain.documents.data import write_data
from foodchain.documents.destinations import write_destination_documents
from foodchain.documents.geo import write_geojson, write_map
from foodchain.documents.i18n import language as document_language
from foodchain.documents.index import write_index
from foodchain.documents.pages import Written
from foodchain.documents.pick_lists import write_pick_lists
from foodchain.documents.route_sheets import write_route_sheets
from foodchain.documents.view import PlanView
from foodchain.plan.record import PlanRecord


def write_documents(record: PlanRecord, folder: Path, language: str | None = None) -> list[Path]:
    """Write every document of the plan into folder (created), return the paths written."""
    view = PlanView(record, document_language(language or record.language))
    t = view.t
    folder.mkdir(parents=True, exist_ok=True)
    data = write_data(view, folder)
    geojson = write_geojson(view, folder / "routes.geojson")
    fmap = write_map(view, folder / "map.html")
    documents = [
        *(Written("index_data", p.name, [p]) for p in [*data, geojson]),
        Written("index_map", t("title_map", week=record.week), [fmap]),
        *write_route_sheets(view, folder / "route_sheets"),
        *write_pick_lists(view, folder / "pick_lists"),
        *write_destination_documents(view, folder / "packing_lists", folder / "delivery_notes"),
    ]
    index = write_index(view, folder, documents)
    return [path for document in documents for path in document.paths] + [index]


__all__ = ["write_documents"]
