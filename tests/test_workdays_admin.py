"""Entering, approving and correcting a year's holiday notice (two people; audited)."""

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from accounts.roles import Role
from approvals.models import ApprovalRequest
from approvals.services import approval_decide
from audit.models import AuditEvent
from tests.calendar_helpers import calendar_approved
from tests.permissions import assert_role_access
from workdays.calendar import CalendarYearNotPublished, add_working_days
from workdays.demo import DEMO_2027
from workdays.models import CalendarDay, CalendarYear
from workdays.selectors import diff_against_plain, revision_days
from workdays.services import (
    Arrangement,
    HolidayRange,
    arrangement_of,
    arrangement_validate,
    calendar_draft_create,
    calendar_draft_discard,
    calendar_draft_update,
    calendar_year_request,
)

D = dt.date
TITLE = "国务院办公厅关于2027年部分节假日安排的通知"
# A 2027 notice whose New Year holiday starts on 2026-12-31 (a Thursday).
WITH_DECEMBER = Arrangement(
    holidays=(
        HolidayRange(D(2026, 12, 31), D(2027, 1, 3), "元旦"),
        *DEMO_2027.holidays[1:],
    ),
    makeup_days=(D(2027, 1, 9), *DEMO_2027.makeup_days),
)


@pytest.fixture
def sysadmin2(make_user):
    return make_user(Role.SYSTEM_ADMIN, username="sysadmin2")


def _draft(users, arrangement=DEMO_2027, **kwargs):
    return calendar_draft_create(
        actor=users[Role.SYSTEM_ADMIN],
        year=2027,
        notice_title=TITLE,
        notice_number="国办发明电〔2026〕9号",
        arrangement=arrangement,
        **kwargs,
    )


@pytest.fixture(autouse=True)
def _frozen_today(settings):
    import time_machine

    with time_machine.travel(dt.datetime(2026, 11, 26, 9, 0, tzinfo=dt.UTC), tick=False):
        yield


# --- Services ------------------------------------------------------------------------------------
def test_draft_does_not_count_until_a_second_person_approves(users, sysadmin2):
    draft = _draft(users)
    assert draft.status == CalendarYear.Status.DRAFT and draft.revision == 1
    assert draft.days.filter(date__year=2027).count() == 365
    assert AuditEvent.objects.filter(event_type="calendar_year.created", object_id=str(draft.pk))
    with pytest.raises(CalendarYearNotPublished):
        add_working_days(D(2026, 12, 10), 20)
    approval = calendar_year_request(actor=users[Role.SYSTEM_ADMIN], calendar_year=draft)
    assert approval.kind == "workdays.calendar_year" and approval.state == "pending"
    draft.refresh_from_db()
    assert draft.is_draft  # asked only
    with pytest.raises(PermissionDenied, match="不能审批自己提出的申请"):
        approval_decide(actor=users[Role.SYSTEM_ADMIN], request=approval, approve=True)
    with pytest.raises(PermissionDenied):
        approval_decide(actor=users[Role.LEAD_SECTION], request=approval, approve=True)
    approval_decide(actor=sysadmin2, request=approval, approve=True)
    approved = CalendarYear.objects.get(pk=draft.pk)
    assert approved.status == CalendarYear.Status.PUBLISHED
    assert approved.approved_by == sysadmin2 and approved.approved_at is not None
    event = AuditEvent.objects.get(event_type="calendar_year.published")
    assert event.actor == sysadmin2 and event.detail["after"]["year"] == 2027
    assert event.detail["approval"] == approval.pk
    assert AuditEvent.objects.filter(
        event_type="approval.approved", object_id=str(approval.pk), actor=sysadmin2
    ).exists()
    # 2026-12-10 + 20: 12-11, 14-18, 21-25, 28-31 (15), then 2027-01-04..08 → 2027-01-08.
    assert add_working_days(D(2026, 12, 10), 20) == D(2027, 1, 8)
    # Spring Festival 2027 (demo): 02-05..02-13 off, 02-20 worked.
    assert add_working_days(D(2027, 2, 4), 1) == D(2027, 2, 15)


