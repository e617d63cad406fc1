"""Changes to the working-day calendar: enter a year's notice (draft), edit the draft, approve it
(a second person publishes it), discard a draft. Each writes its audit event in the same
transaction. A published revision is never edited: a correction is a new revision of the same
year, approved the same way; the previous revision stays, marked superseded.
"""

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from accounts.roles import Role
from approvals.models import ApprovalRequest
from approvals.services import approval_request
from audit.services import audit_record

from . import seed_data
from .models import CalendarDay, CalendarYear
from .selectors import CALENDAR_KIND, calendar_pending
from .signals import calendar_year_published

ENTER_ROLES = (Role.SYSTEM_ADMIN,)
APPROVE_ROLES = (Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN)
FIRST_YEAR = seed_data.FIRST_YEAR
MAX_HOLIDAY_DAYS = 15  # the longest run in any notice so far is 9 days (2020 Spring Festival)


@dataclass(frozen=True)
class HolidayRange:
    start: dt.date
    end: dt.date
    name: str

    def as_json(self) -> list[str]:
        return [self.start.isoformat(), self.end.isoformat(), self.name]


@dataclass(frozen=True)
class Arrangement:
    """What a notice says: holiday ranges with names and make-up working days."""

    holidays: tuple[HolidayRange, ...]
    makeup_days: tuple[dt.date, ...]

    def as_json(self) -> dict[str, Any]:
        return {
            "holidays": [h.as_json() for h in self.holidays],
            "makeup_days": [d.isoformat() for d in self.makeup_days],
        }


def arrangement_validate(year: int, arrangement: Arrangement) -> None:
    """Raise ``ValidationError`` (all problems at once) unless the arrangement is consistent."""
    errors: list[str] = []
    window_start, window_end = dt.date(year - 1, 12, 1), dt.date(year, 12, 31)
    if not arrangement.holidays:
        errors.append("至少录入一个法定节假日。")
    seen: dict[dt.date, str] = {}
    for h in arrangement.holidays:
        label = f"{h.start:%Y-%m-%d}至{h.end:%Y-%m-%d}"
        if not h.name.strip():
            errors.append(f"{label}：请填写节日名称。")
        if h.end < h.start:
            errors.append(f"{label}：结束日期早于开始日期。")
            continue
        if h.start < window_start or h.end > window_end:
            errors.append(
                f"{label}：超出 {year} 年通知的范围（{window_start:%Y-%m-%d} 至 {window_end:%Y-%m-%d}，"
                "仅元旦假期可从上一年 12 月开始）。"
            )
        if (h.end - h.start).days + 1 > MAX_HOLIDAY_DAYS:
            errors.append(f"{label}：连续假期超过 {MAX_HOLIDAY_DAYS} 天，请核对。")
            continue
        day = h.start
        while day <= h.end:
            if day in seen:
                errors.append(f"{day:%Y-%m-%d} 同时属于“{seen[day]}”和“{h.name}”，假期重叠。")
            seen[day] = h.name
            day += dt.timedelta(days=1)
    makeup_seen: set[dt.date] = set()
    for day in arrangement.makeup_days:
        if day in makeup_seen:
            errors.append(f"调休上班日 {day:%Y-%m-%d} 重复。")
        makeup_seen.add(day)
        if day < window_start or day > window_end:
            errors.append(f"调休上班日 {day:%Y-%m-%d} 超出 {year} 年通知的范围。")
        if day.weekday() < 5:
            errors.append(f"调休上班日 {day:%Y-%m-%d} 不是周六或周日（调休上班日应为周末）。")
        if day in seen:
            errors.append(f"{day:%Y-%m-%d} 既是节假日又是调休上班日。")
    if errors:
        raise ValidationError(errors)


def arrangement_of(calendar_year: CalendarYear) -> Arrangement:
    """Recover the notice (holiday runs and make-up days) from a revision's stored days."""
    holidays: list[list[Any]] = []
    makeup: list[dt.date] = []
    for day in calendar_year.days.order_by("date"):
        if day.kind == CalendarDay.Kind.HOLIDAY:
            last = holidays[-1] if holidays else None
            if last and last[2] == day.holiday_name and last[1] + dt.timedelta(days=1) == day.date:
                last[1] = day.date
            else:
                holidays.append([day.date, day.date, day.holiday_name])
        elif day.kind == CalendarDay.Kind.MAKEUP:
            makeup.append(day.date)
    return Arrangement(tuple(HolidayRange(*h) for h in holidays), tuple(makeup))


