"""Reads of visits: who may do what, lists, the record as data, evidence versions, and the
printable documents (检查通知书, 企业执法检查登记表, 实地核查记录表) rendered through core.pdf."""

from __future__ import annotations

import base64
import datetime
from collections.abc import Hashable
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils import timezone

from accounts.roles import BUSINESS_READERS, Role
from core.pdf import cn_date, render_pdf
from core.uploads import file_open
from enterprises.models import CheckMethod
from inspectors.models import Inspector

from .. import scheduling
from ..models import (
    Draw,
    FollowUp,
    LeadTransfer,
    NonCooperation,
    ResultCategory,
    Visit,
    VisitArchiveDocument,
    VisitEvidence,
    VisitItemResult,
    VisitMember,
    VisitSelection,
)
from . import draws as draw_selectors
from .plans import in_task_sections

ORGANISATION = "舞钢市工业信息化和商务局"

NOTICE_MATERIALS = [
    "营业执照副本及相关经营许可证件",
    "法定代表人（负责人）身份证明；委托他人的，出具授权委托书及受托人身份证明",
    "与本次抽查事项相关的经营台账、购销记录、合同票据等材料",
    "通过国家企业信用信息公示系统公示的年度报告及即时信息对应的证明材料",
    "检查人员要求提供的其他材料",
]


# --- permissions -------------------------------------------------------------------------------


def _inspector_id(user) -> int | None:
    if not getattr(user, "is_authenticated", False):
        return None
    if not hasattr(user, "_visit_inspector_id"):
        user._visit_inspector_id = (
            Inspector.objects.filter(user=user).values_list("pk", flat=True).first()
        )
    return user._visit_inspector_id


def is_team_member(user, visit: Visit) -> bool:
    inspector_id = _inspector_id(user)
    return inspector_id is not None and visit.members.filter(inspector_id=inspector_id).exists()


def can_read(user, visit: Visit | None = None) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.has_role(*BUSINESS_READERS))


def can_record(user, visit: Visit) -> bool:
    """谁检查、谁录入: an inspector of the visit's team (never the read-only group)."""
    return (
        getattr(user, "is_authenticated", False)
        and user.has_role(Role.INSPECTOR)
        and not user.is_read_only
        and is_team_member(user, visit)
    )


def can_review(user, visit: Visit) -> bool:
    """The section head of the visit's section, who is not on the team."""
    return (
        getattr(user, "is_authenticated", False)
        and user.has_role(Role.SECTION_HEAD)
        and not user.is_read_only
        and user.section_id == visit.section_id
        and not is_team_member(user, visit)
    )


def can_follow_up(user, visit: Visit) -> bool:
    if not getattr(user, "is_authenticated", False) or user.is_read_only:
        return False
    if can_record(user, visit):
        return True
    return user.has_role(Role.SECTION_STAFF, Role.SECTION_HEAD) and (
        user.section_id == visit.section_id
    )


def can_reschedule(user, visit: Visit) -> bool:
    """Who may move a not-yet-started visit's planned day: its team, its section's staff and
    head, and the lead section (牵头股室), which drew it."""
    if visit.status != Visit.Status.SCHEDULED:
        return False
    if can_follow_up(user, visit):
        return True
    return user.has_role(Role.LEAD_SECTION) and not user.is_read_only


def can_create(user, task) -> bool:
    """Who may generate a task's visits from its draws: the lead section (it drew them), and
    the staff and head of the task's own or cooperating sections — not of any other section."""
    if not getattr(user, "is_authenticated", False) or user.is_read_only:
        return False
    if user.has_role(Role.LEAD_SECTION):
        return True
    return user.has_role(Role.SECTION_STAFF, Role.SECTION_HEAD) and in_task_sections(user, task)


def can_archive(user, visit: Visit) -> bool:
    """The reviewer, or a 业务股室 member of the visit's own section (art. 13)."""
    if can_review(user, visit):
        return True
    return (
        getattr(user, "is_authenticated", False)
        and user.has_role(Role.SECTION_STAFF)
        and not user.is_read_only
        and user.section_id == visit.section_id
    )


