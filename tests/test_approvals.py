"""The approvals app: one pending-request flow for every two-person rule (docs/contracts.md,
"Login, passwords, sessions and approvals"). Exercised with its first kind, the admin password
reset; the rules here hold for any kind."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.roles import Role
from accounts.services import user_set_roles
from approvals.models import ApprovalRequest
from approvals.registry import approval_kinds
from approvals.selectors import approvals_to_decide
from approvals.services import approval_decide, approval_request, approval_withdraw
from audit.models import AuditEvent
from tests.permissions import assert_role_access

KIND = "accounts.admin_password_reset"


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def pending(users):
    """The security admin asks to reset the system admin's password (approvers: 安全管理员 is
    the requester's role, so 系统管理员 — not the holder — and 审计管理员)."""
    return approval_request(
        actor=users[Role.SECURITY_ADMIN],
        kind=KIND,
        object_id=users[Role.SYSTEM_ADMIN].pk,
        reason="系统管理员忘记密码，本人到场申请",
    )


def test_the_kinds_are_collected_from_the_apps():
    assert approval_kinds()[KIND].label == "重置管理员密码"


def test_the_list_opens_for_every_role(users):
    assert_role_access(users, reverse("approvals:list"), set(Role))


def test_a_request_is_seen_by_those_concerned_only(users, pending):
    url = reverse("approvals:detail", args=[pending.pk])
    allowed = {Role.SECURITY_ADMIN, Role.SYSTEM_ADMIN, Role.AUDIT_ADMIN, Role.DISCIPLINE}
    assert_role_access(users, url, allowed)


def test_outsiders_cannot_decide_or_withdraw(users, pending):
    for role in (Role.INSPECTOR, Role.LEAD_SECTION):
        client = _client(users[role])
        assert (
            client.post(
                reverse("approvals:decide", args=[pending.pk]), {"decision": "approve"}
            ).status_code
            == 403
        )
        assert client.post(reverse("approvals:withdraw", args=[pending.pk])).status_code == 403
    # The discipline group reads everything and changes nothing.
    discipline = _client(users[Role.DISCIPLINE])
    assert discipline.get(reverse("approvals:detail", args=[pending.pk])).status_code == 200
    response = discipline.post(
        reverse("approvals:decide", args=[pending.pk]), {"decision": "approve"}
    )
    assert response.status_code == 403
    pending.refresh_from_db()
    assert pending.state == "pending"


def test_the_database_refuses_a_decision_by_the_requester(pending):
    with pytest.raises(IntegrityError), transaction.atomic():
        ApprovalRequest.objects.filter(pk=pending.pk).update(
            state="approved", decided_by=pending.requested_by, decided_at=timezone.now()
        )


