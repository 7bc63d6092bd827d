"""Write tables for people: CSV as French Excel opens it (``;``, decimal comma, BOM) or XLSX."""

from __future__ import annotations

import csv
import io
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from foodchain.errors import FoodchainError
from foodchain.files.reading import column_letter

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _hidden(char: str) -> bool:
    """A character a spreadsheet (or our XLSX writer, which drops the control characters a
    worksheet cannot hold) may skip before a formula: spaces, control and format characters."""
    return char.isspace() or unicodedata.category(char) in ("Cc", "Cf")


def neutralise(text: str) -> str:
    """Stop a spreadsheet from running a cell as a formula (CSV/formula injection): a cell
    whose text starts with ``= + - @``, a tab or a CR, even behind control characters or
    spaces, is written with a leading apostrophe."""
    visible = next((i for i, char in enumerate(text) if not _hidden(char)), len(text))
    starts = text.startswith(_FORMULA_STARTS) or text[visible:].startswith(_FORMULA_STARTS)
    return "'" + text if starts else text


def _xlsx_text(text: str) -> str:
    """Without the control characters a worksheet cannot hold, then neutralised (in that
    order: a control character must not hide a formula)."""
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    return neutralise(ILLEGAL_CHARACTERS_RE.sub("", text))


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, float):  # + 0.0: a load rounded from -1e-12 is "0", not "-0"
        return f"{value + 0.0:.10g}".replace(".", ",")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, list | tuple):
        return neutralise(" ".join(str(v) for v in value))
    return neutralise(str(value))