def _write_days(calendar_year: CalendarYear, arrangement: Arrangement) -> None:
    calendar_year.days.all().delete()  # a draft only (callers check)
    CalendarDay.objects.bulk_create(
        CalendarDay(calendar_year=calendar_year, date=day, kind=kind, holiday_name=name)
        for day, kind, name in seed_data.expand(
            calendar_year.year,
            [(h.start, h.end, h.name.strip()) for h in arrangement.holidays],
            list(arrangement.makeup_days),
        )
    )


def _require(actor: User, roles: Iterable[str], message: str) -> None:
    if actor is None or not actor.has_role(*roles):
        raise PermissionDenied(message)


def _summary(calendar_year: CalendarYear, arrangement: Arrangement) -> dict[str, Any]:
    return {
        "year": calendar_year.year,
        "revision": calendar_year.revision,
        "status": calendar_year.status,
        "notice_title": calendar_year.notice_title,
        "notice_number": calendar_year.notice_number,
        "reason": calendar_year.reason,
        **arrangement.as_json(),
    }


def calendar_draft_create(
    *,
    actor: User,
    year: int,
    notice_title: str,
    notice_number: str,
    arrangement: Arrangement,
    reason: str = "",
) -> CalendarYear:
    """Enter a year's notice as a draft (revision 1), or a correction of a published year (the
    next revision; a reason is required)."""
    _require(actor, ENTER_ROLES, "只有系统管理员可以录入节假日安排。")
    today = timezone.localdate()
    if not FIRST_YEAR <= year <= today.year + 1:
        raise ValidationError(f"年份须在 {FIRST_YEAR} 至 {today.year + 1} 年之间。")
    if not notice_title.strip():
        raise ValidationError("请填写国务院通知标题。")
    arrangement_validate(year, arrangement)
    with transaction.atomic():
        existing = CalendarYear.objects.select_for_update().filter(year=year)
        if existing.filter(status=CalendarYear.Status.DRAFT).exists():
            raise ValidationError(f"{year} 年已有待审批的草稿，请先审批或作废该草稿。")
        last = existing.aggregate(m=Max("revision"))["m"] or 0
        is_correction = existing.filter(status=CalendarYear.Status.PUBLISHED).exists()
        if is_correction and not reason.strip():
            raise ValidationError(f"{year} 年已有已发布的安排；更正须填写更正原因。")
        record = CalendarYear.objects.create(
            year=year,
            revision=last + 1,
            status=CalendarYear.Status.DRAFT,
            source=CalendarYear.Source.MANUAL,
            notice_title=notice_title.strip(),
            notice_number=notice_number.strip(),
            reason=reason.strip(),
            entered_by=actor,
            entered_at=timezone.now(),
        )
        _write_days(record, arrangement)
        audit_record(
            event_type="calendar_year.created",
            actor=actor,
            obj=record,
            reason=record.reason,
            detail={"after": _summary(record, arrangement)},
        )
    return record


def calendar_draft_update(
    *,
    actor: User,
    calendar_year: CalendarYear,
    notice_title: str,
    notice_number: str,
    arrangement: Arrangement,
    reason: str = "",
) -> CalendarYear:
    """Change a draft; only the person who entered it may, and only while it is a draft."""
    _require(actor, ENTER_ROLES, "只有系统管理员可以修改节假日安排草稿。")
    if not notice_title.strip():
        raise ValidationError("请填写国务院通知标题。")
    arrangement_validate(calendar_year.year, arrangement)
    with transaction.atomic():
        record = CalendarYear.objects.select_for_update().get(pk=calendar_year.pk)
        if not record.is_draft:
            raise ValidationError("只能修改草稿；已发布的安排请以更正修订版提交。")
        if record.entered_by_id != actor.pk:
            raise PermissionDenied("只有录入人可以修改该草稿。")
        if (
            CalendarYear.objects.filter(
                year=record.year, status=CalendarYear.Status.PUBLISHED
            ).exists()
            and not reason.strip()
        ):
            raise ValidationError("更正须填写更正原因。")
        before = _summary(record, arrangement_of(record))
        record.notice_title = notice_title.strip()
        record.notice_number = notice_number.strip()
        record.reason = reason.strip()
        record.entered_at = timezone.now()
        record.save(update_fields=["notice_title", "notice_number", "reason", "entered_at"])
        _write_days(record, arrangement)
        audit_record(
            event_type="calendar_year.updated",
            actor=actor,
            obj=record,
            detail={"before": before, "after": _summary(record, arrangement)},
        )
    return record


# --- publication on the approvals flow (kind ``workdays.calendar_year``) ----------------------
#
# The 系统管理员 who entered a draft asks for its publication; another 系统管理员 or a 安全管理员
# (never the one who entered it) approves it in their own session on the approvals page, which
# publishes it, or refuses it with a reason (the draft stays a draft, to be edited or discarded).