def can_read_file(user, stored) -> bool:
    """Whether ``user`` may download a visit's stored file (core.uploads purpose check)."""
    if not can_read(user):
        return False
    return (
        VisitEvidence.objects.filter(file=stored).exists()
        or VisitArchiveDocument.objects.filter(file=stored).exists()
        or Visit.objects.filter(Q(signature=stored) | Q(signed_page=stored)).exists()
    )


# --- lists -------------------------------------------------------------------------------------


def visit_list(
    *,
    user=None,
    status: str = "",
    task_id: int | None = None,
    q: str = "",
    mine: bool = False,
) -> QuerySet[Visit]:
    visits = Visit.objects.select_related("enterprise", "task", "section").prefetch_related(
        Prefetch("members", queryset=VisitMember.objects.select_related("inspector"))
    )
    if status:
        visits = visits.filter(status=status)
    if task_id:
        visits = visits.filter(tasks__id=task_id).distinct()
    if q:
        visits = visits.filter(
            Q(enterprise__name__icontains=q)
            | Q(enterprise__uscc__icontains=q)
            | Q(notice_number__icontains=q)
        )
    if mine:
        inspector_id = _inspector_id(user)
        visits = (
            visits.filter(members__inspector_id=inspector_id) if inspector_id else (visits.none())
        )
    return visits.order_by("window_start", "id")


def my_visits_today(user, *, day: datetime.date | None = None) -> list[Visit]:
    """An inspector's open visits: returned first, then in progress, then scheduled ones whose
    window has begun (by planned date / window). What to do now, first."""
    day = day or timezone.localdate()
    open_states = [Visit.Status.SCHEDULED, Visit.Status.IN_PROGRESS, Visit.Status.RETURNED]
    visits = visit_list(user=user, mine=True).filter(status__in=open_states)
    # Scheduled visits whose window has begun (overdue ones included: still to do), and every
    # started or returned one.
    visits = visits.filter(
        Q(window_start__lte=day) | Q(status__in=[Visit.Status.RETURNED, Visit.Status.IN_PROGRESS])
    )
    rank: dict[str, int] = {
        Visit.Status.RETURNED: 0,
        Visit.Status.IN_PROGRESS: 1,
        Visit.Status.SCHEDULED: 2,
    }
    return sorted(visits, key=lambda v: (rank[v.status], v.planned_on or v.window_start, v.pk))


# --- the scheme's schedule (检查方案 art. 6(4): 检查日期) ----------------------------------------

VISITS_PER_INSPECTOR_PER_DAY = 2  # settings.VISITS_PER_INSPECTOR_PER_DAY overrides


def visits_per_inspector_per_day() -> int:
    return getattr(settings, "VISITS_PER_INSPECTOR_PER_DAY", VISITS_PER_INSPECTOR_PER_DAY)


@dataclass(frozen=True)
class DrawSchedule:
    """The proposed day of each selection of a draw that has no visit yet (by selection id)."""

    planned: dict[Hashable, scheduling.PlannedVisit]
    provisional_years: list[int] = field(default_factory=list)


def draw_schedule(*, draw: Draw, teams: list[dict]) -> DrawSchedule:
    """Spread the draw's not-yet-visited selections over the working days left in the task's
    window (``teams``: ``draw_teams(draw)``, ticket order), around what the same inspectors
    already have planned. Visit creation stores exactly this (inspections/scheduling.py)."""
    task = draw.task
    start = max(task.window_start, timezone.localdate())
    span = scheduling.schedule_days(start=start, end=task.window_end)
    visited = set(
        VisitSelection.objects.filter(selection__draw=draw).values_list("selection_id", flat=True)
    )
    pending = [
        (team["selection"].pk, [inspector.pk for inspector in team["current"]])
        for team in teams
        if team["selection"].pk not in visited
    ]
    inspector_ids = {member for _key, members in pending for member in members}
    busy: dict = {}
    if span.days and inspector_ids:
        rows = (
            VisitMember.objects.filter(
                inspector_id__in=inspector_ids,
                visit__planned_on__range=(span.days[0], span.days[-1]),
            )
            .values("inspector_id", "visit__planned_on")
            .annotate(n=Count("id"))
            .values_list("inspector_id", "visit__planned_on", "n")
        )
        busy = {(inspector_id, planned_on): n for inspector_id, planned_on, n in rows}
    planned = scheduling.schedule_assign(
        teams=pending, days=span.days, busy=busy, per_day=visits_per_inspector_per_day()
    )
    return DrawSchedule({p.key: p for p in planned}, span.provisional_years)


