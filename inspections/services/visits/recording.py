"""Creating a draw's visits and recording them: start, reschedule, the record (autosaved drafts),
signatures and the signed page, evidence, serious non-cooperation (art. 10, 12).
"""

from __future__ import annotations

import datetime

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone

from audit.services import audit_record
from core.bounds import bounds_check
from core.pdf import doc_number
from core.uploads import file_store
from enterprises.models import CheckMethod
from inspectors.models import Inspector
from workdays.calendar import WorkingCalendar

from ... import scheduling
from ...models import (
    Draw,
    DrawSelection,
    JointVisit,
    NonCooperation,
    ResultCategory,
    SigningForm,
    Visit,
    VisitEvidence,
    VisitItemResult,
    VisitMember,
    VisitSelection,
)
from ...selectors import draws as draw_selectors
from ...selectors import visits as selectors
from ...signals import visits_changed
from .common import (
    NOTICE_PREFIX,
    VisitError,
    _bump,
    _categories_check,
    _lock,
    _next_seq,
    _notify_team,
    _require_editable,
    _require_recorder,
    _snapshot,
)

# --- creation ----------------------------------------------------------------------------------


def _create_visit(
    *, actor, enterprise, base: DrawSelection, selections, team, planned_on=None, joint=None
):
    tasks = sorted({s.draw.task for s in selections}, key=lambda t: (t.year, t.seq))
    items = sorted(
        {item for task in tasks for item in task.check_items.all()}, key=lambda i: i.code
    )
    starts = [t.window_start for t in tasks]
    ends = [t.window_end for t in tasks]
    window_start, window_end = max(starts), min(ends)
    if window_end < window_start:  # no common window: the union
        window_start, window_end = min(starts), max(ends)
    if planned_on is not None and not window_start <= planned_on <= window_end:
        planned_on = None  # a joint visit's narrower window: staff set the day by hand
    today = timezone.localdate()
    year = today.year
    for _attempt in range(5):
        seq = _next_seq(Visit, year, "notice_year", "notice_seq")
        try:
            with transaction.atomic():
                visit = Visit.objects.create(
                    enterprise=enterprise,
                    task=base.draw.task,
                    joint_visit=joint,
                    section=base.draw.task.lead_section,
                    window_start=window_start,
                    window_end=window_end,
                    planned_on=planned_on,
                    notice_year=year,
                    notice_seq=seq,
                    notice_number=doc_number(NOTICE_PREFIX, year, seq),
                    notice_date=today,
                    place=enterprise.business_address or enterprise.registered_address,
                    updated_by=actor,
                )
                break
        except IntegrityError:
            continue
    else:  # pragma: no cover - five concurrent allocations of the same number
        raise VisitError("通知书文号分配冲突，请重试。")
    visit.tasks.set(tasks)
    visit.check_items.set(items)
    for selection in selections:
        VisitSelection.objects.create(visit=visit, selection=selection)
    for position, inspector in enumerate(team, 1):
        VisitMember.objects.create(
            visit=visit,
            inspector=inspector,
            staff_number=inspector.staff_number,
            position=position,
        )
    default_methods = {
        item.pk: (item.methods[0] if item.methods else CheckMethod.ONSITE) for item in items
    }
    for order, item in enumerate(items, 1):
        VisitItemResult.objects.create(
            visit=visit, check_item=item, order=order, method=default_methods[item.pk]
        )
    audit_record(
        event_type="visit.create",
        actor=actor,
        obj=visit,
        detail={
            "after": {
                "enterprise": enterprise.uscc,
                "notice_number": visit.notice_number,
                "tasks": [t.number for t in tasks],
                "items": [i.code for i in items],
                "team": [i.staff_number for i in team],
                "joint_visit": joint.pk if joint else None,
                "planned_on": planned_on,
            }
        },
    )
    return visit


