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
    """Write the table (formula-escaped by ``write_xlsx``) and record the export with its scope
    and row count."""
    buffer = io.BytesIO()
    count = write_xlsx(buffer, headers=headers, rows=rows, sheet_title=sheet_title, widths=widths)
    audit_record(
        event_type="oversight.export",
        actor=request.user,
        object_type="oversight.page",
        object_id=page,
        detail={**scope.as_detail(), "rows": count, "filename": filename},
    )
    response = HttpResponse(buffer.getvalue(), content_type=XLSX_TYPE)
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response