def task_scheme_schedule(*, task) -> dict | None:
    """The scheme's per-enterprise rows (企业、检查日期、检查组) of the task's live draw: a
    created visit gives its planned day and team; a selection without a visit yet gives the
    proposed day (``proposed``), which is what its visit will get. None before a draw."""
    draw = draw_selectors.live_draw(task)
    if draw is None:
        return None
    teams = draw_selectors.draw_teams(draw)
    links = {
        link.selection_id: link.visit
        for link in VisitSelection.objects.filter(selection__draw=draw).select_related("visit")
    }
    members: dict[int, list[str]] = {}
    for member in (
        VisitMember.objects.filter(visit__visit_selections__selection__draw=draw)
        .select_related("inspector")
        .order_by("visit_id", "position")
    ):
        members.setdefault(member.visit_id, []).append(str(member.inspector))
    schedule = draw_schedule(draw=draw, teams=teams)
    rows = []
    for team in teams:
        visit = links.get(team["selection"].pk)
        if visit is not None:
            row = {
                "visit_date": visit.planned_on,
                "inspectors": members.get(visit.pk, []),
                "visit": visit,
                "proposed": False,
                "over_capacity": False,
            }
        else:
            planned = schedule.planned[team["selection"].pk]
            row = {
                "visit_date": planned.day,
                "inspectors": [str(i) for i in team["current"]],
                "visit": None,
                "proposed": True,
                "over_capacity": planned.over_capacity,
            }
        rows.append({"enterprise": team["enterprise"], **row})
    return {
        "rows": rows,
        "provisional_years": schedule.provisional_years,
        "proposed": sum(row["proposed"] for row in rows),
        "over_capacity": sum(row["over_capacity"] for row in rows),
        "per_day": visits_per_inspector_per_day(),
    }


def review_queue(user) -> QuerySet[Visit]:
    return visit_list().filter(status=Visit.Status.SUBMITTED, section_id=user.section_id)


def visit_detail(pk: int) -> Visit:
    return (
        Visit.objects.select_related(
            "enterprise",
            "enterprise__township",
            "task",
            "section",
            "submitted_by",
            "approved_by",
            "updated_by",
            "signature",
            "signed_page",
        )
        .prefetch_related("tasks", "check_items")
        .get(pk=pk)
    )


def visit_results(visit: Visit) -> list[VisitItemResult]:
    return list(
        visit.results.select_related("check_item")
        .prefetch_related("categories__parent")
        .order_by("order", "id")
    )


def visit_members(visit: Visit) -> list[VisitMember]:
    members = list(
        visit.members.select_related("inspector").prefetch_related("inspector__certificates")
    )
    day = visit.check_start or timezone.localdate()
    end = visit.check_end or day
    for m in members:
        valid = [c for c in m.inspector.certificates.all() if c.covers(day, end)]
        # Read by the visit's templates.
        m.valid_certificates = valid  # type: ignore[attr-defined]
        shown = m.certificate_number.strip()
        m.certificate_ok = bool(shown) and any(c.number == shown for c in valid)  # type: ignore[attr-defined]
    return members


def category_tree() -> list[dict]:
    categories = list(ResultCategory.objects.filter(is_active=True).order_by("order", "code"))
    tops = [c for c in categories if c.parent_id is None]
    return [
        {"category": top, "children": [c for c in categories if c.parent_id == top.pk]}
        for top in tops
    ]