def visits_create_for_draw(*, actor, draw: Draw) -> list[Visit]:
    """One visit per selected enterprise of a completed draw (team = the drawn team with
    post-draw replacements applied), on the day the scheme's schedule gives it
    (``selectors.draw_schedule``); a JointVisit gives one visit with every task's items.
    Safe to run twice: a selection that already has a visit is skipped."""
    created = []
    with transaction.atomic():
        draw = Draw.objects.select_for_update().select_related("task").get(pk=draw.pk)
        if not selectors.can_create(actor, draw.task):
            raise PermissionDenied(
                f"只有牵头股室，或任务“{draw.task.number}”的实施股室、配合股室的业务股室人员和"
                "股室负责人可以生成检查记录。"
            )
        if draw.status != Draw.Status.COMPLETED:
            raise VisitError("只有已完成且未作废的抽取可以生成检查记录。")
        selections = list(
            DrawSelection.objects.filter(draw=draw)
            .select_related("enterprise", "draw__task")
            .order_by("order")
        )
        done = set(
            VisitSelection.objects.filter(selection__in=selections).values_list(
                "selection_id", flat=True
            )
        )
        teams = draw_selectors.draw_teams(draw)
        current = {team["selection"].pk: team["current"] for team in teams}
        schedule = selectors.draw_schedule(draw=draw, teams=teams).planned
        for selection in selections:
            if selection.pk in done:
                continue
            joint = (
                JointVisit.objects.filter(selections=selection)
                .select_related("base_selection__draw__task")
                .order_by("-merged_at", "-id")
                .first()
            )
            if joint is not None:
                group = list(joint.selections.select_related("draw__task", "enterprise"))
                if VisitSelection.objects.filter(selection__in=group).exists() or any(
                    s.draw.status != Draw.Status.COMPLETED for s in group
                ):
                    continue  # part of it already has a visit: handled there
                by_staff = {
                    i.staff_number: i for i in Inspector.objects.filter(staff_number__in=joint.team)
                }
                team = [by_staff[s] for s in joint.team if s in by_staff]
                visit = _create_visit(
                    actor=actor,
                    enterprise=joint.enterprise,
                    base=joint.base_selection,
                    selections=group,
                    team=team,
                    planned_on=schedule[selection.pk].day,
                    joint=joint,
                )
                done.update(s.pk for s in group)
            else:
                visit = _create_visit(
                    actor=actor,
                    enterprise=selection.enterprise,
                    base=selection,
                    selections=[selection],
                    team=current[selection.pk],
                    planned_on=schedule[selection.pk].day,
                )
                done.add(selection.pk)
            created.append(visit)
        visits_changed.send(sender=Visit, visit_ids=[v.pk for v in created])
    return created


# --- recording ---------------------------------------------------------------------------------

RECORD_FIELDS = (
    "check_start",
    "check_end",
    "place",
    "summary",
    "signer_name",
    "signer_role",
    "signing_form",
    "unsigned_reason",
    "witness_name",
    "witness_detail",
)


def visit_start(*, actor, visit: Visit, version: int) -> Visit:
    """待检查 → 检查中 (recording begins; check start defaults to today)."""
    _require_recorder(actor, visit)
    with transaction.atomic():
        visit = _lock(visit, version)
        if visit.status != Visit.Status.SCHEDULED:
            return visit  # already started: starting twice changes nothing
        visit.status = Visit.Status.IN_PROGRESS
        visit.started_at = timezone.now()
        visit.check_start = visit.check_start or timezone.localdate()
        _bump(visit, actor, ["status", "started_at", "check_start"])
        audit_record(
            event_type="visit.start",
            actor=actor,
            obj=visit,
            detail={"before": {"status": "scheduled"}, "after": {"status": visit.status}},
        )
    return visit


def visit_reschedule(*, actor, visit: Visit, version: int, planned_on: datetime.date) -> Visit:
    """Move a not-yet-started visit to another working day of its window (the scheme's
    schedule is a proposal; the team arranges the day with the enterprise)."""
    if not selectors.can_reschedule(actor, visit):
        raise PermissionDenied("只有检查组、本股室或牵头股室可以调整尚未开始的检查的计划日期。")
    with transaction.atomic():
        visit = _lock(visit, version)
        if visit.status != Visit.Status.SCHEDULED:
            raise VisitError(f"检查记录“{visit.get_status_display()}”，不能再调整计划检查日期。")
        if not visit.window_start <= planned_on <= visit.window_end:
            raise VisitError(
                f"计划检查日期 {planned_on:%Y-%m-%d} 不在检查时间窗"
                f"（{visit.window_start:%Y-%m-%d} 至 {visit.window_end:%Y-%m-%d}）内。"
            )
        working, _guess = scheduling.day_is_working(WorkingCalendar(), planned_on)
        if not working:
            raise VisitError(f"计划检查日期 {planned_on:%Y-%m-%d} 不是工作日。")
        before = visit.planned_on
        if before == planned_on:
            return visit
        visit.planned_on = planned_on
        _bump(visit, actor, ["planned_on"])
        audit_record(
            event_type="visit.reschedule",
            actor=actor,
            obj=visit,
            detail={"before": {"planned_on": before}, "after": {"planned_on": planned_on}},
        )
        # The team goes on the new day: tell each member, but not the one who moved it.
        _notify_team(
            visit,
            key=f"visit-reschedule-{visit.pk}-{visit.version}",
            title=f"检查日期调整：{visit.enterprise.name} 改为 {planned_on:%Y-%m-%d}",
            body=f"{actor.display_name} 将计划检查日期由 "
            f"{before:%Y-%m-%d} 调整为 {planned_on:%Y-%m-%d}。"
            if before
            else f"{actor.display_name} 将计划检查日期定为 {planned_on:%Y-%m-%d}。",
            skip=actor,
        )
    return visit


