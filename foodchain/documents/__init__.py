"""Every document of a weekly plan, made from its record alone.

A stored run is re-exported from its record years later, so nothing here reads the database.
People's documents (route sheets, pick lists, packing lists, delivery notes, map, index) speak
the plan's language; machine files keep English column names.

The folder is written aside and then put in place whole: a reader never sees half a plan, two
plans written at once into one folder leave one plan's documents (not a mix), and no file of
an earlier plan stays behind.
"""

from __future__ import annotations

import errno
import os
import shutil
import uuid
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
from foodchain.errors import FoodchainError
from foodchain.plan.record import PlanRecord

MARK = ".foodchain-documents"
"""A file in every documents folder: a folder without it (and not empty) is not ours to replace."""


def write_documents(record: PlanRecord, folder: Path, language: str | None = None) -> list[Path]:
    """Write every document of the plan into folder (replaced whole), return the paths written."""
    view = PlanView(record, document_language(language or record.language))
    _check_replaceable(folder)
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise FoodchainError(f"cannot create {folder.parent}: {exc.strerror or exc}") from exc
    staging = folder.parent / f".{folder.name}.writing-{uuid.uuid4().hex[:8]}"
    try:
        written = _write_all(view, staging)
        (staging / MARK).write_text(f"{record.week}\n", encoding="utf-8")
        _put_in_place(staging, folder)
    except OSError as exc:
        raise FoodchainError(
            f"cannot write the documents in {folder}: {exc.strerror or exc}; check the folder "
            "and its rights, or choose another --out"
        ) from exc
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return [folder / path.relative_to(staging) for path in written]


def _check_replaceable(folder: Path) -> None:
    if folder.is_dir() and not (folder / MARK).exists() and any(folder.iterdir()):
        raise FoodchainError(
            f"the folder {folder} holds files that are not plan documents: choose an empty or "
            "new folder (--out), so that nothing of yours is replaced"
        )
    if folder.exists() and not folder.is_dir():
        raise FoodchainError(f"{folder} is a file, not a folder: choose another --out")


def _put_in_place(staging: Path, folder: Path) -> None:
    """Swap the new folder in by renames; another writer may swap between ours: try again."""
    for _attempt in range(20):
        try:
            os.rename(staging, folder)  # atomic when folder is absent (or an empty folder)
            return
        except OSError as exc:
            if exc.errno not in (errno.ENOTEMPTY, errno.EEXIST):
                raise
            old = folder.parent / f".{folder.name}.old-{uuid.uuid4().hex[:8]}"
            try:
                os.rename(folder, old)
            except FileNotFoundError:
                continue  # the other writer moved it away: take its place
            shutil.rmtree(old, ignore_errors=True)
    raise FoodchainError(f"could not put the documents in {folder}: it kept changing")


def _write_all(view: PlanView, folder: Path) -> list[Path]:
    record, t = view.record, view.t
    folder.mkdir()
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
