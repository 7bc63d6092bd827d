"""The one import pipeline: read file → parse rows → check references → write in one transaction.

Each kind of file (forecasts, menus, subscriptions) supplies an ``Importer``: its column spec,
how a parsed row becomes a validated record, and which stored rows it may replace.

Every defect of every line is reported in one pass: a cell that cannot be read does not hide
the line's unknown names (for importers whose ``build`` takes such rows, ``partial_rows``),
``build`` may report several defects at once (``Checks``, ``RowErrors``) and every validation
error of a record is kept. ``foodchain.errors.group_problems`` then shows a defect repeated on
many lines once, with its lines.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

from pydantic import ValidationError
from sqlalchemy import Engine
from sqlmodel import Session, SQLModel

from foodchain.catalogue import Catalogue, Unknown, load_catalogue
from foodchain.db import write_transaction
from foodchain.errors import InputError, Problem
from foodchain.files.columns import ParsedTable, Row, TableSpec, parse_rows
from foodchain.files.reading import RawTable, parse_bytes, read_file
from foodchain.store import ImportReport, apply, diff, key_of, primary_key, record_import

R = TypeVar("R", bound=SQLModel)


class RowError(Exception):
    """A row-level defect raised inside ``Importer.build``; carries its column and fix
    (``fix_fr``: the fix in French, given to a file with French headers)."""

    def __init__(self, column: str, message: str, fix: str, fix_fr: str = "") -> None:
        super().__init__(message)
        self.column = column
        self.message = message
        self.fix = fix
        self.fix_fr = fix_fr or fix


class RowErrors(Exception):
    """Several defects of one row, raised inside ``Importer.build`` (see ``Checks``)."""

    def __init__(self, errors: Sequence[RowError]) -> None:
        super().__init__("; ".join(e.message for e in errors))
        self.errors = list(errors)


@dataclass(frozen=True)
class Skip:
    """What ``Importer.build`` returns for a row deliberately left out (not an error):
    counted in the report's notes, grouped by ``reason`` (a key of ``SKIP_NOTES``), ``what``
    the row named (quoted in the note)."""

    reason: str
    what: str = ""


NO_QUANTITY = Skip("no quantity")
"""What a row without a quantity is (``build`` returning None means this)."""

SKIP_NOTES = {
    "no quantity": (
        "{n} row(s) without a quantity were skipped",
        "{n} {ligne} sans quantité {ignoree}",
    ),
    "not local": (
        "{n} line(s) outside the local supply chain skipped ({examples})",
        "{n} {ligne} hors circuit local {ignoree} ({examples})",
    ),
}
"""Report notes per reason: (English, French)."""


def skip_notes(skips: Sequence[Skip], french: bool) -> list[str]:
    """One note per reason, e.g. "6 lignes hors circuit local ignorées (Dinde, Pain,
    Oeufs…)": how many rows, and the first three different things they named."""
    notes = []
    for reason in dict.fromkeys(s.reason for s in skips):
        same = [s for s in skips if s.reason == reason]
        named = list(dict.fromkeys(s.what or ("produit vide" if french else "empty") for s in same))
        examples = ", ".join(named[:3]) + ("…" if len(named) > 3 else "")
        english, in_french = SKIP_NOTES.get(reason, (f"{{n}} row(s) skipped ({reason})",) * 2)
        n = len(same)
        notes.append(
            (in_french if french else english).format(
                n=n,
                examples=examples,
                ligne="lignes" if n > 1 else "ligne",
                ignoree="ignorées" if n > 1 else "ignorée",
            )
        )
    return notes


@dataclass(frozen=True)
class Importer(Generic[R]):
    kind: str
    spec: TableSpec
    table: type[SQLModel]
    build: Callable[[Row, Catalogue, dict[str, Any]], R | Skip | None]
    """Parsed row → validated record, or a ``Skip`` (None: skipped for want of a quantity).
    Raises RowError, RowErrors or Unknown."""
    existing: Callable[[Session, Sequence[R], dict[str, Any]], Sequence[dict[str, Any]]]
    """Stored rows the file may change (and, with ``replaces``, remove)."""
    replaces: bool = False
    field_columns: dict[str, str] | None = None
    """Model field → spec column, to place validation errors (default: same name)."""
    check_rows: Callable[[Sequence[tuple[Row, R]], ParsedTable], list[Problem]] | None = None
    """A rule across rows (e.g. a matrix must give every pair of the sites it names),
    checked once every row is valid."""
    partial_rows: bool = False
    """``build`` also takes rows with a cell that could not be read (None, listed in
    ``Row.failed``): to report the row's other defects in the same pass, or to skip it."""
    keep_blank: tuple[str, ...] = field(default=())
    """Fields that a blank (a column the file lacks, an empty cell) never overwrites: the
    stored value stays."""
    covered: Callable[[ParsedTable], dict[str, Any]] | None = None
    """What the whole file covers, rows left out included (e.g. the dates of a menu, lines
    outside the local supply chain too): merged into the options ``existing`` gets."""


def ref(column: str, resolve: Callable[[str], str], text: str) -> str:
    """Resolve a name with ``resolve``; an unknown name becomes a RowError on ``column``."""
    try:
        return resolve(text)
    except Unknown as exc:
        raise RowError(column, exc.message, exc.fix, exc.fix_fr) from None


def _errors(exc: ValidationError, columns: dict[str, str]) -> list[RowError]:
    errors = []
    for error in exc.errors():
        name = str(error["loc"][0]) if error["loc"] else ""
        errors.append(RowError(columns.get(name, name), error["msg"], "correct this value"))
    return errors


