"""Changes to the register. Each service is atomic and writes its audit event."""

import datetime as dt
import hashlib
import logging
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, Value
from django.db.models.functions import Least, Now
from django.utils import timezone

from accounts.models import Section
from audit.services import audit_record, changes_between, model_snapshot
from core.bounds import single_line
from core.spreadsheets import Preview, SpreadsheetError, run_preview, stream_preview, upload_check
from core.uploads import safe_filename

from . import selectors
from .importers import IMPORTERS
from .models import (
    ONE_LINE_FIELDS,
    CheckItem,
    Enterprise,
    ImportBatch,
    Licence,
    RiskAssessment,
    Township,
    Trade,
)
from .signals import register_changed
from .uscc import uscc_check

logger = logging.getLogger(__name__)


def uscc_validate(*, uscc: str, override_reason: str = "") -> str:
    """The normalised code, or ValidationError (Chinese) — a check-digit mismatch needs a
    recorded override reason."""
    check = uscc_check(uscc)
    if check.error:
        raise ValidationError({"uscc": check.error})
    if check.warning and not override_reason.strip():
        raise ValidationError({"uscc_override_reason": check.warning})
    return check.value


def _snapshot(enterprise: Enterprise) -> dict:
    data = model_snapshot(enterprise)
    data.pop("updated_at", None)
    data.pop("created_at", None)
    data["trades"] = sorted(enterprise.trades.values_list("pk", flat=True))
    return data


ENTERPRISE_FIELDS = (
    "uscc",
    "uscc_override_reason",
    "name",
    "legal_representative",
    "group_name",
    "group_uscc",
    "contact_person",
    "contact_phone",
    "registered_address",
    "business_address",
    "township",
    "enterprise_type",
    "scale",
    "status",
    "section",
    "remarks",
)


def enterprise_save(
    *, actor, data: dict, trades, enterprise: Enterprise | None = None
) -> Enterprise:
    """Create (``enterprise`` None) or update an enterprise from cleaned form data."""
    data = dict(data)
    for name in ONE_LINE_FIELDS:  # a name typed with line breaks is stored on one line
        if isinstance(data.get(name), str):
            data[name] = single_line(data[name])
    data["uscc"] = uscc_validate(
        uscc=data["uscc"], override_reason=data.get("uscc_override_reason", "")
    )
    if not uscc_check(data["uscc"]).warning:
        data["uscc_override_reason"] = ""
    duplicate = Enterprise.objects.filter(uscc=data["uscc"])
    if enterprise is not None:
        duplicate = duplicate.exclude(pk=enterprise.pk)
    if duplicate.exists():
        raise ValidationError({"uscc": "该统一社会信用代码已在名录库中"})
    with transaction.atomic():
        created = enterprise is None
        before = {} if enterprise is None else _snapshot(Enterprise.objects.get(pk=enterprise.pk))
        enterprise = enterprise or Enterprise()
        for name in ENTERPRISE_FIELDS:
            if name in data:
                setattr(enterprise, name, data[name])
        enterprise.full_clean(exclude=["trades"])
        enterprise.save()
        enterprise.trades.set(trades)
        if not created:
            register_changed.send(sender=Enterprise, enterprise_ids=[enterprise.pk])
        after = _snapshot(enterprise)
        audit_record(
            event_type="enterprise.create" if created else "enterprise.update",
            actor=actor,
            obj=enterprise,
            detail={"after": after} if created else {"changes": changes_between(before, after)},
        )
    return enterprise


def risk_assessment_add(
    *,
    actor,
    enterprise: Enterprise,
    tier: str,
    effective_date: dt.date,
    source: str,
    reason: str = "",
) -> RiskAssessment:
    """Append a tier assessment (history is never rewritten through the UI)."""
    with transaction.atomic():
        assessment = RiskAssessment(
            enterprise=enterprise,
            tier=tier,
            effective_date=effective_date,
            source=source,
            reason=reason,
            entered_by=actor,
        )
        assessment.full_clean()
        assessment.save()
        audit_record(
            event_type="enterprise.tier_add",
            actor=actor,
            obj=enterprise,
            detail={"after": model_snapshot(assessment)},
        )
    return assessment


