"""Safe spreadsheet reading and writing, shared by every register import/export.

Reading (``open_table``)
    - formats by content, not by name: .xlsx (zip), .xls (OLE2/BIFF), .csv (UTF-8 with or
      without BOM, or GBK/GB18030 as saved by Excel and WPS);
    - a size cap (``max_bytes``; the browser passes ``settings.UPLOAD_MAX_BYTES``);
    - a zip-bomb guard *before parsing*: the declared unzipped size of the archive is capped
      (``max_unzipped_bytes``) and so is every member's compression ratio; Python's zipfile
      never inflates past the declared size, so the cap holds for openpyxl;
    - an encrypted xlsx (an OLE2 container holding ``EncryptedPackage``) is refused;
    - formula cells are refused, never evaluated (xlsx: the sheet XML is scanned for ``<f>``;
      xls: the BIFF FORMULA records);
    - only the first worksheet is read; if its header is missing but another sheet has it,
      the error says so;
    - only real rows are read: a used range that claims 1,048,576 rows because of formatting
      costs nothing (calamine reads cells, not the dimension); blank rows are skipped;
    - header cells are matched after normalisation (trim, full-width → half-width, a trailing
      ``*`` marking required columns is ignored); a missing required header is a file error;
    - cell values: strings trimmed, inner runs of spaces (also U+3000) collapsed; columns
      marked ``halfwidth`` (codes, phones, numbers, dates) are converted full-width → half-width;
      the app's own formula escaping (a leading ``'`` before = + - @) is removed;
    - dates: real date cells, Excel serial numbers and text (2024-01-05, 2024/1/5, 2024.1.5,
      2024年1月5日, 20240105) — ``parse_date``.

Writing (``write_xlsx``)
    Streaming (openpyxl write-only), every text cell beginning with = + - @ prefixed with
    ``'`` so that no spreadsheet program evaluates it; a text that itself begins with ``'``
    followed by one of those gets one more ``'``. ``unescape_text`` removes exactly one, so a
    round trip is lossless.

The preview → confirm flow (``RowImporter``, ``run_preview``)
    An importer declares its ``columns`` and ``key_column``, cleans one row at a time
    (``clean_row`` → ``RowResult`` with the Excel row number, column and Chinese reason of each
    error), and classifies cleaned rows against the database in bulk (``classify``:
    new / updated / unchanged). ``run_preview`` drives it over a ``Table`` and catches duplicate
    keys inside the file. Applying is the importer's own service (all or nothing).
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import re
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

# --- errors -----------------------------------------------------------------------------------


class SpreadsheetError(Exception):
    """The whole file is refused (format, size, header, formula …). ``message`` is Chinese."""

    def __init__(self, message: str, *, row: int | None = None, column: str = ""):
        super().__init__(message)
        self.message = message
        self.row = row
        self.column = column

    def __str__(self) -> str:
        where = []
        if self.row:
            where.append(f"第{self.row}行")
        if self.column:
            where.append(f"“{self.column}”列")
        return ("".join(where) + "：" if where else "") + self.message


@dataclass(frozen=True)
class CellError:
    row: int  # as Excel shows it: the header is row 1
    column: str  # the header text
    message: str  # Chinese

    def as_dict(self) -> dict:
        return {"row": self.row, "column": self.column, "message": self.message}

    def __str__(self) -> str:
        return f"第{self.row}行 “{self.column}”列：{self.message}"


# --- text normalisation -----------------------------------------------------------------------

_FULLWIDTH = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)}
_FULLWIDTH[0x3000] = 0x20
_SPACES = re.compile(r"[\s\u3000\u00a0]+")
ESCAPE_CHARS = ("=", "+", "-", "@")


def to_halfwidth(text: str) -> str:
    return text.translate(_FULLWIDTH)


def clean_text(value: Any, *, halfwidth: bool = False) -> str:
    """Trim, collapse inner whitespace (incl. U+3000), optionally full-width → half-width."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # a phone number typed as a number comes back as 13800000000.0
    text = value if isinstance(value, str) else str(value)
    if halfwidth:
        text = text.translate(_FULLWIDTH)
    # Fast path (C-level checks): printable means no tab/newline/U+3000/U+00A0 in the text.
    if text.isprintable() and text[:1] != " " and text[-1:] != " " and "  " not in text:
        return text
    return _SPACES.sub(" ", text).strip()


