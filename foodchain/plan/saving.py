"""A plan kept: stored as a run first, then its documents written in a folder of its own.

The order is the rule: documents never exist without the run they come from. A plan that
may not be saved (``runs.ensure_savable``) is refused before anything is written; a folder
that holds files foodchain did not write there is refused before the run is stored; if the
documents then cannot be written, the run stays stored and the message says how to write
them again (``export_run``). Each run gets its own folder by default
(``plans/2026-W49/run-3``), so a new draft never replaces a published run's documents.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine

from foodchain.documents import check_replaceable, write_documents
from foodchain.errors import FoodchainError
from foodchain.plan.weekly import Plan
from foodchain.runs import ensure_savable, load_run, save_run

PLANS_FOLDER = Path("plans")


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


def run_folder(week: str, run_id: int) -> Path:
    """Where a run's documents go by default: a folder of its own under its week."""
    return PLANS_FOLDER / week / f"run-{run_id}"


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
    engine: Engine, plan: Plan, out: Path | None = None, allow_unserved: bool = False
) -> SavedPlan:
    """Store ``plan`` as a draft run, then write its documents in ``out`` (default: the run's
    own folder, ``run_folder``)."""
    ensure_savable(plan.record, allow_unserved)
    if out is not None:
        _refuse_database_inside(engine, out)
        check_replaceable(out)
    run_id = save_run(engine, plan, allow_unserved)
    folder = out if out is not None else run_folder(plan.record.week, run_id)
    try:
        written = write_documents(plan.record, folder, run_id=run_id)
    except FoodchainError as exc:
        raise DocumentsNotWrittenError(run_id, folder, exc) from exc
    return SavedPlan(run_id, folder, written)


def export_run(
    engine: Engine, run_id: int, out: Path | None = None, language: str | None = None
) -> SavedPlan:
    """Write a stored run's documents again, exactly as planned (default: its own folder)."""
    stored = load_run(engine, run_id)
    folder = out if out is not None else run_folder(stored.record.week, run_id)
    _refuse_database_inside(engine, folder)
    written = write_documents(stored.record, folder, language, run_id)
    return SavedPlan(run_id, folder, written)
