"""Column specifications — one place that serves import, export, templates and docs.

A ``TableSpec`` names its columns with a canonical (English) header, the other headers people
write (French, with or without units) and how a cell is read. ``parse_rows`` reads every row
and collects every problem before anyone writes anything.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from foodchain.errors import InputError, Problem
from foodchain.files.reading import RawTable
from foodchain.weeks import Week, fold, parse_date, parse_weekdays

CellParser = Callable[[str], Any]

_INFINITE = ("inf", "infinity", "infini", "infinite", "∞")
_NUMBER = re.compile(r"^([-+]?[\d\s.,']*\d)([eE][-+]?\d+)?\s*([^\d\s].*)?$")


def header_key(text: str) -> str:
    """How headers are compared: folded, separators as single spaces, no trailing ``*``."""
    t = fold(text).replace("_", " ").replace("-", " ").rstrip("*: ").strip()
    return re.sub(r"\s+", " ", t)


def parse_number(text: str, units: tuple[str, ...] = ()) -> float:
    """``12,5`` ``1 234,5`` ``1.234,5`` ``12.5`` (and ``12,5 kg`` when kg is the column's unit)."""
    m = _NUMBER.match(text.strip())
    if not m:
        if fold(text).lstrip("+-") in _INFINITE:
            raise ValueError("not a finite number: write the quantity itself")
        raise ValueError("not a number")
    digits = m.group(1).replace(" ", "").replace("'", "")
    exponent, unit = m.group(2) or "", (m.group(3) or "").strip()
    if unit and fold(unit) not in units:
        raise ValueError(
            f"unit {unit!r} is not accepted here"
            + (f" (only {', '.join(units)})" if units else "; write the number alone")
        )
    if "," in digits and "." in digits:
        decimal = "," if digits.rfind(",") > digits.rfind(".") else "."
        thousands = "." if decimal == "," else ","
        digits = digits.replace(thousands, "").replace(decimal, ".")
    elif digits.count(",") == 1:
        digits = digits.replace(",", ".")
    elif digits.count(",") > 1:
        raise ValueError("not a number")
    value = float(digits + exponent)
    if not math.isfinite(value):
        raise ValueError("not a finite number")
    return value


def number(
    minimum: float | None = None, maximum: float | None = None, units: tuple[str, ...] = ()
) -> CellParser:
    def parse(text: str) -> float:
        value = parse_number(text, units)
        if minimum is not None and value < minimum:
            raise ValueError(f"must be at least {minimum:g}")
        if maximum is not None and value > maximum:
            raise ValueError(f"must be at most {maximum:g}")
        return value

    return parse


def integer(minimum: int = 0, maximum: int = 1_000_000) -> CellParser:
    def parse(text: str) -> int:
        value = parse_number(text)
        if not value.is_integer():
            raise ValueError("must be a whole number")
        if not minimum <= value <= maximum:
            raise ValueError(f"must be between {minimum} and {maximum}")
        return int(value)

    return parse


def text(text: str) -> str:
    return text


def week(text: str) -> str:
    return str(Week.parse(text))


def weeks(text: str) -> list[str]:
    return sorted({str(Week.parse(t)) for t in re.split(r"[,;\s]+", text.strip()) if t})


def date(text: str) -> Any:
    return parse_date(text)


def weekdays(text: str) -> list[str]:
    return parse_weekdays(text)


def choice(words: Mapping[str, str]) -> CellParser:
    """A closed vocabulary: each folded word (French or English) maps to a canonical value."""
    table = {header_key(k): v for k, v in words.items()}

    def parse(text: str) -> str:
        found = table.get(header_key(text))
        if found is None:
            raise ValueError(f"not one of: {', '.join(sorted(set(words.values())))}")
        return found

    return parse


@dataclass(frozen=True)
class Column:
    key: str
    """Canonical header, written in templates and exports."""
    parse: CellParser
    help: str
    """What to write in the cell: shown in templates, in the docs and as the fix of an error."""
    aliases: tuple[str, ...] = ()
    required: bool = True
    """The column must be present in the file."""
    blank_ok: bool = False
    """A cell may be left empty (its value is then None)."""
    help_fr: str = ""
    """``help`` in French, shown as the fix to a file with French headers (default: help)."""

    def headers(self) -> set[str]:
        return {header_key(h) for h in (self.key, *self.aliases)}


@dataclass(frozen=True)
class TableSpec:
    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...] = ()
    """Columns whose values identify a row: two rows with the same key are a duplicate."""
    ignored: tuple[str, ...] = field(default=())
    """Headers written by our templates that carry no data (read and ignored)."""
    private: tuple[str, ...] = field(default=())
    """Columns about people (names, contacts): never quoted in messages."""


