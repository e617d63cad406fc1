"""Publication services (art. 6(6), 15, 17): records and deadlines, the deadline scan,
export batches, platform feedback, corrections and objections. See docs/disclosure.md.

Every function is keyword-only, runs in ``transaction.atomic()`` and writes its audit event in
the same transaction (one event per batch for bulk work).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import uuid
from collections import defaultdict
from collections.abc import Iterable, Iterator
from pathlib import Path

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import Count, F, Q
from django.utils import timezone

from accounts.roles import Role
from audit.services import audit_record
from core.models import Notification, StoredFile
from core.spreadsheets import Column, SpreadsheetError, open_table, parse_date
from inspections.signals import visits_changed

from .calendar import DEFAULT_WORKING_DAYS, WorkingCalendar
from .exports import ExportRow, JsonExporter, XlsxExporter, correction_remark
from .models import (
    ExportBatch,
    ExportBatchItem,
    FeedbackImport,
    Objection,
    PublicationRecord,
    PublicationVersion,
)

REMINDER_WORKING_DAYS = 5
SYNC_BUILD_MAX_ROWS = 5000  # bigger batches are built by a Celery task with a progress bar
EXPORT_PURPOSE = "disclosure_export"
FEEDBACK_PURPOSE = "disclosure_feedback"

SEND_ROLES = (Role.LEAD_SECTION, Role.SECTION_STAFF)
PROPOSE_ROLES = (Role.INSPECTOR, Role.SECTION_STAFF, Role.SECTION_HEAD)
APPROVE_ROLES = (Role.SECTION_HEAD,)
OBJECTION_ROLES = (Role.LEAD_SECTION, Role.SECTION_STAFF, Role.INSPECTOR, Role.SECTION_HEAD)
RECHECK_ROLES = (Role.INSPECTOR, Role.SECTION_HEAD)
SCAN_ROLES = (Role.LEAD_SECTION, Role.SYSTEM_ADMIN)

Status = PublicationRecord.Status
Alert = PublicationRecord.Alert


def _require(actor, roles, message: str) -> None:
    if actor is not None and not actor.has_role(*roles):
        raise PermissionDenied(message)


# --- records and deadlines --------------------------------------------------------------------


def _apply_deadline(record: PublicationRecord, calendar: WorkingCalendar) -> None:
    deadline = calendar.deadline(record.check_end, DEFAULT_WORKING_DAYS)
    if deadline.is_pending:
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
    task,
    enterprise,
    check_item: str,
    check_end: dt.date,
    result_text: str,
    section=None,
    inspectors: Iterable = (),
    approved_by=None,
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


def publication_create_for_visit(*, visit_id: int, actor=None) -> list[PublicationRecord]:
    """Records for every item result of an approved visit (the ``visit_approved`` receiver).

    Each result is published under the task of the visit that holds its check item (a joint
    visit covers several tasks). Safe to run twice: records are keyed by the result id."""
    from inspections.models import Visit, VisitItemResult

    visit = (
        Visit.objects.select_related("task", "task__plan", "enterprise", "section", "approved_by")
        .filter(pk=visit_id)
        .first()
    )
    if visit is None or not visit.is_approved or visit.check_end is None:
        return []
    tasks = list(visit.tasks.select_related("plan").prefetch_related("check_items")) or [visit.task]
    task_of_item = {}
    for task in sorted(tasks, key=lambda t: t.pk != visit.task_id):  # the main task first
        for item in task.check_items.all():
            task_of_item.setdefault(item.pk, task)
    inspectors = [
        m.inspector.user
        for m in visit.members.select_related("inspector__user")
        if m.inspector.user_id and m.inspector.user.is_active
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


def publication_deadlines_refresh(*, years: Iterable[int] | None = None, actor=None) -> int:
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


def deadline_scan(*, today: dt.date | None = None) -> dict:
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


_ALERT_TITLES = {
    Alert.REMINDER: "公示期限临近（剩余{left}个工作日）：",
    Alert.DUE_TODAY: "今日为公示期限：",
    Alert.OVERDUE: "公示已逾期：",
}
_DIGEST_TITLES = {
    Alert.REMINDER: ("本股室新增", "条检查结果距公示期限不足5个工作日"),
    Alert.DUE_TODAY: ("本股室有", "条检查结果今日到达公示期限"),
    Alert.OVERDUE: ("本股室新增", "条检查结果逾期未公示，请督促公示"),
}
_DIGEST_ROLES = {
    Alert.REMINDER: (Role.SECTION_STAFF,),
    Alert.DUE_TODAY: (Role.SECTION_STAFF,),
    Alert.OVERDUE: (Role.SECTION_STAFF, Role.SECTION_HEAD),
}
_CONFLICT = "ON CONFLICT (recipient_id, key) DO NOTHING"  # PostgreSQL and SQLite >= 3.24


def _sql_parts(deadlines: list[dt.date]) -> dict:
    from accounts.models import User

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


def _execute(sql: str, params: list) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return max(cursor.rowcount, 0)


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
    from django.contrib.auth.models import Group

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


# --- export batches ---------------------------------------------------------------------------


def _batch_number() -> str:
    now = timezone.localtime()
    return f"GS{now:%Y%m%d%H%M%S}-{uuid.uuid4().hex[:4].upper()}"


def exportable_records(*, since: dt.date | None = None, section=None):
    qs = PublicationRecord.objects.filter(
        status__in=[Status.PENDING, Status.REJECTED], current_version__isnull=False
    )
    if since:
        qs = qs.filter(check_end__gte=since)
    if section is not None:
        qs = qs.filter(section=section)
    return qs


def batch_create(*, actor, since: dt.date | None = None, section=None) -> ExportBatch | None:
    """Select the approved, unsent results (pending, rejected and corrected) into a new batch;
    the records move to 已报送. Returns None when there is nothing to send. The files are
    written by ``batch_build`` (synchronously for small batches, else by a Celery task)."""
    _require(actor, SEND_ROLES, "只有牵头股室或业务股室可以报送。")
    with transaction.atomic():
        records = list(
            exportable_records(since=since, section=section)
            .select_for_update()
            .order_by("task_number", "uscc", "check_item", "id")
            .values_list("id", "current_version_id", "status")
        )
        if not records:
            return None
        batch = ExportBatch.objects.create(
            number=_batch_number(),
            since=since,
            created_by=actor if getattr(actor, "is_authenticated", False) else None,
            row_count=len(records),
        )
        ExportBatchItem.objects.bulk_create(
            [
                ExportBatchItem(batch=batch, record_id=pk, version_id=version_id, row=row)
                for row, (pk, version_id, _status) in enumerate(records, start=2)
            ],
            batch_size=5000,
        )
        ids = [pk for pk, _v, _s in records]
        now = timezone.now()
        for start in range(0, len(ids), 5000):
            PublicationRecord.objects.filter(pk__in=ids[start : start + 5000]).update(
                status=Status.SENT, last_batch=batch, sent_at=now, rejection_error=""
            )
        audit_record(
            event_type="publication_batch.create",
            actor=actor,
            obj=batch,
            detail={
                "rows": len(records),
                "resent": sum(1 for _p, _v, s in records if s == Status.REJECTED),
                "since": since,
            },
        )
    return batch


def batch_rows(batch: ExportBatch) -> Iterator[ExportRow]:
    items = (
        ExportBatchItem.objects.filter(batch=batch)
        .order_by("row")
        .values_list(
            "record_id",
            "version_id",
            "record__plan_number",
            "record__plan_name",
            "record__task_number",
            "record__task_name",
            "record__task_kind",
            "record__check_end",
            "record__uscc",
            "record__enterprise_name",
            "record__check_item",
            "version__result_text",
            "version__is_correction",
            "version__reason",
        )
    )
    for row in items.iterator(chunk_size=2000):
        (record_id, version_id, pn, pname, tn, tname, kind, end, uscc, ename, item, text) = row[:12]
        is_correction, reason = row[12], row[13]
        yield ExportRow(
            plan_number=pn,
            plan_name=pname,
            task_number=tn,
            task_name=tname,
            task_kind=kind,
            completion_date=end,
            uscc=uscc,
            enterprise_name=ename,
            check_item=item,
            result=text,
            remarks=correction_remark(reason) if is_correction else "",
            record_id=record_id,
            version_id=version_id,
        )


def _store_generated(*, data: bytes, name: str, content_type: str, actor) -> StoredFile:
    """Store a generated file with the same model as uploads (downloads byte-identical)."""
    file_id = uuid.uuid4()
    suffix = Path(name).suffix
    relative = f"{EXPORT_PURPOSE}/{timezone.localdate():%Y/%m}/{file_id.hex}{suffix}"
    target = Path(settings.MEDIA_ROOT) / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target, "xb") as handle:
        handle.write(data)
    stored = StoredFile(
        id=file_id,
        purpose=EXPORT_PURPOSE,
        original_name=name,
        content_type=content_type,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        path=relative,
        uploaded_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    stored.save(force_insert=True)
    return stored


class _Progress:
    def __init__(self, batch: ExportBatch, rows: Iterable[ExportRow], every: int = 5000):
        self.batch, self.rows, self.every = batch, rows, every

    def __iter__(self):
        total = max(self.batch.row_count, 1)
        for n, row in enumerate(self.rows, start=1):
            if n % self.every == 0:
                ExportBatch.objects.filter(pk=self.batch.pk).update(
                    progress=min(89, n * 90 // total)
                )
            yield row


def batch_build(*, batch_id: int) -> ExportBatch:
    """Write the batch's xlsx and JSON, store them, record the SHA-256. Safe to run twice."""
    batch = ExportBatch.objects.select_related("created_by").get(pk=batch_id)
    if batch.status == ExportBatch.Status.DONE:
        return batch
    try:
        xlsx = io.BytesIO()
        count = XlsxExporter().write(xlsx, _Progress(batch, batch_rows(batch)))
        ExportBatch.objects.filter(pk=batch.pk).update(progress=90)
        js = io.BytesIO()
        JsonExporter().write(
            js, batch_rows(batch), batch=batch.number, generated_at=batch.created_at
        )
    except Exception as exc:
        ExportBatch.objects.filter(pk=batch.pk).update(
            status=ExportBatch.Status.FAILED, message=str(exc)[:500]
        )
        raise
    with transaction.atomic():
        batch = ExportBatch.objects.select_for_update().get(pk=batch_id)
        if batch.status == ExportBatch.Status.DONE:
            return batch
        actor = batch.created_by
        batch.xlsx_file = _store_generated(
            data=xlsx.getvalue(),
            name=f"公示报送-{batch.number}.xlsx",
            content_type=XlsxExporter.content_type,
            actor=actor,
        )
        batch.json_file = _store_generated(
            data=js.getvalue(),
            name=f"公示报送-{batch.number}.json",
            content_type=JsonExporter.content_type,
            actor=actor,
        )
        batch.xlsx_sha256 = batch.xlsx_file.sha256
        batch.json_sha256 = batch.json_file.sha256
        batch.correction_count = batch.items.filter(version__is_correction=True).count()
        batch.status = ExportBatch.Status.DONE
        batch.progress = 100
        batch.message = ""
        batch.finished_at = timezone.now()
        batch.save()
        audit_record(
            event_type="publication_batch.build",
            actor=actor,
            obj=batch,
            detail={
                "rows": count,
                "corrections": batch.correction_count,
                "xlsx_sha256": batch.xlsx_sha256,
                "json_sha256": batch.json_sha256,
            },
        )
    return batch


