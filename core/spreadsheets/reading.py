"""Reading a spreadsheet safely (``open_table``):
- formats by content, not by name: .xlsx (zip), .xls (OLE2/BIFF), .csv (UTF-8 with or
  without BOM, or GBK/GB18030 as saved by Excel and WPS);
- a size cap (``max_bytes``; the browser passes ``settings.UPLOAD_MAX_BYTES``);
- zip guards *before parsing* (``zip_guard``; limits from the ``IMPORT_ZIP_*`` settings): the
  member count, the declared unzipped total, the compression ratio of every member over
  256 KB and of the whole file; then every member is inflated once through Python's zipfile
  (which stops at the declared size and checks the CRC) and XML members with a DTD are
  refused (XXE);
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
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, BinaryIO

import xlrd
from defusedxml import ElementTree
from django.conf import settings
from django.utils.translation import gettext as _
from python_calamine import CalamineWorkbook

from .cells import Column, Row, SpreadsheetError, Table, _header_key, clean_text, unescape_text

# --- format detection and guards --------------------------------------------------------------

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP_MAGIC = b"PK\x03\x04"

# What a file can be given as: a path, its bytes or a binary file object.
Source = str | Path | bytes | BinaryIO


def _read_source(source: Source, max_bytes: int | None) -> bytes:
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


def zip_guard(
    data: bytes,
    *,
    max_unzipped_bytes: int | None = None,
    max_ratio: int | None = None,
    max_members: int | None = None,
) -> zipfile.ZipFile:
    """Refuse zip bombs, broken archives and XML with a DOCTYPE before any parser sees them.

    From the central directory alone: the number of members, the declared unzipped total, and
    the compression ratio of every member above ``_RATIO_FLOOR`` and of the whole file (a
    1.9 MB file declaring 190 members of 10 MB each, or 2.4 MB expanding to 400 MB). Then every
    member is inflated once through ``zipfile`` (which stops at the declared size and checks the
    CRC, so a member lying about its size is refused, never inflated further) and the XML ones
    are scanned for ``<!DOCTYPE``/``<!ENTITY`` (XXE, billion laughs): an xlsx has no DTD."""
    max_unzipped_bytes = max_unzipped_bytes or settings.IMPORT_ZIP_MAX_UNZIPPED_BYTES
    max_ratio = max_ratio or settings.IMPORT_ZIP_MAX_RATIO
    max_members = max_members or settings.IMPORT_ZIP_MAX_MEMBERS
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError):
        raise SpreadsheetError(_("文件已损坏或不是有效的 xlsx 文件")) from None
    if len(infos) > max_members:
        raise SpreadsheetError(
            _("文件含 %(count)d 个压缩成员，超过上限 %(limit)d，不是正常的 xlsx 表格，已拒绝")
            % {"count": len(infos), "limit": max_members}
        )
    total = 0
    for info in infos:
        total += info.file_size
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > _RATIO_FLOOR and ratio > max_ratio:
            raise SpreadsheetError(
                _("文件解压后异常膨胀（%(name)s 压缩比 %(ratio)d:1），疑似压缩炸弹，已拒绝")
                % {"name": info.filename[:100], "ratio": ratio}
            )
        if total > max_unzipped_bytes:
            raise SpreadsheetError(
                _("文件解压后超过 %(limit).1f GB，疑似压缩炸弹，已拒绝")
                % {"limit": max_unzipped_bytes / 1024**3}
            )
    if total > _RATIO_FLOOR and total / max(len(data), 1) > max_ratio:
        raise SpreadsheetError(
            _("文件解压后异常膨胀（整体压缩比 %(ratio)d:1），疑似压缩炸弹，已拒绝")
            % {"ratio": total / max(len(data), 1)}
        )
    names = {info.filename for info in infos}
    if "[Content_Types].xml" not in names or not any(n.startswith("xl/") for n in names):
        raise SpreadsheetError("文件不是有效的 xlsx 表格")
    for info in infos:
        _member_check(archive, info)
    return archive


# Below this size a member's ratio says nothing (2 KB of repeated XML tags compresses 100×);
# the member count bounds what such members can add up to.
_RATIO_FLOOR = 256 * 1024
_DTD = re.compile(rb"<!(?:DOCTYPE|ENTITY)", re.I)


def _member_check(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> None:
    is_xml = info.filename.lower().endswith((".xml", ".rels", ".vml"))
    try:
        with archive.open(info) as stream:
            tail = b""
            while chunk := stream.read(1 << 20):
                if is_xml and _DTD.search(tail + chunk):
                    raise SpreadsheetError(
                        _("文件中的 %(name)s 含有 DTD/实体声明（可能是 XXE 攻击），已拒绝")
                        % {"name": info.filename[:100]}
                    )
                tail = chunk[-16:]
    except (zipfile.BadZipFile, NotImplementedError, RuntimeError, EOFError, OSError, ValueError):
        # A bad CRC, a member longer than it declares, an unknown compression, a password.
        raise SpreadsheetError(
            _("文件已损坏或不是有效的 xlsx 文件（%(name)s 无法解压）")
            % {"name": info.filename[:100]}
        ) from None


def structure_check(data: bytes, *, max_bytes: int | None = None) -> str:
    """The whole-file checks that do not parse the sheet (cheap in a web request even for a
    big file): size, format by content, the zip guards of an xlsx, a CSV's text encoding.
    Returns the format; raises ``SpreadsheetError``."""
    data = _read_source(data, max_bytes)
    fmt = detect_format(data)
    if fmt == "xlsx":
        zip_guard(data)
    elif fmt == "csv":
        _decode_csv(data)
    return fmt


_ROW_ELEMENT = re.compile(rb"<(?:\w+:)?row[\s>/]")


def xlsx_row_elements(data: bytes) -> int:
    """How many ``<row>`` elements the first sheet's XML holds, counted while streaming it (no
    cell is parsed): an upper bound of its rows, known before any parser loads the sheet. Call
    after ``zip_guard`` (it trusts the archive)."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        try:
            path = _first_sheet_path(archive, 0)
        except (KeyError, IndexError, AttributeError, ElementTree.ParseError, ValueError):
            raise SpreadsheetError("文件不是有效的 xlsx 表格") from None
        count, tail = 0, b""
        with archive.open(path) as stream:
            while chunk := stream.read(1 << 20):
                block = tail + chunk
                # Count matches that end in this chunk's new bytes only (the tail was counted).
                count += sum(1 for m in _ROW_ELEMENT.finditer(block) if m.end() > len(tail))
                tail = block[-64:]
        return count


