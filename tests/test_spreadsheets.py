"""core.spreadsheets: safe reading of real xlsx/xls/csv files, and the escaping writer."""

import datetime as dt
import io
import time
import zipfile

import openpyxl
import pytest

from core.spreadsheets import (
    Column,
    SpreadsheetError,
    clean_text,
    escape_text,
    open_table,
    parse_date,
    unescape_text,
    write_xlsx,
)

COLUMNS = [
    Column("code", "代码", halfwidth=True),
    Column("name", "名称"),
    Column("day", "日期", required=False, halfwidth=True, is_date=True),
]


def xlsx(rows, *, sheets=None) -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    for row in rows:
        ws.append(row)
    for title, extra in (sheets or {}).items():
        other = wb.create_sheet(title)
        for row in extra:
            other.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def read(data, **kwargs):
    table = open_table(data, columns=COLUMNS, **kwargs)
    return [(r.number, r.values) for r in table.rows]


def test_xlsx_rows_numbered_as_excel_shows_them_and_blank_rows_skipped():
    data = xlsx([["代码", "名称"], ["A1", "甲"], [None, None], ["A2", "乙"]])
    assert read(data) == [(2, {"code": "A1", "name": "甲"}), (4, {"code": "A2", "name": "乙"})]


def test_header_may_start_below_blank_rows_and_row_numbers_follow():
    wb = openpyxl.Workbook()
    ws = wb.active
    ws["A3"], ws["B3"], ws["A4"], ws["B4"] = "代码", "名称", "X", "丙"
    buf = io.BytesIO()
    wb.save(buf)
    assert read(buf.getvalue()) == [(4, {"code": "X", "name": "丙"})]


def test_header_normalised_fullwidth_spaces_and_required_star():
    data = xlsx([["　代码* ", "名 称"], ["ＡＢ１", "  甲　公司  "]])
    assert read(data) == [(2, {"code": "AB1", "name": "甲 公司"})]


def test_fullwidth_converted_only_in_code_like_columns():
    data = xlsx([["代码", "名称"], ["９１４１", "舞钢市（某）公司"]])
    assert read(data)[0][1] == {"code": "9141", "name": "舞钢市（某）公司"}


def test_missing_and_renamed_header_is_a_file_error():
    data = xlsx([["代码", "企业名"], ["A", "甲"]])
    with pytest.raises(SpreadsheetError) as exc:
        read(data)
    assert "缺少表头列：名称" in exc.value.message
    assert "企业名" in exc.value.message


def test_empty_file_and_header_only():
    with pytest.raises(SpreadsheetError, match="文件为空"):
        read(b"")
    with pytest.raises(SpreadsheetError, match="文件为空"):
        read(xlsx([]))


def test_not_a_spreadsheet():
    with pytest.raises(SpreadsheetError, match="不是 Excel"):
        read(b"%PDF-1.7\n binary")
    with pytest.raises(SpreadsheetError, match="不是有效的 xlsx"):
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as z:
            z.writestr("hello.txt", "hi")
        read(buf.getvalue())


def test_size_cap():
    data = xlsx([["代码", "名称"], ["A", "甲"]])
    with pytest.raises(SpreadsheetError, match="文件过大"):
        read(data, max_bytes=len(data) - 1)


def test_zip_bomb_refused_before_parsing_by_ratio():
    buf = io.BytesIO()
    real = xlsx([["代码", "名称"], ["A", "甲"]])
    with (
        zipfile.ZipFile(io.BytesIO(real)) as src,
        zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z,
    ):
        for info in src.infolist():
            z.writestr(info, src.read(info))
        z.writestr("xl/media/padding.bin", b"\0" * (40 * 1024 * 1024))
    with pytest.raises(SpreadsheetError, match="压缩炸弹"):
        read(buf.getvalue())


def test_zip_bomb_refused_by_total_unzipped_size():
    data = xlsx([["代码", "名称"], ["A", "甲"]])
    with pytest.raises(SpreadsheetError, match="压缩炸弹"):
        read(data, max_unzipped_bytes=1000)


def test_encrypted_xlsx_refused():
    import msoffcrypto.format.ooxml as ooxml

    plain = io.BytesIO(xlsx([["代码", "名称"], ["A", "甲"]]))
    encrypted = io.BytesIO()
    ooxml.OOXMLFile(plain).encrypt("secret", encrypted)
    with pytest.raises(SpreadsheetError, match="已加密"):
        read(encrypted.getvalue())


def test_formula_cell_refused_with_position_never_evaluated():
    data = xlsx([["代码", "名称"], ["A", "甲"], ["B", '=HYPERLINK("http://evil","点我")']])
    with pytest.raises(SpreadsheetError) as exc:
        read(data)
    assert exc.value.row == 3 and exc.value.column == "名称"
    assert "公式" in str(exc.value)