def batch_start(batch: ExportBatch) -> None:
    """Build now when small, else in the background (progress on the batch page)."""
    if batch.row_count <= SYNC_BUILD_MAX_ROWS:
        batch_build(batch_id=batch.pk)
    else:
        from .tasks import export_batch_build

        transaction.on_commit(lambda: export_batch_build.delay(batch.pk))


# --- platform feedback ------------------------------------------------------------------------

ACCEPTED_WORDS = {"接收", "已接收", "成功", "通过", "已公示", "公示成功", "正常"}
REJECTED_WORDS = {"退回", "被退回", "失败", "不通过", "拒绝", "错误", "异常"}
FEEDBACK_COLUMNS = [
    Column("task_number", "抽查任务编号"),
    Column("uscc", "统一社会信用代码", halfwidth=True),
    Column("check_item", "检查事项"),
    Column("outcome", "处理结果", aliases=("反馈结果", "状态", "接收状态")),
    Column("error", "错误信息", required=False, aliases=("失败原因", "退回原因")),
    Column("published_on", "公示日期", required=False, halfwidth=True, is_date=True),
]


def feedback_import(*, actor, upload, batch: ExportBatch | None = None) -> FeedbackImport:
    """Apply the platform's feedback sheet (accepted / rejected rows with errors).

    Rows are matched by (抽查任务编号, 统一社会信用代码, 检查事项) to the record's latest
    batch item (within ``batch`` when given). Accepted → 已公示 with the 公示日期 (or today);
    rejected → 被退回 with the error, listed for fixing and taken by the next batch. A file
    error refuses the whole file."""
    from core.uploads import file_store

    _require(actor, SEND_ROLES, "只有牵头股室或业务股室可以导入平台反馈。")
    with transaction.atomic():
        stored = file_store(upload=upload, purpose=FEEDBACK_PURPOSE, actor=actor)
        from core.uploads import file_open

        with file_open(stored) as handle:
            data = handle.read()
        try:
            table = open_table(data, columns=FEEDBACK_COLUMNS, max_bytes=settings.UPLOAD_MAX_BYTES)
            rows = list(table.rows)
        except SpreadsheetError as exc:
            raise ValidationError(str(exc)) from None
        items = ExportBatchItem.objects.select_related("record", "version")
        items = items.filter(batch=batch) if batch else items.filter(record__status=Status.SENT)
        by_key = {}
        for item in items.order_by("batch_id", "row"):
            r = item.record
            by_key[(r.task_number, r.uscc, r.check_item)] = item  # the latest batch wins
        feedback = FeedbackImport(batch=batch, file=stored, imported_by=actor)
        unmatched = []
        today = timezone.localdate()
        touched = []
        for row in rows:
            values = row.values
            key = (
                str(values.get("task_number") or ""),
                str(values.get("uscc") or "").upper(),
                str(values.get("check_item") or ""),
            )
            outcome = str(values.get("outcome") or "").strip()
            item = by_key.get(key)
            if item is None:
                unmatched.append({"row": row.number, "reason": "找不到对应的报送记录"})
                continue
            record = item.record
            if outcome in ACCEPTED_WORDS:
                try:
                    published_on = parse_date(values.get("published_on")) or today
                except ValueError as exc:
                    unmatched.append({"row": row.number, "reason": str(exc)})
                    continue
                item.outcome, item.error = ExportBatchItem.Outcome.ACCEPTED, ""
                _mark_published(record, item.version, published_on)
                feedback.accepted += 1
            elif outcome in REJECTED_WORDS:
                error = str(values.get("error") or "").strip() or "平台退回（未注明原因）"
                item.outcome, item.error = ExportBatchItem.Outcome.REJECTED, error
                if record.current_version_id == item.version_id:
                    record.status = Status.REJECTED
                    record.rejection_error = error
                feedback.rejected += 1
            else:
                unmatched.append({"row": row.number, "reason": f"无法识别的处理结果：{outcome}"})
                continue
            item.save(update_fields=["outcome", "error"])
            record.save(
                update_fields=[
                    "status",
                    "rejection_error",
                    "published_on",
                    "first_published_on",
                    "published_version",
                ]
            )
            touched.append(record.pk)
        visits_changed.send(sender=PublicationRecord, visit_ids=_visits_of(touched))
        feedback.unmatched = unmatched[:500]
        feedback.save()
        audit_record(
            event_type="publication_feedback.import",
            actor=actor,
            obj=feedback,
            detail={
                "sha256": stored.sha256,
                "accepted": feedback.accepted,
                "rejected": feedback.rejected,
                "unmatched": len(unmatched),
                "batch": batch.number if batch else None,
            },
        )
    return feedback


