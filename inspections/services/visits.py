"""Visits: creation from a completed draw, recording, the on-site rules (art. 10), serious
non-cooperation (art. 12), lead transfers (art. 11), follow-up (art. 16), review and the archive
(art. 13). Every function is keyword-only, atomic and writes its audit event.

State machine (``Visit.Status``)::

    scheduled 待检查 → in_progress 检查中 → submitted 待审核 → approved 已审核 → archived 已归档
                                 ↑                 │
                                 └── returned 退回 ←┘ (with a reason)

Record edits carry the ``version`` the editor loaded; a stale version raises ``VisitConflict``
(nothing is written, the editor keeps the input on screen).
"""

from __future__ import annotations

import datetime
import hashlib
import json

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.roles import Role
from audit.services import audit_record
from core.pdf import doc_number
from core.uploads import AUDIO_KINDS, file_store, register_file_purpose
from enterprises.models import CheckMethod
from inspectors.models import Certificate, Inspector
from workdays.calendar import WorkingCalendar

from .. import scheduling
from ..models import (
    Draw,
    DrawSelection,
    FollowUp,
    JointVisit,
    LeadTransfer,
    NonCooperation,
    ResultCategory,
    SignerRole,
    SigningForm,
    Visit,
    VisitArchive,
    VisitArchiveDocument,
    VisitEvidence,
    VisitItemResult,
    VisitMember,
    VisitReview,
    VisitSelection,
)
from ..selectors import draws as draw_selectors
from ..selectors import visits as selectors
from ..signals import visit_approved, visits_changed

NOTICE_PREFIX = "舞工信商检通"
ARCHIVE_PREFIX = "舞工信商抽档"
ORGANISATION = "舞钢市工业信息化和商务局"


class VisitError(ValidationError):
    """A rule of the visit workflow refused the change (messages are for the user)."""


class VisitConflict(VisitError):
    """Someone else saved the visit since the editor loaded it (optimistic locking)."""


# --- helpers -----------------------------------------------------------------------------------


def _lock(visit: Visit, version: int | None = None) -> Visit:
    locked = (
        Visit.objects.select_for_update(of=("self",)).select_related("updated_by").get(pk=visit.pk)
    )
    if version is not None and int(version) != locked.version:
        who = locked.updated_by.display_name if locked.updated_by else "其他用户"
        when = timezone.localtime(locked.updated_at).strftime("%H:%M:%S")
        raise VisitConflict(
            f"该检查记录已被{who}于{when}修改（您打开的是第{version}版，当前为第{locked.version}版），"
            "您这次的修改没有保存。您的输入仍在页面上：请复制后刷新页面，核对后再保存。"
        )
    return locked


def _bump(visit: Visit, actor, fields: list[str]) -> None:
    visit.version += 1
    visit.updated_by = actor
    visit.save(update_fields=[*fields, "version", "updated_by", "updated_at"])
    visits_changed.send(sender=Visit, visit_ids=[visit.pk])  # the report figures


def _require_recorder(actor, visit: Visit) -> None:
    if not selectors.can_record(actor, visit):
        raise PermissionDenied("只有本次检查组的执法检查人员可以录入检查记录。")


def _require_editable(visit: Visit) -> None:
    if not visit.is_editable:
        raise VisitError(
            f"检查记录“{visit.get_status_display()}”，不能修改"
            + (
                "（已提交待审核，提交人也不能修改；如需修改请由股室负责人退回）。"
                if visit.status == Visit.Status.SUBMITTED
                else "。"
            )
        )


def _notify_team(visit: Visit, *, key: str, title: str, body: str, skip=None) -> None:
    """Notify every team member with a login (but ``skip``), linking to the visit."""
    from django.urls import reverse

    from core.services import notification_send

    link = reverse("inspections:visit_detail", args=[visit.pk])
    for member in visit.members.select_related("inspector__user"):
        user = member.inspector.user
        if user is not None and user != skip:
            notification_send(recipient=user, key=key, title=title, body=body, link=link)


