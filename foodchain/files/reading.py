"""Turn the bytes of a spreadsheet export into rows of text with their line numbers.

Parsing works on bytes already read (``parse_bytes``); only ``read_table`` touches the disk.
Accepted: CSV with ``,`` ``;`` or tab (sniffed), UTF-8, UTF-8 with BOM or Windows-1252, and XLSX.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from foodchain.errors import InputError, Problem

DELIMITERS = (";", ",", "\t")
_XLSX_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0"


@dataclass(frozen=True)
class RawTable:
    """A file's header and non-blank rows, every cell as stripped text."""

    source: str
    header: list[str]
    rows: list[tuple[int, list[str]]]
    """(line number in the file, cells) — for XLSX the sheet's row number."""
    column_letters: bool = False
    """True for XLSX: columns are then also named by their letter (A, B, ...)."""
    formulas: Mapping[tuple[int, int], str] = field(default_factory=dict)
    """XLSX cells left empty because the file holds a formula but not its result:
    (line, column index) → the formula."""

    def column_label(self, index: int) -> str:
        name = self.header[index]
        return f"{column_letter(index)} ({name})" if self.column_letters else name


def column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


MAX_TABLE_BYTES = 16 * 2**20
"""Largest file imported: reading and checking take about 45 times its size in memory (a
19 MB forecast file of 400,000 lines peaked at 880 MB), so 16 MB stays within 1 GB. The
region's whole forecast (65,786 lines) is about 3 MB."""


def _too_big(source: str, size: int) -> InputError:
    return InputError(
        [
            Problem(
                source,
                f"the file is {size / 2**20:,.0f} MB; foodchain imports files of "
                f"{MAX_TABLE_BYTES // 2**20} MB at most (about 300,000 lines)",
                "split it (by week or by farm) and import each part",
            )
        ]
    )


def read_table(path: Path) -> RawTable:
    """Read a CSV or XLSX file; any unreadable file raises ``InputError`` naming the fix."""
    return parse_bytes(read_file(path), str(path), path.suffix.lower())


def read_file(path: Path) -> bytes:
    """The bytes of a file to import, refused before reading if it is too big."""
    try:
        if path.is_file() and path.stat().st_size > MAX_TABLE_BYTES:
            raise _too_big(str(path), path.stat().st_size)
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError(
            [Problem(str(path), "file not found", "check the path and the file name")]
        ) from None
    except IsADirectoryError:
        raise InputError(
            [Problem(str(path), "this is a folder", "give a CSV or XLSX file")]
        ) from None
    except (OSError, ValueError) as exc:  # no permission, a name with a NUL byte...
        raise InputError(
            [Problem(str(path), f"cannot read the file ({exc})", "check the path and the name")]
        ) from None
    return data


def parse_bytes(data: bytes, source: str, suffix: str = "") -> RawTable:
    if len(data) > MAX_TABLE_BYTES:
        raise _too_big(source, len(data))
    if not data.strip(b" \t\r\n\xef\xbb\xbf"):
        raise InputError(
            [Problem(source, "the file is empty", "export the sheet again with its header row")]
        )
    if data.startswith(_XLSX_MAGIC):
        return _parse_xlsx(data, source)
    if data.startswith(_OLE_MAGIC):
        raise InputError(
            [
                Problem(
                    source,
                    "this is an old Excel 97-2003 (.xls) file",
                    "save it as .xlsx or as CSV (separator ';') and import that",
                )
            ]
        )
    if suffix in (".xlsx", ".xlsm"):
        raise InputError(
            [Problem(source, "the file is not a valid XLSX workbook", "save it again from Excel")]
        )
    if data.startswith(b"%PDF"):
        raise InputError(
            [Problem(source, "this is a PDF", "export the spreadsheet as CSV or XLSX instead")]
        )
    if b"\x00" in data[:8192]:
        raise InputError(
            [
                Problem(
                    source,
                    "this is not a text (CSV) file: it contains binary data",
                    "export the spreadsheet as CSV (UTF-8) or XLSX",
                )
            ]
        )
    return parse_csv_text(_decode(data, source), source)


def _decode(data: bytes, source: str) -> str:
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise InputError(
        [
            Problem(
                source,
                "the text is neither UTF-8 nor Windows-1252",
                "save the CSV as 'CSV UTF-8' from your spreadsheet",
            )
        ]
    )


MAX_COLUMNS = 1000
"""Columns a header may have: people's files have a few dozen."""


def sniff_delimiter(header_line: str) -> str:
    """The separator that splits the header into the most columns (``;`` wins ties)."""

    def columns(delimiter: str) -> int:
        try:
            return len(next(csv.reader([header_line], delimiter=delimiter), []))
        except csv.Error:  # a field longer than the csv module takes: not this separator
            return 0

    counts = {d: columns(d) for d in DELIMITERS}
    return max(DELIMITERS, key=lambda d: counts[d])


