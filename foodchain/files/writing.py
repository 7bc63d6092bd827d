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


def write_table(path: Path, header: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """CSV or XLSX by the file's extension."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        path.write_text(table_csv(header, rows), encoding="utf-8-sig", newline="")
    elif suffix == ".xlsx":
        _write_xlsx(path, header, rows)
    else:
        raise FoodchainError(f"cannot write {path}: give a file name ending in .csv or .xlsx")


def _write_xlsx(path: Path, header: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    assert sheet is not None
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
    book.save(path)


@dataclass(frozen=True)
class Sheet:
    """A table ready to write: canonical column keys, the rows, and French headers."""

    keys: list[str]
    rows: list[list[Any]]
    french: Mapping[str, str] = field(default_factory=dict)

    def header(self, french: bool) -> list[str]:
        return [self.french.get(k, k) if french else k for k in self.keys]

    def write(self, path: Path, french: bool = True) -> None:
        write_table(path, self.header(french), self.rows)