def test_security_admin_may_approve(users):
    draft = _draft(users)
    calendar_approved(approver=users[Role.SECURITY_ADMIN], calendar_year=draft)
    assert CalendarYear.objects.get(pk=draft.pk).is_published


def test_only_system_admin_enters(users):
    for role in (Role.SECURITY_ADMIN, Role.LEAD_SECTION, Role.DISCIPLINE):
        with pytest.raises(PermissionDenied):
            calendar_draft_create(
                actor=users[role],
                year=2027,
                notice_title=TITLE,
                notice_number="",
                arrangement=DEMO_2027,
            )


def test_new_year_holiday_may_start_in_the_previous_december(users, sysadmin2):
    assert add_working_days(D(2026, 12, 30), 1) == D(2026, 12, 31)
    draft = _draft(users, WITH_DECEMBER)
    assert CalendarDay.objects.get(calendar_year=draft, date=D(2026, 12, 31)).kind == "holiday"
    assert add_working_days(D(2026, 12, 30), 1) == D(2026, 12, 31)  # the draft does not count
    calendar_approved(approver=sysadmin2, calendar_year=draft)
    assert add_working_days(D(2026, 12, 30), 1) == D(2027, 1, 4)
    assert add_working_days(D(2027, 1, 8), 1) == D(2027, 1, 9)  # make-up Saturday
    # The published 2026 revision itself is untouched; the 2027 notice overlays its December.
    seeded_2026 = CalendarYear.objects.get(year=2026, status="published")
    assert (
        CalendarDay.objects.get(calendar_year=seeded_2026, date=D(2026, 12, 31)).kind == "workday"
    )


@pytest.mark.parametrize(
    ("holidays", "makeup", "message"),
    [
        ([HolidayRange(D(2026, 11, 30), D(2027, 1, 1), "元旦")], [], "超出 2027 年通知的范围"),
        ([HolidayRange(D(2027, 1, 3), D(2027, 1, 1), "元旦")], [], "结束日期早于开始日期"),
        ([HolidayRange(D(2027, 1, 1), D(2027, 1, 3), " ")], [], "请填写节日名称"),
        (
            [
                HolidayRange(D(2027, 1, 1), D(2027, 1, 3), "元旦"),
                HolidayRange(D(2027, 1, 3), D(2027, 1, 4), "其他"),
            ],
            [],
            "假期重叠",
        ),
        ([HolidayRange(D(2027, 1, 1), D(2027, 1, 3), "元旦")], [D(2027, 1, 5)], "不是周六或周日"),
        (
            [HolidayRange(D(2027, 1, 1), D(2027, 1, 3), "元旦")],
            [D(2027, 1, 2)],
            "既是节假日又是调休上班日",
        ),
        ([HolidayRange(D(2027, 1, 1), D(2027, 1, 30), "元旦")], [], "连续假期超过"),
        ([], [], "至少录入一个法定节假日"),
    ],
)
def test_arrangement_validation(holidays, makeup, message):
    with pytest.raises(ValidationError) as info:
        arrangement_validate(2027, Arrangement(tuple(holidays), tuple(makeup)))
    assert any(message in m for m in info.value.messages), info.value.messages


def test_year_range_and_one_draft_per_year(users):
    with pytest.raises(ValidationError, match="年份须在"):
        calendar_draft_create(
            actor=users[Role.SYSTEM_ADMIN],
            year=2028,
            notice_title="x",
            notice_number="",
            arrangement=Arrangement((HolidayRange(D(2028, 1, 1), D(2028, 1, 1), "元旦"),), ()),
        )
    _draft(users)
    with pytest.raises(ValidationError, match="已有待审批的草稿"):
        _draft(users)