def _snapshot(visit: Visit) -> dict:
    return selectors.visit_snapshot(visit)


def _next_seq(model, year: int, field_year: str, field_seq: str) -> int:
    last = (
        model.objects.filter(**{field_year: year})
        .order_by(f"-{field_seq}")
        .values_list(field_seq, flat=True)
        .first()
    )
    return (last or 0) + 1


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
    if not actor.has_role(Role.LEAD_SECTION, Role.SECTION_STAFF, Role.SECTION_HEAD):
        raise PermissionDenied("只有牵头股室、业务股室或股室负责人可以生成检查记录。")
    created = []
    with transaction.atomic():
        draw = Draw.objects.select_for_update().get(pk=draw.pk)
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


def _categories_check(categories: list[ResultCategory], item_name: str) -> list[str]:
    """The combination rules of result categories (on every save, not only on submit)."""
    errors = []
    exclusive = [c for c in categories if c.exclusive]
    if exclusive and len(categories) > 1:
        errors.append(f"{item_name}：“{exclusive[0].label}”不能与其他检查结果同时选择。")
    chosen = {c.pk for c in categories}
    for c in categories:
        if c.parent_id and c.parent_id not in chosen:
            errors.append(f"{item_name}：选择“{c.label}”时必须同时选择“{c.parent.label}”。")
    return errors


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
    rules of result categories are enforced here; completeness is checked on submit.

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
            if isinstance(value, str):
                value = value.strip()
            if name in ("check_start", "check_end") and value == "":
                value = None
            if name == "signer_role" and value not in ("", *SignerRole.values):
                raise VisitError("签字人身份无效。")
            if name == "signing_form" and value not in ("", *SigningForm.values):
                raise VisitError("确认方式无效。")
            if getattr(visit, name) != value:
                setattr(visit, name, value)
                changed_fields.append(name)
        if visit.check_start and visit.check_end and visit.check_end < visit.check_start:
            raise VisitError("检查结束日期不能早于开始日期。")
        member_rows = {m.pk: m for m in visit.members.all()}
        for member_id, data in members.items():
            member = member_rows.get(int(member_id))
            if member is None:
                raise VisitError("检查组成员不属于本次检查。")
            present = bool(data.get("present"))
            number = (data.get("certificate_number") or "").strip()
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
                    value = (data[name] or "").strip()
                    if name == "method" and value not in ("", *CheckMethod.values):
                        raise VisitError("检查方式无效。")
                    if getattr(result, name) != value:
                        setattr(result, name, value)
                        dirty.append(name)
            if dirty:
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


# --- submit and review -------------------------------------------------------------------------


def submit_problems(visit: Visit) -> list[str]:
    """Everything that stops the record from being submitted, in words (empty = ready)."""
    problems = []
    today = timezone.localdate()
    if not visit.check_start or not visit.check_end:
        problems.append("请填写检查开始日期和结束日期。")
    elif visit.check_end > today:
        problems.append("检查结束日期不能晚于今天。")
    results = list(
        visit.results.select_related("check_item").prefetch_related("categories__parent")
    )
    any_onsite = False
    non_cooperation_chosen = False
    for result in results:
        name = result.check_item.name
        cats = list(result.categories.all())
        if not result.method:
            problems.append(f"{name}：请选择实际采用的检查方式。")
        if result.method == CheckMethod.ONSITE:
            any_onsite = True
        if not result.checked.strip():
            problems.append(f"{name}：请填写检查内容。")
        if not cats:
            problems.append(f"{name}：请选择检查结果。")
        problems += _categories_check(cats, name)
        chosen = {c.pk for c in cats}
        for c in cats:
            if (
                c.parent_id is None
                and c.children.filter(is_active=True).exists()
                and not (chosen & set(c.children.values_list("pk", flat=True)))
            ):
                problems.append(f"{name}：“{c.label}”须选择具体原因。")
        if any(c.is_problem for c in cats) and not result.finding.strip():
            problems.append(f"{name}：发现问题的，请填写检查发现的具体问题。")
        if any(c.code == "non_cooperation" for c in cats):
            non_cooperation_chosen = True
    records = list(visit.non_cooperations.prefetch_related("evidence"))
    if non_cooperation_chosen and not records:
        problems.append(
            "检查结果为“不配合检查情节严重”的，必须记录不配合的情形和经过（第十二条）。"
        )
    for record in records:
        if not record.evidence.exists():
            problems.append(
                f"不配合情形“{record.get_case_display()}”尚未上传证据，不能提交（第十二条）。"
            )
    if records and not non_cooperation_chosen:
        problems.append("已记录不配合检查情节严重的情形，检查结果应选择“不配合检查情节严重”。")
    if any_onsite:
        problems += onsite_problems(visit)
    return problems


