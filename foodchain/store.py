"""Idempotent, all-or-nothing writes: diff incoming records against stored ones by natural key.

Every import and the scenario loader go through ``diff`` then ``apply`` inside one transaction,
so importing the same file twice changes nothing and a failed import writes nothing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from sqlalchemy import ColumnElement, delete, insert, inspect, select, tuple_, update
from sqlmodel import Session, SQLModel

from foodchain.models import ImportRecord

Key = tuple[Any, ...]


def primary_key(model: type[SQLModel]) -> list[str]:
    return [c.name for c in inspect(model).primary_key]


def key_of(model: type[SQLModel], record: SQLModel) -> Key:
    return tuple(getattr(record, name) for name in primary_key(model))


def _plain(value: Any) -> Any:
    """Enums as their values, so stored strings and validated enums compare equal."""
    if isinstance(value, Enum):
        return value.value
    if type(value) is list:
        return [v.value if isinstance(v, Enum) else v for v in value]
    return value


def _row(record: SQLModel) -> dict[str, Any]:
    """Field values, read from the instance dict (much faster than SQLAlchemy attributes)."""
    values = vars(record)
    return {name: _plain(values[name]) for name in type(record).model_fields}


@dataclass
class TableChanges:
    """What writing ``incoming`` would do to one table."""

    table: str
    added: list[dict[str, Any]] = field(default_factory=list)
    changed: list[tuple[dict[str, Any], dict[str, Any]]] = field(default_factory=list)
    removed: list[dict[str, Any]] = field(default_factory=list)
    unchanged: int = 0
    key: tuple[str, ...] = ()
    """The fields naming a row (the table's primary key)."""
    labels: dict[Key, str] = field(default_factory=dict)
    """A readable name per row key, set by an importer that knows one (a forecast:
    "Ferme du Nord (farm_nord) · Carotte (carrot) · 2026-W49"); other rows are named by
    their key values."""

    def label(self, row: dict[str, Any]) -> str:
        """The row as people name it: ``site farm_x``, ``forecast farm_x/carrot/2026-W49``,
        or ``forecast`` and the importer's label."""
        named = self.labels.get(tuple(row.get(n) for n in self.key)) if self.labels else None
        if named:
            return f"{self.table} {named}"
        names = [n for n in self.key if n in row] or list(row)[:3]
        return f"{self.table} " + "/".join(str(row[n]) for n in names)

    def differences(self, old: dict[str, Any], new: dict[str, Any]) -> list[str]:
        """``field: old → new`` for each changed value; nested settings by their path."""
        return [f"{path}: {a} → {b}" for path, a, b in _differences(old, new, "")]


def _differences(old: Any, new: Any, path: str) -> list[tuple[str, Any, Any]]:
    if isinstance(old, dict) and isinstance(new, dict):
        found: list[tuple[str, Any, Any]] = []
        for name in [*old, *(k for k in new if k not in old)]:
            if old.get(name) != new.get(name):
                where = f"{path}.{name}" if path else str(name)
                found += _differences(old.get(name), new.get(name), where)
        return found
    return [(path, old, new)] if old != new else []


def diff(
    model: type[SQLModel],
    existing: Iterable[SQLModel | dict[str, Any]],
    incoming: Sequence[SQLModel],
    remove_missing: bool = False,
) -> TableChanges:
    """Compare by primary key; with ``remove_missing`` stored rows absent from ``incoming`` go."""
    names = primary_key(model)
    rows = (r if isinstance(r, dict) else _row(r) for r in existing)
    stored = {tuple(row[n] for n in names): row for row in rows}
    changes = TableChanges(str(model.__tablename__), key=tuple(names))
    seen: set[Key] = set()
    for record in incoming:
        row = _row(record)
        key = tuple(row[n] for n in names)
        seen.add(key)
        old = stored.get(key)
        if old is None:
            changes.added.append(row)
        elif old != row:
            changes.changed.append((old, row))
        else:
            changes.unchanged += 1
    if remove_missing:
        changes.removed = [row for key, row in stored.items() if key not in seen]
    return changes


def apply(session: Session, model: type[SQLModel], changes: TableChanges) -> None:
    """Write one table's changes with bulk statements (no per-row ORM objects)."""
    table = model.__table__  # type: ignore[attr-defined]
    if changes.removed:
        names = primary_key(model)
        columns = tuple_(*(table.c[n] for n in names))
        keys = [tuple(r[n] for n in names) for r in changes.removed]
        for start in range(0, len(keys), 500):
            session.execute(delete(table).where(columns.in_(keys[start : start + 500])))
    if changes.added:
        session.execute(insert(table), changes.added)
    if changes.changed:
        session.execute(update(model), [new for _old, new in changes.changed])


def stored_rows(
    session: Session, model: type[SQLModel], *where: ColumnElement[bool]
) -> list[dict[str, Any]]:
    """Stored rows as plain mappings (no ORM objects: diffing large files stays fast)."""
    table = model.__table__  # type: ignore[attr-defined]
    return [dict(row._mapping) for row in session.execute(select(table).where(*where))]


@dataclass
class ImportReport:
    """Outcome of an import or a scenario load, dry run or not."""

    kind: str
    source: str
    rows: int
    tables: list[TableChanges]
    dry_run: bool
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    """What the person should check before (or after) writing: shown apart from the notes."""

    @property
    def added(self) -> int:
        return sum(len(t.added) for t in self.tables)

    @property
    def changed(self) -> int:
        return sum(len(t.changed) for t in self.tables)

    @property
    def removed(self) -> int:
        return sum(len(t.removed) for t in self.tables)

    @property
    def unchanged(self) -> int:
        return sum(t.unchanged for t in self.tables)


def record_import(session: Session, report: ImportReport, data: bytes) -> None:
    """Keep a trace of what was imported (kind, file, fingerprint, counts)."""
    if report.dry_run or not (report.added or report.changed or report.removed):
        return
    session.add(
        ImportRecord(
            kind=report.kind,
            source=report.source,
            sha256=hashlib.sha256(data).hexdigest(),
            rows=report.rows,
            added=report.added,
            changed=report.changed,
            removed=report.removed,
            at=dt.datetime.now(dt.UTC),
        )
    )
