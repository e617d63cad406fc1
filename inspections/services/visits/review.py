"""Submitting a record (the on-site rules of art. 10 checked first), the section head's review
(return with a reason, or approve: the publication signal) and the archive (art. 13).
"""

from __future__ import annotations

import hashlib
import json

from django.core.exceptions import PermissionDenied
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.utils import timezone

from audit.services import audit_record
from core.pdf import doc_number
from core.uploads import file_store
from enterprises.models import CheckMethod
from inspectors.models import Certificate

from ...models import (
    SigningForm,
    Visit,
    VisitArchive,
    VisitArchiveDocument,
    VisitEvidence,
    VisitReview,
)
from ...selectors import visits as selectors
from ...signals import visit_approved
from .common import (
    ARCHIVE_PREFIX,
    VisitError,
    _bump,
    _categories_check,
    _lock,
    _next_seq,
    _notify_team,
    _require_recorder,
    _snapshot,
)

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
    if not selectors.can_archive(actor, visit):
        raise PermissionDenied("只有本股室的股室负责人或业务股室人员可以归档。")
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
    if not (selectors.can_archive(actor, visit) or selectors.can_record(actor, visit)):
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
