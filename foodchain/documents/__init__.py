"""Every document of a weekly plan, made from its record alone.

A stored run is re-exported from its record years later, so nothing here reads the database.
People's documents (route sheets, pick lists, packing lists, delivery notes, map, index) speak
the plan's language; machine files keep English column names.

The folder is written aside and then put in place whole: a reader never sees half a plan, two
plans written at once into one folder leave one plan's documents (not a mix), and no file of
an earlier plan stays behind.

Documents written for a run carry its stamp on every page (``RunStamp``: "BROUILLON - run 3",
"PUBLIÉ - run 2") and in their folder's manifest; a folder whose manifest says it holds a
published run's documents is never replaced (people were sent them), except the week's
``published`` copy when another run is published in its place.
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
from foodchain.documents.hub_packing import write_hub_packing
from foodchain.documents.i18n import language as document_language
from foodchain.documents.index import write_index
from foodchain.documents.pages import RunStamp, Written
from foodchain.documents.pick_lists import write_pick_lists
from foodchain.documents.route_sheets import write_route_sheets
from foodchain.documents.view import PlanView
from foodchain.errors import FoodchainError
from foodchain.plan.record import PlanRecord

MARK = ".foodchain-documents"
"""The manifest in every documents folder: the week, then each file foodchain wrote there.
A folder holding anything else is not replaced (a signed delivery note, a database)."""

MANIFEST_HEADER = "foodchain documents"
"""The manifest's first line: this, the week, then for a run's documents ``run N STATUS``."""

PUBLISHED_STATUSES = ("published", "superseded")


def write_documents(
    record: PlanRecord,
    folder: Path,
    language: str | None = None,
    stamp: RunStamp | None = None,
    replace_published: bool = False,
) -> list[Path]:
    """Write every document of the plan into folder (replaced whole), return the paths written.

    Every page carries ``stamp`` (the run and its status) when given. Refused, with nothing
    changed, if the folder holds a file foodchain did not write there, or a published run's
    documents (unless ``replace_published``: the week's published copy, on publishing)."""
    view = PlanView(record, document_language(language or record.language), stamp)
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        _recover(folder)
    except OSError as exc:
        raise FoodchainError(f"cannot create {folder.parent}: {exc.strerror or exc}") from exc
    check_replaceable(folder, replace_published)
    staging = _aside(folder, "writing")
    try:
        written = _write_all(view, staging)
        files = sorted(p.relative_to(staging).as_posix() for p in staging.rglob("*") if p.is_file())
        first = f"{MANIFEST_HEADER} {record.week}"
        if stamp is not None:
            first += f" run {stamp.run_id} {stamp.status}"
        manifest = [first, *files]
        (staging / MARK).write_text("\n".join(manifest) + "\n", encoding="utf-8")
        _put_in_place(staging, folder)
    except OSError as exc:
        raise FoodchainError(
            f"cannot write the documents in {folder}: {exc.strerror or exc}; check the folder "
            "and its rights, or choose another --out"
        ) from exc
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return [folder / path.relative_to(staging) for path in written]


def check_replaceable(folder: Path, replace_published: bool = False) -> None:
    """Refuse a folder foodchain may not replace: a file, a folder holding anything that is
    not in its manifest (named in the message), or a published run's documents (unless
    ``replace_published``)."""
    if folder.exists() and not folder.is_dir():
        raise FoodchainError(f"{folder} is a file, not a folder: choose another --out")
    if not folder.is_dir():
        return
    present, ours = _contents(folder)
    foreign = [name for name in present if name not in ours]
    if foreign:
        more = f" and {len(foreign) - 5} more" if len(foreign) > 5 else ""
        shown = ", ".join(foreign[:5]) + more
        raise FoodchainError(
            f"the folder {folder} holds files that are not plan documents written there by "
            f"foodchain ({shown}): move them out, or choose an empty or new folder (--out), so "
            "that nothing of yours is replaced"
        )
    run = documents_run(folder)
    if run is not None and run[1] in PUBLISHED_STATUSES and not replace_published:
        raise FoodchainError(
            f"the folder {folder} holds the published documents of run {run[0]}, which people "
            "were sent: they are never replaced; choose another folder (--out)"
        )


def holds_documents(folder: Path) -> bool:
    """Whether folder is a documents folder foodchain wrote (it has a manifest)."""
    return (folder / MARK).is_file()


def documents_run(folder: Path) -> tuple[int, str] | None:
    """The run whose documents folder holds and the status they were stamped with, from its
    manifest (None: no manifest, or documents written outside a run)."""
    try:
        with (folder / MARK).open(encoding="utf-8") as manifest:
            words = manifest.readline().split()
    except (OSError, UnicodeDecodeError):
        return None
    header = len(MANIFEST_HEADER.split()) + 1  # the header's words and the week
    if len(words) != header + 3 or words[header] != "run" or not words[header + 1].isdigit():
        return None
    return int(words[header + 1]), words[header + 2]


def _contents(folder: Path) -> tuple[list[str], set[str]]:
    """The files in folder and those its manifest lists, read from one folder even if another
    writer swaps a new one in meanwhile (the walk holds the folder open)."""
    present: list[str] = []
    ours: set[str] = set()
    try:
        for root, _dirs, files, fd in os.fwalk(folder):
            relative = Path(root).relative_to(folder)
            present += [(relative / name).as_posix() for name in files]
            if relative == Path(".") and MARK in files:
                ours = _manifest(fd)
    except FileNotFoundError:
        pass  # the folder went away while read (another writer's swap): nothing to keep
    return sorted(present), ours


def _manifest(folder_fd: int) -> set[str]:
    """The files foodchain wrote in a folder (its manifest and what it lists), or none."""
    try:
        descriptor = os.open(MARK, os.O_RDONLY, dir_fd=folder_fd)
        with os.fdopen(descriptor, encoding="utf-8") as manifest:
            lines = manifest.read().splitlines()
    except (OSError, UnicodeDecodeError):
        return set()
    if not lines or not lines[0].startswith(MANIFEST_HEADER):
        return set()  # an older marker without the list: nothing is known to be ours
    return {MARK, *lines[1:]}


def _aside(folder: Path, purpose: str) -> Path:
    """A sibling name for a folder being written or replaced, with this process's id, so a
    later writer can tell a crashed writer's leftovers from a live one's."""
    return folder.parent / f".{folder.name}.{purpose}-{os.getpid()}-{uuid.uuid4().hex[:8]}"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # exists, not ours to signal
    return True


def _recover(folder: Path) -> None:
    """Undo what a writer killed mid-swap left: the folder moved aside but not replaced is put
    back; staging and old folders of dead writers are removed."""
    leftovers: list[tuple[str, Path]] = []
    for path in folder.parent.glob(f".{folder.name}.*-*-*"):
        purpose, _, rest = path.name[len(folder.name) + 2 :].partition("-")
        pid = rest.split("-")[0]
        if purpose in ("writing", "old") and pid.isdigit() and not _alive(int(pid)):
            leftovers.append((purpose, path))
    for purpose, path in leftovers:
        if purpose == "old" and not folder.exists() and (path / MARK).exists():
            os.rename(path, folder)
        else:
            shutil.rmtree(path, ignore_errors=True)


def _put_in_place(staging: Path, folder: Path) -> None:
    """Swap the new folder in by renames; another writer may swap between ours: try again."""
    for _attempt in range(20):
        try:
            os.rename(staging, folder)  # atomic when folder is absent (or an empty folder)
            return
        except OSError as exc:
            if exc.errno not in (errno.ENOTEMPTY, errno.EEXIST):
                raise
            old = _aside(folder, "old")
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
        *write_hub_packing(view, folder / "packing"),
        *write_destination_documents(view, folder / "packing_lists", folder / "delivery_notes"),
    ]
    index = write_index(view, folder, documents)
    return [path for document in documents for path in document.paths] + [index]


__all__ = [
    "MARK",
    "RunStamp",
    "check_replaceable",
    "documents_run",
    "holds_documents",
    "write_documents",
]
