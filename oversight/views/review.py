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

from core.paging import page_of, query_without
from core.permissions import role_required

from ..common import oversight_view_record, wants_xlsx, xlsx_response
from ..filters import scope_from_request
from ..navigation import OVERSIGHT_READERS
from ..selectors import review as selectors

READERS = tuple(OVERSIGHT_READERS)


def _name(user) -> str:
    if user is None:
        return ""
    return user.full_name or user.username


def _when(value) -> str:
    from django.utils import timezone

    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else ""


def _query(request, *drop: str) -> str:
    query = request.GET.copy()
    for key in ("format", "table", *drop):
        query.pop(key, None)
    return query.urlencode()


def _can_open(request) -> bool:
    """Only the discipline group reads the draw and visit pages themselves (and downloads the
    evidence package); the audit admin reads the logs, not the business records."""
    from accounts.roles import Role

    return request.user.has_role(Role.DISCIPLINE)


def _int(value: str) -> int | None:
    return int(value) if value.isdigit() else None


# ------------------------------------------------------------------------------------ draws
DRAW_STATUSES = (
    ("", gettext_lazy("全部")),
    ("completed", gettext_lazy("已抽取")),
    ("voided", gettext_lazy("已作废")),
    ("committed", gettext_lazy("名单已冻结")),
    ("failing", gettext_lazy("核验未通过")),
)


def _added_label(items) -> str:
    return "、".join(
        f"{a.get('staff_number', '')}（{a.get('task', '')} {a.get('qualification', '')}）"
        if isinstance(a, dict)
        else str(a)
        for a in items or []
    )


def _missing_label(items) -> str:
    return "、".join(
        f"{m.get('task', '')} {m.get('qualification', '')}" if isinstance(m, dict) else str(m)
        for m in items or []
    )


def _joint_rows(joint_visits):
    return [
        {"visit": j, "added": _added_label(j.added), "missing": _missing_label(j.missing)}
        for j in joint_visits
    ]


def _verification_label(row) -> str:
    if row.verified is None:
        return _("未抽取，无需核验")
    return _("核验通过") if row.verified else _("核验未通过：") + "；".join(row.problems)


def _draws_xlsx(request, scope, status, table):
    if table == "replacements":
        rows = (
            (
                r.selection.draw.task.number,
                r.selection.draw_id,
                r.selection.uscc,
                r.selection.enterprise.name,
                f"{r.out.staff_number} {r.out.name}",
                f"{r.into.staff_number} {r.into.name}",
                r.reason,
                _name(r.approver),
                _name(r.made_by),
                _when(r.made_at),
            )
            for r in selectors.replacements_in_scope(scope)[: selectors.EXPORT_LIMIT]
        )
        headers = [
            _("抽查任务"),
            _("抽取编号"),
            _("统一社会信用代码"),
            _("企业"),
            _("回避人员"),
            _("替补人员"),
            _("回避理由"),
            _("批准人"),
            _("操作人"),
            _("时间"),
        ]
        return xlsx_response(
            request,
            page="review_draws.replacements",
            scope=scope,
            filename="抽取后回避替补.xlsx",
            headers=headers,
            rows=rows,
            sheet_title=_("回避替补"),
        )
    if table == "joint":
        rows = (
            (
                j.enterprise.uscc,
                j.enterprise.name,
                "、".join(s.draw.task.number for s in j.selections.all()),
                j.base_selection.draw.task.number,
                "、".join(j.team),
                _added_label(j.added),
                _missing_label(j.missing),
                _name(j.merged_by),
                _when(j.merged_at),
            )
            for j in selectors.joint_visits_in_scope(scope)[: selectors.EXPORT_LIMIT]
        )
        headers = [
            _("统一社会信用代码"),
            _("企业"),
            _("合并的任务"),
            _("保留检查组的任务"),
            _("合并后检查组"),
            _("因资质增加"),
            _("仍缺资质"),
            _("操作人"),
            _("合并时间"),
        ]
        return xlsx_response(
            request,
            page="review_draws.joint",
            scope=scope,
            filename="联合检查合并.xlsx",
            headers=headers,
            rows=rows,
            sheet_title=_("联合检查"),
        )
    rows = [
        (
            row.draw.pk,
            row.draw.task.number,
            row.draw.task.name,
            row.draw.attempt,
            row.draw.get_status_display(),
            _name(row.draw.operator),
            "、".join(w.name for w in row.witnesses),
            _when(row.draw.completed_at or row.draw.committed_at),
            row.draw.population_count,
            row.draw.manifest_sha256,
            row.selected,
            row.replacements,
            row.joint_visits,
            _verification_label(row),
            row.draw.void_reason,
            _name(row.draw.void_approver),
            _when(row.draw.voided_at),
        )
        for row in selectors.draw_export_rows(scope, actor=request.user, status=status)
    ]
    headers = [
        _("抽取编号"),
        _("任务编号"),
        _("任务名称"),
        _("第几次"),
        _("状态"),
        _("操作人"),
        _("见证人"),
        _("时间"),
        _("名单户数"),
        _("名单 SHA-256"),
        _("抽中户数"),
        _("回避替补"),
        _("联合检查"),
        _("核验结果"),
        _("作废理由"),
        _("作废批准人"),
        _("作废时间"),
    ]
    return xlsx_response(
        request,
        page="review_draws",
        scope=scope,
        filename="抽取核验.xlsx",
        headers=headers,
        rows=rows,
        sheet_title=_("抽取核验"),
        widths=[8, 24, 24, 6, 10, 10, 16, 16, 10, 66, 8, 8, 8, 40, 30, 10, 16],
    )


