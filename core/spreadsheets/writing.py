"""Writing xlsx (``write_xlsx``):
Streaming (openpyxl write-only), every text cell beginning with = + - @ prefixed with
``'`` so that no spreadsheet program evaluates it; a text that itself begins with ``'``
followed by one of those gets one more ``'``. ``unescape_text`` removes exactly one, so a
round trip is lossless.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, BinaryIO

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter

from .cells import escape_text

# --- writing ----------------------------------------------------------------------------------


def write_xlsx(
    target: str | Path | BinaryIO,
    *,
    headers: list[str],
    rows: Iterable[Iterable[Any]],
    sheet_title: str = "Sheet1",
    widths: Sequence[int | None] | None = None,  # None: the default width
    notes: list[tuple[str, str]] | None = None,
) -> int:
    """Stream rows to an xlsx (path or binary file object); return the number of data rows.

    Text cells are formula-escaped; dates get a date format. ``notes`` adds a second sheet
    "说明" (header, explanation) — the import reads only the first sheet."""

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(sheet_title)
    for index, width in enumerate(widths or [], start=1):
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