def onsite_problems(visit: Visit) -> list[str]:
    """Art. 10: at least two drawn inspectors present, each certificate valid on the check
    dates and recorded as shown; the signer and signing form; the reason when not signed."""
    problems = []
    present = [m for m in visit.members.select_related("inspector") if m.present]
    if len(present) < 2:
        problems.append(
            f"实地核查的检查人员不得少于两人（第十条），目前只记录了{len(present)}人到场。"
        )
    start, end = visit.check_start, visit.check_end
    for member in present:
        who = f"{member.inspector.name}（{member.staff_number}）"
        number = member.certificate_number.strip()
        if not number:
            problems.append(f"{who}：请记录出示的执法证号。")
            continue
        certificates = Certificate.objects.filter(inspector=member.inspector, number=number)
        if not certificates.exists():
            problems.append(f"{who}：执法证号“{number}”不是本人的执法证。")
        elif start and end and not any(c.covers(start, end) for c in certificates):
            problems.append(f"{who}：执法证“{number}”在检查日期不在有效期内。")
    if not visit.place.strip():
        problems.append("请填写检查地点。")
    if not visit.signing_form:
        problems.append("请选择企业确认方式（签名、盖章或未签）。")
    elif visit.signing_form == SigningForm.UNSIGNED:
        if not visit.unsigned_reason.strip():
            problems.append("未取得签名或盖章的，必须注明原因。")
    else:
        if not visit.signer_name.strip() or not visit.signer_role:
            problems.append("请填写签字（盖章）人的姓名和身份。")
        if visit.signing_form == SigningForm.SIGNATURE and not (
            visit.signature_id or visit.signed_page_id
        ):
            problems.append("请在平板上签名，或上传签字页照片。")
        if visit.signing_form == SigningForm.SEAL and not visit.signed_page_id:
            problems.append("盖章确认的，请上传盖章页照片或扫描件。")
    return problems


def visit_submit(*, actor, visit: Visit, version: int) -> tuple[Visit, bool]:
    """检查中/退回 → 待审核. Returns (visit, submitted_now); a second submit of the same record
    changes nothing (no second event), whatever the version it carries."""
    _require_recorder(actor, visit)
    with transaction.atomic():
        locked = _lock(visit)
        if locked.status == Visit.Status.SUBMITTED or locked.is_approved:
            return locked, False
        if int(version) != locked.version:
            _lock(visit, version)  # raises the conflict message
        if locked.status not in (Visit.Status.IN_PROGRESS, Visit.Status.RETURNED):
            raise VisitError("尚未开始录入的检查记录不能提交。")
        problems = submit_problems(locked)
        if problems:
            raise VisitError(problems)
        before = locked.status
        locked.status = Visit.Status.SUBMITTED
        locked.submitted_at = timezone.now()
        locked.submitted_by = actor
        _bump(locked, actor, ["status", "submitted_at", "submitted_by"])
        audit_record(
            event_type="visit.submit",
            actor=actor,
            obj=locked,
            detail={
                "before": {"status": before},
                "after": {"status": locked.status, "version": locked.version},
            },
        )
    return locked, True


def _require_reviewer(actor, visit: Visit) -> None:
    if not selectors.can_review(actor, visit):
        raise PermissionDenied(
            "只有本股室的股室负责人可以审核检查结果（检查组成员不能审核自己的检查）。"
        )