@require_safe
@role_required(*READERS)
def review_draws(request):
    """Every draw of every task in the scope, verified again on view (only the page's draws)."""
    form, scope = scope_from_request(request)
    status = request.GET.get("status", "")
    if wants_xlsx(request):
        return _draws_xlsx(request, scope, status, request.GET.get("table", ""))
    rows, next_before = selectors.draw_page(
        scope, actor=request.user, status=status, before=_int(request.GET.get("before", ""))
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


def _json(value) -> str:
    import json

    return json.dumps(value, ensure_ascii=False, sort_keys=True) if value else ""


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
            "before_text": _json((e.detail or {}).get("before", {})),
            "after_text": _json((e.detail or {}).get("after", {})),
        }


def _records_xlsx(request, scope, table):
    if table == "returns":
        rows = (
            (
                r.visit.task.number,
                r.visit.notice_number,
                r.visit.enterprise.name,
                r.visit.section.name if r.visit.section else "",
                _name(r.reviewer),
                _when(r.reviewed_at),
                r.visit_version,
                r.reason,
            )
            for r in selectors.returned_reviews(scope)[: selectors.EXPORT_LIMIT]
        )
        headers = [
            _("抽查任务"),
            _("通知书文号"),
            _("企业"),
            _("股室"),
            _("审核人"),
            _("退回时间"),
            _("退回时版本"),
            _("退回理由"),
        ]
        name, title = "退回记录.xlsx", _("退回记录")
    elif table == "corrections":
        rows = (
            (
                v.record.task_number,
                v.record.enterprise_name,
                v.record.check_item,
                v.number,
                v.get_status_display(),
                v.result_text,
                v.reason,
                _name(v.created_by),
                _when(v.created_at),
                _name(v.approved_by),
                _when(v.approved_at),
            )
            for v in selectors.corrections(scope)[: selectors.EXPORT_LIMIT]
        )
        headers = [
            _("抽查任务"),
            _("企业"),
            _("检查事项"),
            _("版本"),
            _("状态"),
            _("更正后结果"),
            _("更正原因"),
            _("提出人"),
            _("提出时间"),
            _("批准人"),
            _("批准时间"),
        ]
        name, title = "更正记录.xlsx", _("更正")
    elif table == "objections":
        rows = (
            (
                o.record.task_number,
                o.record.enterprise_name,
                o.record.check_item,
                o.received_on,
                o.content,
                o.get_status_display(),
                o.recheck_on,
                o.recheck_result,
                _("是") if o.changes_result else _("否"),
                _name(o.recheck_by),
            )
            for o in selectors.objections(scope)[: selectors.EXPORT_LIMIT]
        )
        headers = [
            _("抽查任务"),
            _("企业"),
            _("检查事项"),
            _("收到日期"),
            _("异议内容"),
            _("状态"),
            _("复查日期"),
            _("复查结论"),
            _("改变结果"),
            _("复查人"),
        ]
        name, title = "异议记录.xlsx", _("异议")
    else:
        events = list(selectors.record_edits(scope)[: selectors.EXPORT_LIMIT])
        visits = selectors.visits_by_id(events)
        rows = (
            (
                _when(r["event"].occurred_at),
                r["event"].actor_name,
                r["stage"],
                r["label"],
                r["visit"].task.number if r["visit"] else "",
                r["visit"].notice_number if r["visit"] else r["event"].object_id,
                r["visit"].enterprise.name if r["visit"] else "",
                r["before_text"],
                r["after_text"],
            )
            for r in _edit_rows(events, visits)
        )
        headers = [
            _("时间"),
            _("修改人"),
            _("阶段"),
            _("操作"),
            _("抽查任务"),
            _("通知书文号"),
            _("企业"),
            _("修改前"),
            _("修改后"),
        ]
        name, title, table = "提交后修改记录.xlsx", _("提交后修改"), "edits"
    return xlsx_response(
        request,
        page=f"review_records.{table}",
        scope=scope,
        filename=name,
        headers=headers,
        rows=rows,
        sheet_title=title,
    )


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
def _inspector_label(row) -> str:
    return row["user__full_name"] or row["user__username"]