def _visits_of(record_ids: list[int]):
    return PublicationRecord.objects.filter(pk__in=record_ids).values("visit_id")


def _mark_published(record: PublicationRecord, version, published_on: dt.date) -> None:
    record.published_version = version
    record.published_on = published_on
    if record.first_published_on is None:
        record.first_published_on = published_on
    if record.current_version_id == version.pk:
        record.status = Status.PUBLISHED
        record.rejection_error = ""


def batch_mark_published(*, actor, batch: ExportBatch, published_on: dt.date) -> int:
    """Without a feedback file: every still-waiting row of the batch is published that day."""
    _require(actor, SEND_ROLES, "只有牵头股室或业务股室可以登记公示。")
    if published_on > timezone.localdate():
        raise ValidationError("公示日期不能晚于今天。")
    with transaction.atomic():
        items = list(
            batch.items.filter(outcome="").select_related("record", "version").select_for_update()
        )
        for item in items:
            item.outcome = ExportBatchItem.Outcome.ACCEPTED
            item.save(update_fields=["outcome"])
            _mark_published(item.record, item.version, published_on)
            item.record.save(
                update_fields=[
                    "status",
                    "rejection_error",
                    "published_on",
                    "first_published_on",
                    "published_version",
                ]
            )
        visits_changed.send(sender=PublicationRecord, visit_ids={i.record.visit_id for i in items})
        audit_record(
            event_type="publication_batch.mark_published",
            actor=actor,
            obj=batch,
            detail={"rows": len(items), "published_on": published_on},
        )
    return len(items)