def visit_save_draft(
    *,
    actor,
    visit: Visit,
    version: int,
    fields: dict | None = None,
    members: dict | None = None,
    results: dict | None = None,
) -> tuple[Visit, bool]:
    """Save what has been entered so far (autosave and the save button). Only the combination
    rules of result categories and the order of the check dates are enforced here; completeness
    is checked on submit. The values come cleaned by ``forms.visits.VisitRecordForm`` (choices
    checked, text trimmed, an empty date as None).

    ``fields``: subset of RECORD_FIELDS. ``members``: {member_id: {"present", "certificate_number"}}.
    ``results``: {result_id: {"method", "checked", "finding", "categories": [ids]}}.
    Returns (visit, changed)."""
    _require_recorder(actor, visit)
    fields, members, results = fields or {}, members or {}, results or {}
    with transaction.atomic():
        visit = _lock(visit, version)
        _require_editable(visit)
        before = _snapshot(visit)
        changed_fields = []
        for name, value in fields.items():
            if name not in RECORD_FIELDS:
                continue
            if getattr(visit, name) != value:
                setattr(visit, name, value)
                changed_fields.append(name)
        bounds_check(visit, [n for n in changed_fields if n in RECORD_FIELDS])
        if visit.check_start and visit.check_end and visit.check_end < visit.check_start:
            raise VisitError("检查结束日期不能早于开始日期。")
        member_rows = {m.pk: m for m in visit.members.all()}
        for member_id, data in members.items():
            member = member_rows.get(int(member_id))
            if member is None:
                raise VisitError("检查组成员不属于本次检查。")
            present = bool(data.get("present"))
            number = data.get("certificate_number") or ""
            if (member.present, member.certificate_number) != (present, number):
                member.present, member.certificate_number = present, number
                member.save(update_fields=["present", "certificate_number"])
                changed_fields.append("members")
        result_rows = {
            r.pk: r
            for r in visit.results.select_related("check_item").prefetch_related("categories")
        }
        categories = {c.pk: c for c in ResultCategory.objects.select_related("parent")}
        errors = []
        for result_id, data in results.items():
            result = result_rows.get(int(result_id))
            if result is None:
                raise VisitError("检查事项不属于本次检查。")
            dirty = []
            for name in ("method", "checked", "finding"):
                if name in data:
                    value = data[name] or ""
                    if getattr(result, name) != value:
                        setattr(result, name, value)
                        dirty.append(name)
            if dirty:
                bounds_check(result, dirty)
                result.save(update_fields=dirty)
                changed_fields.append("results")
            if "categories" in data:
                chosen = [categories[int(c)] for c in data["categories"] if int(c) in categories]
                errors += _categories_check(chosen, result.check_item.name)
                if {c.pk for c in chosen} != {c.pk for c in result.categories.all()}:
                    result.categories.set(chosen)
                    changed_fields.append("results")
        if errors:
            raise VisitError(errors)
        changed = bool(changed_fields)
        if changed:
            if visit.status == Visit.Status.SCHEDULED:
                visit.status = Visit.Status.IN_PROGRESS
                visit.started_at = timezone.now()
                visit.check_start = visit.check_start or timezone.localdate()
                changed_fields += ["status", "started_at", "check_start"]
            _bump(
                visit,
                actor,
                sorted(
                    {
                        f
                        for f in changed_fields
                        if hasattr(visit, f) and f not in ("members", "results")
                    }
                ),
            )
            after = _snapshot(visit)
            audit_record(
                event_type="visit.draft_saved",
                actor=actor,
                obj=visit,
                detail={"before": _diff(before, after), "after": _diff(after, before)},
            )
    return visit, changed


def _diff(one: dict, other: dict) -> dict:
    return {k: v for k, v in one.items() if other.get(k) != v}