def visit_return(*, actor, visit: Visit, version: int, reason: str) -> Visit:
    """待审核 → 退回, with the reason the recorders see."""
    _require_reviewer(actor, visit)
    reason = (reason or "").strip()
    if not reason:
        raise VisitError("退回必须写明理由。")
    with transaction.atomic():
        visit = _lock(visit, version)
        if visit.status != Visit.Status.SUBMITTED:
            raise VisitError("只有待审核的检查记录可以退回。")
        VisitReview.objects.create(
            visit=visit,
            decision=VisitReview.Decision.RETURN,
            reason=reason,
            reviewer=actor,
            visit_version=visit.version,
        )
        visit.status = Visit.Status.RETURNED
        _bump(visit, actor, ["status"])
        audit_record(
            event_type="visit.return",
            actor=actor,
            obj=visit,
            reason=reason,
            detail={"before": {"status": "submitted"}, "after": {"status": visit.status}},
        )
        _notify_team(
            visit,
            key=f"visit-return-{visit.pk}-{visit.version}",
            title=f"检查记录被退回：{visit.enterprise.name}",
            body=reason,
        )
    return visit


def visit_approve(*, actor, visit: Visit, version: int, opinion: str = "", archive=True) -> Visit:
    """待审核 → 已审核, then (separately) archived. Sends ``visit_approved`` on commit so that the
    disclosure app creates the publication record. If archiving fails the visit stays 已审核
    and ``visit_archive`` can be run again."""
    _require_reviewer(actor, visit)
    with transaction.atomic():
        visit = _lock(visit, version)
        if visit.status != Visit.Status.SUBMITTED:
            if visit.is_approved:
                return visit
            raise VisitError("只有待审核的检查记录可以审核通过。")
        VisitReview.objects.create(
            visit=visit,
            decision=VisitReview.Decision.APPROVE,
            reason=(opinion or "").strip(),
            reviewer=actor,
            visit_version=visit.version,
        )
        visit.status = Visit.Status.APPROVED
        visit.approved_at = timezone.now()
        visit.approved_by = actor
        _bump(visit, actor, ["status", "approved_at", "approved_by"])
        audit_record(
            event_type="visit.approve",
            actor=actor,
            obj=visit,
            detail={"before": {"status": "submitted"}, "after": {"status": visit.status}},
        )
        visit_id = visit.pk
        transaction.on_commit(
            lambda: visit_approved.send(sender=Visit, visit_id=visit_id), robust=False
        )
    if archive:
        visit = visit_archive(actor=actor, visit=visit)
    return visit


# --- archive -----------------------------------------------------------------------------------