_FORMULA = re.compile(rb"<(?:\w+:)?f[\s>/]")
_CELL_REF = re.compile(
    rb'<(?:\w+:)?c\b[^>]*\br="([A-Z]+)(\d+)"[^>]*>(?:(?!</(?:\w+:)?c>).)*?<(?:\w+:)?f[\s>/]', re.S
)


def _first_sheet_path(archive: zipfile.ZipFile, index: int = 0) -> str:

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


def _xlsx_formula_guard(archive: zipfile.ZipFile, sheet_index: int, headers_row: list[Any]) -> None:
    try:
        path = _first_sheet_path(archive, sheet_index)
    except (KeyError, IndexError, AttributeError, ElementTree.ParseError, ValueError):
        # calamine read the sheet, but the workbook's own index is broken: not a valid xlsx.
        raise SpreadsheetError("文件不是有效的 xlsx 表格") from None
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


def _xls_formula_guard(data: bytes, headers_row: list[Any]) -> None:

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


def _is_blank(cells: Iterable[Any]) -> bool:
    return all(c is None or (isinstance(c, str) and not c.strip()) for c in cells)


def _match_headers(raw: list[Any], columns: list[Column]) -> tuple[dict[str, int], dict[str, str]]:
    wanted: dict[str, Column] = {}
    for column in columns:
        for name in (column.header, *column.aliases):
            wanted[_header_key(name)] = column
    positions, found = {}, {}
    for index, cell in enumerate(raw):
        match = wanted.get(_header_key(cell))
        if match and match.key not in positions:
            positions[match.key] = index
            found[match.key] = clean_text(cell)
    return positions, found


def _missing(columns: list[Column], positions: dict[str, Any]) -> list[Column]:
    return [c for c in columns if c.required and c.key not in positions]


def open_table(
    source: Source,
    *,
    columns: list[Column],
    max_bytes: int | None = None,
    max_unzipped_bytes: int | None = None,
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
        row_iter: Iterator[list[Any]] = (list(r) for r in reader)
        other_sheets: list[Any] = []
        rows_hint = None
    else:
        if fmt == "xlsx":
            archive = zip_guard(data, max_unzipped_bytes=max_unzipped_bytes)

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
                sheet_rows = workbook.get_sheet_by_index(index).iter_rows()
                first = next((list(r) for r in sheet_rows if not _is_blank(r)), [])
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
        _xlsx_formula_guard(archive, 0, header_row or [])
    elif fmt == "xls":
        _xls_formula_guard(data, header_row or [])

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