def validated(model: type[R], data: dict[str, Any], row: Row, columns: dict[str, str]) -> R:
    """``model.model_validate``; its errors become RowErrors, each on the right column."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise RowErrors(_errors(exc, columns)) from None


class Checks:
    """A row's defects, collected inside ``Importer.build`` so that all are reported at once.

    A cell that could not be read (``Row.failed``) is None: checks that need it are skipped,
    so that each defect is reported once, where it is."""

    def __init__(self, row: Row) -> None:
        self.row = row
        self.errors: list[RowError] = []

    def ok(self, *columns: str) -> bool:
        """None of ``columns`` has a defect (unreadable cell, or one found here)."""
        bad = self.row.failed | {e.column for e in self.errors}
        return not bad.intersection(columns)

    def add(self, column: str, message: str, fix: str, fix_fr: str = "") -> None:
        self.errors.append(RowError(column, message, fix, fix_fr))

    def ref(self, column: str, resolve: Callable[[str], str], text: str | None) -> str | None:
        """``resolve(text)``, or None with the defect noted (None if the cell is unreadable)."""
        if text is None or not self.ok(column):
            return None
        try:
            return resolve(text)
        except Unknown as exc:
            self.add(column, exc.message, exc.fix, exc.fix_fr)
            return None

    def validated(self, model: type[R], data: dict[str, Any], columns: dict[str, str]) -> R:
        """The record; raises ``RowErrors`` with every defect of the row (noted ones and
        the model's, except on columns already in error)."""
        try:
            record = model.model_validate(data)
        except ValidationError as exc:
            for error in _errors(exc, columns):
                if self.ok(error.column):
                    self.errors.append(error)
            record = None
        if self.errors or record is None:
            raise RowErrors(self.errors)
        return record


def parse_records(
    importer: Importer[R], raw: RawTable, catalogue: Catalogue, options: dict[str, Any]
) -> tuple[list[R], ParsedTable, list[Skip]]:
    """All records of a file, or ``InputError`` listing every defect of every row. Also
    returns the rows left out (``Skip``)."""
    parsed = parse_rows(importer.spec, raw)
    in_rows = {id(p) for row in parsed.rejected for p in row.problems}
    problems = [p for p in parsed.problems if id(p) not in in_rows]
    records: list[R] = []
    built: list[tuple[Row, R]] = []
    lines: dict[tuple[Any, ...], int] = {}
    skipped: list[Skip] = []
    rows = sorted(parsed.rows + parsed.rejected, key=lambda r: r.line)
    for row in rows:
        if row.failed and not importer.partial_rows:
            problems.extend(row.problems)
            continue
        try:
            record = importer.build(row, catalogue, options)
        except (RowError, RowErrors) as exc:
            errors = exc.errors if isinstance(exc, RowErrors) else [exc]
            problems.extend(row.problems)
            problems.extend(
                parsed.problem(row, e.column, e.message, e.fix_fr if parsed.french else e.fix)
                for e in errors
                if e.column not in row.failed
            )
            continue
        if isinstance(record, Skip):
            skipped.append(record)
            continue
        if row.failed:
            problems.extend(row.problems)
            continue
        if record is None:
            skipped.append(NO_QUANTITY)
            continue
        key = key_of(importer.table, record)
        if key in lines:
            problems.append(
                Problem(
                    raw.source,
                    f"duplicate row: same {' + '.join(importer.spec.key)} as line {lines[key]}",
                    "keep one row for it (merge the two or delete one)",
                    line=row.line,
                    column=" + ".join(
                        parsed.labels[k] for k in importer.spec.key if k in parsed.labels
                    ),
                    value=" / ".join(
                        str(k)
                        for k, name in zip(key, primary_key(importer.table), strict=True)
                        if name not in importer.spec.private
                    ),
                )
            )
            continue
        lines[key] = row.line
        records.append(record)
        built.append((row, record))
    if not problems and importer.check_rows is not None:
        problems = importer.check_rows(built, parsed)
    if problems:
        problems.sort(key=lambda p: p.line or 0)
        raise InputError(problems)
    return records, parsed, skipped


def _keep_blank(
    importer: Importer[R], stored: Sequence[dict[str, Any]], records: list[R]
) -> list[R]:
    """Records whose blank ``keep_blank`` fields take the stored row's value."""
    names = primary_key(importer.table)
    by_key = {tuple(row[n] for n in names): row for row in stored}
    kept = []
    for record in records:
        old = by_key.get(key_of(importer.table, record))
        update = {
            f: old[f]
            for f in importer.keep_blank
            if old is not None and getattr(record, f) in ("", None) and old[f] not in ("", None)
        }
        kept.append(record.model_copy(update=update) if update else record)
    return kept


def import_file(
    engine: Engine,
    importer: Importer[R],
    path: Path,
    dry_run: bool = False,
    options: dict[str, Any] | None = None,
) -> ImportReport:
    """Import ``path`` entirely or not at all; ``dry_run`` reports without writing."""
    options = options or {}
    data = read_file(path)
    raw = parse_bytes(data, str(path), path.suffix.lower())
    with write_transaction(engine) as session:
        catalogue = load_catalogue(session)
        records, parsed, skipped = parse_records(importer, raw, catalogue, options)
        if importer.covered is not None:
            options = options | importer.covered(parsed)
        stored = importer.existing(session, records, options)
        if importer.keep_blank:
            records = _keep_blank(importer, stored, records)
        changes = diff(importer.table, stored, records, remove_missing=importer.replaces)
        report = ImportReport(importer.kind, str(path), len(raw.rows), [changes], dry_run)
        report.notes.extend(skip_notes(skipped, parsed.french))
        if parsed.unknown_headers:
            report.notes.append(
                "columns ignored: " + ", ".join(repr(h) for h in parsed.unknown_headers)
            )
        if dry_run:
            session.rollback()
            return report
        apply(session, importer.table, changes)
        record_import(session, report, data)
    return report
