"""Changes to the roster. Each function runs in one transaction and writes its audit event
(before/after) in it. ID numbers never enter an audit event unmasked."""

from datetime import date

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.roles import Role
from audit.services import audit_record, changes_between, model_snapshot
from core.services import notification_send
from core.spreadsheets import SpreadsheetError, run_preview, stream_preview, upload_check
from core.uploads import file_purpose, safe_filename, validate_upload
from enterprises.models import ImportBatch, group_name_normalise
from enterprises.services import import_file_keep

from . import crypto
from .importers import InspectorImporter
from .models import Agency, Certificate, Expert, Inspector, Recusal, StatusPeriod, Training
from .selectors import ROSTER_KIND, certificates_expiring

INSPECTOR_FIELDS = [
    "staff_number", "name", "user_id", "section_id", "mobile", "position", "joined_on",
    "professional_qualifications", "is_expert", "can_lead", "max_checks_per_task",
    "max_checks_per_year", "remarks",
]  # fmt: skip


def inspector_snapshot(inspector: Inspector) -> dict:
    data = model_snapshot(inspector, INSPECTOR_FIELDS)
    data["id_number"] = inspector.id_number_masked
    if inspector.pk:
        data["check_items"] = sorted(inspector.check_items.values_list("code", flat=True))
        data["trades"] = sorted(inspector.trades.values_list("code", flat=True))
    return data


def _validate_id_number(value: str) -> str:
    value = (value or "").strip().upper()
    if value and not crypto.id_number_is_valid(value):
        raise ValidationError({"id_number": "身份证号格式或校验位不正确"})
    return value


def _apply(inspector: Inspector, fields: dict) -> None:
    check_items = fields.pop("check_items", None)
    trades = fields.pop("trades", None)
    if "id_number" in fields:
        inspector.id_number = _validate_id_number(fields.pop("id_number"))
    for name, value in fields.items():
        setattr(inspector, name, value)
    inspector.full_clean(exclude=["check_items", "trades"])
    inspector.save()
    if check_items is not None:
        inspector.check_items.set(check_items)
    if trades is not None:
        inspector.trades.set(trades)


@transaction.atomic
def inspector_create(*, actor, **fields) -> Inspector:
    inspector = Inspector()
    _apply(inspector, fields)
    audit_record(
        event_type="inspector.created",
        actor=actor,
        obj=inspector,
        detail={"after": inspector_snapshot(inspector)},
    )
    return inspector


@transaction.atomic
def inspector_update(*, actor, inspector: Inspector, **fields) -> Inspector:
    before = inspector_snapshot(Inspector.objects.get(pk=inspector.pk))
    _apply(inspector, fields)
    after = inspector_snapshot(inspector)
    changes = changes_between(before, after)
    if changes:
        audit_record(
            event_type="inspector.updated",
            actor=actor,
            obj=inspector,
            detail={"before": before, "after": after, "changes": changes},
        )
    return inspector


def _row_event(event_type: str, *, actor, row, inspector_id=None, before=None, reason="") -> None:
    detail = {"after": model_snapshot(row)}
    if before is not None:
        detail["before"] = before
    owner = inspector_id or getattr(row, "inspector_id", None)
    if owner:
        detail["inspector"] = owner
    audit_record(event_type=event_type, actor=actor, obj=row, detail=detail, reason=reason)


@transaction.atomic
def status_period_add(
    *,
    actor,
    inspector: Inspector,
    status: str,
    start: date,
    end: date | None = None,
    reason: str = "",
) -> StatusPeriod:
    """Put an inspector on leave / suspend / transfer / retire from ``start`` (through ``end``)."""
    if status == StatusPeriod.Status.LEAVE and end is None:
        raise ValidationError({"end": "休假须填写结束日期"})
    if status in (StatusPeriod.Status.TRANSFERRED, StatusPeriod.Status.RETIRED):
        end = None  # leaving the bureau is permanent; a return is a new roster entry
    period = StatusPeriod(
        inspector=inspector,
        status=status,
        start=start,
        end=end,
        reason=reason,
        created_by=actor,
    )
    period.full_clean()
    period.save()
    _row_event("inspector.status_added", actor=actor, row=period, reason=reason)
    return period


@transaction.atomic
def status_period_end(*, actor, period: StatusPeriod, end: date, reason: str = "") -> StatusPeriod:
    """Close an open period (e.g. 停职 lifted): the inspector is back on duty the day after."""
    period = StatusPeriod.objects.select_for_update().get(pk=period.pk)
    if end < period.start:
        raise ValidationError({"end": "结束日期不能早于开始日期"})
    before = model_snapshot(period)
    period.end = end
    period.save(update_fields=["end"])
    _row_event("inspector.status_ended", actor=actor, row=period, before=before, reason=reason)
    return period


@transaction.atomic
def certificate_save(*, actor, certificate: Certificate) -> Certificate:
    created = certificate.pk is None
    before = None if created else model_snapshot(Certificate.objects.get(pk=certificate.pk))
    certificate.full_clean()
    certificate.save()
    _row_event(
        "inspector.certificate_added" if created else "inspector.certificate_updated",
        actor=actor,
        row=certificate,
        before=before,
    )
    return certificate