def parse_csv_text(text: str, source: str) -> RawTable:
    # Old Mac files end lines with CR alone; the csv module reads LF (and CR LF) only.
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = text.split("\n")
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is None:
        raise InputError(
            [Problem(source, "the file is empty", "export the sheet again with its header row")]
        )
    delimiter = sniff_delimiter(lines[first])
    width = lines[first].count(delimiter) + 1
    if width > MAX_COLUMNS:
        raise InputError(
            [
                Problem(
                    source,
                    f"the header has {width:,} columns, foodchain reads at most {MAX_COLUMNS:,}",
                    "keep only the columns to import (see the template), and export again",
                    line=first + 1,
                )
            ]
        )
    reader = csv.reader(io.StringIO("\n".join(lines[first:])), delimiter=delimiter)
    header: list[str] | None = None
    rows: list[tuple[int, list[str]]] = []
    previous_end = first
    try:
        for cells in reader:
            line = previous_end + 1
            previous_end = first + reader.line_num
            cells = [c.strip().replace("\u00a0", " ") for c in cells]
            if not any(cells):
                continue
            if header is None:
                header = cells
            else:
                rows.append((line, cells))
    except csv.Error as exc:
        raise InputError(
            [
                Problem(
                    source,
                    f"the CSV cannot be read: {exc}",
                    "check the quotes on this line; export the sheet again as CSV",
                    line=previous_end + 1,
                )
            ]
        ) from None
    if header is None:  # only separators and blanks, e.g. ";;;"
        raise InputError(
            [
                Problem(
                    source,
                    "the file has no header row (its lines hold only separators)",
                    "export the sheet again with its header row",
                )
            ]
        )
    return RawTable(source, header, rows)


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value).strip().replace("\u00a0", " ")


_FORMULA_TAG = re.compile(rb"<(?:\w+:)?f[\s>/]")
_MERGE_TAG = re.compile(rb"<(?:\w+:)?mergeCell[\s>/]")


def _parse_xlsx(data: bytes, source: str) -> RawTable:
    """The first sheet, as its cells show: a formula gives the result the file stores, a cell
    merged down a column gives its value to each row of the merge (rows with other content).
    Refused: a formula whose result the file does not store (reported where a column uses it,
    see ``RawTable.formulas``), and a merge across columns (which column holds the value?)."""
    from openpyxl import load_workbook

    _refuse_bomb(data, source)
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        try:
            sheet = book.worksheets[0]
            sheet.reset_dimensions()  # the cells it holds, not the size it declares
            by_row = {
                number: cells
                for number, values in enumerate(sheet.iter_rows(values_only=True), 1)
                if any(cells := [_cell_text(v) for v in values])
            }
        finally:
            book.close()
        merges, formulas = _merges_and_formulas(data)
    except Exception as exc:  # a damaged workbook: openpyxl and its XML parser raise many kinds
        raise InputError(
            [
                Problem(
                    source,
                    f"the XLSX workbook cannot be read ({type(exc).__name__}: {exc})",
                    "save it again from Excel or LibreOffice, or export it as CSV",
                )
            ]
        ) from None
    if not by_row:
        raise InputError(
            [Problem(source, "the first sheet is empty", "put the header row on the first sheet")]
        )
    first = min(by_row)
    header = by_row.pop(first)
    while header and not header[-1]:
        header.pop()
    table = RawTable(source, header, [], column_letters=True)
    problems: list[Problem] = []
    for top, left, bottom, right, ref in merges:
        shown = _cell(by_row.get(top, header if top == first else []), left)
        if right > left and shown:
            label = table.column_label(left) if left < len(header) else column_letter(left)
            problems.append(
                Problem(
                    source,
                    f"cells {ref} are merged across columns",
                    "unmerge them and write each value in its own column",
                    line=top,
                    column=label,
                    value=shown,
                )
            )
            continue
        for number in range(top + 1, bottom + 1):
            below = by_row.get(number)
            if below is not None and right == left:
                below.extend([""] * (left + 1 - len(below)))
                below[left] = below[left] or shown
    if problems:
        raise InputError(problems)
    uncomputed = {
        (n, c): f for (n, c), f in formulas.items() if n in by_row and not _cell(by_row[n], c)
    }
    return RawTable(source, header, sorted(by_row.items()), True, uncomputed)


MAX_XLSX_BYTES = 256 * 2**20
"""What an XLSX file may hold once unzipped: a sheet of 100,000 forecast rows takes about
20 MB; a 1.4 MB "zip bomb" declared 3 GB."""


def _refuse_bomb(data: bytes, source: str) -> None:
    """Refuse, before parsing, a workbook that unzips to more than ``MAX_XLSX_BYTES`` (the
    sizes its zip directory declares; reading a member never goes past them)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unzipped = sum(member.file_size for member in archive.infolist())
    except (zipfile.BadZipFile, OSError):
        return  # not a zip: openpyxl's error says so
    if unzipped > MAX_XLSX_BYTES:
        raise InputError(
            [
                Problem(
                    source,
                    f"the XLSX workbook unzips to {unzipped / 2**20:,.0f} MB, more than "
                    f"{MAX_XLSX_BYTES / 2**20:,.0f} MB",
                    "keep only the sheet to import (one header row, one row per line), or "
                    "export it as CSV",
                )
            ]
        )


def _cell(cells: list[str], index: int) -> str:
    return cells[index] if index < len(cells) else ""


def _merges_and_formulas(
    data: bytes,
) -> tuple[list[tuple[int, int, int, int, str]], dict[tuple[int, int], str]]:
    """Merged ranges (top row, left column index, bottom, right, ref) and formulas by (row,
    column index) of the first sheet; the whole workbook is read a second time only if a
    sheet of it has any (most files have none)."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        sheets = [n for n in archive.namelist() if n.startswith("xl/worksheets/")]
        if not any(
            _FORMULA_TAG.search(xml) or _MERGE_TAG.search(xml)
            for xml in (archive.read(n) for n in sheets)
        ):
            return [], {}
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(data), data_only=False).worksheets[0]
    merges = [
        (r.min_row, r.min_col - 1, r.max_row, r.max_col - 1, r.coord)
        for r in sheet.merged_cells.ranges
    ]
    formulas: dict[tuple[int, int], str] = {}
    for row in sheet.iter_rows():
        for cell in row:
            if cell.data_type == "f" and cell.row is not None and cell.column is not None:
                text = getattr(cell.value, "text", cell.value)
                formulas[(cell.row, cell.column - 1)] = str(text)
    return merges, formulas