def test_draft_edit_by_its_author_only_and_audited(users, sysadmin2):
    draft = _draft(users)
    with pytest.raises(PermissionDenied):
        calendar_draft_update(
            actor=sysadmin2,
            calendar_year=draft,
            notice_title=TITLE,
            notice_number="",
            arrangement=WITH_DECEMBER,
        )
    calendar_draft_update(
        actor=users[Role.SYSTEM_ADMIN],
        calendar_year=draft,
        notice_title=TITLE,
        notice_number="国办发明电〔2026〕10号",
        arrangement=WITH_DECEMBER,
    )
    assert arrangement_of(draft).holidays[0] == HolidayRange(D(2026, 12, 31), D(2027, 1, 3), "元旦")
    event = AuditEvent.objects.get(event_type="calendar_year.updated")
    assert event.detail["before"]["holidays"][0] == ["2027-01-01", "2027-01-03", "元旦"]
    assert event.detail["after"]["holidays"][0] == ["2026-12-31", "2027-01-03", "元旦"]
    assert event.detail["after"]["notice_number"] == "国办发明电〔2026〕10号"


def test_published_year_is_never_edited_in_place(users):
    seeded = CalendarYear.objects.get(year=2026, status="published")
    day = seeded.days.get(date=D(2026, 10, 8))
    day.kind = "holiday"
    with pytest.raises(ValidationError):
        day.save()
    with pytest.raises(ValidationError):
        day.delete()
    with pytest.raises(ValidationError, match="只能修改草稿"):
        calendar_draft_update(
            actor=users[Role.SYSTEM_ADMIN],
            calendar_year=seeded,
            notice_title="x",
            notice_number="",
            arrangement=arrangement_of(seeded),
            reason="r",
        )
    with pytest.raises(ValidationError, match="不是待审批的草稿"):
        calendar_year_request(actor=users[Role.SYSTEM_ADMIN], calendar_year=seeded)


def test_correction_is_a_new_revision_and_supersedes(users, sysadmin2):
    seeded = CalendarYear.objects.get(year=2026, status="published")
    original = arrangement_of(seeded)
    assert add_working_days(D(2026, 11, 2), 1) == D(2026, 11, 3)
    corrected = Arrangement(
        (*original.holidays, HolidayRange(D(2026, 11, 3), D(2026, 11, 3), "演示更正")),
        original.makeup_days,
    )
    with pytest.raises(ValidationError, match="更正须填写更正原因"):
        calendar_draft_create(
            actor=users[Role.SYSTEM_ADMIN],
            year=2026,
            notice_title=seeded.notice_title,
            notice_number="",
            arrangement=corrected,
        )
    draft = calendar_draft_create(
        actor=users[Role.SYSTEM_ADMIN],
        year=2026,
        notice_title=seeded.notice_title,
        notice_number="",
        arrangement=corrected,
        reason="核对通知原文",
    )
    assert draft.revision == 2
    assert add_working_days(D(2026, 11, 2), 1) == D(2026, 11, 3)  # until approved
    calendar_approved(approver=sysadmin2, calendar_year=draft)
    assert add_working_days(D(2026, 11, 2), 1) == D(2026, 11, 4)
    seeded.refresh_from_db()
    assert seeded.status == CalendarYear.Status.SUPERSEDED
    assert seeded.days.get(date=D(2026, 11, 3)).kind == "workday"  # history kept as it was
    event = AuditEvent.objects.get(event_type="calendar_year.published")
    assert event.detail["superseded_revision"] == 1 and event.reason == "核对通知原文"


def test_the_entrant_cannot_approve_a_publication_another_admin_asked_for(users, sysadmin2):
    draft = _draft(users)  # entered by users[SYSTEM_ADMIN]
    approval = calendar_year_request(actor=sysadmin2, calendar_year=draft)
    with pytest.raises(PermissionDenied, match="录入人不能审批"):
        approval_decide(actor=users[Role.SYSTEM_ADMIN], request=approval, approve=True)
    approval_decide(actor=users[Role.SECURITY_ADMIN], request=approval, approve=True)
    assert CalendarYear.objects.get(pk=draft.pk).is_published