def on_time_rate(records=None) -> dict:
    """{published, on_time, overdue_published, rate} over first publications."""
    qs = records if records is not None else PublicationRecord.objects.all()
    published = qs.filter(first_published_on__isnull=False, deadline__isnull=False)
    total = published.count()
    on_time = published.filter(first_published_on__lte=F("deadline")).count()
    return {
        "published": total,
        "on_time": on_time,
        "late": total - on_time,
        "rate": (on_time * 100 / total) if total else None,
    }


# --- corrections (art. 17) --------------------------------------------------------------------


def correction_propose(
    *, actor, record: PublicationRecord, result_text: str, reason: str, objection=None
) -> PublicationVersion:
    """A new version of an approved result (waiting for the section head's approval)."""
    _require(actor, PROPOSE_ROLES, "只有检查人员、业务股室或股室负责人可以提出更正。")
    result_text, reason = result_text.strip(), reason.strip()
    if not reason:
        raise ValidationError("请填写更正原因。")
    if not result_text:
        raise ValidationError("请填写更正后的检查结果。")
    with transaction.atomic():
        record = PublicationRecord.objects.select_for_update().get(pk=record.pk)
        if record.versions.filter(status=PublicationVersion.Status.PROPOSED).exists():
            raise ValidationError("该记录已有待审批的更正，请先审批或驳回。")
        current = record.current_version
        if current and current.result_text == result_text:
            raise ValidationError("更正后的检查结果与当前结果相同。")
        number = (
            record.versions.order_by("-number").values_list("number", flat=True).first() or 0
        ) + 1
        version = PublicationVersion.objects.create(
            record=record,
            number=number,
            status=PublicationVersion.Status.PROPOSED,
            result_text=result_text,
            is_correction=True,
            reason=reason,
            created_by=actor,
            objection=objection,
        )
        audit_record(
            event_type="publication.correction_propose",
            actor=actor,
            obj=record,
            reason=reason,
            detail={
                "before": current.result_text if current else "",
                "after": result_text,
                "version": number,
            },
        )
    return version