def escape_text(text: str) -> str:
    """Prefix ``'`` so no spreadsheet evaluates the text (see module docstring)."""
    if text and (
        text[0] in ESCAPE_CHARS or (text[0] == "'" and text.lstrip("'")[:1] in ESCAPE_CHARS)
    ):
        return "'" + text
    return text


def unescape_text(text: str) -> str:
    """Undo ``escape_text``: one leading ``'`` before (more ``'`` and) = + - @ is removed."""
    if text.startswith("'") and text.lstrip("'")[:1] in ESCAPE_CHARS:
        return text[1:]
    return text


# --- dates ------------------------------------------------------------------------------------

_EXCEL_EPOCH = dt.date(1899, 12, 30)  # serial 1 = 1900-01-01 with the 1900 leap-year bug
_DATE_TEXT = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:[ T].*)?$")
_DATE_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")


def parse_date(value: Any) -> dt.date | None:
    """A date from a date cell, an Excel serial number or text; None for blank.

    Raises ValueError with a Chinese message for anything else."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        serial = float(value)
        if serial.is_integer() and 19000101 <= serial <= 21001231:
            return parse_date(str(int(serial)))  # 20240105 typed as a number
        if 1 <= serial < 2958466:
            return _EXCEL_EPOCH + dt.timedelta(days=int(serial))
        raise ValueError(f"无法识别的日期：{value}")
    text = to_halfwidth(str(value)).strip()
    if not text:
        return None
    match = _DATE_TEXT.match(text) or _DATE_COMPACT.match(text)
    if match:
        try:
            return dt.date(int(match[1]), int(match[2]), int(match[3]))
        except ValueError:
            raise ValueError(f"日期不存在：{text}") from None
    if re.fullmatch(r"\d{1,5}(\.\d+)?", text):
        return parse_date(float(text))  # a serial that arrived as text (CSV)
    raise ValueError(f"无法识别的日期：{text}（请用 2024-01-31 格式）")


def parse_decimal(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    text = to_halfwidth(str(value)).strip().replace(",", "")
    percent = text.endswith("%")
    try:
        number = Decimal(text.rstrip("%"))
    except InvalidOperation:
        raise ValueError(f"不是数字：{value}") from None
    return number / 100 if percent else number


# --- columns and tables -----------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    key: str
    header: str  # the Chinese header of the template
    required: bool = True  # the header must be present (a value may still be optional)
    aliases: tuple[str, ...] = ()
    halfwidth: bool = False  # convert full-width characters in values (codes, phones, dates)
    is_date: bool = False
    width: int = 16  # template column width
    note: str = ""  # shown in the template's 说明 sheet


def _header_key(text: Any) -> str:
    return clean_text(text, halfwidth=True).replace(" ", "").rstrip("*").lower()


@dataclass
class Row:
    number: int  # Excel row number (header = 1)
    values: dict[str, Any]


@dataclass
class Table:
    """A parsed file: its columns, rows (an iterator: big files are streamed) and metadata."""

    format: str
    sha256: str
    size: int
    sheet_name: str
    headers: dict[str, str]  # key -> header text as found
    rows: Iterator[Row]
    total_rows_hint: int | None = None


# --- format detection and guards --------------------------------------------------------------

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP_MAGIC = b"PK\x03\x04"
DEFAULT_MAX_UNZIPPED = 2 * 1024**3  # 10^6-row registers unzip to ~0.6 GB
DEFAULT_MAX_RATIO = 250  # real sheets compress 5–30×; formatting-only rows up to ~150×


def _read_source(source, max_bytes: int | None) -> bytes:
    if isinstance(source, bytes):
        data = source
    elif isinstance(source, str | Path):
        path = Path(source)
        if max_bytes is not None and path.stat().st_size > max_bytes:
            raise SpreadsheetError(_too_big(path.stat().st_size, max_bytes))
        data = path.read_bytes()
    else:
        data = source.read(max_bytes + 1 if max_bytes is not None else -1)
    if max_bytes is not None and len(data) > max_bytes:
        raise SpreadsheetError(_too_big(len(data), max_bytes))
    if not data.strip():
        raise SpreadsheetError("文件为空")
    return data


def _too_big(size: int, cap: int) -> str:
    return f"文件过大（{size / 1024 / 1024:.1f} MB），上限为 {cap / 1024 / 1024:.0f} MB"


def detect_format(data: bytes) -> str:
    if data.startswith(_ZIP_MAGIC):
        return "xlsx"
    if data.startswith(_OLE_MAGIC):
        # An encrypted OOXML file is an OLE2 container with these UTF-16 stream names.
        if (
            "EncryptedPackage".encode("utf-16-le") in data
            or "EncryptionInfo".encode("utf-16-le") in data
        ):
            raise SpreadsheetError("文件已加密（设置了打开密码），请取消密码后另存再上传")
        return "xls"
    head = data[:4096]
    if b"\x00" in head or head.lstrip().startswith((b"%PDF", b"<")):
        raise SpreadsheetError("文件不是 Excel（.xlsx/.xls）或 CSV 表格")
    return "csv"


def zip_guard(data: bytes, *, max_unzipped_bytes: int, max_ratio: int = DEFAULT_MAX_RATIO):
    """Refuse zip bombs from the central directory alone (nothing is inflated)."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise SpreadsheetError("文件已损坏或不是有效的 xlsx 文件") from None
    total = 0
    for info in archive.infolist():
        total += info.file_size
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > 10 * 1024 * 1024 and ratio > max_ratio:
            raise SpreadsheetError(
                f"文件解压后异常膨胀（{info.filename} 压缩比 {ratio:.0f}:1），疑似压缩炸弹，已拒绝"
            )
        if total > max_unzipped_bytes:
            raise SpreadsheetError(
                f"文件解压后超过 {max_unzipped_bytes / 1024**3:.1f} GB，疑似压缩炸弹，已拒绝"
            )
    names = set(archive.namelist())
    if "[Content_Types].xml" not in names or not any(n.startswith("xl/") for n in names):
        raise SpreadsheetError("文件不是有效的 xlsx 表格")
    return archive


