"""The draw's two-person rules on the approvals flow (issue 21 item 4): a void or a post-draw
replacement is asked by one 牵头股室 member and done only when another person of the approver
roles approves it in their own session; nobody types another person's password any more."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.test import Client
from django.urls import reverse

from accounts.roles import Role
from approvals.models import ApprovalRequest
from approvals.selectors import approvals_to_decide
from approvals.services import approval_decide
from audit.models import AuditEvent
from core.models import Notification
from inspections.forms.draws import ReplaceForm, VoidForm
from inspections.models import Draw, DrawReplacement
from inspections.selectors import draws as selectors
from inspections.services import draws as services
from tests.conftest import PASSWORD
from tests.draws_fixtures import DICE, WITNESSES
from tests.permissions import assert_role_access


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def completed(make_task, make_enterprises, roster, lead):
    make_enterprises({"A": 2, "D": 2})
    draw = services.draw_commit(actor=lead, task=make_task())
    return services.draw_perform(
        actor=lead, draw=draw, witnesses=WITNESSES, dice_kind="d6", dice=DICE
    )


@pytest.fixture
def team(completed):
    return selectors.draw_teams(completed)[0]


@pytest.fixture
def void_asked(completed, lead):
    return services.draw_void_request(actor=lead, draw=completed, reason="名单导入有误")


@pytest.fixture
def replace_asked(team, lead):
    return services.draw_replace_request(
        actor=lead, selection=team["selection"], out=team["current"][0], reason="系企业负责人亲属"
    )


def _events(approval, event_type):
    return AuditEvent.objects.filter(
        event_type=event_type, object_type="approvals.approvalrequest", object_id=str(approval.pk)
    )


# --- the finding: no password of another person, in any form, service or page ----------------
def test_no_form_asks_for_the_approvers_password(completed, team, lead):
    assert "approver_password" not in VoidForm.base_fields
    assert "approver_password" not in ReplaceForm.base_fields
    page = _client(lead).get(reverse("inspections:draw_detail", args=[completed.pk]))
    assert 'type="password"' not in page.content.decode()


def test_a_void_post_with_the_approvers_password_only_asks(completed, lead, lead2):
    """The probe: 30 guesses of lead2's password through the void form. Now the field is ignored,
    nothing is voided, and the second try is refused as a second pending request."""
    client = _client(lead)
    url = reverse("inspections:draw_void", args=[completed.pk])
    data = {"reason": "测试", "approver": lead2.pk, "approver_password": "guess"}
    first = client.post(url, data)
    assert first.status_code == 302
    again = client.post(url, {**data, "approver_password": PASSWORD})
    assert again.status_code == 400 and "已有一份待审批的申请" in again.content.decode()
    completed.refresh_from_db()
    assert completed.status == Draw.Status.COMPLETED
    assert ApprovalRequest.objects.filter(kind=services.VOID_KIND).count() == 1
    assert _client(lead2).get(reverse("approvals:list")).status_code == 200  # not locked out


# --- void: request, approve, refuse -------------------------------------------------------------
def test_a_void_is_asked_then_approved_by_another_lead_member_every_step_audited(
    completed, lead, lead2, void_asked
):
    assert _events(void_asked, "approval.requested").get().actor == lead
    assert void_asked.object_label == f"抽取 #{completed.pk}（任务 {completed.task.number}）"
    assert void_asked in approvals_to_decide(lead2)
    assert void_asked not in approvals_to_decide(lead)  # the requester is the operator too
    assert Notification.objects.filter(recipient=lead2, key=f"approval-{void_asked.pk}-requested")
    dashboard = _client(lead2).get(reverse("core:dashboard")).content.decode()
    assert "待我审批" in dashboard and void_asked.object_label in dashboard
    response = _client(lead2).post(
        reverse("approvals:decide", args=[void_asked.pk]), {"decision": "approve"}
    )
    assert response.status_code == 302
    completed.refresh_from_db()
    assert completed.status == Draw.Status.VOIDED
    assert (completed.voided_by, completed.void_approver) == (lead, lead2)
    assert completed.void_reason == "名单导入有误"
    assert _events(void_asked, "approval.approved").get().actor == lead2
    voided = AuditEvent.objects.get(event_type="draw.voided", object_id=str(completed.pk))
    assert voided.detail["approval"] == void_asked.pk
    assert Notification.objects.filter(recipient=lead, key=f"approval-{void_asked.pk}-approved")


def test_a_refused_void_changes_nothing_and_needs_a_reason(completed, lead, lead2, void_asked):
    with pytest.raises(ValidationError, match="拒绝理由"):
        approval_decide(actor=lead2, request=void_asked, approve=False)
    approval_decide(actor=lead2, request=void_asked, approve=False, reason="理由不充分")
    completed.refresh_from_db()
    assert completed.status == Draw.Status.COMPLETED
    assert _events(void_asked, "approval.refused").get().reason == "理由不充分"
    assert not AuditEvent.objects.filter(event_type="draw.voided").exists()
    # refused: a new request may be made
    services.draw_void_request(actor=lead, draw=completed, reason="名单导入有误（补充说明）")


def test_the_requester_cannot_approve_their_own_void(completed, lead, void_asked):
    with pytest.raises(PermissionDenied, match="自己提出"):
        approval_decide(actor=lead, request=void_asked, approve=True)
    response = _client(lead).post(
        reverse("approvals:decide", args=[void_asked.pk]), {"decision": "approve"}
    )
    assert response.status_code == 403
    # and the database refuses it behind the services' back
    with pytest.raises(IntegrityError), transaction.atomic():
        ApprovalRequest.objects.filter(pk=void_asked.pk).update(state="approved", decided_by=lead)
    completed.refresh_from_db()
    assert completed.status == Draw.Status.COMPLETED


def test_only_another_lead_member_who_did_not_operate_the_draw_approves_a_void(
    completed, users, lead, lead2, make_user, lead_section
):
    approval = services.draw_void_request(actor=lead2, draw=completed, reason="名单导入有误")
    for who in (lead, users[Role.SECTION_HEAD], users[Role.SYSTEM_ADMIN]):
        with pytest.raises(PermissionDenied):
            approval_decide(actor=who, request=approval, approve=True)
    assert approval not in approvals_to_decide(lead)  # the operator is not offered it
    third = make_user(Role.LEAD_SECTION, section=lead_section, username="lead_three")
    approval_decide(actor=third, request=approval, approve=True)
    completed.refresh_from_db()
    assert completed.void_approver == third


def test_a_void_approved_after_the_draw_changed_fails_with_a_clear_message(
    completed, lead, lead2, void_asked
):
    # the draw voided meanwhile (here through the kind's change directly: the one path left)
    services.draw_void_perform(actor=lead2, obj=completed, request=void_asked)
    with pytest.raises(ValidationError, match="申请提出后对象已变化：该抽取已作废"):
        approval_decide(actor=lead2, request=void_asked, approve=True)
    void_asked.refresh_from_db()
    assert void_asked.state == "pending"  # the approver refuses it with a reason


def test_a_voided_draw_cannot_be_asked_to_be_voided(completed, lead, lead2, void_asked):
    approval_decide(actor=lead2, request=void_asked, approve=True)
    completed.refresh_from_db()
    with pytest.raises(ValidationError, match="已作废"):
        services.draw_void_request(actor=lead, draw=completed, reason="再作废")


# --- replacement ------------------------------------------------------------------------------
def test_a_replacement_is_asked_then_approved_by_a_section_head(
    completed, team, users, lead, replace_asked
):
    head = users[Role.SECTION_HEAD]
    out = team["current"][0]
    assert not DrawReplacement.objects.exists()
    assert replace_asked in approvals_to_decide(head)
    detail = _client(head).get(reverse("approvals:detail", args=[replace_asked.pk]))
    assert f"{out} 回避" in detail.content.decode()  # the approver sees who leaves
    _client(head).post(
        reverse("approvals:decide", args=[replace_asked.pk]), {"decision": "approve"}
    )
    replacement = DrawReplacement.objects.get()
    assert (replacement.out, replacement.made_by, replacement.approver) == (out, lead, head)
    assert replacement.reason == "系企业负责人亲属"
    assert selectors.draw_verification(completed) == []
    assert _events(replace_asked, "approval.requested").exists()
    assert _events(replace_asked, "approval.approved").get().actor == head
    event = AuditEvent.objects.get(event_type="draw.replacement")
    assert event.actor == head and event.detail["approval"] == replace_asked.pk


def test_a_replacement_is_refused_and_nothing_changes(users, lead, replace_asked):
    approval_decide(
        actor=users[Role.SECTION_HEAD], request=replace_asked, approve=False, reason="不属实"
    )
    assert not DrawReplacement.objects.exists()
    assert _events(replace_asked, "approval.refused").exists()


def test_a_replacement_needs_a_lead_member_or_head_other_than_the_requester(
    users, lead, replace_asked
):
    for who in (lead, users[Role.SECTION_STAFF], users[Role.INSPECTOR], users[Role.DISCIPLINE]):
        with pytest.raises(PermissionDenied):
            approval_decide(actor=who, request=replace_asked, approve=True)
    assert not DrawReplacement.objects.exists()


def test_a_second_pending_replacement_of_the_same_team_is_refused(team, lead, replace_asked):
    with pytest.raises(ValidationError, match="已有一份待审批的申请"):
        services.draw_replace_request(
            actor=lead, selection=team["selection"], out=team["current"][1], reason="另一人回避"
        )


def test_a_replacement_approved_after_the_draw_was_voided_fails(
    completed, users, lead, lead2, replace_asked
):
    void = services.draw_void_request(actor=lead, draw=completed, reason="名单导入有误")
    approval_decide(actor=lead2, request=void, approve=True)
    with pytest.raises(ValidationError, match="对象已变化：只有已完成且未作废的抽取"):
        approval_decide(actor=users[Role.SECTION_HEAD], request=replace_asked, approve=True)
    assert not DrawReplacement.objects.exists()


def test_a_replacement_approved_after_the_team_changed_fails(
    team, users, lead, lead2, replace_asked
):
    # the same team changed meanwhile (a replacement written by another path)
    out = team["current"][1]
    DrawReplacement.objects.create(
        selection=team["selection"],
        out=out,
        into=team["current"][0],
        reason="另案",
        approver=lead2,
        made_by=lead,
    )
    with pytest.raises(ValidationError, match="已有回避替补。本申请已失效"):
        approval_decide(actor=users[Role.SECTION_HEAD], request=replace_asked, approve=True)
    assert DrawReplacement.objects.count() == 1


# --- the views: owner, another section, outsider, discipline ---------------------------------
def test_the_void_and_replace_requests_are_lead_only(users, completed, team):
    void_url = reverse("inspections:draw_void", args=[completed.pk])
    assert_role_access(users, void_url, {Role.LEAD_SECTION}, method="post", data={"reason": "x"})
    replace_url = reverse("inspections:draw_replace", args=[completed.pk, team["selection"].pk])
    assert_role_access(users, replace_url, {Role.LEAD_SECTION})


def test_a_void_request_is_seen_by_lead_members_and_the_discipline_group_only(
    users, lead2, void_asked, make_user, other_section
):
    url = reverse("approvals:detail", args=[void_asked.pk])
    assert_role_access(users, url, {Role.LEAD_SECTION, Role.DISCIPLINE, Role.AUDIT_ADMIN})
    # a section head of another section neither sees nor decides a void
    other_head = make_user(Role.SECTION_HEAD, section=other_section, username="head_other")
    assert _client(other_head).get(url).status_code == 403
    response = _client(other_head).post(
        reverse("approvals:decide", args=[void_asked.pk]), {"decision": "approve"}
    )
    assert response.status_code == 403
    # the approver sees the decision form
    assert "decision-form" in _client(lead2).get(url).content.decode()


def test_the_discipline_group_sees_draw_requests_read_only(
    users, completed, void_asked, replace_asked
):
    client = _client(users[Role.DISCIPLINE])
    for approval in (void_asked, replace_asked):
        page = client.get(reverse("approvals:detail", args=[approval.pk]))
        assert page.status_code == 200 and "decision-form" not in page.content.decode()
        response = client.post(
            reverse("approvals:decide", args=[approval.pk]), {"decision": "approve"}
        )
        assert response.status_code == 403
    listing = client.get(reverse("approvals:list")).content.decode()
    assert void_asked.object_label in listing and replace_asked.object_label in listing
    completed.refresh_from_db()
    assert completed.status == Draw.Status.COMPLETED and not DrawReplacement.objects.exists()


def test_the_draw_page_shows_the_pending_requests_instead_of_the_forms(
    completed, team, lead, void_asked, replace_asked
):
    client = _client(lead)
    page = client.get(reverse("inspections:draw_detail", args=[completed.pk])).content.decode()
    assert reverse("approvals:detail", args=[void_asked.pk]) in page
    assert reverse("approvals:detail", args=[replace_asked.pk]) in page
    assert "提交作废申请" not in page
    replace_page = client.get(
        reverse("inspections:draw_replace", args=[completed.pk, team["selection"].pk])
    ).content.decode()
    assert "办结前不能再提出" in replace_page and "提交回避替补申请" not in replace_page


def test_a_replacement_cannot_be_asked_without_naming_a_current_member(completed, team, lead):
    """The generic approvals form carries no member: refused, no request recorded."""
    response = _client(lead).post(
        reverse("approvals:create"),
        {"kind": services.REPLACE_KIND, "object_id": team["selection"].pk, "reason": "回避"},
        follow=True,
    )
    assert "选择需回避的检查人员" in response.content.decode()
    assert not ApprovalRequest.objects.exists()
    outsider = next(
        i for i in selectors.draw_teams(completed)[1]["current"] if i not in team["current"]
    )
    with pytest.raises(ValidationError, match="不在该企业的当前检查组中"):
        services.draw_replace_request(
            actor=lead, selection=team["selection"], out=outsider, reason="回避"
        )
    assert not ApprovalRequest.objects.exists()
