"""The one import pipeline: read file → parse rows → check references → write in one transaction.

Each kind of file (forecasts, menus, subscriptions) supplies an ``Importer``: its column spec,
how a parsed row becomes a validated record, and which stored rows it may replace.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
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
    """A row-level defect raised inside ``Importer.build``; carries its column and fix."""

    def __init__(self, column: str, message: str, fix: str) -> None:
        super().__init__(message)
        self.column = column
        self.message = message
        self.fix = fix


@dataclass(frozen=True)
class Importer(Generic[R]):
    kind: str
    spec: TableSpec
    table: type[SQLModel]
    build: Callable[[Row, Catalogue, dict[str, Any]], R | None]
    """Parsed row → validated record (None: row skipped). Raises RowError or Unknown."""
    existing: Callable[[Session, Sequence[R], dict[str, Any]], Sequence[dict[str, Any]]]
    """Stored rows the file may change (and, with ``replaces``, remove)."""
    replaces: bool = False
    field_columns: dict[str, str] | None = None
    """Model field → spec column, to place validation errors (default: same name)."""
    check_rows: Callable[[Sequence[tuple[Row, R]], ParsedTable], list[Problem]] | None = None
    """A rule across rows (e.g. a matrix must give every pair of the sites it names),
    checked once every row is valid."""


def ref(column: str, resolve: Callable[[str], str], text: str) -> str:
    """Resolve a name with ``resolve``; an unknown name becomes a RowError on ``column``."""
    try:
        return resolve(text)
    except Unknown as exc:
        raise RowError(column, exc.message, exc.fix) from None


def validated(model: type[R], data: dict[str, Any], row: Row, columns: dict[str, str]) -> R:
    """``model.model_validate`` whose first error becomes a RowError on the right column."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        name = str(error["loc"][0]) if error["loc"] else ""
        raise RowError(columns.get(name, name), error["msg"], "correct this value") from None


def parse_records(
    importer: Importer[R], raw: RawTable, catalogue: Catalogue, options: dict[str, Any]
) -> tuple[list[R], ParsedTable, int]:
    """All records of a file, or ``InputError`` listing every defect. Returns skipped count."""
    parsed = parse_rows(importer.spec, raw)
    problems = list(parsed.problems)
    records: list[R] = []
    built: list[tuple[Row, R]] = []
    lines: dict[tuple[Any, ...], int] = {}
    skipped = 0
    for row in parsed.rows:
        try:
            record = importer.build(row, catalogue, options)
        except RowError as exc:
            problems.append(parsed.problem(row, exc.column, exc.message, exc.fix))
            continue
        if record is None:
            skipped += 1
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
        stored = importer.existing(session, records, options)
        changes = diff(importer.table, stored, records, remove_missing=importer.replaces)
        report = ImportReport(importer.kind, str(path), len(raw.rows), [changes], dry_run)
        if skipped:
            report.notes.append(f"{skipped} row(s) without a quantity were skipped")
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