def table_csv(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow([neutralise(h) for h in header])
    for row in rows:
        writer.writerow([_csv_cell(v) for v in row])
    return buffer.getvalue()


@dataclass(frozen=True)
class XlsxLayout:
    """How an XLSX sheet helps the person filling it (CSV has none of this)."""

    title: str = ""
    """The sheet's name (the first sheet, the one imports read)."""
    fill: tuple[int, ...] = ()
    """Indexes of the columns to fill: highlighted, header and cells."""
    choices: Mapping[int, Sequence[str]] = field(default_factory=dict)
    """Column index → the values of its drop-down list (kept on a hidden second sheet)."""
    strict: tuple[int, ...] = ()
    """Columns of ``choices`` that refuse other values (the others only warn)."""
    muted: tuple[int, ...] = ()
    """Columns written for the program, not the person (greyed, e.g. a version stamp)."""
    stamp: str = ""
    """Printed at the top of every page ("BROUILLON - run 3 · …"): in the page header, not
    in a cell, so the table still reads back as data."""


FILL_COLOUR = "FFF2CC"
"""The highlight of the cells to fill (a light yellow that prints and copies well)."""
LISTS_SHEET = "listes"


def write_table(
    path: Path,
    header: Sequence[str],
    rows: Sequence[Sequence[Any]],
    layout: XlsxLayout | None = None,
) -> None:
    """CSV or XLSX by the file's extension (``layout`` applies to XLSX only)."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        path.write_text(table_csv(header, rows), encoding="utf-8-sig", newline="")
    elif suffix == ".xlsx":
        _write_xlsx(path, header, rows, layout or XlsxLayout())
    else:
        raise FoodchainError(f"cannot write {path}: give a file name ending in .csv or .xlsx")


def _write_xlsx(
    path: Path, header: Sequence[str], rows: Sequence[Sequence[Any]], layout: XlsxLayout
) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    if layout.title:
        sheet.title = layout.title
    sheet.append([_xlsx_text(h) for h in header])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append(
            [
                _xlsx_text(" ".join(map(str, v)))
                if isinstance(v, list | tuple)
                else _xlsx_text(v)
                if isinstance(v, str)
                else v + 0.0
                if isinstance(v, float)
                else v
                for v in row
            ]
        )
    for index, name in enumerate(header):
        width = max([len(str(name))] + [len(str(r[index] or "")) for r in rows[:200]])
        sheet.column_dimensions[column_letter(index)].width = min(width + 2, 80)
    sheet.freeze_panes = "A2"
    if layout.stamp:
        text = layout.stamp.replace("&", "&&")  # '&' starts a header code
        for printed in (sheet.oddHeader, sheet.evenHeader):
            if printed is not None:
                printed.right.text = text
    _lay_out(book, sheet, len(rows), layout)
    book.save(path)


def _lay_out(book: Any, sheet: Any, count: int, layout: XlsxLayout) -> None:
    """Highlight, grey and give drop-down lists to the columns ``layout`` names."""
    from openpyxl.styles import Font, PatternFill
    from openpyxl.worksheet.datavalidation import DataValidation

    last = count + 1
    fill = PatternFill("solid", start_color=FILL_COLOUR, end_color=FILL_COLOUR)
    for index in layout.fill:
        for row in range(1, last + 1):
            sheet.cell(row, index + 1).fill = fill
    for index in layout.muted:
        for row in range(1, last + 1):
            sheet.cell(row, index + 1).font = Font(color="808080", bold=row == 1)
    if not layout.choices or count == 0:
        return
    lists = book.create_sheet(LISTS_SHEET)
    lists.sheet_state = "hidden"
    for position, (index, values) in enumerate(sorted(layout.choices.items())):
        letter = column_letter(position)
        for row, value in enumerate(values, 1):
            lists.cell(row, position + 1).value = _xlsx_text(value)
        strict = index in layout.strict
        validation = DataValidation(
            type="list",
            formula1=f"{LISTS_SHEET}!${letter}$1:${letter}${max(len(values), 1)}",
            allow_blank=True,
            showErrorMessage=True,
            errorStyle="stop" if strict else "warning",
            errorTitle="Valeur hors liste",
            error="Choisissez une valeur de la liste."
            if strict
            else "Cette valeur n'est pas dans la liste : la garder quand même ?",
        )
        sheet.add_data_validation(validation)
        column = column_letter(index)
        validation.add(f"{column}2:{column}{last}")


@dataclass(frozen=True)
class Sheet:
    """A table ready to write: canonical column keys, the rows, and French headers."""

    keys: list[str]
    rows: list[list[Any]]
    french: Mapping[str, str] = field(default_factory=dict)
    title: str = ""
    """The XLSX sheet's name."""
    fill: tuple[str, ...] = ()
    """Keys of the columns the person fills (highlighted in XLSX)."""
    choices: Mapping[str, Sequence[str]] = field(default_factory=dict)
    """Key → the values a drop-down list offers (XLSX); in French through ``words``."""
    strict: tuple[str, ...] = ()
    """Keys of ``choices`` that refuse any other value."""
    muted: tuple[str, ...] = ()
    """Keys of columns kept for the program (greyed in XLSX)."""
    words: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    """Key → canonical word → French word, for cells written in French (``organic`` →
    ``bio``, ``mon thu`` → ``lun jeu``); the importer reads both."""

    def header(self, french: bool) -> list[str]:
        return [self.french.get(k, k) if french else k for k in self.keys]

    def _cell(self, key: str, value: Any, french: bool) -> Any:
        words = self.words.get(key) if french else None
        if not words or not isinstance(value, str):
            return value
        return " ".join(words.get(w, w) for w in value.split(" "))

    def cells(self, french: bool) -> list[list[Any]]:
        """The rows as written, their words in the sheet's language."""
        if not french or not self.words:
            return self.rows
        return [
            [self._cell(k, v, french) for k, v in zip(self.keys, row, strict=True)]
            for row in self.rows
        ]

    def layout(self, french: bool) -> XlsxLayout:
        index = {k: i for i, k in enumerate(self.keys)}
        return XlsxLayout(
            title=self.title,
            fill=tuple(index[k] for k in self.fill),
            choices={
                index[k]: [self._cell(k, v, french) for v in values]
                for k, values in self.choices.items()
            },
            strict=tuple(index[k] for k in self.strict),
            muted=tuple(index[k] for k in self.muted),
        )

    def write(self, path: Path, french: bool = True) -> None:
        write_table(path, self.header(french), self.cells(french), self.layout(french))
