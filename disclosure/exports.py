"""Export to the 公示系统协同监管平台 (credit-disclosure platform), art. 6(6).

The column mapping lives in ONE place, ``COLUMNS``: header of the province's template, the
English JSON key and the function that reads the value from an ``ExportRow``. When the province
changes its template, change this table (and the test that pins the headers).

Exporters are classes (``XlsxExporter``, ``JsonExporter``) over an iterable of ``ExportRow``.
The xlsx is streamed straight into the zip as SpreadsheetML (``StreamingXlsxWriter``): inline
strings, one date style, a bold frozen header — every text cell formula-escaped with
``core.spreadsheets.escape_text``, dates as real date cells. openpyxl's write-only mode
(``core.spreadsheets.write_xlsx``) serialises each cell through et_xmlfile in pure Python and
could not reach the 3× target against django-import-export (docs/disclosure.md); the files are
read back with openpyxl in the tests. The JSON is written row by row.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape as xml_escape  # nosec B406 - escapes output, parses nothing

from core.spreadsheets import escape_text

INSPECTING_BODY = "舞钢市工业信息化和商务局"
TASK_KIND_LABELS = {"directed": "定向", "non_directed": "不定向"}
CORRECTION_PREFIX = "更正"


@dataclass(frozen=True)
class ExportRow:
    """One row of a batch: one enterprise × one check item (a publication record's version)."""

    plan_number: str
    plan_name: str
    task_number: str
    task_name: str
    task_kind: str  # "directed" / "non_directed"
    completion_date: dt.date
    uscc: str
    enterprise_name: str
    check_item: str
    result: str
    remarks: str = ""
    record_id: int | None = None
    version_id: int | None = None


@dataclass(frozen=True)
class ExportColumn:
    header: str  # the platform template's header (Chinese)
    key: str  # the JSON key (English, documented in docs/disclosure.md)
    get: Callable[[ExportRow], Any]
    width: int = 16


# --- THE column mapping (the province's template) --------------------------------------------
COLUMNS: list[ExportColumn] = [
    ExportColumn("抽查计划编号", "plan_number", lambda r: r.plan_number, 22),
    ExportColumn("抽查计划名称", "plan_name", lambda r: r.plan_name, 30),
    ExportColumn("抽查任务编号", "task_number", lambda r: r.task_number, 24),
    ExportColumn("抽查任务名称", "task_name", lambda r: r.task_name, 30),
    ExportColumn(
        "抽查类型", "check_type", lambda r: TASK_KIND_LABELS.get(r.task_kind, r.task_kind), 10
    ),
    ExportColumn("抽查机关", "inspecting_body", lambda r: INSPECTING_BODY, 26),
    ExportColumn("抽查完成日期", "completion_date", lambda r: r.completion_date, 14),
    ExportColumn("统一社会信用代码", "uscc", lambda r: r.uscc, 22),
    ExportColumn("企业名称", "enterprise_name", lambda r: r.enterprise_name, 30),
    ExportColumn("检查事项", "check_item", lambda r: r.check_item, 30),
    ExportColumn("检查结果", "result", lambda r: r.result, 40),
    ExportColumn("备注", "remarks", lambda r: r.remarks, 30),
]
HEADERS = [c.header for c in COLUMNS]
JSON_KEYS = [c.key for c in COLUMNS]
FORMAT_VERSION = 1


def correction_remark(reason: str) -> str:
    return f"{CORRECTION_PREFIX}：{reason}"


class BatchExporter:
    """Base: turn rows into cell values through ``COLUMNS``; subclasses write a format."""

    extension = ""
    content_type = ""

    def __init__(self, columns: list[ExportColumn] | None = None):
        self.columns = columns or COLUMNS

    def values(self, rows: Iterable[ExportRow]) -> Iterator[list[Any]]:
        getters = [c.get for c in self.columns]
        for row in rows:
            yield [get(row) for get in getters]

    def write(
        self, target, rows: Iterable[ExportRow], *, batch: str = "", generated_at=None
    ) -> int:  # pragma: no cover
        raise NotImplementedError


_ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_EXCEL_EPOCH_ORDINAL = dt.date(1899, 12, 30).toordinal()


def _column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


_STATIC_PARTS = {
    "[Content_Types].xml": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" '
        'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        '<Override PartName="/xl/styles.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
        "</Types>"
    ),
    "_rels/.rels": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>'
    ),
    "xl/_rels/workbook.xml.rels": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/worksheet" Target="worksheets/sheet1.xml"/>'
        '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/styles" Target="styles.xml"/></Relationships>'
    ),
    # Styles: 0 default, 1 date (yyyy-mm-dd), 2 bold header on a light fill.
    "xl/styles.xml": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        '<numFmts count="1"><numFmt numFmtId="164" formatCode="yyyy-mm-dd"/></numFmts>'
        '<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font>'
        '<font><b/><sz val="11"/><name val="Calibri"/></font></fonts>'
        '<fills count="3"><fill><patternFill patternType="none"/></fill>'
        '<fill><patternFill patternType="gray125"/></fill>'
        '<fill><patternFill patternType="solid"><fgColor rgb="FFDDE6F2"/></patternFill></fill>'
        "</fills>"
        '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
        '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/>'
        "</cellStyleXfs>"
        '<cellXfs count="3"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
        '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
        '<xf numFmtId="0" fontId="1" fillId="2" borderId="0" xfId="0" applyFont="1" '
        'applyFill="1"/></cellXfs>'
        '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
        "</styleSheet>"
    ),
}


