"""Publication records and their deadlines (art. 6(6), 15), the daily deadline scan with its
notifications, and the sweep that creates records a failed receiver missed.

Every function is keyword-only, runs in ``transaction.atomic()`` and writes its audit event in
the same transaction (one event per batch for bulk work).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from django.contrib.auth.models import Group
from django.db import connection, transaction
from django.db.models import Count, Q
from django.utils import timezone

from accounts.models import Section, User
from accounts.roles import Role
from audit.services import audit_record
from core.models import Notification
from enterprises.models import Enterprise
from inspections.models import Task, Visit, VisitItemResult
from inspections.signals import visits_changed
from workdays.calendar import DEFAULT_WORKING_DAYS, WorkingCalendar

from ..models import PublicationRecord, PublicationVersion
from .common import Alert

REMINDER_WORKING_DAYS = 5
SCAN_ROLES = (Role.LEAD_SECTION, Role.SYSTEM_ADMIN)


# --- records and deadlines --------------------------------------------------------------------


def _apply_deadline(record: PublicationRecord, calendar: WorkingCalendar) -> None:
    deadline = calendar.deadline(record.check_end, DEFAULT_WORKING_DAYS)
    if deadline.date is None:  # pending
        record.deadline = None
        record.deadline_pending_year = deadline.missing_year
        record.calendar_revision_id = None
    else:
        record.deadline = deadline.date
        record.deadline_pending_year = None
        record.calendar_revision_id = calendar.revision_id(deadline.date.year)


def publication_record_create(
    *,
    result_id: int,
    visit_id: int,
    task: Task,
    enterprise: Enterprise,
    check_item: str,
    check_end: dt.date,
    result_text: str,
    section: Section | None = None,
    inspectors: Iterable[Any] = (),
    approved_by: User | None = None,
    calendar: WorkingCalendar | None = None,
) -> PublicationRecord:
    """The record of one approved result (idempotent: an existing record is returned)."""
    existing = PublicationRecord.objects.filter(result_id=result_id).first()
    if existing is not None:
        return existing
    with transaction.atomic():
        plan = task.plan
        record = PublicationRecord(
            result_id=result_id,
            visit_id=visit_id,
            task=task,
            enterprise=enterprise,
            section=section or task.lead_section,
            plan_number=plan.number if plan else "",
            plan_name=plan.name if plan else "",
            task_number=task.number,
            task_name=task.name,
            task_kind=task.kind,
            uscc=enterprise.uscc,
            enterprise_name=enterprise.name,
            check_item=check_item,
            check_end=check_end,
            approved_at=timezone.now(),
        )
        _apply_deadline(record, calendar or WorkingCalendar())
        record.save(force_insert=True)
        record.inspectors.set(list(inspectors))
        version = PublicationVersion.objects.create(
            record=record,
            number=1,
            status=PublicationVersion.Status.APPROVED,
            result_text=result_text,
            approved_by=approved_by,
            approved_at=timezone.now(),
        )
        record.current_version = version
        record.save(update_fields=["current_version"])
    return record


def publication_create_for_visit(
    *, visit_id: int, actor: User | None = None
) -> list[PublicationRecord]:
    """Records for every item result of an approved visit (the ``visit_approved`` receiver).

    Each result is published under the task of the visit that holds its check item (a joint
    visit covers several tasks). Safe to run twice: records are keyed by the result id."""
    visit = (
        Visit.objects.select_related("task", "task__plan", "enterprise", "section", "approved_by")
        .filter(pk=visit_id)
        .first()
    )
    if visit is None or not visit.is_approved or visit.check_end is None:
        return []
    tasks = list(visit.tasks.select_related("plan").prefetch_related("check_items")) or [visit.task]
    task_of_item: dict[int, Any] = {}
    for task in sorted(tasks, key=lambda t: t.pk != visit.task_id):  # the main task first
        for item in task.check_items.all():
            task_of_item.setdefault(item.pk, task)
    inspectors = [
        m.inspector.user
        for m in visit.members.select_related("inspector__user")
        if m.inspector.user and m.inspector.user.is_active
    ]
    results = (
        VisitItemResult.objects.filter(visit=visit)
        .select_related("check_item")
        .prefetch_related("categories__parent")
    )
    calendar = WorkingCalendar()
    records = []
    with transaction.atomic():
        for result in results:
            records.append(
                publication_record_create(
                    result_id=result.pk,
                    visit_id=visit.pk,
                    task=task_of_item.get(result.check_item_id, visit.task),
                    enterprise=visit.enterprise,
                    section=visit.section,
                    check_item=result.check_item.name,
                    check_end=visit.check_end,
                    result_text=result.result_text(),
                    inspectors=inspectors,
                    approved_by=visit.approved_by,
                    calendar=calendar,
                )
            )
        visits_changed.send(sender=PublicationRecord, visit_ids=[visit.pk])
        audit_record(
            event_type="publication.create",
            actor=actor or visit.approved_by,
            object_type="inspections.visit",
            object_id=visit.pk,
            detail={
                "records": [r.pk for r in records],
                "check_end": visit.check_end,
                "deadline": records[0].deadline_label if records else None,
            },
        )
    return records


def publication_deadlines_refresh(
    *, years: Iterable[int] | None = None, actor: User | None = None
) -> int:
    """Fill in 待定 deadlines and recompute open ones after a calendar year is published.

    Only records whose deadline is still running are touched (a published record keeps the
    deadline it was judged against). Returns the number of records changed."""
    calendar = WorkingCalendar()
    years = set(years or [])
    open_records = PublicationRecord.objects.filter(first_published_on__isnull=True)
    scope = Q(deadline_pending_year__isnull=False)
    for year in years:
        # A deadline reaching into ``year`` started at most ~2 months before it.
        scope |= Q(check_end__year__in=[year - 1, year])
    changed = []
    for record in open_records.filter(scope).only(
        "id", "check_end", "deadline", "deadline_pending_year", "calendar_revision_id"
    ):
        before = (record.deadline, record.deadline_pending_year, record.calendar_revision_id)
        _apply_deadline(record, calendar)
        if before != (record.deadline, record.deadline_pending_year, record.calendar_revision_id):
            changed.append(record)
    with transaction.atomic():
        PublicationRecord.objects.bulk_update(
            changed,
            ["deadline", "deadline_pending_year", "calendar_revision"],
            batch_size=2000,
        )
        if changed:
            audit_record(
                event_type="publication.deadlines_refresh",
                actor=actor,
                object_type="disclosure.publicationrecord",
                detail={"years": sorted(years), "changed": len(changed)},
            )
    return len(changed)


# --- the deadline scan ------------------------------------------------------------------------


def alert_for(
    deadline: dt.date, today: dt.date, calendar: WorkingCalendar
) -> tuple[str, int | None]:
    """(alert level, working days left) of an open record on ``today``."""
    if deadline < today:
        return Alert.OVERDUE, None
    if deadline == today:
        return Alert.DUE_TODAY, 0
    left = calendar.count_working_days(today, deadline)
    if left <= REMINDER_WORKING_DAYS:
        return Alert.REMINDER, left
    return Alert.NONE, left


def deadline_scan(*, today: dt.date | None = None) -> dict[str, Any]:
    """Mark open records reminder / due today / overdue and notify once per event.

    Who is told: each record's inspector(s) get one notice per record and level (谁检查、谁公示);
    the section gets one digest per level and day ("本股室新增 N 条…", linking to the filtered
    list): reminders and due-today to the section's staff (业务股室), overdue to its staff and
    its head (股室负责人, the escalation). The discipline group reads the overdue list.

    Set-based: the level depends only on the deadline, so the distinct deadlines of the open
    records are classified in Python (a few hundred dates at most); then each group is one
    INSERT … SELECT of notifications and one UPDATE of records — no query per record.

    Idempotent: only records whose level changes are notified, and every notification has a
    unique key per recipient (ON CONFLICT DO NOTHING), so running it twice — or two workers at
    once — gives the same state and one notification per event. The whole scan is one
    transaction: a worker killed mid-run loses nothing (the redelivered task redoes it)."""
    today = today or timezone.localdate()
    calendar = WorkingCalendar()
    open_records = PublicationRecord.objects.filter(
        first_published_on__isnull=True, deadline__isnull=False
    )
    groups: dict[tuple[str, int | None], list[dt.date]] = defaultdict(list)
    by_level: dict[str, list[dt.date]] = defaultdict(list)
    counts = {Alert.REMINDER: 0, Alert.DUE_TODAY: 0, Alert.OVERDUE: 0, "changed": 0, "notified": 0}
    per_deadline = open_records.values_list("deadline").annotate(n=Count("id")).order_by()
    for deadline, n in per_deadline:
        level, left = alert_for(deadline, today, calendar)
        groups[(level, left if level == Alert.REMINDER else None)].append(deadline)
        by_level[level].append(deadline)
        if level:
            counts[level] += n
    with transaction.atomic():
        for (level, left), deadlines in groups.items():
            if level:
                counts["notified"] += _notify_inspectors(level, left, deadlines)
        for level, deadlines in by_level.items():
            if level:
                counts["notified"] += _notify_sections(level, deadlines, today)
        for level, deadlines in by_level.items():
            changing = open_records.filter(deadline__in=deadlines).exclude(alert=level)
            counts["changed"] += changing.update(alert=level)
    return {str(k): v for k, v in counts.items()}


_ALERT_TITLES: dict[str, str] = {
    Alert.REMINDER: "公示期限临近（剩余{left}个工作日）：",
    Alert.DUE_TODAY: "今日为公示期限：",
    Alert.OVERDUE: "公示已逾期：",
}
_DIGEST_TITLES: dict[str, tuple[str, str]] = {
    Alert.REMINDER: ("本股室新增", "条检查结果距公示期限不足5个工作日"),
    Alert.DUE_TODAY: ("本股室有", "条检查结果今日到达公示期限"),
    Alert.OVERDUE: ("本股室新增", "条检查结果逾期未公示，请督促公示"),
}
_DIGEST_ROLES: dict[str, tuple[str, ...]] = {
    Alert.REMINDER: (Role.SECTION_STAFF,),
    Alert.DUE_TODAY: (Role.SECTION_STAFF,),
    Alert.OVERDUE: (Role.SECTION_STAFF, Role.SECTION_HEAD),
}
_CONFLICT = "ON CONFLICT (recipient_id, key) DO NOTHING"  # PostgreSQL and SQLite >= 3.24


def _sql_parts(deadlines: list[dt.date]) -> dict[str, Any]:
    if connection.vendor == "postgresql":
        compact, dashed = "to_char(r.deadline, 'YYYYMMDD')", "to_char(r.deadline, 'YYYY-MM-DD')"
    else:  # SQLite stores dates as YYYY-MM-DD text
        compact, dashed = "replace(r.deadline, '-', '')", "r.deadline"
    return {
        "compact": compact,
        "dashed": dashed,
        "records": PublicationRecord._meta.db_table,
        "inspectors": PublicationRecord.inspectors.through._meta.db_table,
        "users": User._meta.db_table,
        "user_groups": User.groups.through._meta.db_table,
        "notifications": Notification._meta.db_table,
        "where": "r.first_published_on IS NULL AND r.alert <> %s AND r.deadline IN ("
        + ", ".join(["%s"] * len(deadlines))
        + ")",
        "now": connection.ops.adapt_datetimefield_value(timezone.now()),
    }


def _execute(sql: str, params: list[Any]) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return max(int(cursor.rowcount), 0)


def _notify_inspectors(level: str, left: int | None, deadlines: list[dt.date]) -> int:
    """One notice per record whose level changes, to each of its (active) inspectors."""
    p = _sql_parts(deadlines)
    sql = (
        f"INSERT INTO {p['notifications']} (recipient_id, key, title, body, link, created_at) "  # noqa: S608  # nosec B608 - _meta names; values are params
        f"SELECT i.user_id, %s || CAST(r.id AS TEXT) || ':' || {p['compact']}, "
        f"substr(%s || r.enterprise_name || '（' || r.check_item || '）', 1, 200), "
        f"'公示期限 ' || {p['dashed']} || '（检查结束后20个工作日，实施细则第十五条）。', "
        f"'/disclosure/publications/' || CAST(r.id AS TEXT) || '/', %s "
        f"FROM {p['records']} r "
        f"JOIN {p['inspectors']} i ON i.publicationrecord_id = r.id "
        f"JOIN {p['users']} u ON u.id = i.user_id AND u.is_active "
        f"WHERE {p['where']} {_CONFLICT}"
    )
    title = _ALERT_TITLES[level].format(left=left)
    return _execute(sql, [f"disclosure:{level}:", title, p["now"], level, *deadlines])


def _notify_sections(level: str, deadlines: list[dt.date], today: dt.date) -> int:
    """One digest per section and day: the section's staff (and, when overdue, its head)."""
    p = _sql_parts(deadlines)
    roles = _DIGEST_ROLES[level]
    before, after = _DIGEST_TITLES[level]
    sql = (
        f"INSERT INTO {p['notifications']} (recipient_id, key, title, body, link, created_at) "  # noqa: S608  # nosec B608 - _meta names; values are params
        f"SELECT u.id, %s || CAST(s.section_id AS TEXT) || %s, "
        f"%s || CAST(s.n AS TEXT) || %s, %s, %s, %s "
        f"FROM (SELECT r.section_id, COUNT(*) AS n FROM {p['records']} r "
        f"WHERE {p['where']} AND r.section_id IS NOT NULL GROUP BY r.section_id) s "
        f"JOIN {p['users']} u ON u.section_id = s.section_id AND u.is_active "
        f"WHERE u.id IN (SELECT ug.user_id FROM {p['user_groups']} ug "
        f"JOIN {Group._meta.db_table} g ON g.id = ug.group_id "
        f"WHERE g.name IN ({', '.join(['%s'] * len(roles))})) {_CONFLICT}"
    )
    params = [
        f"disclosure:{level}-digest:",
        f":{today:%Y%m%d}",
        before,
        after,
        "公示期限为检查结束后20个工作日（实施细则第十五条）。",
        f"/disclosure/publications/?f={level}",
        p["now"],
        level,
        *deadlines,
        *roles,
    ]
    return _execute(sql, params)


# --- sweep and file purposes ------------------------------------------------------------------


def publication_sweep_missing() -> int:
    """Create the records of approved visits that have none yet (a receiver that failed)."""
    visit_ids = (
        VisitItemResult.objects.filter(
            visit__status__in=list(Visit.APPROVED_STATES), visit__check_end__isnull=False
        )
        .exclude(pk__in=PublicationRecord.objects.values("result_id"))
        .values_list("visit_id", flat=True)
        .distinct()
    )
    created = 0
    for visit_id in list(visit_ids[:1000]):
        created += len(publication_create_for_visit(visit_id=visit_id))
    return created