def _deadlines_xlsx(request, scope, table):
    figures = selectors.deadline_figures(scope)
    if table == "sections":
        rows = (
            (r["section__name"] or "—", r["overdue"], r["due_soon"]) for r in figures.by_section
        )
        headers, name, title = (
            [_("股室"), _("已逾期"), _("即将到期")],
            "逾期按股室.xlsx",
            _("按股室"),
        )
    elif table == "inspectors":
        rows = ((_inspector_label(r), r["overdue"], r["due_soon"]) for r in figures.by_inspector)
        headers = [_("检查人员"), _("已逾期"), _("即将到期")]
        name, title = "逾期按检查人员.xlsx", _("按检查人员")
    elif table == "monthly":
        rows = (
            (
                r["month"].strftime("%Y-%m"),
                r["decided"],
                r["on_time"],
                r["late_published"],
                r["overdue_open"],
                r["rate"],
            )
            for r in figures.monthly
        )
        headers = [
            _("期限所在月份"),
            _("应公示"),
            _("按时公示"),
            _("逾期后公示"),
            _("逾期未公示"),
            _("按时率（%）"),
        ]
        name, title = "按月按时公示率.xlsx", _("按月按时率")
    else:
        rows = (
            (
                r.task_number,
                r.enterprise_name,
                r.uscc,
                r.check_item,
                r.section.name if r.section else "",
                "、".join(_name(u) for u in r.inspectors.all()),
                r.check_end,
                r.deadline,
                _("已逾期") if r.deadline < figures.today else _("即将到期"),
                r.get_status_display(),
            )
            for r in selectors.open_publications(scope)[: selectors.EXPORT_LIMIT]
        )
        headers = [
            _("抽查任务"),
            _("企业"),
            _("统一社会信用代码"),
            _("检查事项"),
            _("股室"),
            _("检查人员"),
            _("抽查完成日期"),
            _("公示期限"),
            _("期限状态"),
            _("公示状态"),
        ]
        name, title, table = "逾期与即将到期公示.xlsx", _("逾期与即将到期"), "open"
    return xlsx_response(
        request,
        page=f"review_deadlines.{table}",
        scope=scope,
        filename=name,
        headers=headers,
        rows=rows,
        sheet_title=title,
    )


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
        row["label"] = _inspector_label(row)
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