def licence_save(
    *, actor, enterprise: Enterprise, data: dict, licence: Licence | None = None
) -> Licence:
    with transaction.atomic():
        before = {} if licence is None else model_snapshot(Licence.objects.get(pk=licence.pk))
        licence = licence or Licence(enterprise=enterprise)
        for name in ("licence_type", "number", "issued_on", "expires_on", "issuer"):
            if name in data:
                setattr(licence, name, data[name])
        licence.full_clean()
        licence.save()
        after = model_snapshot(licence)
        audit_record(
            event_type="enterprise.licence_save",
            actor=actor,
            obj=enterprise,
            detail={"licence": licence.pk, "before": before, "after": after},
        )
    return licence


CHECK_ITEM_FIELDS = (
    "code",
    "name",
    "sub_items",
    "legal_basis",
    "inspecting_body",
    "object_scope",
    "licence_types",
    "content",
    "key_points",
    "methods",
    "default_ratio",
    "frequency",
    "required_qualification",
    "section",
    "status",
)


def _item_snapshot(item: CheckItem) -> dict:
    data = model_snapshot(item)
    data["trades"] = sorted(item.trades.values_list("pk", flat=True))
    return data


def _require_item_section(actor, section, name: str) -> None:
    if actor is not None and not selectors.can_maintain_check_item(actor, section):
        raise PermissionDenied(
            f"检查事项“{name}”的责任股室是{section or '未指定'}，"
            "只有牵头股室或该股室的业务股室人员可以维护。"
        )


def check_item_save(*, actor, data: dict, trades, item: CheckItem | None = None) -> CheckItem:
    """Create or update a check item; an update that changes anything bumps ``version``, and
    the audit event keeps the full before/after (the version history). Only within the actor's
    scope: the item's section before the change and after it."""
    with transaction.atomic():
        created = item is None
        if item is not None:
            stored = CheckItem.objects.select_related("section").get(pk=item.pk)
            _require_item_section(actor, stored.section, stored.name)
        if "section" in data:
            _require_item_section(
                actor, data["section"], data.get("name") or (item.name if item else "")
            )
        before = {} if item is None else _item_snapshot(CheckItem.objects.get(pk=item.pk))
        item = item or CheckItem()
        for name in CHECK_ITEM_FIELDS:
            if name in data:
                setattr(item, name, data[name])
        item.full_clean(exclude=["trades"])
        item.save()
        item.trades.set(trades)
        after = _item_snapshot(item)
        changes = changes_between(before, after)
        if not created and changes:
            item.version += 1
            item.save(update_fields=["version"])
            after["version"] = item.version
        audit_record(
            event_type="check_item.create" if created else "check_item.update",
            actor=actor,
            obj=item,
            detail={"before": before, "after": after},
        )
    return item


# --- imports ----------------------------------------------------------------------------------


class ImportRefused(Exception):
    """The file has errors; nothing was written. ``preview`` lists them."""

    def __init__(self, preview):
        super().__init__("导入被拒绝：文件有错误，未写入任何数据")
        self.preview = preview


