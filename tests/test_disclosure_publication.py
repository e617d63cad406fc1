"""Publication records, their 20-working-day deadline (art. 15), the deadline scan,
corrections (art. 17) and objections."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse

from accounts.roles import Role
from approvals.models import ApprovalRequest
from approvals.selectors import approvals_to_decide
from approvals.services import approval_decide, approval_request, approval_withdraw
from audit.models import AuditEvent
from core.models import Notification
from disclosure import services as svc
from disclosure.models import PublicationRecord, PublicationVersion
from tests.calendar_helpers import calendar_approved
from tests.disclosure_publication_fixtures import D, frozen
from tests.permissions import assert_role_access
from workdays.calendar import WorkingCalendar, add_working_days
from workdays.models import CalendarYear

Status = PublicationRecord.Status
Alert = PublicationRecord.Alert


# --- deadlines ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("check_end", "deadline"),
    [
        (D(2026, 10, 3), D(2026, 11, 3)),  # ends inside the National Day holiday
        (D(2026, 9, 30), D(2026, 11, 3)),  # the eve of National Day
        (D(2026, 2, 13), D(2026, 3, 19)),  # the Friday before Spring Festival
        (D(2026, 2, 14), D(2026, 3, 20)),  # a make-up Saturday (调休上班) before Spring Festival
        (D(2026, 2, 28), D(2026, 3, 27)),  # the make-up Saturday after Spring Festival
        (D(2025, 9, 28), D(2025, 10, 31)),  # a make-up Sunday before National Day 2025
        (D(2024, 2, 4), D(2024, 3, 7)),  # a make-up Sunday before Spring Festival 2024
    ],
)
def test_record_deadline_is_20_working_days_after_the_end_date(make_record, check_end, deadline):
    record = make_record(check_end=check_end)
    assert record.deadline == deadline == add_working_days(check_end, 20)
    used = CalendarYear.objects.get(year=deadline.year, status="published")
    assert record.calendar_revision_id == used.pk
    assert record.deadline_pending_year is None
    assert record.status == Status.PENDING
    assert record.current_version.number == 1 and not record.current_version.is_correction


def test_deadline_is_pending_while_next_year_is_unpublished_and_filled_in_when_published(
    make_record, users, make_user, django_capture_on_commit_callbacks
):
    from workdays.demo import DEMO_2027
    from workdays.services import calendar_draft_create

    record = make_record(check_end=D(2026, 12, 10))
    assert record.deadline is None and record.deadline_pending_year == 2027
    assert record.deadline_label == "待定（2027年节假日安排未发布）"
    assert record.calendar_revision_id is None

    with frozen(D(2026, 11, 26)):
        draft = calendar_draft_create(
            actor=users[Role.SYSTEM_ADMIN],
            year=2027,
            notice_title="国务院办公厅关于2027年部分节假日安排的通知",
            notice_number="国办发明电〔2026〕9号",
            arrangement=DEMO_2027,
        )
        with django_capture_on_commit_callbacks(execute=True):
            calendar_approved(approver=users[Role.SECURITY_ADMIN], calendar_year=draft)

    record.refresh_from_db()
    assert record.deadline == add_working_days(D(2026, 12, 10), 20)
    assert record.deadline.year == 2027
    assert record.deadline_pending_year is None
    assert record.calendar_revision_id == draft.pk
    assert AuditEvent.objects.filter(event_type="publication.deadlines_refresh").exists()


def test_record_creation_is_idempotent(make_record):
    first = make_record(result_id=777)
    again = make_record(result_id=777)
    assert first.pk == again.pk
    assert PublicationRecord.objects.count() == 1


# --- from an approved visit (inspections) ---------------------------------------------------


@pytest.fixture
def approved_visit(task, make_enterprise, section, users, inspector_user, check_item):
    from inspections.models import ResultCategory, Visit, VisitItemResult, VisitMember
    from inspectors.models import Inspector

    enterprise = make_enterprise(name="舞钢市垭口加油站")
    visit = Visit.objects.create(
        enterprise=enterprise,
        task=task,
        section=section,
        status=Visit.Status.APPROVED,
        window_start=D(2026, 9, 1),
        window_end=D(2026, 9, 30),
        notice_seq=1,
        notice_year=2026,
        notice_number="舞工信商检通〔2026〕1号",
        notice_date=D(2026, 9, 1),
        check_start=D(2026, 10, 3),
        check_end=D(2026, 10, 3),
        approved_by=users[Role.SECTION_HEAD],
    )
    visit.tasks.set([task])
    inspector = Inspector.objects.create(
        staff_number="WG901", name="检查员甲", section=section, user=inspector_user
    )
    VisitMember.objects.create(visit=visit, inspector=inspector, staff_number="WG901", position=1)
    parent = ResultCategory.objects.create(code="problem", label="发现问题待后续处理", order=2)
    child = ResultCategory.objects.create(
        code="problem-publicity", label="未按规定公示应当公示的信息", parent=parent, order=1
    )
    result = VisitItemResult.objects.create(visit=visit, check_item=check_item)
    result.categories.set([parent, child])
    return visit


def test_an_approved_visit_gets_one_record_per_item_with_its_deadline(
    approved_visit, inspector_user, section
):
    records = svc.publication_create_for_visit(visit_id=approved_visit.pk)
    assert len(records) == 1
    record = records[0]
    assert record.deadline == D(2026, 11, 3)
    assert record.check_end == D(2026, 10, 3)
    assert record.current_version.result_text == "发现问题待后续处理（未按规定公示应当公示的信息）"
    assert record.enterprise_name == "舞钢市垭口加油站"
    assert record.plan_number == "WGJH-2026-01" and record.task_kind == "non_directed"
    assert list(record.inspectors.all()) == [inspector_user]
    assert record.section == section
    assert svc.publication_create_for_visit(visit_id=approved_visit.pk)[0].pk == record.pk
    assert PublicationRecord.objects.count() == 1


def test_the_visit_approved_signal_creates_the_records(approved_visit):
    signals = pytest.importorskip("inspections.signals")
    signals.visit_approved.send(sender=type(approved_visit), visit_id=approved_visit.pk)
    assert PublicationRecord.objects.filter(visit_id=approved_visit.pk).count() == 1


def test_the_sweep_creates_records_a_failed_receiver_missed(approved_visit):
    assert svc.publication_sweep_missing() == 1
    assert svc.publication_sweep_missing() == 0


def test_an_unapproved_visit_gets_no_record(approved_visit):
    approved_visit.status = "submitted"
    approved_visit.save(update_fields=["status"])
    assert svc.publication_create_for_visit(visit_id=approved_visit.pk) == []


# --- the deadline scan ----------------------------------------------------------------------


def _keys(user):
    return sorted(Notification.objects.filter(recipient=user).values_list("key", flat=True))


def test_scan_marks_reminder_due_today_and_overdue_and_notifies_once(
    make_record, users, inspector_user, section
):
    far = make_record(check_end=D(2026, 10, 3))  # deadline 2026-11-03
    # Today 2026-10-28 (Wed): 11-03 is 4 working days away (29, 30, 2, 3) → reminder.
    with frozen(D(2026, 10, 28)):
        counts = svc.deadline_scan()
    far.refresh_from_db()
    assert far.alert == Alert.REMINDER and counts["reminder"] == 1
    staff, head = users[Role.SECTION_STAFF], users[Role.SECTION_HEAD]
    assert _keys(inspector_user) == [f"disclosure:reminder:{far.pk}:20261103"]
    # The section's staff get one digest a day, the head nothing yet.
    assert _keys(staff) == [f"disclosure:reminder-digest:{section.pk}:20261028"]
    assert _keys(head) == []
    note = Notification.objects.get(recipient=inspector_user)
    assert "剩余4个工作日" in note.title and far.enterprise_name in note.title
    assert note.link == f"/disclosure/publications/{far.pk}/" and "2026-11-03" in note.body
    digest = Notification.objects.get(recipient=staff)
    assert digest.title == "本股室新增1条检查结果距公示期限不足5个工作日"
    assert digest.link == "/disclosure/publications/?f=reminder"

    with frozen(D(2026, 10, 28)):
        again = svc.deadline_scan()  # run twice → the same state, no second notification
    assert again["changed"] == 0 and again["notified"] == 0
    assert Notification.objects.count() == 2

    with frozen(D(2026, 11, 3)):
        svc.deadline_scan()
    far.refresh_from_db()
    assert far.alert == Alert.DUE_TODAY
    assert f"disclosure:due_today:{far.pk}:20261103" in _keys(inspector_user)

    with frozen(D(2026, 11, 4)):
        svc.deadline_scan()
        svc.deadline_scan()
    far.refresh_from_db()
    assert far.alert == Alert.OVERDUE
    digest_key = f"disclosure:overdue-digest:{section.pk}:20261104"
    assert _keys(head) == [digest_key]  # escalation to the section head
    assert digest_key in _keys(staff)
    assert Notification.objects.filter(key=f"disclosure:overdue:{far.pk}:20261103").count() == 1
    assert Notification.objects.filter(key=digest_key).count() == 2  # staff and head
    assert Notification.objects.count() == 7


def test_scan_digest_counts_the_section_records_and_skips_inactive_inspectors(
    make_record, users, inspector_user, section, make_user
):
    gone = make_user(Role.INSPECTOR, section=section, username="gone", is_active=False)
    make_record(check_end=D(2026, 10, 3))
    make_record(check_end=D(2026, 10, 3), inspectors=[gone])
    with frozen(D(2026, 11, 4)):
        counts = svc.deadline_scan()
    assert counts["overdue"] == 2 and counts["changed"] == 2
    head_note = Notification.objects.get(recipient=users[Role.SECTION_HEAD])
    assert head_note.title == "本股室新增2条检查结果逾期未公示，请督促公示"
    assert not Notification.objects.filter(recipient=gone).exists()


def test_scan_leaves_far_deadlines_and_published_records_alone(make_record):
    far = make_record(check_end=D(2026, 10, 3))
    done = make_record(check_end=D(2026, 9, 1))
    done.first_published_on = done.published_on = D(2026, 9, 10)
    done.status = Status.PUBLISHED
    done.save()
    with frozen(D(2026, 10, 12)):
        counts = svc.deadline_scan()
    far.refresh_from_db()
    done.refresh_from_db()
    assert far.alert == "" and done.alert == ""
    assert counts["overdue"] == 0 and Notification.objects.count() == 0


def test_scan_counts_working_days_across_a_holiday(make_record):
    record = make_record(check_end=D(2026, 9, 30))  # deadline 2026-11-03
    # On 2026-09-30 the deadline is 20 working days away — the National Day week is not counted.
    with frozen(D(2026, 9, 30)):
        svc.deadline_scan()
    record.refresh_from_db()
    assert record.alert == ""
    level, left = svc.alert_for(record.deadline, D(2026, 10, 8), WorkingCalendar())
    assert (level, left) == ("", 19)  # 10-08 itself was the first of the 20


def test_only_one_scan_runs_at_a_time(make_record):
    from django.core.cache import cache

    from disclosure.tasks import SCAN_LOCK_KEY, run_scan_locked

    make_record(check_end=D(2026, 10, 3))
    cache.set(SCAN_LOCK_KEY, "another-worker", 60)
    try:
        with frozen(D(2026, 11, 4)):
            assert run_scan_locked() == {"skipped": "locked"}
        assert Notification.objects.count() == 0
    finally:
        cache.delete(SCAN_LOCK_KEY)
    with frozen(D(2026, 11, 4)):
        counts = run_scan_locked()
    assert counts["overdue"] == 1 and cache.get(SCAN_LOCK_KEY) is None


def test_scan_is_scheduled_daily_in_beat():
    from config.celery_app import app

    entry = app.conf.beat_schedule["disclosure-deadline-scan"]
    assert entry["task"] == "disclosure.tasks.deadline_scan"
    assert "countdown" not in entry.get("options", {}) and "eta" not in entry.get("options", {})


def test_scan_task_is_late_acked():
    from disclosure.tasks import deadline_scan

    assert deadline_scan.acks_late and deadline_scan.reject_on_worker_lost


# --- corrections (art. 17) on the approvals flow ---------------------------------------------

CORRECTION = "disclosure.correction"


@pytest.fixture
def head2(make_user, section):
    return make_user(Role.SECTION_HEAD, section=section, username="head2", full_name="负责人乙")


@pytest.fixture
def other_head(make_user, other_section):
    return make_user(Role.SECTION_HEAD, section=other_section, username="head_other")


def _events(approval, event_type):
    return AuditEvent.objects.filter(
        event_type=event_type, object_type="approvals.approvalrequest", object_id=str(approval.pk)
    )


def test_correction_is_a_new_version_approved_by_the_section_head(
    make_record, users, inspector_user
):
    record = make_record(result="未发现问题")
    record.status, record.first_published_on = Status.PUBLISHED, D(2026, 10, 20)
    record.published_version = record.current_version
    record.save()
    approval = svc.correction_propose(
        actor=inspector_user,
        record=record,
        result_text="发现问题待后续处理（未按规定公示应当公示的信息）",
        reason="录入时选错结果",
    )
    assert approval.kind == CORRECTION and approval.state == ApprovalRequest.State.PENDING
    assert _events(approval, "approval.requested").get().actor == inspector_user
    record.refresh_from_db()
    assert record.current_version.number == 1 and record.versions.count() == 1  # asked only
    with pytest.raises(ValidationError, match="已有一份待审批的申请"):
        svc.correction_propose(actor=inspector_user, record=record, result_text="x", reason="y")
    approval_decide(actor=users[Role.SECTION_HEAD], request=approval, approve=True)
    record.refresh_from_db()
    version = record.current_version
    assert version.number == 2 and record.status == Status.PENDING
    assert record.published_version.number == 1  # the platform still shows version 1
    assert record.first_published_on == D(2026, 10, 20)  # on-time judged on the first publication
    assert [v.number for v in record.versions.all()] == [1, 2]  # every version stays
    assert version.created_by == inspector_user and version.approved_by == users[Role.SECTION_HEAD]
    assert version.reason == "录入时选错结果" and version.remark.startswith("更正")
    assert _events(approval, "approval.approved").get().actor == users[Role.SECTION_HEAD]
    change = AuditEvent.objects.get(event_type="publication.correction_approve")
    assert change.detail["approval"] == approval.pk and change.detail["version"] == 2


def test_correction_needs_a_reason_and_a_refusal_needs_one_too(make_record, users, head2):
    record = make_record()
    with pytest.raises(ValidationError):
        svc.correction_propose(
            actor=users[Role.SECTION_HEAD], record=record, result_text="new", reason=" "
        )
    with pytest.raises(ValidationError):
        svc.correction_propose(
            actor=users[Role.SECTION_HEAD], record=record, result_text=" ", reason="复核"
        )
    approval = svc.correction_propose(
        actor=users[Role.SECTION_HEAD], record=record, result_text="new", reason="复核"
    )
    with pytest.raises(ValidationError, match="拒绝理由"):
        approval_decide(actor=head2, request=approval, approve=False, reason=" ")
    approval_decide(actor=head2, request=approval, approve=False, reason="原结果无误")
    approval.refresh_from_db()
    assert approval.state == ApprovalRequest.State.REFUSED and approval.decided_by == head2
    assert _events(approval, "approval.refused").get().reason == "原结果无误"
    record.refresh_from_db()
    assert record.current_version.number == 1 and record.versions.count() == 1
    notice = Notification.objects.get(recipient=users[Role.SECTION_HEAD], key__endswith="refused")
    assert "原结果无误" in notice.body


def test_the_proposer_cannot_approve_their_own_correction(make_record, users):
    record = make_record()
    approval = svc.correction_propose(
        actor=users[Role.SECTION_HEAD], record=record, result_text="new", reason="复核"
    )
    with pytest.raises(PermissionDenied, match="不能审批自己提出的申请"):
        approval_decide(actor=users[Role.SECTION_HEAD], request=approval, approve=True)
    record.refresh_from_db()
    assert record.current_version.number == 1


def test_only_a_head_of_the_records_section_decides_a_correction(
    make_record, users, inspector_user, head2, other_head
):
    record = make_record()
    approval = svc.correction_propose(
        actor=inspector_user, record=record, result_text="new", reason="复核"
    )
    # another section's head, the lead section (sees every record) and other roles are refused
    for actor in (other_head, users[Role.LEAD_SECTION], users[Role.SECTION_STAFF]):
        with pytest.raises(PermissionDenied):
            approval_decide(actor=actor, request=approval, approve=True)
    assert approvals_to_decide(other_head) == []
    assert approvals_to_decide(head2) == [approval]
    # only the record's section heads are asked to decide
    asked = {n.recipient for n in Notification.objects.filter(key__endswith="requested")}
    assert asked == {users[Role.SECTION_HEAD], head2}
    record.refresh_from_db()
    assert record.current_version.number == 1


def test_a_correction_approved_after_the_result_changed_fails_with_a_clear_message(
    make_record, users, inspector_user
):
    record = make_record()
    approval = svc.correction_propose(
        actor=inspector_user, record=record, result_text="new", reason="复核"
    )
    # the current result changed meanwhile (a write past this request)
    changed = PublicationVersion.objects.create(
        record=record, number=2, result_text="other", is_correction=True, reason="另案更正"
    )
    PublicationRecord.objects.filter(pk=record.pk).update(current_version=changed)
    with pytest.raises(ValidationError, match="当前结果已变化"):
        approval_decide(actor=users[Role.SECTION_HEAD], request=approval, approve=True)
    approval.refresh_from_db()
    assert approval.state == ApprovalRequest.State.PENDING
    assert record.versions.count() == 2


def test_a_correction_cannot_be_asked_without_its_text(make_record, inspector_user):
    record = make_record()
    with pytest.raises(ValidationError, match="请填写更正后的检查结果"):
        approval_request(actor=inspector_user, kind=CORRECTION, object_id=record.pk, reason="r")
    assert not ApprovalRequest.objects.exists()


def test_a_correction_of_a_record_outside_the_proposers_scope_is_refused(
    make_record, users, make_user, other_section
):
    record = make_record()
    staff_b = make_user(Role.SECTION_STAFF, section=other_section, username="staff_b")
    with pytest.raises(PermissionDenied):
        svc.correction_propose(actor=staff_b, record=record, result_text="new", reason="r")
    with pytest.raises(PermissionDenied):
        svc.correction_propose(
            actor=users[Role.DISCIPLINE], record=record, result_text="new", reason="r"
        )
    assert not ApprovalRequest.objects.exists()


def test_a_withdrawn_correction_frees_the_record(make_record, inspector_user):
    record = make_record()
    approval = svc.correction_propose(
        actor=inspector_user, record=record, result_text="new", reason="复核"
    )
    approval_withdraw(actor=inspector_user, request=approval)
    again = svc.correction_propose(
        actor=inspector_user, record=record, result_text="new", reason="复核"
    )
    assert again.state == ApprovalRequest.State.PENDING and record.versions.count() == 1


def test_a_correction_request_is_seen_by_the_section_head_and_the_discipline_group(
    make_record, users, inspector_user, other_head
):
    record = make_record()
    approval = svc.correction_propose(
        actor=inspector_user, record=record, result_text="new", reason="复核"
    )
    url = reverse("approvals:detail", args=[approval.pk])
    decide = reverse("approvals:decide", args=[approval.pk])
    assert_role_access(users, url, {Role.SECTION_HEAD, Role.DISCIPLINE, Role.AUDIT_ADMIN})
    head = Client()
    head.force_login(users[Role.SECTION_HEAD])
    assert "decision-form" in head.get(url).content.decode()
    other = Client()
    other.force_login(other_head)
    assert other.get(url).status_code == 403
    assert other.post(decide, {"decision": "approve"}).status_code == 403
    # the discipline group reads it, never decides it
    discipline = Client()
    discipline.force_login(users[Role.DISCIPLINE])
    page = discipline.get(url).content.decode()
    assert "decision-form" not in page and "new" in page
    assert discipline.post(decide, {"decision": "approve"}).status_code == 403
    proposer = Client()
    proposer.force_login(inspector_user)
    assert "decision-form" not in proposer.get(url).content.decode()
    assert Client().get(url).status_code == 302  # anonymous → login
    record.refresh_from_db()
    assert record.current_version.number == 1


# --- objections and re-checks ---------------------------------------------------------------


def test_objection_and_recheck_that_changes_the_result_goes_through_correction(
    make_record, users, inspector_user
):
    record = make_record(result="发现问题待后续处理（未按规定公示应当公示的信息）")
    with pytest.raises(ValidationError):  # only a published result can be objected to
        svc.objection_record(
            actor=users[Role.SECTION_STAFF], record=record, received_on=D(2026, 11, 1), content="x"
        )
    record.published_version = record.current_version
    record.first_published_on = record.published_on = D(2026, 10, 30)
    record.status = Status.PUBLISHED
    record.save()
    with frozen(D(2026, 11, 20)):
        objection = svc.objection_record(
            actor=users[Role.SECTION_STAFF],
            record=record,
            received_on=D(2026, 11, 18),
            content="企业称已于检查前完成年报公示",
        )
        svc.objection_recheck(
            actor=inspector_user,
            objection=objection,
            recheck_on=D(2026, 11, 19),
            conclusion="核实企业已按时公示，原结果有误",
            new_result_text="未发现问题",
        )
    objection.refresh_from_db()
    assert objection.status == "rechecked" and objection.changes_result
    proposed = ApprovalRequest.objects.get(kind=CORRECTION, object_id=str(record.pk))
    assert proposed.payload["objection"] == objection.pk
    assert proposed.payload["result_text"] == "未发现问题"
    assert proposed.reason.startswith("异议复查")
    with frozen(D(2026, 11, 21)):  # within the request's validity
        approval_decide(actor=users[Role.SECTION_HEAD], request=proposed, approve=True)
    record.refresh_from_db()
    assert record.current_version.objection == objection
    assert record.current_version.result_text == "未发现问题"


def test_recheck_that_keeps_the_result_proposes_nothing(make_record, users, inspector_user):
    record = make_record()
    record.published_version = record.current_version
    record.first_published_on = record.published_on = D(2026, 10, 30)
    record.save()
    with frozen(D(2026, 11, 20)):
        objection = svc.objection_record(
            actor=users[Role.SECTION_STAFF],
            record=record,
            received_on=D(2026, 11, 18),
            content="异议",
        )
        svc.objection_recheck(
            actor=users[Role.SECTION_HEAD],
            objection=objection,
            recheck_on=D(2026, 11, 19),
            conclusion="维持原结果",
        )
    objection.refresh_from_db()
    assert not objection.changes_result
    assert not ApprovalRequest.objects.exists() and record.versions.count() == 1


# --- views ----------------------------------------------------------------------------------

READERS = [
    Role.LEAD_SECTION,
    Role.SECTION_STAFF,
    Role.INSPECTOR,
    Role.SECTION_HEAD,
    Role.DISCIPLINE,
    Role.SYSTEM_ADMIN,
]


def test_publication_pages_permissions(users, make_record, inspector_user):
    # The role's inspector checked this visit (谁检查、谁录入、谁公示: inspectors see their own
    # visits' records; the section scoping is tested in test_disclosure_scoping.py).
    record = make_record(inspectors=[inspector_user, users[Role.INSPECTOR]])
    assert_role_access(users, reverse("disclosure:publication_list"), READERS)
    assert_role_access(users, reverse("disclosure:publication_detail", args=[record.pk]), READERS)
    assert_role_access(users, reverse("disclosure:batch_list"), READERS)
    assert_role_access(
        users, reverse("disclosure:scan_now"), [Role.LEAD_SECTION, Role.SYSTEM_ADMIN], method="post"
    )
    assert_role_access(
        users,
        reverse("disclosure:correction_propose", args=[record.pk]),
        [Role.INSPECTOR, Role.SECTION_STAFF, Role.SECTION_HEAD],
        method="post",
        data={"result_text": "x", "reason": ""},
    )
    assert_role_access(
        users,
        reverse("disclosure:objection_create", args=[record.pk]),
        [Role.LEAD_SECTION, Role.SECTION_STAFF, Role.INSPECTOR, Role.SECTION_HEAD],
        method="post",
    )


def test_recheck_view_permissions(users, make_record, inspector_user):
    record = make_record(inspectors=[inspector_user, users[Role.INSPECTOR]])
    record.published_version = record.current_version
    record.save()
    with frozen(D(2026, 11, 20)):
        objection = svc.objection_record(
            actor=inspector_user, record=record, received_on=D(2026, 11, 18), content="异议"
        )
    assert_role_access(
        users,
        reverse("disclosure:objection_recheck", args=[objection.pk]),
        [Role.INSPECTOR, Role.SECTION_HEAD],
        method="post",
    )


def test_list_shows_the_deadline_pending_label_and_the_overdue_list_for_discipline(
    make_record, client_for
):
    make_record(check_end=D(2026, 12, 10), enterprise=None)
    late = make_record(check_end=D(2026, 10, 3))
    with frozen(D(2026, 11, 10)):
        svc.deadline_scan()
    client = client_for(Role.DISCIPLINE)
    body = client.get(reverse("disclosure:publication_list")).content.decode()
    assert "待定（2027年节假日安排未发布）" in body and "2026-11-03" in body
    overdue = client.get(reverse("disclosure:publication_list") + "?f=overdue").content.decode()
    assert late.enterprise_name in overdue and "已逾期" in overdue
    detail = client.get(reverse("disclosure:publication_detail", args=[late.pk])).content.decode()
    assert "2026-11-03" in detail and "按 2026 年日历第 1 版" in detail


def test_correction_flow_through_the_browser(make_record, client_for, users):
    record = make_record(result="未发现问题", inspectors=[users[Role.INSPECTOR]])
    inspector = client_for(Role.INSPECTOR)
    url = reverse("disclosure:correction_propose", args=[record.pk])
    inspector.post(url, {"result_text": "未发现开展本次抽查涉及的经营活动", "reason": "企业已停业"})
    approval = ApprovalRequest.objects.get(kind=CORRECTION, object_id=str(record.pk))
    detail = reverse("disclosure:publication_detail", args=[record.pk])
    # the record page shows the pending correction (to the proposer too) instead of the form
    page = inspector.get(detail).content.decode()
    assert reverse("approvals:detail", args=[approval.pk]) in page and "更正待审批" in page
    assert "提交更正" not in page
    listed = inspector.get(reverse("disclosure:publication_list") + "?f=corrections")
    assert record.enterprise_name in listed.content.decode()
    head = client_for(Role.SECTION_HEAD)
    head.post(reverse("approvals:decide", args=[approval.pk]), {"decision": "approve"})
    record.refresh_from_db()
    assert record.current_version.number == 2
    assert record.current_version.result_text == "未发现开展本次抽查涉及的经营活动"
    page = inspector.get(detail).content.decode()
    assert "更正待审批" not in page and "提交更正" in page


def test_dashboard_panel_counts_overdue(make_record, client_for):
    make_record(check_end=D(2026, 10, 3))
    with frozen(D(2026, 11, 10)):
        svc.deadline_scan()
        body = client_for(Role.SECTION_HEAD).get(reverse("core:dashboard")).content.decode()
    assert "公示期限" in body and "?f=overdue" in body


def test_on_time_rate(make_record):
    a = make_record(check_end=D(2026, 10, 3))  # deadline 11-03
    b = make_record(check_end=D(2026, 10, 3))
    make_record(check_end=D(2026, 10, 3))  # not yet published: not counted
    a.first_published_on = D(2026, 11, 3)
    a.save()
    b.first_published_on = D(2026, 11, 4)
    b.save()
    a.refresh_from_db()
    b.refresh_from_db()
    assert a.on_time is True and b.on_time is False
    assert svc.on_time_rate() == {"published": 2, "on_time": 1, "late": 1, "rate": 50.0}


def test_demo_check_end_counts_from_the_visit_end_date_not_the_approval(make_record):
    # Approval (审核) on a later day does not move the deadline: it runs from the check end.
    with frozen(D(2026, 10, 30)):
        record = make_record(check_end=D(2026, 10, 3))
    assert record.deadline == D(2026, 11, 3)
    assert isinstance(record.check_end, dt.date)


def test_a_correction_waiting_under_the_old_state_machine_becomes_an_approval_request(
    make_record, users, inspector_user
):
    """Migration disclosure.0008: a ``proposed`` version left by the old flow is asked for on
    the approvals flow, and the section head can approve it there."""
    from importlib import import_module

    from django.apps import apps

    migration = import_module("disclosure.migrations.0008_pending_corrections_to_approvals")
    record = make_record(result="未发现问题")
    PublicationVersion.objects.create(
        record=record,
        number=2,
        status=PublicationVersion.Status.PROPOSED,
        result_text="未发现开展本次抽查涉及的经营活动",
        is_correction=True,
        reason="企业已停业",
        created_by=inspector_user,
    )
    migration.forwards(apps, None)
    approval = ApprovalRequest.objects.get(kind=CORRECTION, object_id=str(record.pk))
    assert approval.requested_by == inspector_user and approval.reason == "企业已停业"
    assert not record.versions.filter(status=PublicationVersion.Status.PROPOSED).exists()
    assert approvals_to_decide(users[Role.SECTION_HEAD]) == [approval]
    approval_decide(actor=users[Role.SECTION_HEAD], request=approval, approve=True)
    record.refresh_from_db()
    assert record.current_version.number == 2
    assert record.current_version.result_text == "未发现开展本次抽查涉及的经营活动"