@dataclass(frozen=True)
class Row:
    line: int
    values: dict[str, Any]
    cells: dict[str, str]
    """The raw text of each cell, to quote in later error messages."""
    failed: frozenset[str] = frozenset()
    """Columns whose cell could not be read (their value is None); see ``problems``."""
    problems: tuple[Problem, ...] = ()
    """Why those cells could not be read."""


@dataclass
class ParsedTable:
    source: str
    rows: list[Row]
    labels: dict[str, str]
    """Column key → the label to show in messages (the header as written, with its letter)."""
    unknown_headers: list[str]
    problems: list[Problem] = field(default_factory=list)
    private: tuple[str, ...] = ()
    """Columns whose values are never quoted (see ``TableSpec.private``)."""
    rejected: list[Row] = field(default_factory=list)
    """Rows with a cell that could not be read (their problems are in ``problems`` too):
    left out of ``rows``, kept so that later checks can report their other defects."""
    french: bool = False
    """The file's headers are mostly French: fixes are then given in French where we can."""

    def problem(self, row: Row, key: str, message: str, fix: str) -> Problem:
        return Problem(
            self.source,
            message,
            fix,
            line=row.line,
            column=self.labels.get(key, key),
            value=_quoted(key, row.cells.get(key), self.private),
        )


PRIVATE_VALUE = "(not shown: personal data)"


def _quoted(key: str, value: str | None, private: tuple[str, ...]) -> str | None:
    return PRIVATE_VALUE if key in private and value else value


def locate_columns(spec: TableSpec, table: RawTable) -> tuple[dict[str, int], list[Problem]]:
    """Map each spec column to its index in the file's header."""
    problems: list[Problem] = []
    found: dict[str, int] = {}
    for index, raw in enumerate(table.header):
        name = header_key(raw)
        without_unit = header_key(re.sub(r"\(.*?\)", "", name))
        match = next(
            (c for c in spec.columns if name in c.headers() or without_unit in c.headers()), None
        )
        if match is None:
            continue
        if match.key in found:
            problems.append(
                Problem(
                    table.source,
                    f"two columns mean '{match.key}'",
                    f"keep only one of {table.column_label(found[match.key])!r} and "
                    f"{table.column_label(index)!r}",
                    line=1,
                    column=table.column_label(index),
                    value=raw,
                )
            )
            continue
        found[match.key] = index
    for column in spec.columns:
        if column.required and column.key not in found:
            names = ", ".join(repr(h) for h in (column.key, *column.aliases[:3]))
            problems.append(
                Problem(
                    table.source,
                    f"the column '{column.key}' is missing",
                    f"add a column headed {names} ({column.help})",
                    line=1,
                )
            )
    return found, problems