def visit_signature_capture(*, actor, visit: Visit, version: int, png: bytes) -> Visit:
    """A signature drawn on the tablet (PNG from the canvas): stored, never replaced in place
    (a second capture supersedes the first)."""
    _require_recorder(actor, visit)
    with transaction.atomic():
        visit = _lock(visit, version)
        _require_editable(visit)
        stored = file_store(
            upload=("签名.png", png),
            purpose="visit_signature",
            actor=actor,
            supersedes=visit.signature,
        )
        VisitEvidence.objects.create(
            visit=visit,
            kind=VisitEvidence.Kind.SIGNATURE,
            file=stored,
            added_by=actor,
            description="平板电脑手写签名",
        )
        visit.signature = stored
        if not visit.signing_form:
            visit.signing_form = SigningForm.SIGNATURE
        _bump(visit, actor, ["signature", "signing_form"])
        audit_record(
            event_type="visit.signature",
            actor=actor,
            obj=visit,
            detail={"after": {"file": str(stored.pk), "sha256": stored.sha256}},
        )
    return visit


def visit_signed_page_upload(*, actor, visit: Visit, version: int, upload) -> Visit:
    """A photographed or scanned signed (or sealed) page of the on-site record."""
    _require_recorder(actor, visit)
    with transaction.atomic():
        visit = _lock(visit, version)
        _require_editable(visit)
        stored = file_store(
            upload=upload, purpose="visit_evidence", actor=actor, supersedes=visit.signed_page
        )
        VisitEvidence.objects.create(
            visit=visit,
            kind=VisitEvidence.Kind.SIGNED_PAGE,
            file=stored,
            added_by=actor,
            description="签字（盖章）页",
        )
        visit.signed_page = stored
        _bump(visit, actor, ["signed_page"])
        audit_record(
            event_type="visit.signed_page",
            actor=actor,
            obj=visit,
            detail={"after": {"file": str(stored.pk), "sha256": stored.sha256}},
        )
    return visit


def evidence_add(
    *,
    actor,
    visit: Visit,
    upload,
    kind: str,
    description: str = "",
    non_cooperation: NonCooperation | None = None,
    supersedes: VisitEvidence | None = None,
) -> VisitEvidence:
    """Attach an evidence file. A correction is a new version (``supersedes``), never a
    replacement. Only while the record is editable; after approval use archive_document_add."""
    _require_recorder(actor, visit)
    if kind not in VisitEvidence.Kind.values or kind in ("signature", "penalty"):
        raise VisitError("证据类型无效。")
    with transaction.atomic():
        visit = _lock(visit)
        _require_editable(visit)
        if non_cooperation is not None and non_cooperation.visit_id != visit.pk:
            raise VisitError("不配合情形不属于本次检查。")
        if supersedes is not None and supersedes.visit_id != visit.pk:
            raise VisitError("被替代的证据不属于本次检查。")
        stored = file_store(
            upload=upload,
            purpose="visit_evidence",
            actor=actor,
            supersedes=supersedes.file if supersedes else None,
        )
        evidence = VisitEvidence.objects.create(
            visit=visit,
            kind=kind,
            description=(description or "").strip()[:200],
            file=stored,
            non_cooperation=non_cooperation or (supersedes.non_cooperation if supersedes else None),
            added_by=actor,
        )
        audit_record(
            event_type="visit.evidence_add",
            actor=actor,
            obj=visit,
            detail={
                "after": {
                    "kind": kind,
                    "file": str(stored.pk),
                    "name": stored.original_name,
                    "sha256": stored.sha256,
                    "size": stored.size,
                    "supersedes": str(supersedes.file_id) if supersedes else None,
                }
            },
        )
    return evidence


def non_cooperation_record(
    *, actor, visit: Visit, case: str, occurred_on: datetime.date, description: str
) -> NonCooperation:
    """Serious non-cooperation (art. 12): the case and what happened; evidence is attached with
    ``evidence_add(non_cooperation=...)`` and required before submit."""
    _require_recorder(actor, visit)
    description = (description or "").strip()
    if case not in NonCooperation.Case.values:
        raise VisitError("请选择不配合检查的情形。")
    if not description:
        raise VisitError("请记录不配合检查的经过。")
    with transaction.atomic():
        visit = _lock(visit)
        _require_editable(visit)
        record = NonCooperation.objects.create(
            visit=visit,
            case=case,
            occurred_on=occurred_on,
            description=description,
            recorded_by=actor,
        )
        visits_changed.send(sender=Visit, visit_ids=[visit.pk])
        audit_record(
            event_type="visit.non_cooperation",
            actor=actor,
            obj=visit,
            detail={
                "after": {"case": case, "occurred_on": occurred_on, "description": description}
            },
        )
    return record