def current_evidence(visit: Visit) -> list[VisitEvidence]:
    """The latest version of each evidence file (a superseded one is listed in its history)."""
    evidence = list(
        VisitEvidence.objects.filter(visit=visit)
        .select_related("file", "added_by", "non_cooperation")
        .order_by("added_at", "id")
    )
    superseded = {e.file.supersedes_id for e in evidence if e.file.supersedes_id}
    return [e for e in evidence if e.file_id not in superseded]


def evidence_history(visit: Visit) -> list[VisitEvidence]:
    return list(
        VisitEvidence.objects.filter(visit=visit)
        .select_related("file", "added_by")
        .order_by("added_at", "id")
    )


def visit_transfers(visit: Visit) -> list[LeadTransfer]:
    return list(visit.transfers.select_related("created_by"))


def visit_follow_ups(visit: Visit) -> list[FollowUp]:
    return list(visit.follow_ups.select_related("created_by"))


def visit_non_cooperations(visit: Visit) -> list[NonCooperation]:
    return list(visit.non_cooperations.prefetch_related("evidence__file"))


def visit_snapshot(visit: Visit) -> dict:
    """The record as plain data: what the audit diff and the archive freeze."""
    results = visit_results(visit)
    return {
        "status": visit.status,
        "check_start": visit.check_start.isoformat() if visit.check_start else None,
        "check_end": visit.check_end.isoformat() if visit.check_end else None,
        "place": visit.place,
        "summary": visit.summary,
        "signer_name": visit.signer_name,
        "signer_role": visit.signer_role,
        "signing_form": visit.signing_form,
        "unsigned_reason": visit.unsigned_reason,
        "witness_name": visit.witness_name,
        "witness_detail": visit.witness_detail,
        "signature": str(visit.signature_id) if visit.signature_id else None,
        "signed_page": str(visit.signed_page_id) if visit.signed_page_id else None,
        "members": [
            {
                "staff_number": m.staff_number,
                "present": m.present,
                "certificate_number": m.certificate_number,
            }
            for m in visit.members.order_by("position")
        ],
        "results": [
            {
                "item": r.check_item.code,
                "method": r.method,
                "checked": r.checked,
                "finding": r.finding,
                "categories": sorted(c.code for c in r.categories.all()),
                "result_text": r.result_text(),
            }
            for r in results
        ],
        "non_cooperations": [
            {
                "case": n.case,
                "occurred_on": n.occurred_on.isoformat(),
                "description": n.description,
                "evidence": [str(e.file_id) for e in n.evidence.all()],
            }
            for n in visit.non_cooperations.prefetch_related("evidence")
        ],
    }


# --- documents ---------------------------------------------------------------------------------


def _method_labels(codes) -> str:
    labels = dict(CheckMethod.choices)
    return "、".join(str(labels.get(c, c)) for c in codes)


def document_context(visit: Visit, *, filled: bool = True) -> dict:
    results = visit_results(visit)
    rows = []
    for r in results:
        item = r.check_item
        rows.append(
            {
                "item": item,
                "content": item.content or item.sub_items or item.name,
                "planned_methods": _method_labels(item.methods),
                "method": r.get_method_display() if (filled and r.method) else "",
                "key_points": item.key_points,
                "checked": r.checked if filled else "",
                "finding": r.finding if filled else "",
                "result": r.result_text() if filled else "",
            }
        )
    members = visit_members(visit)
    tasks = list(visit.tasks.all())
    methods = sorted({m for t in tasks for m in t.methods})
    return {
        "visit": visit,
        "organisation": ORGANISATION,
        "enterprise": visit.enterprise,
        "tasks": tasks,
        "rows": rows,
        "members": members,
        "present": [m for m in members if m.present],
        "methods": _method_labels(methods),
        "materials": NOTICE_MATERIALS,
        "contact_section": visit.section,
        "filled": filled,
        "non_cooperations": visit_non_cooperations(visit) if filled else [],
        "notice_date_cn": cn_date(visit.notice_date),
        "check_date_cn": cn_date(visit.check_end or visit.check_start) if filled else "",
    }