class StreamingXlsxWriter:
    """A minimal, streaming xlsx writer (one sheet, inline strings) for big exports."""

    def __init__(self, target, *, sheet_title: str, headers: list[str], widths: list[int]):
        self.target, self.sheet_title = target, sheet_title
        self.headers, self.widths = headers, widths
        self.letters = [_column_letter(i) for i in range(len(headers))]

    @staticmethod
    def _text(value: str) -> str:
        value = escape_text(_ILLEGAL_XML.sub("", value))
        space = ' xml:space="preserve"' if value[:1].isspace() or value[-1:].isspace() else ""
        return f"<is><t{space}>{xml_escape(value)}</t></is>"

    def _row(self, number: int, values, style: str = "") -> str:
        cells = []
        for letter, value in zip(self.letters, values, strict=False):
            ref = f"{letter}{number}"
            if value is None or value == "":
                continue
            if isinstance(value, str):
                cells.append(f'<c r="{ref}"{style} t="inlineStr">{self._text(value)}</c>')
            elif isinstance(value, dt.date):
                day = value.date() if isinstance(value, dt.datetime) else value
                serial = day.toordinal() - _EXCEL_EPOCH_ORDINAL
                cells.append(f'<c r="{ref}" s="1"><v>{serial}</v></c>')
            elif isinstance(value, bool):
                cells.append(f'<c r="{ref}" t="b"><v>{int(value)}</v></c>')
            elif isinstance(value, int | float):
                cells.append(f'<c r="{ref}"><v>{value}</v></c>')
            else:
                cells.append(f'<c r="{ref}" t="inlineStr">{self._text(str(value))}</c>')
        return f'<row r="{number}">{"".join(cells)}</row>'

    def write(self, rows) -> int:
        count = 0
        with zipfile.ZipFile(self.target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for name, text in _STATIC_PARTS.items():
                archive.writestr(name, text)
            archive.writestr(
                "xl/workbook.xml",
                '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
                'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
                f'<sheets><sheet name="{xml_escape(self.sheet_title)}" sheetId="1" r:id="rId1"/>'
                "</sheets></workbook>",
            )
            with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as raw:
                out = io.TextIOWrapper(raw, encoding="utf-8", write_through=False)
                out.write(
                    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                    '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
                    '<sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" '
                    'activePane="bottomLeft" state="frozen"/></sheetView></sheetViews><cols>'
                )
                for index, width in enumerate(self.widths, start=1):
                    out.write(f'<col min="{index}" max="{index}" width="{width}" customWidth="1"/>')
                out.write("</cols><sheetData>")
                out.write(self._row(1, self.headers, ' s="2"'))
                buffer = []
                for number, values in enumerate(rows, start=2):
                    buffer.append(self._row(number, values))
                    count += 1
                    if len(buffer) >= 1000:
                        out.write("".join(buffer))
                        buffer.clear()
                out.write("".join(buffer))
                out.write("</sheetData></worksheet>")
                out.flush()
                out.detach()
        return count


class XlsxExporter(BatchExporter):
    extension = ".xlsx"
    content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

    def write(self, target, rows: Iterable[ExportRow], **meta) -> int:
        """Stream to ``target`` (path or binary file); return the row count."""
        writer = StreamingXlsxWriter(
            target,
            sheet_title="抽查结果",
            headers=[c.header for c in self.columns],
            widths=[c.width for c in self.columns],
        )
        return writer.write(self.values(rows))


class JsonExporter(BatchExporter):
    """``{"format_version", "batch", "inspecting_body", "generated_at", "columns", "rows"}``;
    each row an object with the English keys of ``COLUMNS``; dates as YYYY-MM-DD. Text is
    formula-escaped the same way as the xlsx (the platform may turn it into a sheet)."""

    extension = ".json"
    content_type = "application/json"

    def write(
        self, target, rows: Iterable[ExportRow], *, batch: str = "", generated_at=None
    ) -> int:
        keys = [c.key for c in self.columns]
        head = {
            "format_version": FORMAT_VERSION,
            "batch": batch,
            "inspecting_body": INSPECTING_BODY,
            "generated_at": generated_at.isoformat() if generated_at else None,
            "columns": [{"key": c.key, "header": c.header} for c in self.columns],
        }
        prefix = json.dumps(head, ensure_ascii=False)[:-1] + ', "rows": ['
        target.write(prefix.encode())
        count = 0
        for values in self.values(rows):
            obj = {}
            for key, value in zip(keys, values, strict=True):
                if isinstance(value, dt.date):
                    value = value.isoformat()
                elif isinstance(value, str):
                    value = escape_text(value)
                obj[key] = value
            target.write(
                ((",\n" if count else "\n") + json.dumps(obj, ensure_ascii=False)).encode()
            )
            count += 1
        target.write(b"\n]}\n")
        return count