def test_text_that_looks_like_formula_is_text_and_app_escaping_removed():
    data = xlsx([["代码", "名称"], ["A", "'=1+1"], ["B", "''=x"], ["C", "'普通"]])
    names = [v["name"] for _, v in read(data)]
    assert names == ["=1+1", "'=x", "'普通"]


def test_data_on_second_sheet_only():
    data = xlsx([], sheets={"企业": [["代码", "名称"], ["A", "甲"]]})
    with pytest.raises(SpreadsheetError, match="第一个工作表"):
        read(data)


def test_used_range_of_a_million_rows_reads_only_real_rows():
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["代码", "名称"])
    ws.append(["A", "甲"])
    for col in range(1, 3):
        ws.cell(row=1_048_576, column=col).number_format = "@"
    buf = io.BytesIO()
    wb.save(buf)
    start = time.perf_counter()
    rows = read(buf.getvalue())
    assert rows == [(2, {"code": "A", "name": "甲"})]
    assert time.perf_counter() - start < 5


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk"])
def test_csv_encodings(encoding):
    data = "代码,名称,日期\nA1,舞钢市甲公司,2024/1/5\n,,\nA2,乙,45292\n".encode(encoding)
    assert read(data) == [
        (2, {"code": "A1", "name": "舞钢市甲公司", "day": "2024/1/5"}),
        (4, {"code": "A2", "name": "乙", "day": "45292"}),
    ]


def test_xls_read_and_formula_refused():
    import xlwt

    book = xlwt.Workbook()
    sheet = book.add_sheet("企业")
    for c, v in enumerate(["代码", "名称"]):
        sheet.write(0, c, v)
    sheet.write(1, 0, "A")
    sheet.write(1, 1, "甲")
    buf = io.BytesIO()
    book.save(buf)
    assert read(buf.getvalue()) == [(2, {"code": "A", "name": "甲"})]
    sheet.write(2, 0, "B")
    sheet.write(2, 1, xlwt.Formula('HYPERLINK("http://x";"y")'))
    buf = io.BytesIO()
    book.save(buf)
    with pytest.raises(SpreadsheetError) as exc:
        read(buf.getvalue())
    assert exc.value.row == 3 and exc.value.column == "名称"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (dt.date(2024, 1, 5), dt.date(2024, 1, 5)),
        (dt.datetime(2024, 1, 5, 8, 0), dt.date(2024, 1, 5)),
        (45296, dt.date(2024, 1, 5)),
        (45296.0, dt.date(2024, 1, 5)),
        ("45296", dt.date(2024, 1, 5)),
        ("2024-01-05", dt.date(2024, 1, 5)),
        ("2024/1/5", dt.date(2024, 1, 5)),
        ("2024.1.5", dt.date(2024, 1, 5)),
        ("2024年1月5日", dt.date(2024, 1, 5)),
        ("２０２４－０１－０５", dt.date(2024, 1, 5)),
        ("20240105", dt.date(2024, 1, 5)),
        (20240105, dt.date(2024, 1, 5)),
        ("", None),
        (None, None),
    ],
)
def test_parse_date(value, expected):
    assert parse_date(value) == expected


@pytest.mark.parametrize("value", ["2024-02-30", "明天", "13/45/2024"])
def test_parse_date_refuses_with_chinese_reason(value):
    with pytest.raises(ValueError, match="日期"):
        parse_date(value)


def test_dates_from_real_date_cells_and_serials():
    data = xlsx([["代码", "名称", "日期"], ["A", "甲", dt.date(2024, 1, 5)], ["B", "乙", 45296]])
    assert [parse_date(v["day"]) for _, v in read(data)] == [dt.date(2024, 1, 5)] * 2


@pytest.mark.parametrize(
    "text", ["=1+1", "+86", "-5", "@SUM(A1)", "'=x", "''+y", "普通", "", "'quote"]
)
def test_escape_round_trip(text):
    assert unescape_text(escape_text(text)) == text
    escaped = escape_text(text)
    assert escaped[:1] not in ("=", "+", "-", "@")


def test_writer_escapes_text_cells_and_reader_restores_them(tmp_path):
    path = tmp_path / "out.xlsx"
    values = ['=HYPERLINK("x")', "+1", "-2", "@a", "'=b", "正常"]
    write_xlsx(path, headers=["代码", "名称"], rows=[[f"C{i}", v] for i, v in enumerate(values)])
    wb = openpyxl.load_workbook(path)
    raw = [row[1].value for row in wb.active.iter_rows(min_row=2)]
    assert raw[0] == '\'=HYPERLINK("x")' and all(r.data_type == "s" for r in wb.active["B"][1:])
    assert [v["name"] for _, v in read(path.read_bytes())] == values


def test_clean_text_numbers_and_spaces():
    assert clean_text(13800000000.0) == "13800000000"
    assert clean_text("  a \u3000 b\n") == "a b"