def test_one_pending_request_per_object(users, pending):
    with pytest.raises(ValidationError, match="已有一份待审批的申请"):
        approval_request(
            actor=users[Role.SECURITY_ADMIN],
            kind=KIND,
            object_id=users[Role.SYSTEM_ADMIN].pk,
            reason="再次申请",
        )
    duplicate = ApprovalRequest(
        kind=pending.kind,
        object_type=pending.object_type,
        object_id=pending.object_id,
        object_label="x",
        reason="x",
        requested_by=pending.requested_by,
        expires_at=pending.expires_at,
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        duplicate.save()


def test_an_expired_request_cannot_be_approved_and_a_new_one_replaces_it(
    users, pending, time_machine
):
    time_machine.move_to(pending.expires_at + dt.timedelta(seconds=1), tick=False)
    with pytest.raises(PermissionDenied, match="已过期"):
        approval_decide(actor=users[Role.AUDIT_ADMIN], request=pending, approve=True)
    assert approvals_to_decide(users[Role.AUDIT_ADMIN]) == []
    fresh = approval_request(
        actor=users[Role.SECURITY_ADMIN],
        kind=KIND,
        object_id=users[Role.SYSTEM_ADMIN].pk,
        reason="重新申请",
    )
    pending.refresh_from_db()
    assert pending.state == "expired" and fresh.is_open
    assert AuditEvent.objects.filter(event_type="approval.expired").count() == 1


def test_only_the_requester_withdraws(users, pending):
    with pytest.raises(PermissionDenied):
        approval_withdraw(actor=users[Role.AUDIT_ADMIN], request=pending)
    response = _client(users[Role.SECURITY_ADMIN]).post(
        reverse("approvals:withdraw", args=[pending.pk]), follow=True
    )
    assert "申请已撤回" in response.content.decode()
    pending.refresh_from_db()
    assert pending.state == "withdrawn"
    with pytest.raises(PermissionDenied):
        approval_decide(actor=users[Role.AUDIT_ADMIN], request=pending, approve=True)
    assert AuditEvent.objects.filter(event_type="approval.withdrawn").count() == 1


def test_a_requester_who_lost_the_right_to_ask_gets_no_approval(users, pending, make_user):
    colleague = make_user(Role.SECURITY_ADMIN, username="secadmin2")
    user_set_roles(
        actor=colleague,
        user=users[Role.SECURITY_ADMIN],
        roles=[Role.INSPECTOR],
        reason="调岗",
    )
    with pytest.raises(ValidationError, match="申请人已不再有权"):
        approval_decide(actor=users[Role.AUDIT_ADMIN], request=pending, approve=True)
    pending.refresh_from_db()
    assert pending.state == "pending"


@pytest.mark.parametrize(
    ("reason", "message"), [("  ", "请填写申请理由"), ("长" * 501, "不能超过 500 字")]
)
def test_a_request_needs_a_reason_of_bounded_length(users, reason, message):
    with pytest.raises(ValidationError, match=message):
        approval_request(
            actor=users[Role.SECURITY_ADMIN],
            kind=KIND,
            object_id=users[Role.SYSTEM_ADMIN].pk,
            reason=reason,
        )
    assert not ApprovalRequest.objects.exists()


def test_an_unknown_kind_or_object_is_refused(users):
    with pytest.raises(ValidationError, match="未知的审批类型"):
        approval_request(actor=users[Role.SECURITY_ADMIN], kind="x.y", object_id=1, reason="x")
    with pytest.raises(ValidationError, match="对象不存在"):
        approval_request(actor=users[Role.SECURITY_ADMIN], kind=KIND, object_id="abc", reason="x")
    response = _client(users[Role.SECURITY_ADMIN]).post(
        reverse("approvals:create"), {"kind": "x.y", "object_id": "1", "reason": "x"}, follow=True
    )
    assert "未知的审批类型" in response.content.decode()


def test_a_named_approver_is_the_only_one_who_decides(users, make_user):
    other_auditor = make_user(Role.AUDIT_ADMIN, username="auditadmin2")
    approval = approval_request(
        actor=users[Role.SECURITY_ADMIN],
        kind=KIND,
        object_id=users[Role.SYSTEM_ADMIN].pk,
        reason="x",
        approver=other_auditor,
    )
    with pytest.raises(PermissionDenied, match="指定了其他审批人"):
        approval_decide(actor=users[Role.AUDIT_ADMIN], request=approval, approve=True)
    approval_decide(actor=other_auditor, request=approval, approve=True)
    with pytest.raises(ValidationError, match="另一人"):
        approval_request(
            actor=users[Role.SECURITY_ADMIN],
            kind=KIND,
            object_id=users[Role.AUDIT_ADMIN].pk,
            reason="x",
            approver=users[Role.INSPECTOR],
        )


def test_the_approvers_dashboard_shows_the_request_and_the_requesters_too(users, pending):
    approver = _client(users[Role.AUDIT_ADMIN]).get("/").content.decode()
    assert "待我审批" in approver and pending.object_label in approver
    requester = _client(users[Role.SECURITY_ADMIN]).get("/").content.decode()
    assert "我提出、尚待审批的申请" in requester
    holder = _client(users[Role.SYSTEM_ADMIN]).get("/").content.decode()
    assert "待我审批" not in holder  # the account holder may not decide its own reset
    assert "待我审批" not in _client(users[Role.INSPECTOR]).get("/").content.decode()
