"""A plan kept: stored as a run first, then its documents written in a folder of its own.

The order is the rule: documents never exist without the run they come from. A plan that
may not be saved (``runs.ensure_savable``) is refused before anything is written; a folder
that holds files foodchain did not write there is refused before the run is stored; if the
documents then cannot be written, the run stays stored and the message says how to write
them again (``export_run``). Each run gets its own folder by default
(``plans/2026-W49/run-3``), so a new draft never replaces a published run's documents.

Every page says which run it comes from and its status ("BROUILLON - run 3", "PUBLIÉ - run
2") with the run's date. Publishing (``publish_plan``) writes the run's documents again from
its stored record, stamped published, into its own folder and into the week's published copy
(``plans/2026-W49/published``, what the coordinator sends and finds without knowing run
numbers): a copy, not a link, so that it opens and attaches the same on every system. From
then on neither is replaced by a re-plan or an export (the manifest says they are published);
publishing another run with ``--replace`` replaces the week's copy, while the superseded run's
folder keeps the documents people were sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine

from foodchain.documents import RunStamp, check_replaceable, documents_run, write_documents
from foodchain.errors import FoodchainError
from foodchain.models import RunStatus
from foodchain.runs import (
    PlanLike,
    RunSummary,
    ensure_savable,
    load_run,
    publish_run,
    run_summary,
    save_run,
)

PLANS_FOLDER = Path("plans")
PUBLISHED = "published"
"""The week's published copy: ``plans/WEEK/published``."""


@dataclass(frozen=True)
class SavedPlan:
    run_id: int
    folder: Path
    documents: list[Path]


class DocumentsNotWrittenError(FoodchainError):
    """The run is stored, its documents could not be written."""

    def __init__(self, run_id: int, folder: Path, cause: FoodchainError) -> None:
        super().__init__(
            f"run {run_id} is saved as a draft, but its documents could not be written: "
            f"{cause}. Write them with 'foodchain runs export {run_id} --out FOLDER'"
        )
        self.run_id = run_id
        self.folder = folder


@dataclass(frozen=True)
class PublishedPlan:
    summary: RunSummary
    run_folder: Path
    """The run's own folder, its documents stamped published (kept once superseded)."""
    folder: Path
    """The week's published copy (``plans/WEEK/published``)."""
    documents: list[Path]
    """The files written in ``folder`` (none when they were already there)."""


class PublishedDocumentsNotWrittenError(FoodchainError):
    """The run is published, its documents could not be written."""

    def __init__(self, run_id: int, cause: FoodchainError) -> None:
        super().__init__(
            f"run {run_id} is published, but its published documents could not be written: "
            f"{cause}. Once that is fixed, write them with 'foodchain runs publish {run_id}' "
            "again (publishing the published run changes nothing else)"
        )
        self.run_id = run_id


def run_folder(week: str, run_id: int, plans: Path = PLANS_FOLDER) -> Path:
    """Where a run's documents go by default: a folder of its own under its week."""
    return plans / week / f"run-{run_id}"


def published_folder(week: str, plans: Path = PLANS_FOLDER) -> Path:
    """The week's published copy: the documents of its published run."""
    return plans / week / PUBLISHED


def stamp(summary: RunSummary) -> RunStamp:
    """What every page of a run's documents says: run, status, and when it was planned (a
    draft) or published."""
    at = summary.created_at
    if summary.status != RunStatus.DRAFT and summary.published_at is not None:
        at = summary.published_at
    return RunStamp(summary.id, summary.status.value, at)


def _refuse_database_inside(engine: Engine, folder: Path) -> None:
    """A documents folder is replaced whole: one holding the database file is refused."""
    if engine.url.get_backend_name() != "sqlite" or not engine.url.database:
        return
    database = Path(engine.url.database).resolve()
    if database.is_relative_to(folder.resolve()):
        raise FoodchainError(
            f"the documents folder {folder} holds the database {database}: choose another "
            "--out (documents folders are replaced whole)"
        )


def save_plan(
    engine: Engine,
    plan: PlanLike,
    out: Path | None = None,
    allow_unserved: bool = False,
    plans: Path = PLANS_FOLDER,
) -> SavedPlan:
    """Store ``plan`` as a draft run, then write its documents, stamped draft, in ``out``
    (default: the run's own folder, ``run_folder``). A folder holding a published run's
    documents is refused before anything is stored."""
    ensure_savable(plan.record, allow_unserved)
    if out is not None:
        _refuse_database_inside(engine, out)
        check_replaceable(out)
    run_id = save_run(engine, plan, allow_unserved)
    folder = out if out is not None else run_folder(plan.record.week, run_id, plans)
    try:
        written = write_documents(plan.record, folder, stamp=stamp(run_summary(engine, run_id)))
    except FoodchainError as exc:
        raise DocumentsNotWrittenError(run_id, folder, exc) from exc
    return SavedPlan(run_id, folder, written)


def export_run(
    engine: Engine,
    run_id: int,
    out: Path | None = None,
    language: str | None = None,
    plans: Path = PLANS_FOLDER,
) -> SavedPlan:
    """Write a stored run's documents again, exactly as planned, stamped with its status now
    (default: its own folder, refused once it holds the published documents)."""
    stored = load_run(engine, run_id)
    folder = out if out is not None else run_folder(stored.record.week, run_id, plans)
    _refuse_database_inside(engine, folder)
    written = write_documents(stored.record, folder, language, stamp(stored.summary))
    return SavedPlan(run_id, folder, written)


def publish_plan(
    engine: Engine,
    run_id: int,
    replace: bool = False,
    force: bool = False,
    plans: Path = PLANS_FOLDER,
) -> PublishedPlan:
    """Publish a draft (``runs.publish_run``), then write its documents from the stored record,
    stamped published, in its own folder (replacing its draft's) and in the week's published
    copy (replacing the one of the run it supersedes, whose own folder is kept).

    Publishing the published run again writes only what is missing, so it mends a publication
    whose documents could not be written."""
    summary = publish_run(engine, run_id, replace=replace, force=force)
    stored = load_run(engine, run_id)
    mark = stamp(summary)
    own, copy = run_folder(summary.week, run_id, plans), published_folder(summary.week, plans)
    written: list[Path] = []
    try:
        for folder in (own, copy):
            _refuse_database_inside(engine, folder)
        if documents_run(own) != (run_id, mark.status):
            write_documents(stored.record, own, stamp=mark)
        if documents_run(copy) != (run_id, mark.status):
            written = write_documents(stored.record, copy, stamp=mark, replace_published=True)
    except FoodchainError as exc:
        raise PublishedDocumentsNotWrittenError(run_id, exc) from exc
    return PublishedPlan(summary, own, copy, written)
