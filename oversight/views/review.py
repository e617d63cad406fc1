"""The discipline group's audit views (纪检派驻组审计视图, issue 8): draws, records, deadlines.

Read-only pages for 纪检派驻组 and 审计管理员 (docs/oversight.md says why nobody else): each
filters by the shared scope (period, section, task), exports its tables to xlsx with
``?format=xlsx[&table=…]``, and records the view or the export as an audit event.
"""

from __future__ import annotations

from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_safe

from accounts.roles import Role
from core.paging import page_of, query_without
from core.params import param_int
from core.permissions import role_required

from .. import tables
from ..common import oversight_view_record, table_response, wants_xlsx
from ..filters import scope_from_request
from ..navigation import OVERSIGHT_READERS
from ..selectors import review as selectors

READERS = tuple(OVERSIGHT_READERS)


def _query(request, *drop: str) -> str:
    query = request.GET.copy()
    for key in ("format", "table", *drop):
        query.pop(key, None)
    return query.urlencode()


def _can_open(request) -> bool:
    """Only the discipline group reads the draw and visit pages themselves (and downloads the
    evidence package); the audit admin reads the logs, not the business records."""
    return request.user.has_role(Role.DISCIPLINE)


# ------------------------------------------------------------------------------------ draws
DRAW_STATUSES = (
    ("", gettext_lazy("全部")),
    ("completed", gettext_lazy("已抽取")),
    ("voided", gettext_lazy("已作废")),
    ("committed", gettext_lazy("名单已冻结")),
    ("failing", gettext_lazy("核验未通过")),
)


def _joint_rows(joint_visits):
    return [
        {
            "visit": j,
            "added": tables.added_label(j.added),
            "missing": tables.missing_label(j.missing),
        }
        for j in joint_visits
    ]


def _draws_xlsx(request, scope, status, table):
    if table == "replacements":
        spec, items = tables.REPLACEMENTS, selectors.replacements_in_scope(scope)
    elif table == "joint":
        spec, items = tables.JOINT, selectors.joint_visits_in_scope(scope)
    else:
        rows = selectors.draw_export_rows(scope, actor=request.user, status=status)
        return table_response(request, tables.DRAWS, scope=scope, items=rows)
    return table_response(request, spec, scope=scope, items=items[: selectors.EXPORT_LIMIT])


@require_safe
@role_required(*READERS)
def review_draws(request):
    """Every draw of every task in the scope, verified again on view (only the page's draws)."""
    form, scope = scope_from_request(request)
    status = request.GET.get("status", "")
    if wants_xlsx(request):
        return _draws_xlsx(request, scope, status, request.GET.get("table", ""))
    rows, next_before = selectors.draw_page(
        scope, actor=request.user, status=status, before=param_int(request.GET, "before")
    )
    oversight_view_record(request, page="review_draws", scope=scope)
    return render(
        request,
        "oversight/review_draws.html",
        {
            "scope_form": form,
            "scope": scope,
            "status": status,
            "statuses": DRAW_STATUSES,
            "rows": rows,
            "next_before": next_before,
            "query": _query(request, "before"),
            "replacements": selectors.replacements_in_scope(scope)[: selectors.LIST_LIMIT],
            "joint_visits": _joint_rows(
                selectors.joint_visits_in_scope(scope)[: selectors.LIST_LIMIT]
            ),
            "tab": "draws",
            "can_open": _can_open(request),
        },
    )


# ---------------------------------------------------------------------------------- records
EDIT_LABELS = {
    "visit.draft_saved": gettext_lazy("修改记录内容"),
    "visit.signature": gettext_lazy("签名"),
    "visit.signed_page": gettext_lazy("上传签字页"),
    "visit.evidence_add": gettext_lazy("添加证据"),
    "visit.non_cooperation": gettext_lazy("记录不配合情形"),
}


def _stage(event) -> str:
    return _("审核通过后") if event.after_approval else _("提交后（退回修改）")