def test_a_refused_publication_needs_a_reason_and_leaves_the_draft(users):
    draft = _draft(users)
    approval = calendar_year_request(actor=users[Role.SYSTEM_ADMIN], calendar_year=draft)
    with pytest.raises(ValidationError, match="拒绝理由"):
        approval_decide(actor=users[Role.SECURITY_ADMIN], request=approval, approve=False)
    approval_decide(
        actor=users[Role.SECURITY_ADMIN], request=approval, approve=False, reason="文号有误"
    )
    draft.refresh_from_db()
    assert draft.is_draft and draft.approved_by is None
    assert AuditEvent.objects.get(event_type="approval.refused").reason == "文号有误"
    # the entrant may fix it and ask again
    again = calendar_year_request(actor=users[Role.SYSTEM_ADMIN], calendar_year=draft)
    assert again.state == "pending"


def test_a_draft_edited_after_the_request_fails_at_approval_with_a_clear_message(users):
    draft = _draft(users)
    approval = calendar_year_request(actor=users[Role.SYSTEM_ADMIN], calendar_year=draft)
    with time_machine.travel(dt.datetime(2026, 11, 26, 10, 0, tzinfo=dt.UTC), tick=False):
        calendar_draft_update(
            actor=users[Role.SYSTEM_ADMIN],
            calendar_year=draft,
            notice_title=TITLE,
            notice_number="国办发明电〔2026〕10号",
            arrangement=DEMO_2027,
        )
        with pytest.raises(ValidationError, match="草稿已修改"):
            approval_decide(actor=users[Role.SECURITY_ADMIN], request=approval, approve=True)
    draft.refresh_from_db()
    assert draft.is_draft
    approval.refresh_from_db()
    assert approval.state == "pending"


def test_a_draft_with_a_pending_request_is_not_discarded(users):
    draft = _draft(users)
    calendar_year_request(actor=users[Role.SYSTEM_ADMIN], calendar_year=draft)
    with pytest.raises(ValidationError, match="待审批的发布申请"):
        calendar_draft_discard(actor=users[Role.SECURITY_ADMIN], calendar_year=draft, reason="x")
    assert CalendarYear.objects.get(pk=draft.pk).is_draft


def test_a_publication_request_is_seen_by_the_admins_and_the_discipline_group_read_only(
    users, client
):
    draft = _draft(users)
    approval = calendar_year_request(actor=users[Role.SYSTEM_ADMIN], calendar_year=draft)
    url = reverse("approvals:detail", args=[approval.pk])
    assert_role_access(
        users, url, [Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN, Role.DISCIPLINE, Role.AUDIT_ADMIN]
    )
    client.force_login(users[Role.DISCIPLINE])
    assert "decision-form" not in client.get(url).content.decode()
    decide = reverse("approvals:decide", args=[approval.pk])
    assert client.post(decide, {"decision": "approve"}).status_code == 403
    client.force_login(users[Role.SECURITY_ADMIN])
    assert "decision-form" in client.get(url).content.decode()
    assert CalendarYear.objects.get(pk=draft.pk).is_draft


def test_discard(users):
    draft = _draft(users)
    with pytest.raises(ValidationError):
        calendar_draft_discard(actor=users[Role.SECURITY_ADMIN], calendar_year=draft, reason="")
    calendar_draft_discard(actor=users[Role.SECURITY_ADMIN], calendar_year=draft, reason="文号有误")
    draft.refresh_from_db()
    assert draft.status == CalendarYear.Status.DISCARDED
    assert AuditEvent.objects.get(event_type="calendar_year.discarded").reason == "文号有误"
    again = _draft(users)  # a new draft may be entered
    assert again.revision == 2


