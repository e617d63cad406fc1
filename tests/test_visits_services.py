"""Visit services: creation from draws (replacements, joint visits), the state machine and its
guards, the on-site rules (art. 10), result categories, non-cooperation (art. 12), evidence
versions, optimistic locking, double submit, review, archive (art. 13), transfers (art. 11),
follow-up (art. 16), audit events and the approval signal."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction

from accounts.roles import Role
from audit.models import AuditEvent
from core.append_only import AppendOnlyError
from core.models import StoredFile
from inspections.models import (
    DrawSelection,
    FollowUp,
    LeadTransfer,
    ResultCategory,
    Visit,
    VisitArchiveDocument,
    VisitEvidence,
    VisitItemResult,
    VisitReview,
)
from inspections.services import draws as draw_services
from inspections.services import visits as services
from inspections.signals import visit_approved
from inspectors.models import Certificate
from tests.draws_fixtures import replace_approved
from tests.test_core_uploads import pdf_bytes
from tests.visits_fixtures import (
    TODAY,
    category,
    complete_draw,
    fill_onsite,
    jpeg_bytes,
    png_bytes,
    recorders,
)

pytestmark = pytest.mark.usefixtures("visits_today")


def events(kind):
    return AuditEvent.objects.filter(event_type=kind).count()


# ------------------------------------------------------------------------------------ creation
def test_visit_from_draw_has_team_items_number_and_is_idempotent(draw, visit, lead):
    from inspections.selectors import draws as draw_selectors

    (team,) = draw_selectors.draw_teams(draw)
    assert [m.inspector for m in visit.members.order_by("position")] == team["current"]
    assert list(visit.check_items.all()) == list(draw.task.check_items.all())
    assert visit.status == Visit.Status.SCHEDULED and visit.version == 1
    assert visit.notice_number == "舞工信商检通〔2026〕1号"
    assert visit.results.count() == 1
    assert services.visits_create_for_draw(actor=lead, draw=draw) == []
    assert Visit.objects.count() == 1
    assert events("visit.create") == 1


def test_team_applies_post_draw_replacement(
    lead, lead2, make_task, make_enterprises, roster, inspector_users
):
    make_enterprises({"D": 1})
    draw = complete_draw(make_task(), lead)
    selection = DrawSelection.objects.get(draw=draw)
    out = selection.members.order_by("position").first().inspector
    rep = replace_approved(
        requester=lead, selection=selection, out=out, reason="与企业负责人系亲属", approver=lead2
    )
    (visit,) = services.visits_create_for_draw(actor=lead, draw=draw)
    team = list(visit.members.values_list("inspector_id", flat=True))
    assert out.pk not in team and rep.into_id in team


def test_joint_visit_gives_one_visit_with_all_items(
    lead, make_task, make_enterprises, make_inspector, section, trade, inspector_users
):
    from enterprises.models import CheckItem

    make_enterprises({"D": 1})
    item2 = CheckItem.objects.create(
        code="GX-002",
        name="成品油质量管理检查",
        legal_basis="条例",
        section=section,
        methods=["onsite"],
    )
    item2.trades.add(trade)
    first = complete_draw(make_task(same_item_once_per_year=False), lead)
    second = complete_draw(
        make_task(items=[item2], same_item_once_per_year=False), lead, dice="6" * 20
    )
    joint = draw_services.joint_visit_merge(
        actor=lead, selection=DrawSelection.objects.get(draw=second)
    )
    created = services.visits_create_for_draw(actor=lead, draw=first)
    created += services.visits_create_for_draw(actor=lead, draw=second)
    assert len(created) == 1
    visit = created[0]
    assert visit.joint_visit == joint
    assert {i.code for i in visit.check_items.all()} == {"GX-001", "GX-002"}
    assert visit.tasks.count() == 2 and visit.results.count() == 2
    assert list(visit.members.order_by("position").values_list("staff_number", flat=True)) == (
        joint.team
    )


def test_only_business_sections_create_visits(draw, users):
    with pytest.raises(PermissionDenied):
        services.visits_create_for_draw(actor=users[Role.INSPECTOR], draw=draw)


def test_a_selection_never_gets_two_visits(visit):
    from inspections.models import VisitSelection

    link = VisitSelection.objects.get(visit=visit)
    with pytest.raises(IntegrityError), transaction.atomic():
        VisitSelection.objects.create(visit=visit, selection=link.selection)


# ----------------------------------------------------------------------------- recording rules
def test_only_team_inspectors_record(visit, users, inspector_users, make_user, section):
    outsider = make_user(Role.INSPECTOR, section=section)
    for actor in (outsider, users[Role.SECTION_HEAD], users[Role.LEAD_SECTION]):
        with pytest.raises(PermissionDenied):
            services.visit_save_draft(
                actor=actor, visit=visit, version=visit.version, fields={"place": "x"}
            )


def test_draft_save_starts_the_visit_and_bumps_version(visit, inspector_users):
    actor = recorders(visit, inspector_users)[0]
    visit, changed = services.visit_save_draft(
        actor=actor, visit=visit, version=1, fields={"place": "建设路1号"}
    )
    assert changed and visit.status == Visit.Status.IN_PROGRESS and visit.version == 2
    assert visit.check_start == TODAY
    visit, changed = services.visit_save_draft(
        actor=actor, visit=visit, version=2, fields={"place": "建设路1号"}
    )
    assert not changed and visit.version == 2
    assert events("visit.draft_saved") == 1


def test_second_editor_gets_conflict_and_nothing_is_lost(visit, inspector_users):
    first, second = recorders(visit, inspector_users)[:2]
    services.visit_save_draft(actor=first, visit=visit, version=1, fields={"summary": "甲的记录"})
    with pytest.raises(services.VisitConflict, match=r"第1版.*第2版"):
        services.visit_save_draft(
            actor=second, visit=visit, version=1, fields={"summary": "乙的记录"}
        )
    visit.refresh_from_db()
    assert visit.summary == "甲的记录" and visit.version == 2


def test_no_problem_is_exclusive(visit, inspector_users):
    actor = recorders(visit, inspector_users)[0]
    result = visit.results.get()
    with pytest.raises(services.VisitError, match=r"未发现问题.*不能与其他"):
        services.visit_save_draft(
            actor=actor,
            visit=visit,
            version=visit.version,
            results={
                result.pk: {"categories": [category("no_problem").pk, category("corrected").pk]}
            },
        )
    assert not result.categories.exists()


def test_sub_reason_needs_its_parent_and_result_text(visit, inspector_users):
    actor = recorders(visit, inspector_users)[0]
    result = visit.results.get()
    with pytest.raises(services.VisitError, match="必须同时选择"):
        services.visit_save_draft(
            actor=actor,
            visit=visit,
            version=visit.version,
            results={result.pk: {"categories": [category("pending_unpublished").pk]}},
        )
    services.visit_save_draft(
        actor=actor,
        visit=visit,
        version=visit.version,
        results={
            result.pk: {
                "categories": [
                    category("pending").pk,
                    category("pending_unpublished").pk,
                    category("corrected").pk,
                ]
            }
        },
    )
    assert result.result_text() == (
        "发现问题已责令改正；发现问题待后续处理（未按规定公示应当公示的信息）"
    )
    assert visit.result_text_for(result.check_item) == result.result_text()


def test_labels_are_admin_editable_codes_stable(users):
    cat = category("unreachable")
    services.result_category_update(
        actor=users[Role.SYSTEM_ADMIN],
        category=cat,
        label="通过登记的住所无法联系",
        exclusive=False,
    )
    cat.refresh_from_db()
    assert cat.code == "unreachable" and cat.label == "通过登记的住所无法联系"
    with pytest.raises(PermissionDenied):
        services.result_category_update(
            actor=users[Role.INSPECTOR], category=cat, label="x", exclusive=False
        )


def test_vocabulary_seeded_from_the_issue(db):
    labels = set(ResultCategory.objects.values_list("label", flat=True))
    for label in [
        "未发现问题",
        "发现问题已责令改正",
        "发现问题待后续处理",
        "未按规定公示应当公示的信息",
        "公示信息隐瞒真实情况弄虚作假",
        "违反本部门其他规定",
        "违反其他部门规定",
        "未发现开展本次抽查涉及的经营活动",
        "通过登记的住所（经营场所）无法联系",
        "不配合检查情节严重",
        "已关闭停业或正在组织清算",
        "注销",
        "被吊销",
        "被撤销",
        "迁出",
    ]:
        assert label in labels
    assert category("no_problem").exclusive
    assert category("pending_own_rules").parent == category("pending")


def test_unsigned_requires_a_reason(visit, inspector_users):
    """A draft may say 未签 before the reason is typed (autosave); submit may not, nor the DB."""
    actor = recorders(visit, inspector_users)[0]
    visit = fill_onsite(visit, actor, signing_form="unsigned")
    visit, _ = services.visit_save_draft(
        actor=actor, visit=visit, version=visit.version, fields={"unsigned_reason": ""}
    )
    with pytest.raises(services.VisitError, match=r"未取得签名或盖章的，必须注明原因"):
        services.visit_submit(actor=actor, visit=visit, version=visit.version)
    with pytest.raises(IntegrityError), transaction.atomic():
        Visit.objects.filter(pk=visit.pk).update(status="submitted")


# --------------------------------------------------------------------------- submit (art. 10)
def test_one_inspector_alone_cannot_submit_an_onsite_check(visit, inspector_users):
    actor = recorders(visit, inspector_users)[0]
    visit = fill_onsite(visit, actor, present=1)
    with pytest.raises(services.VisitError, match="不得少于两人"):
        services.visit_submit(actor=actor, visit=visit, version=visit.version)
    visit.refresh_from_db()
    assert visit.status == Visit.Status.IN_PROGRESS


def test_certificate_must_be_the_inspectors_and_valid_on_the_check_date(visit, inspector_users):
    actor = recorders(visit, inspector_users)[0]
    visit = fill_onsite(visit, actor)
    first, second = visit.members.order_by("position")[:2]
    # Someone else's certificate number
    other = second.inspector.certificates.first().number
    services.visit_save_draft(
        actor=actor,
        visit=visit,
        version=visit.version,
        members={
            first.pk: {"present": True, "certificate_number": other},
            second.pk: {"present": True, "certificate_number": other},
        },
    )
    visit.refresh_from_db()
    with pytest.raises(services.VisitError, match="不是本人的执法证"):
        services.visit_submit(actor=actor, visit=visit, version=visit.version)
    # Own certificate, but expired before the check
    Certificate.objects.filter(inspector=first.inspector).update(
        expires_on=datetime.date(2026, 11, 30)
    )
    own = first.inspector.certificates.first().number
    services.visit_save_draft(
        actor=actor,
        visit=visit,
        version=visit.version,
        members={first.pk: {"present": True, "certificate_number": own}},
    )
    visit.refresh_from_db()
    with pytest.raises(services.VisitError, match="不在有效期内"):
        services.visit_submit(actor=actor, visit=visit, version=visit.version)


def test_signature_form_needs_signer_and_image(visit, inspector_users):
    actor = recorders(visit, inspector_users)[0]
    visit = fill_onsite(visit, actor, signing_form="signature")
    with pytest.raises(services.VisitError) as exc:
        services.visit_submit(actor=actor, visit=visit, version=visit.version)
    assert any("姓名和身份" in m for m in exc.value.messages)
    assert any("签名" in m for m in exc.value.messages)
    visit, _ = services.visit_save_draft(
        actor=actor,
        visit=visit,
        version=visit.version,
        fields={"signer_name": "王经理", "signer_role": "in_charge"},
    )
    visit = services.visit_signature_capture(
        actor=actor, visit=visit, version=visit.version, png=png_bytes()
    )
    visit, submitted = services.visit_submit(actor=actor, visit=visit, version=visit.version)
    assert submitted and visit.status == Visit.Status.SUBMITTED


def test_refused_signature_with_witness_submits(visit, inspector_users):
    actor = recorders(visit, inspector_users)[0]
    visit = fill_onsite(visit, actor, signing_form="unsigned")
    visit, submitted = services.visit_submit(actor=actor, visit=visit, version=visit.version)
    assert submitted and visit.witness_name == "李社区"


def test_double_submit_creates_one_submission(visit, inspector_users):
    actor = recorders(visit, inspector_users)[0]
    visit = fill_onsite(visit, actor)
    stale = visit.version
    visit, first = services.visit_submit(actor=actor, visit=visit, version=stale)
    visit, second = services.visit_submit(actor=actor, visit=visit, version=stale)
    assert (first, second) == (True, False)
    assert events("visit.submit") == 1


def test_submitted_record_is_read_only_to_its_author(visit, inspector_users):
    actor = recorders(visit, inspector_users)[0]
    visit = fill_onsite(visit, actor)
    visit, _ = services.visit_submit(actor=actor, visit=visit, version=visit.version)
    with pytest.raises(services.VisitError, match="提交人也不能修改"):
        services.visit_save_draft(
            actor=actor, visit=visit, version=visit.version, fields={"summary": "改"}
        )
    with pytest.raises(services.VisitError):
        services.evidence_add(
            actor=actor, visit=visit, upload=("p.jpg", jpeg_bytes()), kind="photo"
        )


def test_problem_needs_a_finding_and_pending_needs_a_sub_reason(visit, inspector_users):
    actor = recorders(visit, inspector_users)[0]
    visit = fill_onsite(visit, actor, categories=("pending",))
    result = visit.results.get()
    services.visit_save_draft(
        actor=actor, visit=visit, version=visit.version, results={result.pk: {"finding": ""}}
    )
    visit.refresh_from_db()
    with pytest.raises(services.VisitError) as exc:
        services.visit_submit(actor=actor, visit=visit, version=visit.version)
    assert any("须选择具体原因" in m for m in exc.value.messages)
    assert any("检查发现的具体问题" in m for m in exc.value.messages)


# ------------------------------------------------------------------------ non-cooperation (12)
def test_non_cooperation_without_evidence_is_refused(visit, inspector_users):
    actor = recorders(visit, inspector_users)[0]
    visit = fill_onsite(visit, actor, categories=("non_cooperation",))
    with pytest.raises(services.VisitError, match="必须记录不配合的情形"):
        services.visit_submit(actor=actor, visit=visit, version=visit.version)
    record = services.non_cooperation_record(
        actor=actor,
        visit=visit,
        case="refused_entry",
        occurred_on=TODAY,
        description="企业负责人锁闭大门，拒绝检查人员进入经营场所",
    )
    visit.refresh_from_db()
    with pytest.raises(services.VisitError, match="尚未上传证据"):
        services.visit_submit(actor=actor, visit=visit, version=visit.version)
    services.evidence_add(
        actor=actor,
        visit=visit,
        upload=("门口.jpg", jpeg_bytes()),
        kind="non_cooperation",
        non_cooperation=record,
        description="锁闭的大门",
    )
    visit.refresh_from_db()
    visit, submitted = services.visit_submit(actor=actor, visit=visit, version=visit.version)
    assert submitted


def test_non_cooperation_case_is_one_of_four(visit, inspector_users):
    actor = recorders(visit, inspector_users)[0]
    with pytest.raises(services.VisitError, match="情形"):
        services.non_cooperation_record(
            actor=actor, visit=visit, case="rude", occurred_on=TODAY, description="x"
        )


# ----------------------------------------------------------------------------------- evidence
def test_evidence_is_never_replaced_a_new_version_is_added(visit, inspector_users):
    actor = recorders(visit, inspector_users)[0]
    first = services.evidence_add(
        actor=actor, visit=visit, upload=("a.jpg", jpeg_bytes()), kind="photo", description="加油机"
    )
    second = services.evidence_add(
        actor=actor, visit=visit, upload=("b.png", png_bytes()), kind="photo", supersedes=first
    )
    assert second.file.supersedes == first.file
    assert StoredFile.objects.filter(pk=first.file_id).exists()
    assert first.file.sha256 != second.file.sha256
    from inspections.selectors import visits as selectors

    assert selectors.current_evidence(visit) == [second]
    with pytest.raises(AppendOnlyError):
        first.description = "改"
        first.save()
    with pytest.raises(AppendOnlyError):
        first.delete()
    with pytest.raises(AppendOnlyError):
        first.file.delete()


def test_evidence_type_is_checked_by_content(visit, inspector_users):
    from django.core.exceptions import ValidationError

    actor = recorders(visit, inspector_users)[0]
    with pytest.raises(ValidationError, match="不是允许的类型"):
        services.evidence_add(
            actor=actor, visit=visit, upload=("x.jpg", b"MZ\x90\x00 not a jpeg"), kind="photo"
        )
    assert not VisitEvidence.objects.exists()


# ------------------------------------------------------------------------------ review, archive
def submitted_visit(visit, inspector_users):
    actor = recorders(visit, inspector_users)[0]
    visit = fill_onsite(visit, actor)
    visit, _ = services.visit_submit(actor=actor, visit=visit, version=visit.version)
    return visit, actor


def test_return_needs_reason_then_resubmit_then_approve_archives(
    visit, inspector_users, head, django_capture_on_commit_callbacks
):
    visit, actor = submitted_visit(visit, inspector_users)
    received = []

    def listener(sender, visit_id, **kwargs):
        received.append(visit_id)

    visit_approved.connect(listener)
    try:
        with pytest.raises(services.VisitError, match="理由"):
            services.visit_return(actor=head, visit=visit, version=visit.version, reason=" ")
        visit = services.visit_return(
            actor=head,
            visit=visit,
            version=visit.version,
            reason="检查内容过于简略，请补充台账核查情况",
        )
        assert visit.status == Visit.Status.RETURNED
        from core.models import Notification

        told = Notification.objects.filter(title__startswith="检查记录被退回")
        assert {n.recipient for n in told} == set(recorders(visit, inspector_users))
        assert told[0].body == "检查内容过于简略，请补充台账核查情况"
        visit, _ = services.visit_save_draft(
            actor=actor,
            visit=visit,
            version=visit.version,
            fields={"summary": "补充：核查了2026年1—11月进货台账"},
        )
        visit, submitted = services.visit_submit(actor=actor, visit=visit, version=visit.version)
        assert submitted
        with django_capture_on_commit_callbacks(execute=True):
            visit = services.visit_approve(actor=head, visit=visit, version=visit.version)
    finally:
        visit_approved.disconnect(listener)
    assert visit.status == Visit.Status.ARCHIVED and visit.approved_by == head
    assert received == [visit.pk]
    assert list(VisitReview.objects.filter(visit=visit).values_list("decision", flat=True)) == [
        "return",
        "approve",
    ]
    archive = visit.archive
    assert archive.number == "舞工信商抽档〔2026〕1号"
    titles = [d.title for d in archive.documents.order_by("order")]
    assert titles[0].startswith("检查通知书") and titles[1].startswith("企业执法检查登记表")
    assert titles[2].startswith("实地核查记录表")
    for kind in ("visit.submit", "visit.return", "visit.approve", "visit.archive"):
        assert events(kind) >= 1


def test_signal_not_sent_when_approval_rolls_back(
    visit, inspector_users, head, django_capture_on_commit_callbacks
):
    visit, _ = submitted_visit(visit, inspector_users)
    received = []

    def listener(sender, visit_id, **kwargs):
        received.append(visit_id)

    visit_approved.connect(listener)
    try:
        with (
            django_capture_on_commit_callbacks(execute=True) as callbacks,
            pytest.raises(RuntimeError),
            transaction.atomic(),
        ):
            services.visit_approve(actor=head, visit=visit, version=visit.version, archive=False)
            raise RuntimeError
        assert callbacks == []
    finally:
        visit_approved.disconnect(listener)
    assert received == []


def test_only_the_sections_head_not_on_the_team_reviews(
    visit, inspector_users, users, make_user, other_section
):
    visit, actor = submitted_visit(visit, inspector_users)
    other_head = make_user(Role.SECTION_HEAD, section=other_section)
    for reviewer in (actor, users[Role.LEAD_SECTION], other_head):
        with pytest.raises(PermissionDenied):
            services.visit_approve(actor=reviewer, visit=visit, version=visit.version)


def test_archived_material_is_never_altered_and_documents_are_added(visit, inspector_users, head):
    visit, actor = submitted_visit(visit, inspector_users)
    visit = services.visit_approve(actor=head, visit=visit, version=visit.version)
    archive = visit.archive
    with pytest.raises(AppendOnlyError):
        archive.number = "x"
        archive.save()
    document = archive.documents.first()
    with pytest.raises(AppendOnlyError):
        document.delete()
    with pytest.raises(services.VisitError):
        services.visit_save_draft(
            actor=actor, visit=visit, version=visit.version, fields={"summary": "改"}
        )
    count = archive.documents.count()
    added = services.archive_document_add(
        actor=actor,
        visit=visit,
        upload=("处罚决定书.pdf", pdf_bytes()),
        title="行政处罚决定书（舞工信商罚〔2026〕3号）",
    )
    assert added.order == count + 1
    assert VisitArchiveDocument.objects.filter(archive=archive).count() == count + 1
    assert VisitEvidence.objects.filter(visit=visit, kind="penalty").exists()


# ------------------------------------------------------------------------ transfers, follow-up
def test_lead_transfer_lifecycle(visit, inspector_users):
    actor = recorders(visit, inspector_users)[0]
    transfer = services.transfer_create(
        actor=actor,
        visit=visit,
        department="舞钢市市场监督管理局",
        content="发现疑似无照经营的二级代理商",
        sent_on=None,
    )
    assert transfer.status == LeadTransfer.Status.DRAFT
    with pytest.raises(services.VisitError, match="移送日期"):
        services.transfer_update(actor=actor, transfer=transfer, status="sent")
    transfer = services.transfer_update(
        actor=actor, transfer=transfer, status="sent", sent_on=TODAY
    )
    with pytest.raises(services.VisitError, match="回执"):
        services.transfer_update(actor=actor, transfer=transfer, status="replied")
    transfer = services.transfer_update(
        actor=actor,
        transfer=transfer,
        status="closed",
        receipt="市场监管局已立案（舞市监立〔2026〕12号）",
        replied_on=TODAY,
    )
    assert transfer.status == "closed"
    assert events("visit.transfer_update") == 2


def test_follow_up_none_closes_at_once_and_is_exclusive(visit, inspector_users):
    actor = recorders(visit, inspector_users)[0]
    visit = fill_onsite(visit, actor)
    with pytest.raises(services.VisitError, match="不能与其他措施"):
        services.follow_up_add(actor=actor, visit=visit, measures=["none", "order_correction"])
    (none,) = services.follow_up_add(actor=actor, visit=visit, measures=["none"])
    assert none.closed and none.closed_on == TODAY
    with pytest.raises(services.VisitError, match="期限"):
        services.follow_up_add(actor=actor, visit=visit, measures=["order_correction"])
    created = services.follow_up_add(
        actor=actor,
        visit=visit,
        measures=["order_correction", "notify_other"],
        due_on=datetime.date(2026, 12, 31),
        detail="限期补公示",
    )
    assert len(created) == 2 and not any(f.closed for f in created)
    closed = services.follow_up_close(actor=actor, follow_up=created[0], outcome="已整改到位")
    assert closed.closed and closed.closed_on == TODAY
    assert FollowUp.objects.filter(visit=visit, closed=False).count() == 1


def test_discipline_and_outsiders_cannot_follow_up(visit, users):
    with pytest.raises(PermissionDenied):
        services.follow_up_add(actor=users[Role.DISCIPLINE], visit=visit, measures=["none"])


def test_item_result_unique_per_visit(visit):
    result = visit.results.get()
    with pytest.raises(IntegrityError), transaction.atomic():
        VisitItemResult.objects.create(visit=visit, check_item=result.check_item)


# ------------------------------------------------------------------------------- concurrency
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_editors_at_once_exactly_one_wins(visit, inspector_users):
    import threading

    from django.db import connection

    first, second = recorders(visit, inspector_users)[:2]
    outcomes = []
    barrier = threading.Barrier(2)

    def edit(actor, text):
        try:
            barrier.wait()
            services.visit_save_draft(actor=actor, visit=visit, version=1, fields={"summary": text})
            outcomes.append("ok")
        except services.VisitConflict:
            outcomes.append("conflict")
        finally:
            connection.close()

    threads = [
        threading.Thread(target=edit, args=(a, t)) for a, t in ((first, "甲"), (second, "乙"))
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["conflict", "ok"]
    visit.refresh_from_db()
    assert visit.version == 2 and visit.summary in ("甲", "乙")


def test_the_migrations_seed_the_platform_result_vocabulary(db):
    # 15 categories, the four kinds of "pending" under their parent, "no problem" exclusive.
    assert ResultCategory.objects.count() == 15
    assert category("pending_false_info").parent == category("pending")
    assert ResultCategory.objects.filter(parent=category("pending")).count() == 4
    assert category("no_problem").exclusive and not category("no_problem").is_problem


def test_my_visits_today_puts_returned_first_and_hides_future_and_others(
    lead, make_task, make_enterprises, roster, inspector_users, head
):
    import time_machine

    from inspections.selectors import visits as selectors

    make_enterprises({"D": 6})
    visits = services.visits_create_for_draw(actor=lead, draw=complete_draw(make_task(), lead))
    member = visits[0].members.first().inspector
    user = inspector_users[member.pk]
    mine = [v for v in visits if v.members.filter(inspector=member).exists()]
    assert selectors.my_visits_today(user, day=visits[0].window_start - datetime.timedelta(1)) == []
    with time_machine.travel(datetime.datetime(2026, 12, 10, 2, tzinfo=datetime.UTC), tick=False):
        visit = fill_onsite(mine[0], user, check_end=datetime.date(2026, 12, 10))
        visit, _ = services.visit_submit(actor=user, visit=visit, version=visit.version)
        services.visit_return(actor=head, visit=visit, version=visit.version, reason="补充")
        today = selectors.my_visits_today(user)
    assert today[0] == visit and set(today) == set(mine)
    others = [v for v in visits if v not in mine]
    assert not set(others) & set(today)