def correction_decide(*, actor, version: PublicationVersion, approve: bool) -> PublicationVersion:
    """The section head approves (the version becomes current and goes into the next batch
    marked 更正) or rejects it. The proposer may not approve their own correction."""
    _require(actor, APPROVE_ROLES, "只有股室负责人可以审批更正。")
    with transaction.atomic():
        version = PublicationVersion.objects.select_for_update().get(pk=version.pk)
        if version.status != PublicationVersion.Status.PROPOSED:
            raise ValidationError("该更正已处理。")
        if actor is not None and version.created_by_id == actor.pk:
            raise ValidationError("不能审批自己提出的更正，请由另一位股室负责人审批。")
        record = PublicationRecord.objects.select_for_update().get(pk=version.record_id)
        version.approved_by = actor
        version.approved_at = timezone.now()
        if approve:
            version.status = PublicationVersion.Status.APPROVED
            record.current_version = version
            record.status = Status.PENDING
            record.rejection_error = ""
            record.save(update_fields=["current_version", "status", "rejection_error"])
        else:
            version.status = PublicationVersion.Status.REJECTED
        version.save(update_fields=["status", "approved_by", "approved_at"])
        audit_record(
            event_type="publication.correction_approve"
            if approve
            else "publication.correction_reject",
            actor=actor,
            obj=record,
            reason=version.reason,
            detail={"version": version.number, "after": version.result_text},
        )
    return version