def test_diff_against_plain_year(users):
    draft = _draft(users, WITH_DECEMBER)
    rows = {row.date: row for row in diff_against_plain(revision_days(draft))}
    assert rows[D(2026, 12, 31)].before == "workday" and rows[D(2026, 12, 31)].after == "holiday"
    assert rows[D(2027, 1, 9)].before == "weekend" and rows[D(2027, 1, 9)].after == "makeup"
    assert D(2027, 1, 2) in rows  # Saturday inside the holiday: weekend → holiday
    assert D(2027, 1, 4) not in rows  # an ordinary Monday


# --- Views ---------------------------------------------------------------------------------------
ALL = list(Role)


def test_read_pages_are_open_to_every_role(users):
    draft = _draft(users)
    for url in (
        reverse("workdays:calendar_index"),
        reverse("workdays:calendar_year", args=[2026]),
        reverse("workdays:calendar_year", args=[2027]),
        reverse("workdays:calendar_revision", args=[draft.pk]),
    ):
        assert_role_access(users, url, ALL)


def test_entry_form_is_for_system_admin_only(users):
    assert_role_access(users, reverse("workdays:calendar_draft_new"), [Role.SYSTEM_ADMIN])


def test_request_and_discard_permissions(users, sysadmin2):
    draft = _draft(users)
    url = reverse("workdays:calendar_request", args=[draft.pk])
    assert_role_access(users, url, [Role.SYSTEM_ADMIN], method="post")
    draft.refresh_from_db()
    assert draft.is_draft  # asked only
    approval = ApprovalRequest.objects.get(kind="workdays.calendar_year", object_id=str(draft.pk))
    approval_decide(actor=users[Role.SECURITY_ADMIN], request=approval, approve=True)
    draft.refresh_from_db()
    assert draft.is_published and draft.approved_by == users[Role.SECURITY_ADMIN]
    discard = reverse("workdays:calendar_discard", args=[draft.pk])
    assert_role_access(
        users,
        discard,
        [Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN],
        method="post",
        data={"reason": "x"},
    )
    draft.refresh_from_db()
    assert draft.is_published  # a published year cannot be discarded


def test_edit_permissions(users, sysadmin2, client):
    draft = _draft(users)
    url = reverse("workdays:calendar_draft_edit", args=[draft.pk])
    assert_role_access(users, url, [Role.SYSTEM_ADMIN])
    client.force_login(sysadmin2)
    assert client.get(url).status_code == 403  # not the author


def test_enter_and_approve_through_the_screens(users, sysadmin2, client_for, client):
    admin = client_for(Role.SYSTEM_ADMIN)
    page = admin.get(reverse("workdays:calendar_draft_new"))
    assert page.status_code == 200 and "2027" in page.content.decode()
    response = admin.post(
        reverse("workdays:calendar_draft_new"),
        {
            "year": "2027",
            "notice_title": TITLE,
            "notice_number": "",
            "holidays": "2026年12月31日 至 2027年1月3日 元旦\n2027/2/5~2027/2/13 春节\n2027-05-01 劳动节",
            "makeup_days": "2027-01-09、2027-02-20",
        },
    )
    draft = CalendarYear.objects.get(year=2027)
    assert response.status_code == 302
    assert response["Location"] == reverse("workdays:calendar_revision", args=[draft.pk])
    assert arrangement_of(draft).makeup_days == (D(2027, 1, 9), D(2027, 2, 20))
    detail = admin.get(response["Location"]).content.decode()
    assert "与普通周一至周五日历的差异" in detail and "2026-12-31" in detail
    asked = admin.post(reverse("workdays:calendar_request", args=[draft.pk]))
    approval = ApprovalRequest.objects.get(kind="workdays.calendar_year", object_id=str(draft.pk))
    assert asked["Location"] == reverse("approvals:detail", args=[approval.pk])
    detail = admin.get(response["Location"]).content.decode()
    assert "发布申请待审批" in detail
    assert reverse("workdays:calendar_request", args=[draft.pk]) not in detail
    assert "decision-form" not in admin.get(asked["Location"]).content.decode()  # the author
    client.force_login(sysadmin2)
    assert "decision-form" in client.get(asked["Location"]).content.decode()
    client.post(reverse("approvals:decide", args=[approval.pk]), {"decision": "approve"})
    draft.refresh_from_db()
    assert draft.is_published
    year_page = client.get(reverse("workdays:calendar_year", args=[2027])).content.decode()
    assert "春节" in year_page and "cal-makeup" in year_page


