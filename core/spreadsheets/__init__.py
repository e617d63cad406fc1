"""Safe spreadsheet reading and writing, shared by every register import/export.

One module per concern: ``reading`` (``open_table``: formats by content, size and zip-bomb
guards, formulas refused), ``preview`` (the preview → confirm flow: ``RowImporter``,
``run_preview``, ``stream_preview``), ``writing`` (``write_xlsx``, formula-escaped); ``cells``
holds what all three share (errors, text normalisation and escaping, dates, ``Column``). The
names other code relies on (docs/contracts.md) are importable from here.
"""

from .cells import (
    CellError,
    Column,
    Row,
    SpreadsheetError,
    Table,
    clean_text,
    escape_text,
    parse_date,
    parse_decimal,
    to_halfwidth,
    unescape_text,
)
from .preview import (
    ERROR,
    NEW,
    OUTCOME_LABELS,
    UNCHANGED,
    UPDATED,
    Preview,
    RowImporter,
    RowResult,
    StreamedPreview,
    run_preview,
    stream_preview,
    upload_check,
)
from .reading import detect_format, open_table, structure_check, zip_guard
from .writing import write_xlsx

__all__ = [
    "ERROR",
    "NEW",
    "OUTCOME_LABELS",
    "UNCHANGED",
    "UPDATED",
    "CellError",
    "Column",
    "Preview",
    "Row",
    "RowImporter",
    "RowResult",
    "SpreadsheetError",
    "StreamedPreview",
    "Table",
    "clean_text",
    "detect_format",
    "escape_text",
    "open_table",
    "parse_date",
    "parse_decimal",
    "run_preview",
    "stream_preview",
    "structure_check",
    "to_halfwidth",
    "unescape_text",
    "upload_check",
    "write_xlsx",
    "zip_guard",
]
