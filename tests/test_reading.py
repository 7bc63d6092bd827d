import io

import pytest
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import Workbook

from foodchain.errors import InputError
from foodchain.files.columns import parse_number
from foodchain.files.reading import parse_bytes, sniff_delimiter
from foodchain.files.writing import neutralise, table_csv


def test_utf8_bom_semicolons_and_decimal_commas():
    data = "\ufeffferme;produit;quantité (kg)\nfarm_a;Céleri;12,5\n".encode()
    table = parse_bytes(data, "f.csv")
    assert table.header == ["ferme", "produit", "quantité (kg)"]
    assert table.rows == [(2, ["farm_a", "Céleri", "12,5"])]


def test_cp1252_from_old_excel_is_decoded():
    data = "ferme;produit\nfarm_a;Céleri\n".encode("cp1252")
    assert parse_bytes(data, "f.csv").rows[0][1] == ["farm_a", "Céleri"]


@pytest.mark.parametrize("sep", [",", ";", "\t"])
def test_separator_is_sniffed(sep):
    data = sep.join(["farm", "product", "kg"]) + "\n" + sep.join(["a", "b", '"1,5"']) + "\n"
    assert parse_bytes(data.encode(), "f.csv").rows[0][1] == ["a", "b", "1,5"]


def test_line_numbers_count_blank_lines_and_multiline_cells():
    data = b'farm;dish\n\na;"two\nlines"\n;\nb;x\n'
    rows = parse_bytes(data, "f.csv").rows
    assert [line for line, _ in rows] == [3, 6]


def test_xlsx_rows_keep_their_sheet_row_numbers():
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["farm", "kg"])
    sheet.append([None, None])
    sheet.append(["a", 12.5])
    buffer = io.BytesIO()
    book.save(buffer)
    table = parse_bytes(buffer.getvalue(), "f.xlsx", ".xlsx")
    assert table.rows == [(3, ["a", "12.5"])]
    assert table.column_label(1) == "B (kg)"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"\xef\xbb\xbf\r\n", "empty"),
        (b"\x00\x01\x02garbage\x00", "binary"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "97-2003"),
        (b"%PDF-1.4 ...", "PDF"),
    ],
)
def test_unreadable_files_say_why(data, message):
    with pytest.raises(InputError, match=message):
        parse_bytes(data, "f.csv")


def test_sniffing_prefers_semicolon_on_a_tie():
    assert sniff_delimiter("kg") == ";"


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("12,5", 12.5),
        ("1 234,5", 1234.5),
        ("1.234,5", 1234.5),
        ("1,234.5", 1234.5),
        ("12.5", 12.5),
        ("12,5 kg", 12.5),
        ("-3", -3.0),
    ],
)
def test_numbers_as_french_spreadsheets_write_them(text, value):
    assert parse_number(text, units=("kg",)) == value


@pytest.mark.parametrize("text", ["douze", "NaN", "inf", "1e309", "12 lb", "1,2,3"])
def test_non_numbers_are_refused(text):
    with pytest.raises(ValueError):
        parse_number(text, units=("kg",))


cell_text = (
    st.text(
        alphabet=st.characters(
            blacklist_categories=("Cs", "Cc"), blacklist_characters="\u00a0\u2028\u2029\x85"
        ),
        max_size=20,
    )
    .map(str.strip)
    # Text a spreadsheet could run as a formula, even behind a format character ("\xad="),
    # is written with an apostrophe (neutralise, tested apart): not a round trip.
    .filter(lambda s: s and neutralise(s) == s)
)


@given(st.lists(st.lists(cell_text, min_size=3, max_size=3), min_size=1, max_size=10))
def test_what_we_write_we_read_back(rows):
    text = table_csv(["a", "b", "c"], rows)
    table = parse_bytes(("\ufeff" + text).encode(), "f.csv")
    assert [cells for _line, cells in table.rows] == rows


def test_formula_cells_are_neutralised():
    assert neutralise("=HYPERLINK(1)") == "'=HYPERLINK(1)"
    assert neutralise("@SUM(A1)") == "'@SUM(A1)"
    assert neutralise("carotte") == "carotte"