_FORMULA = re.compile(rb"<(?:\w+:)?f[\s>/]")
_CELL_REF = re.compile(
    rb'<(?:\w+:)?c\b[^>]*\br="([A-Z]+)(\d+)"[^>]*>(?:(?!</(?:\w+:)?c>).)*?<(?:\w+:)?f[\s>/]', re.S
)


def _first_sheet_path(archive: zipfile.ZipFile, index: int = 0) -> str:
    from defusedxml import ElementTree

    ns = {
        "m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
        "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
    }
    workbook = ElementTree.fromstring(archive.read("xl/workbook.xml"))
    sheets = workbook.findall("m:sheets/m:sheet", ns)
    rid = sheets[index].get(f"{{{ns['r']}}}id")
    rels = ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
    for rel in rels:
        if rel.get("Id") == rid:
            target = rel.get("Target").lstrip("/")
            return target if target.startswith("xl/") else f"xl/{target}"
    raise SpreadsheetError("文件不是有效的 xlsx 表格")


def _xlsx_formula_guard(archive: zipfile.ZipFile, sheet_index: int, headers_row: list) -> None:
    path = _first_sheet_path(archive, sheet_index)
    with archive.open(path) as stream:
        tail = b""
        while chunk := stream.read(1 << 20):
            block = tail + chunk
            if _FORMULA.search(block):
                match = _CELL_REF.search(block)
                if match:
                    column = _column_index(match[1].decode())
                    header = headers_row[column] if column < len(headers_row) else match[1].decode()
                    raise SpreadsheetError(
                        "含有公式的单元格，系统不计算公式，请改为直接填写值",
                        row=int(match[2]),
                        column=clean_text(header) or match[1].decode(),
                    )
                raise SpreadsheetError("表格含有公式，系统不计算公式，请改为直接填写值")
            tail = chunk[-200:]