@transaction.atomic
def training_add(*, actor, training: Training) -> Training:
    training.full_clean()
    training.save()
    _row_event("inspector.training_added", actor=actor, row=training)
    return training


@transaction.atomic
def recusal_declare(*, actor, recusal: Recusal) -> Recusal:
    recusal.approved_by = recusal.approved_by if recusal.approved_by_id else actor
    recusal.legal_representative = (recusal.legal_representative or "").strip()
    recusal.group = group_name_normalise(recusal.group)
    targets = [recusal.enterprise_id, recusal.legal_representative, recusal.group]
    if sum(1 for t in targets if t) != 1:
        raise ValidationError(_("回避对象须为企业、法定代表人或集团三者之一"))
    recusal.full_clean()
    recusal.save()
    _row_event("recusal.declared", actor=actor, row=recusal, reason=recusal.reason_detail)
    return recusal


@transaction.atomic
def recusal_end(*, actor, recusal: Recusal, ended_on: date, reason: str) -> Recusal:
    """End a declaration from ``ended_on`` (kept for the record; never deleted)."""
    recusal = Recusal.objects.select_for_update().get(pk=recusal.pk)
    if recusal.ended_on is not None:
        raise ValidationError("该回避申报已终止")
    if not reason.strip():
        raise ValidationError({"end_reason": "请填写终止理由"})
    before = model_snapshot(recusal)
    recusal.ended_on, recusal.end_reason = ended_on, reason.strip()
    recusal.save(update_fields=["ended_on", "end_reason"])
    _row_event("recusal.ended", actor=actor, row=recusal, before=before, reason=reason)
    return recusal


@transaction.atomic
def member_save(*, actor, member: Expert | Agency) -> Expert | Agency:
    """Create or update an expert or an agency."""
    kind = "expert" if isinstance(member, Expert) else "agency"
    created = member.pk is None
    before = None if created else model_snapshot(type(member).objects.get(pk=member.pk))
    member.full_clean()
    member.save()
    after = model_snapshot(member)
    detail = {"after": after}
    if before is not None:
        detail |= {"before": before, "changes": changes_between(before, after)}
    audit_record(
        event_type=f"{kind}.{'created' if created else 'updated'}",
        actor=actor,
        obj=member,
        detail=detail,
    )
    return member


# --- The daily job -------------------------------------------------------------------------
def certificate_expiry_notify(*, today: date | None = None) -> int:
    """Notify the system admins and the inspector (if they have a login) of every certificate
    expiring within CERTIFICATE_EXPIRY_NOTICE_DAYS or expired recently. One notification per
    (recipient, certificate, expiry date): running twice sends nothing new. Returns the number
    of notifications created."""
    today = today or timezone.localdate()
    admins = list(User.objects.filter(groups__name=Role.SYSTEM_ADMIN, is_active=True).distinct())
    created = 0
    for cert in certificates_expiring(today=today):
        inspector = cert.inspector
        days_left = (cert.expires_on - today).days
        if days_left >= 0:
            title = (
                f"执法证即将到期：{inspector.name}（{cert.expires_on:%Y-%m-%d}，剩{days_left}天）"
            )
        else:
            title = f"执法证已到期：{inspector.name}（{cert.expires_on:%Y-%m-%d}）"
        body = (
            f"{inspector.name}（{inspector.staff_number}，{inspector.section}）的{cert.cert_type}"
            f"（证号 {cert.number}）有效期至{cert.expires_on:%Y-%m-%d}。到期后该人员不再参与抽取，"
            "请及时办理换证并录入新证。"
        )
        state = "expired" if days_left < 0 else "expiring"
        key = f"inspectors.certificate.{cert.pk}.{cert.expires_on:%Y%m%d}.{state}"
        recipients = list(admins)
        if inspector.user_id and inspector.user.is_active and inspector.user not in recipients:
            recipients.append(inspector.user)
        link = reverse("inspectors:detail", args=[inspector.pk])
        for recipient in recipients:
            created += notification_send(
                recipient=recipient, key=key, title=title, body=body, link=link
            )
    return created


# --- Import (all or nothing) -----------------------------------------------------------------
class ImportRefused(Exception):
    """The file (or a row of it) is wrong; nothing was written. ``preview`` says what."""

    def __init__(self, preview):
        super().__init__("导入文件有错误")
        self.preview = preview


ROSTER_PREVIEW_ROWS = 500  # rows shown on the preview page (all rows are counted)