def visit_archive(*, actor, visit: Visit) -> Visit:
    """已审核 → 已归档 (art. 13): the three documents rendered as approved and stored, the evidence
    listed, a 卷宗号 assigned and the record frozen (``snapshot`` and its SHA-256)."""
    if not (selectors.can_review(actor, visit) or actor.has_role(Role.SECTION_STAFF)):
        raise PermissionDenied("只有本股室人员可以归档。")
    # Render outside the lock (slow); the visit cannot change while approved.
    visit = Visit.objects.get(pk=visit.pk)
    if visit.status == Visit.Status.ARCHIVED:
        return visit
    if visit.status != Visit.Status.APPROVED:
        raise VisitError("只有审核通过的检查记录可以归档。")
    rendered = selectors.visit_archive_pdfs(visit)
    with transaction.atomic():
        visit = _lock(visit)
        if visit.status != Visit.Status.APPROVED:
            return visit
        year = timezone.localdate().year
        snapshot = _snapshot(visit)
        digest = hashlib.sha256(
            json.dumps(snapshot, cls=DjangoJSONEncoder, ensure_ascii=False, sort_keys=True).encode()
        ).hexdigest()
        for _attempt in range(5):
            seq = _next_seq(VisitArchive, year, "year", "seq")
            try:
                with transaction.atomic():
                    archive = VisitArchive.objects.create(
                        visit=visit,
                        year=year,
                        seq=seq,
                        number=doc_number(ARCHIVE_PREFIX, year, seq),
                        snapshot=json.loads(json.dumps(snapshot, cls=DjangoJSONEncoder)),
                        snapshot_sha256=digest,
                        archived_by=actor,
                    )
                    break
            except IntegrityError:
                continue
        else:  # pragma: no cover
            raise VisitError("卷宗号分配冲突，请重试。")
        order = 0
        for title, filename, pdf in rendered:
            order += 1
            stored = file_store(upload=(filename, pdf), purpose="visit_archive", actor=actor)
            VisitArchiveDocument.objects.create(
                archive=archive, order=order, title=title, file=stored, added_by=actor
            )
        for evidence in selectors.current_evidence(visit):
            order += 1
            VisitArchiveDocument.objects.create(
                archive=archive,
                order=order,
                title=f"{evidence.get_kind_display()}：{evidence.description or evidence.file.original_name}"[
                    :200
                ],
                file=evidence.file,
                added_by=actor,
            )
        visit.status = Visit.Status.ARCHIVED
        _bump(visit, actor, ["status"])
        audit_record(
            event_type="visit.archive",
            actor=actor,
            obj=visit,
            detail={
                "after": {
                    "status": visit.status,
                    "archive_number": archive.number,
                    "documents": order,
                    "snapshot_sha256": digest,
                }
            },
        )
    return visit


def archive_document_add(*, actor, visit: Visit, upload, title: str) -> VisitArchiveDocument:
    """Add a document to an archive after the fact (e.g. the 行政处罚决定书): a new row; nothing
    archived is altered."""
    if not (
        selectors.can_review(actor, visit)
        or selectors.can_record(actor, visit)
        or (actor.has_role(Role.SECTION_STAFF) and actor.section_id == visit.section_id)
    ):
        raise PermissionDenied("只有本股室人员或检查组成员可以补充归档材料。")
    title = (title or "").strip()
    if not title:
        raise VisitError("请填写文件名称。")
    with transaction.atomic():
        visit = _lock(visit)
        archive = VisitArchive.objects.filter(visit=visit).first()
        if archive is None:
            raise VisitError("检查记录尚未归档。")
        stored = file_store(upload=upload, purpose="visit_evidence", actor=actor)
        VisitEvidence.objects.create(
            visit=visit,
            kind=VisitEvidence.Kind.PENALTY,
            file=stored,
            description=title[:200],
            added_by=actor,
        )
        order = (
            archive.documents.order_by("-order").values_list("order", flat=True).first() or 0
        ) + 1
        document = VisitArchiveDocument.objects.create(
            archive=archive, order=order, title=title[:200], file=stored, added_by=actor
        )
        audit_record(
            event_type="visit.archive_document_add",
            actor=actor,
            obj=visit,
            detail={
                "after": {
                    "archive": archive.number,
                    "title": title,
                    "file": str(stored.pk),
                    "sha256": stored.sha256,
                }
            },
        )
    return document


# --- lead transfers and follow-up (after submit too: they are separate records) ------------------


def _require_case_worker(actor, visit: Visit) -> None:
    if not selectors.can_follow_up(actor, visit):
        raise PermissionDenied("只有检查组成员或本股室人员可以登记线索移送和后续处置。")


def transfer_create(
    *, actor, visit: Visit, department: str, content: str, sent_on=None
) -> LeadTransfer:
    """Art. 11: a lead for another department (移交/移送)."""
    _require_case_worker(actor, visit)
    department, content = (department or "").strip(), (content or "").strip()
    if not department or not content:
        raise VisitError("请填写接收部门和移送内容。")
    with transaction.atomic():
        transfer = LeadTransfer.objects.create(
            visit=visit,
            department=department,
            content=content,
            sent_on=sent_on,
            status=LeadTransfer.Status.SENT if sent_on else LeadTransfer.Status.DRAFT,
            created_by=actor,
        )
        visits_changed.send(sender=Visit, visit_ids=[visit.pk])
        audit_record(
            event_type="visit.transfer_create",
            actor=actor,
            obj=transfer,
            detail={
                "after": {
                    "visit": visit.pk,
                    "department": department,
                    "content": content,
                    "sent_on": sent_on,
                    "status": transfer.status,
                }
            },
        )
    return transfer