def _column_index(letters: str) -> int:
    index = 0
    for ch in letters:
        index = index * 26 + ord(ch) - 64
    return index - 1


def _xls_formula_guard(data: bytes, headers_row: list) -> None:
    import xlrd

    book = xlrd.open_workbook(file_contents=data, on_demand=True)
    mem, pos, size = book.mem, book.base, len(book.mem)
    while pos + 4 <= size:
        opcode = int.from_bytes(mem[pos : pos + 2], "little")
        length = int.from_bytes(mem[pos + 2 : pos + 4], "little")
        if opcode in (0x0006, 0x0406):  # FORMULA
            row = int.from_bytes(mem[pos + 4 : pos + 6], "little") + 1
            col = int.from_bytes(mem[pos + 6 : pos + 8], "little")
            header = headers_row[col] if col < len(headers_row) else ""
            raise SpreadsheetError(
                "含有公式的单元格，系统不计算公式，请改为直接填写值",
                row=row,
                column=clean_text(header),
            )
        pos += 4 + length


# --- reading ----------------------------------------------------------------------------------


def _decode_csv(data: bytes) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError:
        raise SpreadsheetError("CSV 文件编码无法识别（请保存为 UTF-8 或 GBK）") from None


def _is_blank(cells: Iterable) -> bool:
    return all(c is None or (isinstance(c, str) and not c.strip()) for c in cells)


def _match_headers(raw: list, columns: list[Column]) -> tuple[dict[str, int], dict[str, str]]:
    wanted = {}
    for column in columns:
        for name in (column.header, *column.aliases):
            wanted[_header_key(name)] = column
    positions, found = {}, {}
    for index, cell in enumerate(raw):
        column = wanted.get(_header_key(cell))
        if column and column.key not in positions:
            positions[column.key] = index
            found[column.key] = clean_text(cell)
    return positions, found


def _missing(columns: list[Column], positions: dict) -> list[Column]:
    return [c for c in columns if c.required and c.key not in positions]


def open_table(
    source,
    *,
    columns: list[Column],
    max_bytes: int | None = None,
    max_unzipped_bytes: int = DEFAULT_MAX_UNZIPPED,
) -> Table:
    """Open a file (path, bytes or file object) as a ``Table`` of the given columns.

    Raises ``SpreadsheetError`` for anything wrong with the file as a whole."""
    data = _read_source(source, max_bytes)
    sha256 = hashlib.sha256(data).hexdigest()
    fmt = detect_format(data)
    if fmt == "csv":
        text = _decode_csv(data)
        reader = csv.reader(io.StringIO(text, newline=""))
        sheet_name = "CSV"
        row_iter = (list(r) for r in reader)
        other_sheets: list = []
        rows_hint = None
    else:
        if fmt == "xlsx":
            archive = zip_guard(data, max_unzipped_bytes=max_unzipped_bytes)
        from python_calamine import CalamineWorkbook

        try:
            workbook = CalamineWorkbook.from_filelike(io.BytesIO(data))
        except Exception:
            raise SpreadsheetError("文件已损坏或无法读取") from None
        names = workbook.sheet_names
        if not names:
            raise SpreadsheetError("文件中没有工作表")
        sheet_name = names[0]
        other_sheets = names[1:]
        sheet = workbook.get_sheet_by_index(0)
        row_iter = sheet.iter_rows()
        rows_hint = sheet.height  # rows holding cells, header included (an estimate)
    first_row = 1  # calamine's iter_rows starts at A1 like Excel (leading blank rows included)

    # Header: the first non-blank row.
    header_number, header_row = 0, None
    for number, cells in enumerate(row_iter, start=first_row):
        if not _is_blank(cells):
            header_number, header_row = number, list(cells)
            break
    positions, found = _match_headers(header_row or [], columns)
    missing = _missing(columns, positions)
    if missing:
        if fmt != "csv" and other_sheets:
            for index, name in enumerate(other_sheets, start=1):
                rows = workbook.get_sheet_by_index(index).iter_rows()
                first = next((list(r) for r in rows if not _is_blank(r)), [])
                if not _missing(columns, _match_headers(first, columns)[0]):
                    raise SpreadsheetError(
                        f"数据应放在第一个工作表；第一个工作表“{sheet_name}”没有表头，"
                        f"表头在第{index + 1}个工作表“{name}”。请把它移到第一个位置"
                    )
        if header_row is None:
            raise SpreadsheetError("文件为空（没有表头和数据）")
        known = {_header_key(c.header) for c in columns} | {
            _header_key(a) for c in columns for a in c.aliases
        }
        unknown = [
            clean_text(h) for h in header_row if clean_text(h) and _header_key(h) not in known
        ]
        message = "缺少表头列：" + "、".join(c.header for c in missing)
        if unknown:
            message += "；无法识别的列：" + "、".join(unknown[:10]) + "（列名是否被修改？）"
        raise SpreadsheetError(message + "。请使用下载的模板", row=header_number)

    if fmt == "xlsx":
        _xlsx_formula_guard(archive, 0, header_row)
    elif fmt == "xls":
        _xls_formula_guard(data, header_row)

    by_key = {c.key: c for c in columns}
    plan = [(key, index, by_key[key]) for key, index in positions.items()]

    def rows() -> Iterator[Row]:
        for number, cells in enumerate(row_iter, start=header_number + 1):
            if _is_blank(cells):
                continue
            values = {}
            width = len(cells)
            for key, index, column in plan:
                value = cells[index] if index < width else None
                if isinstance(value, str):
                    value = clean_text(value, halfwidth=column.halfwidth)
                    if value[:1] == "'":
                        value = unescape_text(value)
                elif column.halfwidth and isinstance(value, float) and value.is_integer():
                    value = int(value)
                values[key] = value
            yield Row(number, values)

    return Table(
        format=fmt,
        sha256=sha256,
        size=len(data),
        sheet_name=sheet_name,
        headers=found,
        rows=rows(),
        total_rows_hint=rows_hint,
    )


