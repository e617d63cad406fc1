"""The preview → confirm flow (``RowImporter``, ``run_preview``, ``stream_preview``):
An importer declares its ``columns`` and ``key_column``, cleans one row at a time
(``clean_row`` → ``RowResult`` with the Excel row number, column and Chinese reason of each
error), and classifies cleaned rows against the database in bulk (``classify``:
new / updated / unchanged). ``run_preview`` drives it over a ``Table`` and catches duplicate
keys inside the file. Applying is the importer's own service (all or nothing).

The streamed preview (``stream_preview``) does the same over a file of any size in bounded
memory, in chunks, reporting progress.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _

from .cells import CellError, Column, Row, SpreadsheetError
from .reading import Source, open_table, structure_check, xlsx_row_elements

# --- the preview → confirm flow ---------------------------------------------------------------

NEW, UPDATED, UNCHANGED, ERROR = "new", "updated", "unchanged", "error"
OUTCOME_LABELS = {NEW: "新增", UPDATED: "更新", UNCHANGED: "无变化", ERROR: "错误"}


@dataclass
class RowResult:
    number: int
    key: str = ""
    cleaned: dict[str, Any] = field(default_factory=dict)
    errors: list[CellError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    outcome: str = ""
    changes: dict[str, Any] = field(default_factory=dict)  # {field: [before, after]}

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

    @property
    def max_rows(self) -> int:
        """Data rows one file may hold (``settings.IMPORT_MAX_ROWS``, by kind)."""
        return int(settings.IMPORT_MAX_ROWS.get(self.kind, DEFAULT_MAX_ROWS))

    def header_of(self, key: str) -> str:
        return next(c.header for c in self.columns if c.key == key)

    def clean_row(self, row: Row, result: RowResult) -> None:  # pragma: no cover - abstract
        """Fill ``result.cleaned`` and ``result.key``; record errors with ``result.error``."""
        raise NotImplementedError

    def classify(self, results: list[RowResult]) -> None:  # pragma: no cover - abstract
        """Set ``outcome`` (and ``changes``) of each error-free result, in bulk."""
        raise NotImplementedError

    def apply(
        self, preview: Preview, *, actor: Any
    ) -> dict[str, Any]:  # pragma: no cover - abstract
        """Write the new and updated rows (the caller holds the transaction)."""
        raise NotImplementedError


DEFAULT_MAX_ROWS = 10_000  # a kind missing from settings.IMPORT_MAX_ROWS


def _too_many_rows(limit: int) -> SpreadsheetError:
    return SpreadsheetError(
        _("数据行超过上限 %(limit)d 行，请拆分为多个文件分别导入") % {"limit": limit}
    )


def upload_check(
    importer: RowImporter, data: bytes, *, max_bytes: int | None = None, parse: bool = True
) -> None:
    """The whole-file checks an upload passes *before* it is stored: format by content, size,
    zip guards and XML without DTD (``zip_guard``), and — with ``parse`` — the workbook opens,
    the header is there, no formula, and the row count where the reader knows it without
    reading every row (xlsx/xls; a CSV's rows are counted by the preview). Without ``parse``
    (a big file the worker previews: parsing it here would cost the web request seconds and
    hundreds of MB) only ``structure_check``. Raises ``SpreadsheetError``."""
    fmt = structure_check(data, max_bytes=max_bytes)
    if not parse:
        return
    # Before any parser loads the sheet: 10^6 rows in a 2.5 MB file once cost 92 s and 2.9 GB.
    # (Rows holding only formatting count here too; the limit is far above real files.)
    if fmt == "xlsx" and xlsx_row_elements(data) - 1 > importer.max_rows:
        raise _too_many_rows(importer.max_rows)
    table = open_table(data, columns=importer.columns, max_bytes=max_bytes)
    if table.total_rows_hint is not None and table.total_rows_hint - 1 > importer.max_rows:
        raise _too_many_rows(importer.max_rows)


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
    source: Source,
    *,
    filename: str = "",
    max_bytes: int | None = None,
    max_unzipped_bytes: int | None = None,
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
        if len(results) >= importer.max_rows:
            return Preview(
                importer.kind, "", filename, [], file_error=_too_many_rows(importer.max_rows)
            )
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

    stored_counts: dict[str, Any] = field(default_factory=dict)
    stored_errors: list[CellError] = field(default_factory=list)
    error_total: int = 0

    @property
    def errors(self) -> list[CellError]:
        if self.file_error:
            return super().errors
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
    source: Source,
    *,
    filename: str = "",
    max_bytes: int | None = None,
    max_unzipped_bytes: int | None = None,
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
        if state["total"] >= importer.max_rows:
            # The caller's writer (if any) is rolled back: the preview is not ``ok``.
            return StreamedPreview(
                importer.kind, "", filename, [], file_error=_too_many_rows(importer.max_rows)
            )
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