def transfer_update(
    *,
    actor,
    transfer: LeadTransfer,
    status: str,
    sent_on=None,
    receipt: str = "",
    replied_on=None,
) -> LeadTransfer:
    _require_case_worker(actor, transfer.visit)
    if status not in LeadTransfer.Status.values:
        raise VisitError("移送状态无效。")
    with transaction.atomic():
        transfer = LeadTransfer.objects.select_for_update().get(pk=transfer.pk)
        if transfer.status == LeadTransfer.Status.CLOSED:
            raise VisitError("已办结的移送不能再修改。")
        before = {
            "status": transfer.status,
            "sent_on": transfer.sent_on,
            "receipt": transfer.receipt,
            "replied_on": transfer.replied_on,
        }
        transfer.status = status
        transfer.sent_on = sent_on or transfer.sent_on
        transfer.receipt = (receipt or "").strip() or transfer.receipt
        transfer.replied_on = replied_on or transfer.replied_on
        if status != LeadTransfer.Status.DRAFT and not transfer.sent_on:
            raise VisitError("请填写移送日期。")
        if status in (LeadTransfer.Status.REPLIED, LeadTransfer.Status.CLOSED) and not (
            transfer.receipt
        ):
            raise VisitError("请填写回执或回复情况。")
        transfer.save()
        audit_record(
            event_type="visit.transfer_update",
            actor=actor,
            obj=transfer,
            detail={
                "before": before,
                "after": {
                    "status": transfer.status,
                    "sent_on": transfer.sent_on,
                    "receipt": transfer.receipt,
                    "replied_on": transfer.replied_on,
                },
            },
        )
    return transfer


def follow_up_add(
    *, actor, visit: Visit, measures: list[str], detail: str = "", due_on=None
) -> list[FollowUp]:
    """Art. 16: one or more measures. 无需后续处置 closes at once and cannot be combined."""
    _require_case_worker(actor, visit)
    measures = [m for m in dict.fromkeys(measures or []) if m]
    if not measures:
        raise VisitError("请至少选择一项后续处置措施。")
    if any(m not in FollowUp.Measure.values for m in measures):
        raise VisitError("后续处置措施无效。")
    if FollowUp.Measure.NONE in measures and len(measures) > 1:
        raise VisitError("“无需后续处置”不能与其他措施同时选择。")
    if visit.status in (Visit.Status.SCHEDULED,):
        raise VisitError("检查尚未开始，不能登记后续处置。")
    today = timezone.localdate()
    created = []
    with transaction.atomic():
        for measure in measures:
            none = measure == FollowUp.Measure.NONE
            if not none and measure != FollowUp.Measure.STOP_AND_REPORT and due_on is None:
                raise VisitError(f"“{FollowUp.Measure(measure).label}”须填写期限。")
            created.append(
                FollowUp.objects.create(
                    visit=visit,
                    measure=measure,
                    detail=(detail or "").strip(),
                    due_on=None if none else due_on,
                    closed=none,
                    closed_on=today if none else None,
                    outcome="无需后续处置" if none else "",
                    created_by=actor,
                )
            )
        visits_changed.send(sender=Visit, visit_ids=[visit.pk])
        audit_record(
            event_type="visit.follow_up_add",
            actor=actor,
            obj=visit,
            detail={"after": {"measures": measures, "due_on": due_on, "detail": detail}},
        )
    return created