# --- writing ----------------------------------------------------------------------------------


def write_xlsx(
    target,
    *,
    headers: list[str],
    rows: Iterable[Iterable[Any]],
    sheet_title: str = "Sheet1",
    widths: list[int] | None = None,
    notes: list[tuple[str, str]] | None = None,
) -> int:
    """Stream rows to an xlsx (path or binary file object); return the number of data rows.

    Text cells are formula-escaped; dates get a date format. ``notes`` adds a second sheet
    "说明" (header, explanation) — the import reads only the first sheet."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font, PatternFill

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(sheet_title)
    for index, width in enumerate(widths or [], start=1):
        from openpyxl.utils import get_column_letter

        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A2"
    bold, fill = Font(bold=True), PatternFill("solid", fgColor="DDE6F2")
    header_cells = []
    for header in headers:
        cell = WriteOnlyCell(sheet, value=header)
        cell.font, cell.fill = bold, fill
        header_cells.append(cell)
    sheet.append(header_cells)
    count = 0
    date_cell_format = "yyyy-mm-dd"
    for row in rows:
        out = []
        for value in row:
            if isinstance(value, str):
                out.append(escape_text(value))
            elif isinstance(value, dt.date):
                cell = WriteOnlyCell(sheet, value=value)
                cell.number_format = date_cell_format
                out.append(cell)
            else:
                out.append(value)
        sheet.append(out)
        count += 1
    if notes:
        info = workbook.create_sheet("说明")
        info.append(["列", "说明"])
        for header, note in notes:
            info.append([header, note])
    workbook.save(target)
    return count


# --- the preview → confirm flow ---------------------------------------------------------------

NEW, UPDATED, UNCHANGED, ERROR = "new", "updated", "unchanged", "error"
OUTCOME_LABELS = {NEW: "新增", UPDATED: "更新", UNCHANGED: "无变化", ERROR: "错误"}


@dataclass
class RowResult:
    number: int
    key: str = ""
    cleaned: dict = field(default_factory=dict)
    errors: list[CellError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    outcome: str = ""
    changes: dict = field(default_factory=dict)  # {field: [before, after]}

    def error(self, column: str, message: str) -> None:
        self.errors.append(CellError(self.number, column, message))


@dataclass
class Preview:
    """The outcome of reading and validating a whole file, before anything is written."""

    kind: str
    sha256: str
    filename: str
    results: list[RowResult]
    file_error: SpreadsheetError | None = None

    @property
    def errors(self) -> list[CellError]:
        if self.file_error:
            return [
                CellError(self.file_error.row or 0, self.file_error.column, self.file_error.message)
            ]
        return [e for r in self.results for e in r.errors]

    @property
    def ok(self) -> bool:
        return self.file_error is None and not any(r.errors for r in self.results)

    @property
    def error_count(self) -> int:
        """How many errors in all (``errors`` of a streamed preview keeps only the first)."""
        return len(self.errors)

    @property
    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys((NEW, UPDATED, UNCHANGED, ERROR), 0)
        for result in self.results:
            counts[ERROR if result.errors else result.outcome or NEW] += 1
        counts["total"] = len(self.results)
        return counts


class RowImporter:
    """Base class of a register import. Subclasses set ``kind``, ``title``, ``columns``,
    ``key_column`` and implement ``clean_row``, ``classify`` and ``apply``."""

    kind: str = ""
    title: str = ""
    columns: list[Column] = []
    key_column: str = ""

    def header_of(self, key: str) -> str:
        return next(c.header for c in self.columns if c.key == key)

    def clean_row(self, row: Row, result: RowResult) -> None:  # pragma: no cover - abstract
        """Fill ``result.cleaned`` and ``result.key``; record errors with ``result.error``."""
        raise NotImplementedError

    def classify(self, results: list[RowResult]) -> None:  # pragma: no cover - abstract
        """Set ``outcome`` (and ``changes``) of each error-free result, in bulk."""
        raise NotImplementedError

    def apply(self, preview: Preview, *, actor) -> dict:  # pragma: no cover - abstract
        """Write the new and updated rows (the caller holds the transaction)."""
        raise NotImplementedError


def _row_cleaner(importer: RowImporter) -> Callable[[Row], RowResult]:
    """Clean one row with ``importer`` and refuse a key already seen earlier in the same file
    (both previews read rows through this)."""
    first_row_of: dict[str, int] = {}
    key_header = importer.header_of(importer.key_column) if importer.key_column else ""

    def clean(row: Row) -> RowResult:
        result = RowResult(row.number)
        importer.clean_row(row, result)
        if result.key and not result.errors:
            seen = first_row_of.setdefault(result.key, row.number)
            if seen != row.number:
                result.error(key_header, f"与第{seen}行重复（{result.key}）")
        return result

    return clean


def run_preview(
    importer: RowImporter,
    source,
    *,
    filename: str = "",
    max_bytes: int | None = None,
    max_unzipped_bytes: int = DEFAULT_MAX_UNZIPPED,
    progress: Callable[[int], None] | None = None,
) -> Preview:
    """Read, clean and classify every row; nothing is written."""
    try:
        table = open_table(
            source,
            columns=importer.columns,
            max_bytes=max_bytes,
            max_unzipped_bytes=max_unzipped_bytes,
        )
    except SpreadsheetError as exc:
        return Preview(importer.kind, "", filename, [], file_error=exc)
    results: list[RowResult] = []
    clean = _row_cleaner(importer)
    for row in table.rows:
        results.append(clean(row))
        if progress and len(results) % 10000 == 0:
            progress(len(results))
    if not results:
        return Preview(
            importer.kind,
            table.sha256,
            filename,
            [],
            file_error=SpreadsheetError("文件只有表头，没有数据行"),
        )
    importer.classify([r for r in results if not r.errors])
    return Preview(importer.kind, table.sha256, filename, results)


# --- the streamed preview (bounded memory, for big files) --------------------------------------

PREVIEW_KEEP_ROWS = 500  # results kept for display: errors, new and updated rows, a few others
PREVIEW_KEEP_ERRORS = 1000  # errors kept with their row, column and reason (all are counted)
STREAM_CHUNK = 5000  # rows cleaned, then classified (and written) together
PROGRESS_EVERY = 1000  # rows between two ``progress(rows_read)`` calls


@dataclass
class StreamedPreview(Preview):
    """A ``Preview`` of a file read in chunks: only counts, the first ``PREVIEW_KEEP_ERRORS``
    errors and a sample of results (``results``) are kept, whatever the file's size."""

    stored_counts: dict = field(default_factory=dict)
    stored_errors: list[CellError] = field(default_factory=list)
    error_total: int = 0

    @property
    def errors(self) -> list[CellError]:
        if self.file_error:
            return Preview.errors.fget(self)
        return self.stored_errors

    @property
    def ok(self) -> bool:
        return self.file_error is None and self.error_total == 0

    @property
    def error_count(self) -> int:
        return 1 if self.file_error else self.error_total

    @property
    def counts(self) -> dict[str, int]:
        if self.file_error:
            return {**dict.fromkeys((NEW, UPDATED, UNCHANGED, ERROR), 0), "total": 0}
        return dict(self.stored_counts)


