"""The cell level shared by reading, previewing and writing: the errors (``SpreadsheetError``,
``CellError``), text normalisation and the formula escaping (``escape_text`` /
``unescape_text``), dates and decimals as written by Excel, WPS and people, and the
``Column`` / ``Row`` / ``Table`` shapes.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
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

    def as_dict(self) -> dict[str, Any]:
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