def follow_up_close(*, actor, follow_up: FollowUp, outcome: str, closed_on=None) -> FollowUp:
    _require_case_worker(actor, follow_up.visit)
    outcome = (outcome or "").strip()
    if not outcome:
        raise VisitError("办结须填写处置结果。")
    with transaction.atomic():
        follow_up = FollowUp.objects.select_for_update().get(pk=follow_up.pk)
        if follow_up.closed:
            return follow_up
        follow_up.outcome = outcome
        follow_up.closed = True
        follow_up.closed_on = closed_on or timezone.localdate()
        follow_up.save(update_fields=["outcome", "closed", "closed_on"])
        visits_changed.send(sender=Visit, visit_ids=[follow_up.visit_id])
        audit_record(
            event_type="visit.follow_up_close",
            actor=actor,
            obj=follow_up,
            detail={
                "before": {"closed": False},
                "after": {"closed": True, "outcome": outcome, "closed_on": follow_up.closed_on},
            },
        )
    return follow_up


def result_category_update(
    *, actor, category: ResultCategory, label: str, exclusive: bool
) -> ResultCategory:
    """Admins edit a category's label (the code is stable)."""
    if not actor.has_role(Role.SYSTEM_ADMIN):
        raise PermissionDenied("只有系统管理员可以维护检查结果类别。")
    label = (label or "").strip()
    if not label:
        raise VisitError("名称不能为空。")
    with transaction.atomic():
        before = {"label": category.label, "exclusive": category.exclusive}
        category.label, category.exclusive = label, bool(exclusive)
        category.save(update_fields=["label", "exclusive"])
        audit_record(
            event_type="visit.result_category_update",
            actor=actor,
            obj=category,
            detail={"before": before, "after": {"label": label, "exclusive": bool(exclusive)}},
        )
    return category


# --- file purposes (registered when the app is ready: inspections/apps.py) -----------------------


def _can_read_visit_file(user, stored) -> bool:
    return selectors.can_read_file(user, stored)


register_file_purpose(
    "visit_evidence",
    kinds={"jpeg", "png", "pdf", *AUDIO_KINDS},
    can_read=_can_read_visit_file,
)
register_file_purpose(
    "visit_signature", kinds={"png"}, can_read=_can_read_visit_file, max_bytes=2 * 1024 * 1024
)
register_file_purpose("visit_archive", kinds={"pdf"}, can_read=_can_read_visit_file)


def batch_pdf_store(*, actor, task, kinds, filled: bool = True):
    """Batch printing in the background: render every chosen document of the task's visits as
    one PDF, store it and tell the requester where to download it (safe to run twice: the
    notification is sent once per content)."""
    from django.urls import reverse

    from core.models import Notification, StoredFile
    from core.services import notification_send

    visits = list(selectors.visit_list(task_id=task.pk))
    # What is printed (the visits at their versions, the documents, blank or filled): the same
    # request run twice renders and notifies once.
    signature = hashlib.sha256(
        json.dumps([[v.pk, v.version] for v in visits] + [list(kinds), filled]).encode()
    ).hexdigest()[:24]
    key = f"visit-batch-{task.pk}-{signature}"
    done = Notification.objects.filter(recipient=actor, key=key).first()
    if done is not None:
        return StoredFile.objects.get(pk=done.link.rstrip("/").rsplit("/", 1)[-1])
    pdf = selectors.visits_pdf(visits, tuple(kinds), filled=filled)
    name = f"检查文书-{task.number}{'-空白' if not filled else ''}.pdf"
    with transaction.atomic():
        stored = file_store(upload=(name, pdf), purpose="visit_batch", actor=actor)
        audit_record(
            event_type="visit.batch_pdf",
            actor=actor,
            obj=task,
            detail={
                "after": {
                    "visits": len(visits),
                    "kinds": list(kinds),
                    "filled": filled,
                    "file": str(stored.pk),
                    "sha256": stored.sha256,
                }
            },
        )
        notification_send(
            recipient=actor,
            key=key,
            title=f"批量打印文件已生成：{task.number}",
            body=f"{len(visits)} 户企业的检查文书，共 {stored.size // 1024} KB。",
            link=reverse("core:file_download", args=[stored.pk]),
        )
    return stored


def _can_read_batch(user, stored) -> bool:
    return selectors.can_read(user)


register_file_purpose("visit_batch", kinds={"pdf"}, can_read=_can_read_batch)
