"""What every oversight and report page does the same way: audit the look, export to xlsx.

Viewing and exporting oversight data are themselves audit events (issue 8): the discipline
group's reading is as accountable as the staff's writing."""

import io

from django.http import HttpResponse
from django.utils.http import content_disposition_header

from audit.services import audit_record
from core.spreadsheets import write_xlsx

from .filters import Scope

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def wants_xlsx(request) -> bool:
    """Each page exports its own table at the same URL with ``?format=xlsx``."""
    return request.GET.get("format") == "xlsx"


def oversight_view_record(request, *, page: str, scope: Scope) -> None:
    audit_record(
        event_type="oversight.view",
        actor=request.user,
        object_type="oversight.page",
        object_id=page,
        detail=scope.as_detail(),
    )


def download_response(
    request,
    *,
    page: str,
    scope: Scope,
    content: bytes,
    content_type: str,
    filename: str,
    rows: int,
    attachment: bool = True,
    detail: dict | None = None,
) -> HttpResponse:
    """Record the export (``oversight.export``: scope, row count, file name) and send the file.
    Every oversight download, table or report, goes out this way."""
    audit_record(
        event_type="oversight.export",
        actor=request.user,
        object_type="oversight.page",
        object_id=page,
        detail={**scope.as_detail(), "rows": rows, "filename": filename, **(detail or {})},
    )
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(attachment, filename) or "inline"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def xlsx_response(
    request,
    *,
    page: str,
    scope: Scope,
    filename: str,
    headers: list[str],
    rows,
    sheet_title: str,
    widths: list[int] | None = None,
) -> HttpResponse:
    """Write the table (formula-escaped by ``write_xlsx``) and send it as a recorded download."""
    buffer = io.BytesIO()
    count = write_xlsx(buffer, headers=headers, rows=rows, sheet_title=sheet_title, widths=widths)
    return download_response(
        request,
        page=page,
        scope=scope,
        content=buffer.getvalue(),
        content_type=XLSX_TYPE,
        filename=filename,
        rows=count,
    )


def table_response(request, table, *, scope: Scope, items, context: dict | None = None):
    """Export one declared table (``oversight.tables``) of the rows ``items``."""
    return xlsx_response(
        request,
        page=table.page,
        scope=scope,
        filename=table.filename,
        headers=table.headers(),
        rows=table.rows(items, context),
        sheet_title=str(table.sheet_title),
        widths=table.widths(),
    )