def calendar_year_request(*, actor: User, calendar_year: CalendarYear) -> ApprovalRequest:
    """Ask for ``calendar_year`` (a draft) to be published by a second admin."""
    record = calendar_year
    notice = record.notice_number or record.notice_title
    reason = record.reason or f"发布 {record.year} 年节假日安排（{notice}）"
    payload = {
        # The draft as it was asked for: an edit after the request makes it stale.
        "entered_at": record.entered_at.isoformat() if record.entered_at else "",
        "summary": f"{record.year} 年节假日安排第 {record.revision} 版（{notice}）审批后发布并用于期限计算",
        "link": reverse("workdays:calendar_revision", args=[record.pk]),
    }
    return approval_request(
        actor=actor, kind=CALENDAR_KIND, object_id=record.pk, reason=reason, payload=payload
    )


def calendar_year_check_request(*, actor: User, obj: CalendarYear) -> None:
    _require(actor, ENTER_ROLES, "只有系统管理员可以提交节假日安排的发布申请。")
    if not obj.is_draft:
        raise ValidationError(f"{obj.year} 年第 {obj.revision} 版不是待审批的草稿。")


def calendar_year_check_payload(*, actor: User, obj: CalendarYear, payload: dict[str, Any]) -> None:
    if "entered_at" not in payload:
        raise ValidationError("请在节假日安排页面提交发布申请。")


def calendar_year_approver_roles(*, actor: User, obj: CalendarYear) -> frozenset[str]:
    return frozenset(APPROVE_ROLES)


def calendar_year_check_decider(
    *, actor: User, obj: CalendarYear, request: ApprovalRequest
) -> None:
    if obj is not None and obj.entered_by_id == actor.pk:
        raise PermissionDenied("录入人不能审批自己录入的安排，须由另一位管理员审批。")


def calendar_year_perform(
    *, actor: User, obj: CalendarYear, request: ApprovalRequest
) -> dict[str, Any]:
    """The approved publication: the draft becomes the published revision; the previous
    published revision is superseded; deadlines waiting for the year are filled in."""
    record = CalendarYear.objects.select_for_update().get(pk=obj.pk)
    if not record.is_draft:
        raise ValidationError(f"{record.year} 年第 {record.revision} 版已不是草稿，请拒绝该申请。")
    entered_at = record.entered_at.isoformat() if record.entered_at else ""
    if entered_at != request.payload.get("entered_at"):
        raise ValidationError(
            f"申请提出后 {record.year} 年第 {record.revision} 版草稿已修改，"
            "请拒绝该申请，核对后重新提交发布申请。"
        )
    previous = (
        CalendarYear.objects.select_for_update()
        .filter(year=record.year, status=CalendarYear.Status.PUBLISHED)
        .first()
    )
    if previous is not None:
        previous.status = CalendarYear.Status.SUPERSEDED
        previous.save(update_fields=["status"])
    record.status = CalendarYear.Status.PUBLISHED
    record.approved_by = actor
    record.approved_at = timezone.now()
    record.save(update_fields=["status", "approved_by", "approved_at"])
    audit_record(
        event_type="calendar_year.published",
        actor=actor,
        obj=record,
        reason=record.reason,
        detail={
            "after": _summary(record, arrangement_of(record)),
            "entered_by": record.entered_by.display_name if record.entered_by else "",
            "requested_by": request.requested_by.display_name,
            "approval": request.pk,
            "superseded_revision": previous.revision if previous else None,
        },
    )
    transaction.on_commit(
        lambda: calendar_year_published.send(sender=CalendarYear, calendar_year=record)
    )
    return {}


def calendar_draft_discard(
    *, actor: User, calendar_year: CalendarYear, reason: str
) -> CalendarYear:
    """Withdraw (by its author) or reject (by an approver) a draft; it is kept, marked 已作废."""
    _require(actor, APPROVE_ROLES, "只有系统管理员或安全管理员可以作废草稿。")
    if not reason.strip():
        raise ValidationError("请填写作废原因。")
    with transaction.atomic():
        record = CalendarYear.objects.select_for_update().get(pk=calendar_year.pk)
        if not record.is_draft:
            raise ValidationError("只能作废草稿。")
        if calendar_pending(record) is not None:
            # The request decides the draft's fate first (withdrawn by its requester or refused).
            raise ValidationError(
                "该草稿有待审批的发布申请，请先由申请人撤回或由审批人拒绝该申请，再作废草稿。"
            )
        record.status = CalendarYear.Status.DISCARDED
        record.save(update_fields=["status"])
        audit_record(
            event_type="calendar_year.discarded",
            actor=actor,
            obj=record,
            reason=reason.strip(),
            detail={"year": record.year, "revision": record.revision},
        )
    return record