def roster_upload_store(*, actor, upload) -> ImportBatch:
    """Check a roster upload as a whole and only then keep it as an ``ImportBatch`` of the
    roster's kind, bound to ``actor``: a refused file leaves no file and no row; a kept one that
    is never confirmed is removed by the daily ``import_files_prune`` like every import's.
    Size and type by content first, then ``upload_check`` (zip guards, no DTD, the workbook
    opens, header, no formula, row count)."""
    name = safe_filename(upload.name)
    data = upload.read(settings.UPLOAD_MAX_BYTES + 1)
    validate_upload(data=data, name=name, purpose=file_purpose("inspector_import"))
    try:
        upload_check(InspectorImporter(), data, max_bytes=settings.UPLOAD_MAX_BYTES)
    except SpreadsheetError as exc:
        raise ValidationError(f"文件“{name}”未接收：{exc}") from None
    # Previewed in the same request (the roster is at most 10^4 rows): 已预览 from the start.
    return import_file_keep(
        actor=actor, kind=ROSTER_KIND, name=name, data=data, status=ImportBatch.Status.PREVIEWED
    )


def roster_preview(*, batch: ImportBatch):
    """The roster file's preview in bounded memory: counts of every row, the first errors and
    ``ROSTER_PREVIEW_ROWS`` rows for display (``stream_preview``); nothing is written. One
    chunk holds the whole file (at most ``IMPORT_MAX_ROWS["inspectors"]`` rows): the roster's
    classification compares certificates and accounts across rows, as the confirm does."""
    importer = InspectorImporter()
    return stream_preview(
        importer,
        batch.stored_path,
        filename=batch.filename,
        max_bytes=settings.UPLOAD_MAX_BYTES,
        keep_rows=ROSTER_PREVIEW_ROWS,
        chunk_size=importer.max_rows,
    )


def roster_import_confirm(*, actor, batch_id: int, expected_sha256: str) -> dict:
    """Apply the uploader's previewed roster batch (``inspector_import``: all rows or none, its
    audit event) and end the batch 已导入. The batch is locked, so two confirmations of one file
    import it once; the second is refused with the reason. The file stays with the applied batch
    (the prune skips applied batches): it is the record of what was imported."""
    with transaction.atomic():
        batch = ImportBatch.objects.select_for_update().get(pk=batch_id, kind=ROSTER_KIND)
        if batch.created_by_id != actor.pk:
            raise ValidationError(
                _("导入批次“%(file)s”只有上传人可以确认导入") % {"file": batch.filename}
            )
        if batch.status == ImportBatch.Status.APPLIED:
            raise ValidationError(
                _("导入批次“%(file)s”已导入，不能重复导入") % {"file": batch.filename}
            )
        if batch.status != ImportBatch.Status.PREVIEWED or not batch.stored_path:
            reason = batch.message or batch.get_status_display()
            raise ValidationError(
                _("导入批次“%(file)s”不能再导入：%(reason)s")
                % {"file": batch.filename, "reason": reason}
            )
        if expected_sha256 != batch.sha256:
            raise ValidationError(_("文件与预览时不一致，请重新上传并预览"))
        preview, written = inspector_import(
            actor=actor,
            source=batch.stored_path,
            filename=batch.filename,
            expected_sha256=batch.sha256,
            max_bytes=settings.UPLOAD_MAX_BYTES,
        )
        ImportBatch.objects.filter(pk=batch.pk).update(
            status=ImportBatch.Status.APPLIED,
            confirmed_by=actor,
            finished_at=timezone.now(),
            counts={"counts": preview.counts, "written": written},
            message=f"新增 {written['created']} 人，更新 {written['updated']} 人",
        )
    return written


def inspector_import(
    *, actor, source, filename: str = "", expected_sha256: str = "", max_bytes: int | None = None
):
    """Validate and apply a roster file in ONE transaction: all rows or none, one audit event
    (file sha256, counts, per-person changes with ID numbers masked). Returns (preview, counts).
    ``expected_sha256`` ties a confirmation to the file that was previewed."""
    importer = InspectorImporter()
    try:
        with transaction.atomic():
            preview = run_preview(importer, source, filename=filename, max_bytes=max_bytes)
            if not preview.ok:
                raise ImportRefused(preview)
            if expected_sha256 and preview.sha256 != expected_sha256:
                raise ValidationError("文件与预览时不一致，请重新上传并预览")
            counts = preview.counts
            if counts["new"] == 0 and counts["updated"] == 0:
                return preview, {"created": 0, "updated": 0}
            written = importer.apply(preview, actor=actor)
            audit_record(
                event_type="inspector.imported",
                actor=actor,
                object_type="inspectors.import",
                object_id=preview.sha256[:16],
                detail={
                    "filename": filename,
                    "sha256": preview.sha256,
                    "counts": counts,
                    "written": written,
                    "new": [r.key for r in preview.results if r.outcome == "new"],
                    "changes": {
                        r.key: r.changes for r in preview.results if r.outcome == "updated"
                    },
                },
            )
    except IntegrityError as exc:
        # A simultaneous import of the same people committed first (the roster has no batch
        # row to lock): this one wrote nothing and says so instead of failing with a 500.
        raise ValidationError(
            _("另一次导入同时写入了相同的人员，本次未导入任何数据。请刷新名册核对后再导入。")
        ) from exc
    return preview, written