def stream_preview(
    importer: RowImporter,
    source,
    *,
    filename: str = "",
    max_bytes: int | None = None,
    max_unzipped_bytes: int = DEFAULT_MAX_UNZIPPED,
    progress: Callable[[int], None] | None = None,
    on_chunk: Callable[[list[RowResult]], None] | None = None,
    chunk_size: int | None = None,
    keep_rows: int = PREVIEW_KEEP_ROWS,
    keep_errors: int = PREVIEW_KEEP_ERRORS,
) -> StreamedPreview:
    """``run_preview`` in bounded memory: rows are cleaned and classified ``chunk_size`` at a
    time and then dropped; the outcome is the same (counts, errors with Excel row, column and
    Chinese reason, duplicate keys inside the file).

    ``on_chunk(results)`` receives each classified chunk while no error has been seen so far
    (a writer: the caller holds the transaction and rolls it back if the preview ends not
    ``ok``). Held in memory besides the current chunk: the counts, the first ``keep_errors``
    errors, ``keep_rows`` results for display, and each key's first row number (the duplicate
    check; about 100 bytes a row)."""
    try:
        table = open_table(
            source,
            columns=importer.columns,
            max_bytes=max_bytes,
            max_unzipped_bytes=max_unzipped_bytes,
        )
    except SpreadsheetError as exc:
        return StreamedPreview(importer.kind, "", filename, [], file_error=exc)
    chunk_size = chunk_size or STREAM_CHUNK
    counts = dict.fromkeys((NEW, UPDATED, UNCHANGED, ERROR), 0)
    kept: list[RowResult] = []
    errors: list[CellError] = []
    state = {"errors": 0, "total": 0}
    clean = _row_cleaner(importer)

    def flush(chunk: list[RowResult]) -> None:
        valid = [r for r in chunk if not r.errors]
        if valid:
            importer.classify(valid)
        for result in chunk:
            if result.errors:
                counts[ERROR] += 1
                state["errors"] += len(result.errors)
                room = keep_errors - len(errors)
                if room > 0:
                    errors.extend(result.errors[:room])
            else:
                counts[result.outcome or NEW] += 1
            if len(kept) < keep_rows and (
                result.errors or result.outcome in (NEW, UPDATED) or len(kept) < 50
            ):
                kept.append(result)
        if on_chunk is not None and state["errors"] == 0:
            on_chunk(chunk)

    chunk: list[RowResult] = []
    for row in table.rows:
        chunk.append(clean(row))
        state["total"] += 1
        if len(chunk) >= chunk_size:
            flush(chunk)
            chunk = []
        if progress and state["total"] % PROGRESS_EVERY == 0:
            progress(state["total"])
    if chunk:
        flush(chunk)
    if not state["total"]:
        return StreamedPreview(
            importer.kind,
            table.sha256,
            filename,
            [],
            file_error=SpreadsheetError("文件只有表头，没有数据行"),
        )
    counts["total"] = state["total"]
    return StreamedPreview(
        importer.kind,
        table.sha256,
        filename,
        kept,
        stored_counts=counts,
        stored_errors=errors,
        error_total=state["errors"],
    )