DOCUMENTS = {
    "notice": ("检查通知书", "inspections/doc_notice.html"),
    "form": ("企业执法检查登记表", "inspections/doc_registration_form.html"),
    "onsite": ("实地核查记录表", "inspections/doc_onsite_record.html"),
}

PDF_CSS = """
.doc { page-break-after: always; font-size: 11pt; line-height: 1.5; }
.doc:last-child { page-break-after: auto; }
.doc p { margin: 1.2mm 0; }
.doc h1 { margin-bottom: 2mm; }
.doc h2 { margin: 4mm 0 1.5mm; }
.doc .docno { margin-bottom: 4mm; }
.doc table { margin: 1.5mm 0 3mm; }
table.form col.c-no { width: 6%; } table.form col.c-item { width: 15%; }
table.form col.c-content { width: 25%; } table.form col.c-method { width: 11%; }
table.form col.c-points { width: 23%; } table.form col.c-result { width: 20%; }
table.onsite col.c-item { width: 16%; } table.onsite col.c-method { width: 11%; }
table.onsite col.c-checked { width: 27%; } table.onsite col.c-finding { width: 26%; }
table.onsite col.c-result { width: 20%; }
.seal-area { margin-top: 8mm; text-align: right; position: relative; page-break-inside: avoid; }
.seal-area p { margin: 0.5mm 0; }
.seal-box { position: absolute; right: 8mm; top: -6mm; width: 40mm; height: 24mm;
  border: 0.6pt dashed #999; text-align: center; line-height: 24mm; color: #999;
  font-size: 9pt; }
.warning { border: 0.8pt solid #000; padding: 1.5mm 3mm; margin: 2.5mm 0; font-size: 10.5pt; }
.sig img { max-height: 16mm; max-width: 60mm; }
tr.blank td { height: 16mm; }
.doc .signature { margin-top: 6mm; page-break-inside: avoid; }
.doc .signature p { margin: 0.8mm 0; }
"""


def has_onsite(visit: Visit) -> bool:
    return visit.results.filter(method=CheckMethod.ONSITE).exists() or (
        not visit.results.exclude(method="").exists()
        and any(CheckMethod.ONSITE in (i.methods or []) for i in visit.check_items.all())
    )


def visit_pdf(visit: Visit, kinds=("notice", "form", "onsite"), *, filled: bool = True) -> bytes:
    """One PDF with the chosen documents of one visit, in order."""
    return visits_pdf([visit], kinds, filled=filled)


def _signature_data_uri(visit: Visit) -> str:
    if visit.signature is None:
        return ""

    with file_open(visit.signature) as handle:
        return "data:image/png;base64," + base64.b64encode(handle.read()).decode()


def visits_pdf(visits, kinds=("notice", "form", "onsite"), *, filled: bool = True) -> bytes:
    """Batch printing: every chosen document of every visit as one PDF (one render)."""
    docs = []
    for visit in visits:
        context = document_context(visit, filled=filled)
        context["signature_uri"] = _signature_data_uri(visit) if filled else ""
        for kind in kinds:
            if kind == "onsite" and not has_onsite(visit):
                continue
            docs.append({"kind": kind, "template": DOCUMENTS[kind][1], **context})
    return render_pdf("inspections/doc_batch.html", {"docs": docs}, extra_css=PDF_CSS)


def visit_archive_pdfs(visit: Visit) -> list[tuple[str, str, bytes]]:
    """(title, filename, pdf) of each document archived with the visit."""
    out = []
    for kind in ("notice", "form", "onsite"):
        if kind == "onsite" and not has_onsite(visit):
            continue
        title, _template = DOCUMENTS[kind]
        out.append(
            (
                f"{title}（{visit.notice_number}）",
                f"{title}-{visit.pk}.pdf",
                visit_pdf(visit, (kind,)),
            )
        )
    return out