def import_apply(
    *,
    actor,
    kind: str,
    source,
    filename: str = "",
    expected_sha256: str = "",
    max_bytes: int | None = None,
    progress=None,
):
    """Read, validate and apply a whole file in ONE transaction: all rows or none.

    Returns (preview, counts). Raises ``ImportRefused`` when any row (or the file) is wrong.
    ``expected_sha256`` ties a confirmation to the file that was previewed. An unchanged file
    writes nothing at all (no rows, no audit event). One audit event per applied batch."""
    importer = IMPORTERS[kind]()
    with transaction.atomic():
        if hasattr(importer, "writer"):
            # Streamed (bounded memory): each validated chunk is written as it is read; any
            # error anywhere raises below and rolls the whole transaction back.
            writer = importer.writer(actor=actor)
            preview: Preview = stream_preview(
                importer,
                source,
                filename=filename,
                max_bytes=max_bytes,
                progress=progress,
                on_chunk=writer,
            )
        else:
            writer = None
            preview = run_preview(
                importer, source, filename=filename, max_bytes=max_bytes, progress=progress
            )
        if not preview.ok:
            raise ImportRefused(preview)
        if expected_sha256 and preview.sha256 != expected_sha256:
            raise ValidationError("文件与预览时不一致，请重新上传预览")
        # The writer's last step (set-based insert, index rebuild) runs even when nothing
        # turned out new: it may have prepared the tables.
        written = writer.finish() if writer is not None else None
        counts = preview.counts
        if counts["new"] == 0 and counts["updated"] == 0:
            return preview, {"created": 0, "updated": 0}
        if written is None:
            written = importer.apply(preview, actor=actor)
        if kind == "enterprises" and counts["updated"]:
            # Townships may have moved: one set-based sync (the rows that differ).
            register_changed.send(sender=Enterprise, enterprise_ids=None)
        audit_record(
            event_type=f"{kind}.import",
            actor=actor,
            object_type=f"enterprises.import.{kind}",
            object_id=preview.sha256[:16],
            detail={
                "filename": filename,
                "sha256": preview.sha256,
                "counts": counts,
                "written": written,
            },
        )
    return preview, written


# --- import batches (the browser flow) ---------------------------------------------------------

PREVIEW_ROWS_KEPT = 500  # rows with their outcome shown on the preview page


def _change_labels(kind: str):
    """Field → Chinese header, and id → name for the reference columns, for the preview."""
    headers = {c.key: c.header for c in IMPORTERS[kind].columns}
    names = {
        "township": dict(Township.objects.values_list("pk", "name")),
        "section": dict(Section.objects.values_list("pk", "name")),
        "trades": dict(Trade.objects.values_list("pk", "name")),
    }

    def show(field: str, value) -> str:
        table = names.get(field.removesuffix("_id"))
        if table is None or value is None:
            return "" if value is None else str(value)
        if isinstance(value, list | tuple | set | frozenset):
            return "、".join(str(table.get(v, v)) for v in value)
        return str(table.get(value, value))

    def label(field: str) -> str:
        return headers.get(field.removesuffix("_id"), field)

    return label, show


def _preview_summary(preview) -> dict:
    label, show = _change_labels(preview.kind)
    rows: list[dict] = []
    for r in preview.results:
        if r.errors or r.outcome in ("new", "updated") or len(rows) < 50:
            rows.append(
                {
                    "row": r.number,
                    "key": r.key,
                    "outcome": "error" if r.errors else r.outcome,
                    "changes": {
                        label(k): [show(k, a), show(k, b)] for k, (a, b) in r.changes.items()
                    },
                    "warnings": r.warnings,
                }
            )
        if len(rows) >= PREVIEW_ROWS_KEPT:
            break
    return {"counts": preview.counts, "rows": rows}


def import_batch_create(*, actor, kind: str, upload) -> ImportBatch:
    """Check an upload as a whole and only then store it for preview → confirm: a refused
    file leaves no file on disk and no row (``upload_check``: size, format by content, zip
    guards, no DTD; for a file previewed in the request also the workbook opens, header, no
    formula, row count where known)."""
    name = safe_filename(upload.name)
    if upload.size > settings.UPLOAD_MAX_BYTES:
        raise ValidationError(
            f"文件“{name}”未接收：文件过大（{upload.size / 1024 / 1024:.1f} MB），上限为 "
            f"{settings.UPLOAD_MAX_BYTES / 1024 / 1024:.0f} MB"
        )
    data = upload.read(settings.UPLOAD_MAX_BYTES + 1)
    # A file the request previews at once is parsed here too; a bigger one (the worker's) gets
    # the structural checks only, and its file goes as soon as its preview is not ``ok``.
    parse = len(data) <= getattr(settings, "IMPORT_SYNC_MAX_BYTES", 1024 * 1024)
    try:
        upload_check(IMPORTERS[kind](), data, max_bytes=settings.UPLOAD_MAX_BYTES, parse=parse)
    except SpreadsheetError as exc:
        raise ValidationError(f"文件“{name}”未接收：{exc}") from None
    return import_file_keep(
        actor=actor, kind=kind, name=name, data=data, status=ImportBatch.Status.QUEUED
    )


