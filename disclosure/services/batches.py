"""Export batches to the 公示系统协同监管平台 (xlsx + JSON), the platform's feedback, marking
a batch published, the on-time rate, and the file purposes of the batch files.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from accounts.models import Section, User
from accounts.roles import BUSINESS_READERS, Role
from audit.services import audit_record
from core.background import task_named
from core.models import StoredFile
from core.spreadsheets import Column, SpreadsheetError, open_table, parse_date
from core.uploads import file_store, register_file_purpose, safe_filename
from inspections.signals import visits_changed

from ..exports import ExportRow, JsonExporter, XlsxExporter, correction_remark
from ..models import (
    ExportBatch,
    ExportBatchItem,
    FeedbackImport,
    PublicationRecord,
    PublicationVersion,
)
from ..selectors import batch_is_whole
from .common import Status, _require

SYNC_BUILD_MAX_ROWS = 5000  # bigger batches are built by a Celery task with a progress bar
EXPORT_PURPOSE = "disclosure_export"
FEEDBACK_PURPOSE = "disclosure_feedback"
SEND_ROLES = (Role.LEAD_SECTION, Role.SECTION_STAFF)


# --- export batches ---------------------------------------------------------------------------


def _batch_number() -> str:
    now = timezone.localtime()
    return f"GS{now:%Y%m%d%H%M%S}-{uuid.uuid4().hex[:4].upper()}"


def exportable_records(
    *, since: dt.date | None = None, section: Section | None = None
) -> QuerySet[PublicationRecord]:
    qs = PublicationRecord.objects.filter(
        status__in=[Status.PENDING, Status.REJECTED], current_version__isnull=False
    )
    if since:
        qs = qs.filter(check_end__gte=since)
    if section is not None:
        qs = qs.filter(section=section)
    return qs


def batch_create(
    *, actor: User, since: dt.date | None = None, section: Section | None = None
) -> ExportBatch | None:
    """Select the approved, unsent results (pending, rejected and corrected) into a new batch;
    the records move to 已报送. Returns None when there is nothing to send. The files are
    written by ``batch_build`` (synchronously for small batches, else by a Celery task)."""
    _require(actor, SEND_ROLES, "只有牵头股室或业务股室可以报送。")
    section = _send_section(actor, section)
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


def _store_generated(
    *, data: bytes, name: str, content_type: str, actor: User | None
) -> StoredFile:
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

    def __iter__(self) -> Iterator[ExportRow]:
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
        build = task_named("disclosure.tasks.export_batch_build")
        transaction.on_commit(lambda: build.delay(batch.pk))


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


def _send_section(actor: User | None, section: Section | None) -> Section | None:
    """The section whose results ``actor`` may send: the lead section sends any (None: all);
    a section's staff send their own section's only, whatever section was asked for."""
    if actor is None or actor.has_role(Role.LEAD_SECTION):
        return section
    if not actor.section_id or (section is not None and section.pk != actor.section_id):
        raise PermissionDenied("业务股室只能报送本股室的检查结果；其他股室的结果由牵头股室报送。")
    return actor.section


def _require_whole_batch(actor: User, batch: ExportBatch) -> None:
    """A section acts only on a batch wholly its own; a mixed batch is the lead section's."""
    if actor is not None and not batch_is_whole(actor, batch):
        raise PermissionDenied(
            f"报送批次“{batch}”包含其他股室的记录，请由牵头股室登记平台反馈或公示日期。"
        )


def feedback_import(
    *, actor: User, upload: Any, batch: ExportBatch | None = None
) -> FeedbackImport:
    """Apply the platform's feedback sheet (accepted / rejected rows with errors).

    Rows are matched by (抽查任务编号, 统一社会信用代码, 检查事项) to the record's latest
    batch item (within ``batch`` when given). Accepted → 已公示 with the 公示日期 (or today);
    rejected → 被退回 with the error, listed for fixing and taken by the next batch. A file
    error refuses the whole file."""
    _require(actor, SEND_ROLES, "只有牵头股室或业务股室可以导入平台反馈。")
    if batch is not None:
        _require_whole_batch(actor, batch)
    elif actor is not None and not actor.has_role(Role.LEAD_SECTION):
        raise PermissionDenied("业务股室只能为本股室的报送批次导入平台反馈，请在批次页面导入。")
    # Read and checked before it is stored: a refused sheet leaves no file (issue 21 item 5).
    name = safe_filename(upload.name)
    data = upload.read(settings.UPLOAD_MAX_BYTES + 1)
    try:
        table = open_table(data, columns=FEEDBACK_COLUMNS, max_bytes=settings.UPLOAD_MAX_BYTES)
        rows = list(table.rows)
    except SpreadsheetError as exc:
        raise ValidationError(f"文件“{name}”未接收：{exc}") from None
    with transaction.atomic():
        stored = file_store(upload=(name, data), purpose=FEEDBACK_PURPOSE, actor=actor)
        items = ExportBatchItem.objects.select_related("record", "version")
        items = items.filter(batch=batch) if batch else items.filter(record__status=Status.SENT)
        by_key: dict[tuple[str, str, str], ExportBatchItem] = {}
        for entry in items.order_by("batch_id", "row"):
            r = entry.record
            by_key[(r.task_number, r.uscc, r.check_item)] = entry  # the latest batch wins
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


def _visits_of(record_ids: list[int]) -> QuerySet[PublicationRecord, Any]:  # .values("visit_id")
    return PublicationRecord.objects.filter(pk__in=record_ids).values("visit_id")


def _mark_published(
    record: PublicationRecord, version: PublicationVersion, published_on: dt.date
) -> None:
    record.published_version = version
    record.published_on = published_on
    if record.first_published_on is None:
        record.first_published_on = published_on
    if record.current_version_id == version.pk:
        record.status = Status.PUBLISHED
        record.rejection_error = ""


def batch_mark_published(*, actor: User, batch: ExportBatch, published_on: dt.date) -> int:
    """Without a feedback file: every still-waiting row of the batch is published that day."""
    _require(actor, SEND_ROLES, "只有牵头股室或业务股室可以登记公示。")
    _require_whole_batch(actor, batch)
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


def on_time_rate(records: QuerySet[PublicationRecord] | None = None) -> dict[str, Any]:
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


def _can_read_export(user: User, stored: StoredFile) -> bool:
    """A batch's files hold every row of the batch: only a user who may see all of them (the
    same rule as the download links on the batch page) may download them."""
    if not (user.is_authenticated and user.has_role(*BUSINESS_READERS)):
        return False
    batch = ExportBatch.objects.filter(Q(xlsx_file=stored) | Q(json_file=stored)).first()
    return batch is not None and batch_is_whole(user, batch)


def _can_read_feedback(user: User, stored: StoredFile) -> bool:
    return user.is_authenticated and user.has_role(*SEND_ROLES, Role.SECTION_HEAD, Role.DISCIPLINE)


def register_purposes() -> None:
    register_file_purpose(EXPORT_PURPOSE, kinds={"xlsx"}, can_read=_can_read_export)
    register_file_purpose(FEEDBACK_PURPOSE, kinds={"xlsx"}, can_read=_can_read_feedback)