def parse_rows(spec: TableSpec, table: RawTable) -> ParsedTable:
    """Read every row. Header defects raise at once; cell defects are collected in
    ``problems`` (their rows left out) so that later checks can add theirs before raising."""
    positions, header_problems = locate_columns(spec, table)
    if header_problems:
        raise InputError(header_problems)
    if not table.rows:
        raise InputError(
            [Problem(table.source, "the file has a header but no rows", "add at least one row")]
        )
    labels = {key: table.column_label(i) for key, i in positions.items()}
    known = set(positions.values())
    ignored = {header_key(h) for h in spec.ignored}
    unknown = [
        h
        for i, h in enumerate(table.header)
        if i not in known and h and header_key(h) not in ignored
    ]
    parsed = ParsedTable(
        table.source,
        [],
        labels,
        unknown,
        private=spec.private,
        french=_french(spec, table, positions),
    )
    width = len(table.header)
    cache: dict[tuple[str, str], Any] = {}
    for line, cells in table.rows:
        if len(cells) > width and any(cells[width:]):
            parsed.problems.append(
                Problem(
                    table.source,
                    f"this row has {len(cells)} values but the header has {width} columns",
                    "remove the extra values or add a header for them; check that decimal "
                    "commas are not taken for separators",
                    line=line,
                    value=PRIVATE_VALUE if spec.private else ";".join(cells[width:]),
                )
            )
            continue
        row = _parse_row(spec, table, positions, labels, line, cells, cache, parsed.french)
        if row.problems:
            parsed.problems.extend(row.problems)
            parsed.rejected.append(row)
        else:
            parsed.rows.append(row)
    return parsed


def _french(spec: TableSpec, table: RawTable, positions: dict[str, int]) -> bool:
    """More columns headed otherwise than by their (English) key: a French file."""
    canonical = 0
    for column in spec.columns:
        index = positions.get(column.key)
        if index is not None:
            raw = header_key(table.header[index])
            canonical += header_key(re.sub(r"\(.*?\)", "", raw)) == header_key(column.key)
    return len(positions) - canonical > canonical


def _parse_row(
    spec: TableSpec,
    table: RawTable,
    positions: dict[str, int],
    labels: dict[str, str],
    line: int,
    cells: list[str],
    cache: dict[tuple[str, str], Any],
    french: bool = False,
) -> Row:
    """One row's values, None (and listed in ``failed``) where a cell cannot be read;
    ``cache`` remembers each column's reading of a text (files repeat the same farms, weeks
    and days on thousands of lines)."""
    source = table.source
    values: dict[str, Any] = {}
    raw: dict[str, str] = {}
    problems: list[Problem] = []
    failed: set[str] = set()
    for column in spec.columns:
        index = positions.get(column.key)
        cell = cells[index] if index is not None and index < len(cells) else ""
        raw[column.key] = cell
        values[column.key] = None
        if cell == "":
            formula = table.formulas.get((line, index)) if index is not None else None
            if formula is not None:
                failed.add(column.key)
                problems.append(
                    Problem(
                        source,
                        f"'{column.key}': the cell holds a formula but the file does not "
                        "store its result",
                        "replace the formulas by their values (copy the column, then "
                        "Paste special > Values only), or open and save the file in Excel or "
                        "LibreOffice so that the results are stored",
                        line=line,
                        column=labels.get(column.key),
                        value=formula,
                    )
                )
            elif column.required and not column.blank_ok:
                failed.add(column.key)
                problems.append(
                    Problem(
                        source,
                        f"'{column.key}' is empty",
                        f"remplissez-la : {column.help_fr}"
                        if french and column.help_fr
                        else f"fill it in: {column.help}",
                        line=line,
                        column=labels.get(column.key),
                        value="",
                    )
                )
            continue
        try:
            known = cache.get((column.key, cell))
            if known is None:
                try:
                    known = cache[(column.key, cell)] = column.parse(cell)
                except ValueError as exc:
                    known = cache[(column.key, cell)] = exc
            if isinstance(known, ValueError):
                raise known
            values[column.key] = list(known) if isinstance(known, list) else known
        except ValueError as exc:
            failed.add(column.key)
            problems.append(
                Problem(
                    source,
                    f"'{column.key}': {exc}",
                    column.help_fr if french and column.help_fr else column.help,
                    line=line,
                    column=labels.get(column.key),
                    value=_quoted(column.key, cell, spec.private),
                )
            )
    return Row(line, values, raw, frozenset(failed), tuple(problems))