# --- objections and re-checks -----------------------------------------------------------------


def objection_record(*, actor, record: PublicationRecord, received_on: dt.date, content: str):
    _require(actor, OBJECTION_ROLES, "您的角色不能登记异议。")
    if not content.strip():
        raise ValidationError("请填写异议内容。")
    if record.published_version_id is None:
        raise ValidationError("只能对已公示的结果登记异议。")
    if received_on > timezone.localdate():
        raise ValidationError("收到日期不能晚于今天。")
    with transaction.atomic():
        objection = Objection.objects.create(
            record=record, received_on=received_on, content=content.strip(), recorded_by=actor
        )
        audit_record(
            event_type="publication.objection_record",
            actor=actor,
            obj=objection,
            detail={"record": record.pk, "received_on": received_on},
        )
    return objection


def objection_recheck(
    *,
    actor,
    objection: Objection,
    recheck_on: dt.date,
    conclusion: str,
    new_result_text: str = "",
) -> Objection:
    """Record the 复查; a changed result becomes a correction proposal (art. 17 path)."""
    _require(actor, RECHECK_ROLES, "只有检查人员或股室负责人可以登记复查。")
    if not conclusion.strip():
        raise ValidationError("请填写复查结论。")
    with transaction.atomic():
        objection = Objection.objects.select_for_update().get(pk=objection.pk)
        if objection.status == Objection.Status.RECHECKED:
            raise ValidationError("该异议已登记复查结果。")
        if recheck_on < objection.received_on:
            raise ValidationError("复查日期不能早于收到异议的日期。")
        objection.status = Objection.Status.RECHECKED
        objection.recheck_on = recheck_on
        objection.recheck_result = conclusion.strip()
        objection.recheck_by = actor
        objection.changes_result = bool(new_result_text.strip())
        objection.save()
        if objection.changes_result:
            correction_propose(
                actor=actor,
                record=objection.record,
                result_text=new_result_text,
                reason=f"异议复查：{conclusion.strip()}",
                objection=objection,
            )
        audit_record(
            event_type="publication.objection_recheck",
            actor=actor,
            obj=objection,
            detail={"changes_result": objection.changes_result, "conclusion": conclusion},
        )
    return objection


# --- sweep and file purposes ------------------------------------------------------------------


def publication_sweep_missing() -> int:
    """Create the records of approved visits that have none yet (a receiver that failed)."""
    try:
        from inspections.models import Visit, VisitItemResult
    except ImportError:  # pragma: no cover
        return 0
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


def _can_read_export(user, stored) -> bool:
    """A batch's files hold every row of the batch: only a user who may see all of them (the
    same rule as the download links on the batch page) may download them."""
    from accounts.roles import BUSINESS_READERS

    from .selectors import batch_is_whole

    if not (user.is_authenticated and user.has_role(*BUSINESS_READERS)):
        return False
    batch = ExportBatch.objects.filter(Q(xlsx_file=stored) | Q(json_file=stored)).first()
    return batch is not None and batch_is_whole(user, batch)


def _can_read_feedback(user, stored) -> bool:
    return user.is_authenticated and user.has_role(*SEND_ROLES, Role.SECTION_HEAD, Role.DISCIPLINE)


def register_purposes() -> None:
    from core.uploads import register_file_purpose

    register_file_purpose(EXPORT_PURPOSE, kinds={"xlsx"}, can_read=_can_read_export)
    register_file_purpose(FEEDBACK_PURPOSE, kinds={"xlsx"}, can_read=_can_read_feedback)