def _edit_rows(events, visits):
    for e in events:
        visit = visits.get(e.object_id)
        yield {
            "event": e,
            "visit": visit,
            "label": str(EDIT_LABELS.get(e.event_type, e.event_type)),
            "stage": _stage(e),
            "before": (e.detail or {}).get("before", {}),
            "after": (e.detail or {}).get("after", {}),
            "before_text": tables.as_json((e.detail or {}).get("before", {})),
            "after_text": tables.as_json((e.detail or {}).get("after", {})),
        }


RECORD_TABLES = {
    "returns": (tables.RETURNS, selectors.returned_reviews),
    "corrections": (tables.CORRECTIONS, selectors.corrections),
    "objections": (tables.OBJECTIONS, selectors.objections),
}


def _records_xlsx(request, scope, table):
    if table in RECORD_TABLES:
        spec, rows = RECORD_TABLES[table]
        items = rows(scope)[: selectors.EXPORT_LIMIT]
    else:
        spec = tables.EDITS
        events = list(selectors.record_edits(scope)[: selectors.EXPORT_LIMIT])
        items = _edit_rows(events, selectors.visits_by_id(events))
    return table_response(request, spec, scope=scope, items=items)


@require_safe
@role_required(*READERS)
def review_records(request):
    """Edits after submission / approval, returned reviews, corrections, objections."""
    form, scope = scope_from_request(request)
    if wants_xlsx(request):
        return _records_xlsx(request, scope, request.GET.get("table", ""))
    events = list(selectors.record_edits(scope)[: selectors.LIST_LIMIT])
    visits = selectors.visits_by_id(events)
    oversight_view_record(request, page="review_records", scope=scope)
    return render(
        request,
        "oversight/review_records.html",
        {
            "scope_form": form,
            "scope": scope,
            "query": _query(request),
            "edits": list(_edit_rows(events, visits)),
            "returns": selectors.returned_reviews(scope)[: selectors.LIST_LIMIT],
            "corrections": selectors.corrections(scope)[: selectors.LIST_LIMIT],
            "objections": selectors.objections(scope)[: selectors.LIST_LIMIT],
            "limit": selectors.LIST_LIMIT,
            "tab": "records",
            "can_open": _can_open(request),
        },
    )


# -------------------------------------------------------------------------------- deadlines


def _deadlines_xlsx(request, scope, table):
    figures = selectors.deadline_figures(scope)
    spec, items = {
        "sections": (tables.SECTIONS, figures.by_section),
        "inspectors": (tables.INSPECTORS, figures.by_inspector),
        "monthly": (tables.MONTHLY, figures.monthly),
    }.get(table) or (tables.OPEN, selectors.open_publications(scope)[: selectors.EXPORT_LIMIT])
    return table_response(request, spec, scope=scope, items=items, context={"today": figures.today})


OPEN_RECORDS_PER_PAGE = 50  # the export has them all


@require_safe
@role_required(*READERS)
def review_deadlines(request):
    """Overdue and due-soon publications by section and inspector; on-time rate per month."""
    form, scope = scope_from_request(request)
    if wants_xlsx(request):
        return _deadlines_xlsx(request, scope, request.GET.get("table", ""))
    figures = selectors.deadline_figures(scope)
    for row in figures.by_inspector:
        row["label"] = tables.inspector_label(row)
    open_records = selectors.open_publications(
        scope, today=figures.today, soon_limit=figures.soon_limit
    )
    oversight_view_record(request, page="review_deadlines", scope=scope)
    return render(
        request,
        "oversight/review_deadlines.html",
        {
            "scope_form": form,
            "scope": scope,
            "query": _query(request),
            "figures": figures,
            # Paged; the count is the page's own figures (overdue + due soon), never a COUNT.
            "records": page_of(
                request,
                fetch=lambda offset, limit: open_records[offset : offset + limit],
                count=lambda: figures.overdue + figures.due_soon,
                per_page=OPEN_RECORDS_PER_PAGE,
            ),
            "pager_query": query_without(request),
            "tab": "deadlines",
        },
    )