def import_file_keep(*, actor, kind: str, name: str, data: bytes, status: str) -> ImportBatch:
    """Keep an upload that passed its checks as an ``ImportBatch`` of ``kind`` with its file
    under ``MEDIA_ROOT/imports``: one place for every import's pending file, so the daily
    ``import_files_prune`` removes any that is never confirmed (the roster's too)."""
    folder = Path(settings.MEDIA_ROOT) / "imports"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{uuid.uuid4().hex}.upload"
    with transaction.atomic():
        batch = ImportBatch.objects.create(
            kind=kind,
            filename=name[:255],
            stored_path=str(path),
            sha256=hashlib.sha256(data).hexdigest(),
            size=len(data),
            created_by=actor,
            status=status,
        )
        # Written last, inside the transaction: a failed write leaves no row either.
        path.write_bytes(data)
    return batch


def import_files_prune(*, now=None) -> int:
    """Delete the stored files of import batches never confirmed (never applied) that are older
    than ``settings.IMPORT_FILE_MAX_AGE_HOURS``; the batch row stays as the record of the upload,
    ended 失败 with the reason. Returns how many files were removed. A daily beat job."""
    cutoff = (now or timezone.now()) - dt.timedelta(hours=settings.IMPORT_FILE_MAX_AGE_HOURS)
    abandoned = (
        ImportBatch.objects.filter(created_at__lt=cutoff)
        .exclude(status__in=(ImportBatch.Status.APPLIED, ImportBatch.Status.RUNNING))
        .exclude(stored_path="")
    )
    removed = 0
    for batch in abandoned.only("pk", "stored_path", "status"):
        Path(batch.stored_path).unlink(missing_ok=True)
        fields: dict[str, Any] = {"stored_path": ""}
        if batch.status != ImportBatch.Status.FAILED:
            fields.update(status=ImportBatch.Status.FAILED, finished_at=timezone.now())
            fields["message"] = (
                f"超过 {settings.IMPORT_FILE_MAX_AGE_HOURS} 小时未确认导入，文件已删除，请重新上传"
            )
        ImportBatch.objects.filter(pk=batch.pk).update(**fields)
        removed += 1
    if removed:
        logger.info("removed %s abandoned import files", removed)
    return removed


def _progress_bumper(batch_id: int, *, ceiling: int):
    """A ``progress(rows_read)`` callback: the batch's bar moves 5 points a call up to
    ``ceiling`` (compared in SQL: ``F()`` has no Python value), with the rows read so far and a
    heartbeat the page uses to tell a slow import from a dead one."""

    def bump(rows_read: int) -> None:
        ImportBatch.objects.filter(pk=batch_id).update(
            progress=Least(F("progress") + 5, Value(ceiling)),
            rows_read=rows_read,
            heartbeat_at=Now(),
        )

    return bump


def _batch_failed(batch_id: int, message: str, errors=None) -> None:
    fields = {"status": ImportBatch.Status.FAILED, "message": message[:500]}
    if errors is not None:
        fields["errors"] = errors
    ImportBatch.objects.filter(pk=batch_id).update(finished_at=timezone.now(), **fields)


@contextmanager
def _fail_batch_on_crash(batch_id: int):
    """A crash (a bug, a lost database connection) ends the batch failed with its reason
    instead of leaving it queued forever; the import's own transaction has rolled back."""
    try:
        yield
    except Exception as exc:
        logger.exception("import batch %s crashed", batch_id)
        _batch_failed(batch_id, f"后台处理出错（{type(exc).__name__}），未写入任何数据，请重新上传")