def test_form_errors_are_shown(client_for):
    admin = client_for(Role.SYSTEM_ADMIN)
    response = admin.post(
        reverse("workdays:calendar_draft_new"),
        {
            "year": "2027",
            "notice_title": TITLE,
            "holidays": "元旦放三天",
            "makeup_days": "2027-01-05",
        },
    )
    body = response.content.decode()
    assert response.status_code == 200 and "格式不对" in body
    response = admin.post(
        reverse("workdays:calendar_draft_new"),
        {
            "year": "2027",
            "notice_title": TITLE,
            "holidays": "2027-01-01 至 2027-01-03 元旦",
            "makeup_days": "2027-01-05",
        },
    )
    assert "不是周六或周日" in response.content.decode()
    assert not CalendarYear.objects.filter(year=2027).exists()


def test_correction_screen_prefills_the_published_year(client_for):
    admin = client_for(Role.SYSTEM_ADMIN)
    body = admin.get(reverse("workdays:calendar_draft_new") + "?correct=2026").content.decode()
    assert "2026-10-01 至 2026-10-07 国庆节" in body and "2026-10-10" in body


def test_year_page_shows_the_month_grid(client_for):
    body = client_for(Role.DISCIPLINE).get(reverse("workdays:calendar_year", args=[2026]))
    html = body.content.decode()
    assert "国庆节" in html and "cal-holiday" in html and "工作日 " in html
    unpublished = client_for(Role.INSPECTOR).get(reverse("workdays:calendar_year", args=[2030]))
    assert unpublished.status_code == 404


def test_entry_button_hidden_while_a_draft_waits(users, client_for):
    url = reverse("workdays:calendar_index")
    admin = client_for(Role.SYSTEM_ADMIN)
    assert "录入 2027 年节假日安排" in admin.get(url).content.decode()
    _draft(users)
    body = admin.get(url).content.decode()
    assert "录入 2027 年节假日安排" not in body and "待审批的草稿" in body


def test_publication_sends_a_signal_after_commit(users, django_capture_on_commit_callbacks):
    from workdays.signals import calendar_year_published

    received = []

    def handler(sender, calendar_year, **kwargs):
        received.append(calendar_year.year)

    calendar_year_published.connect(handler)
    try:
        draft = _draft(users)
        with django_capture_on_commit_callbacks(execute=True):
            calendar_approved(approver=users[Role.SECURITY_ADMIN], calendar_year=draft)
    finally:
        calendar_year_published.disconnect(handler)
    assert received == [2027]


def test_year_page_shows_the_december_set_by_next_years_notice(users, sysadmin2, client_for):
    draft = _draft(users, WITH_DECEMBER)
    reader = client_for(Role.DISCIPLINE)
    revision_page = reader.get(reverse("workdays:calendar_revision", args=[draft.pk]))
    assert "本通知涉及上一年 12 月的日期" in revision_page.content.decode()
    marker = 'title="2026-12-31 法定节假日 元旦"'
    assert marker not in reader.get(reverse("workdays:calendar_year", args=[2026])).content.decode()
    calendar_approved(approver=sysadmin2, calendar_year=draft)
    assert marker in reader.get(reverse("workdays:calendar_year", args=[2026])).content.decode()