def import_batch_preview(*, batch_id: int) -> None:
    claimed = ImportBatch.objects.filter(pk=batch_id, status=ImportBatch.Status.QUEUED).update(
        status=ImportBatch.Status.RUNNING, heartbeat_at=Now()
    )
    if not claimed:  # done already, or another run has it: safe to run twice
        return
    batch = ImportBatch.objects.get(pk=batch_id)
    with _fail_batch_on_crash(batch_id):
        preview = stream_preview(  # bounded memory: counts, the first errors, a sample of rows
            IMPORTERS[batch.kind](),
            batch.stored_path,
            filename=batch.filename,
            max_bytes=settings.UPLOAD_MAX_BYTES,
            progress=_progress_bumper(batch_id, ceiling=90),
        )
        summary = _preview_summary(preview)
        kept = {}
        if not preview.ok:  # it can never be confirmed: its file goes now
            Path(batch.stored_path).unlink(missing_ok=True)
            kept["stored_path"] = ""
        ImportBatch.objects.filter(pk=batch_id).update(
            **kept,
            status=ImportBatch.Status.PREVIEWED,
            counts=summary,
            errors=[e.as_dict() for e in preview.errors[:PREVIEW_ROWS_KEPT]],
            progress=100,
            rows_read=preview.counts.get("total", 0),
            heartbeat_at=Now(),
            message="" if preview.ok else f"共 {preview.error_count} 处错误",
        )


def import_batch_apply(*, batch_id: int, actor=None) -> bool:
    """Write a previewed (or queued) batch; False when another confirmation got it first.
    ``actor`` (None: the background run of a batch its uploader confirmed) must be the
    uploader: a batch is confirmed only by the person who uploaded it.

    The batch row is locked while its state is checked and set to running, so of several
    simultaneous confirmations exactly one writes (the others wait for the lock, then see
    the batch running or applied) — none reaches the database's unique constraints."""
    with transaction.atomic():
        batch = (
            ImportBatch.objects.select_for_update(of=("self",))
            .select_related("created_by", "confirmed_by")
            .get(pk=batch_id)
        )
        if actor is not None and actor.pk != batch.created_by_id:
            raise PermissionDenied(
                f"导入批次“{batch.filename}”由{batch.created_by.display_name}上传，只有上传人可以确认导入。"
            )
        if batch.status not in (ImportBatch.Status.PREVIEWED, ImportBatch.Status.QUEUED):
            return False
        ImportBatch.objects.filter(pk=batch_id).update(
            status=ImportBatch.Status.RUNNING,
            progress=5,
            rows_read=0,
            heartbeat_at=Now(),
            confirmed_by=actor or batch.confirmed_by or batch.created_by,
        )
    with _fail_batch_on_crash(batch_id):
        _import_batch_write(batch, actor=actor)
    return True


def _import_batch_write(batch: ImportBatch, *, actor) -> None:
    batch_id = batch.pk
    # These updates run inside the import's one transaction: other sessions see them only at
    # the commit, so the page shows 处理中 until then (the preview's bar moves row by row).
    progress = _progress_bumper(batch_id, ceiling=80)
    try:
        _preview, written = import_apply(
            actor=actor or batch.confirmed_by or batch.created_by,
            kind=batch.kind,
            source=batch.stored_path,
            filename=batch.filename,
            expected_sha256=batch.sha256,
            max_bytes=settings.UPLOAD_MAX_BYTES,
            progress=progress,
        )
    except ImportRefused as exc:
        _batch_failed(
            batch_id,
            "文件有错误，未写入任何数据",
            errors=[e.as_dict() for e in exc.preview.errors[:PREVIEW_ROWS_KEPT]],
        )
        return
    except ValidationError as exc:
        _batch_failed(batch_id, "；".join(exc.messages))
        return
    ImportBatch.objects.filter(pk=batch_id).update(
        status=ImportBatch.Status.APPLIED,
        progress=100,
        counts={**batch.counts, "written": written},
        message=f"新增 {written['created']}，更新 {written['updated']}",
        finished_at=timezone.now(),
    )
