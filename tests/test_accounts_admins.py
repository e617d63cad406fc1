"""三员分立 for the administrators themselves (issue 21, finding 7): the probe's security admin
reset the audit admin's password and read the audit log as them, reset their own password, and
nothing stopped the last security admin from being deactivated. Each walk-around, refused."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse
from django.utils.html import escape

from accounts.models import User
from accounts.roles import ADMIN_ROLES, Role
from accounts.services import user_reset_password, user_set_roles, user_update
from approvals.models import ApprovalRequest
from approvals.services import approval_decide, approval_request
from audit.models import AuditEvent
from core.models import Notification
from tests.conftest import PASSWORD

KIND = "accounts.admin_password_reset"
ADMIN_ROLES_ORDER = (Role.SECURITY_ADMIN, Role.SYSTEM_ADMIN, Role.AUDIT_ADMIN)


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _ask(client, target, reason="本人忘记密码，电话申请重置"):
    return client.post(
        reverse("approvals:create"),
        {"kind": KIND, "object_id": target.pk, "reason": reason},
        follow=True,
    )


# --- the walk-around: reset an admin's password, log in as them -------------------------------
def test_the_security_admin_cannot_reset_an_admins_password_alone(users):
    """The probe: 安全管理员 resets 审计管理员's password, logs in as them, reads the audit log."""
    auditor = users[Role.AUDIT_ADMIN]
    client = _client(users[Role.SECURITY_ADMIN])
    response = client.post(reverse("accounts:user_password_reset", args=[auditor.pk]), follow=True)
    assert "须由另一类管理员" in response.content.decode()
    assert "password" not in (response.context or {})
    auditor.refresh_from_db()
    assert auditor.check_password(PASSWORD) and not auditor.must_change_password
    assert not AuditEvent.objects.filter(event_type="auth.password_reset").exists()
    with pytest.raises(ValidationError):
        user_reset_password(actor=users[Role.SECURITY_ADMIN], user=users[Role.SYSTEM_ADMIN])


def test_nobody_resets_their_own_password_through_the_reset_path(users):
    admin = users[Role.SECURITY_ADMIN]
    response = _client(admin).post(
        reverse("accounts:user_password_reset", args=[admin.pk]), follow=True
    )
    assert "不能通过重置功能修改自己的密码" in response.content.decode()
    admin.refresh_from_db()
    assert admin.check_password(PASSWORD)
    # Nor by asking for it as an approval.
    response = _ask(_client(admin), admin)
    assert "不能通过重置功能修改自己的密码" in response.content.decode()
    assert not ApprovalRequest.objects.exists()


def test_an_admins_reset_needs_an_admin_of_another_role_in_their_own_session(users, make_user):
    security, system, auditor = (users[r] for r in ADMIN_ROLES_ORDER)
    second_security = make_user(Role.SECURITY_ADMIN, username="secadmin2")
    response = _ask(_client(security), auditor)
    assert "申请已提交" in response.content.decode()
    approval = ApprovalRequest.objects.get()
    assert set(approval.approver_roles.values_list("name", flat=True)) == {
        Role.SYSTEM_ADMIN,
        Role.AUDIT_ADMIN,
    }
    decide = reverse("approvals:decide", args=[approval.pk])
    # Not the requester, not another admin of the requester's role, not the account holder.
    for who in (security, second_security, auditor):
        response = _client(who).post(decide, {"decision": "approve"})
        assert response.status_code == 403, who.username
    approval.refresh_from_db()
    assert approval.state == ApprovalRequest.State.PENDING
    auditor.refresh_from_db()
    assert auditor.check_password(PASSWORD)

    # The system admin approves in their own session and alone sees the one-time password.
    response = _client(system).post(decide, {"decision": "approve"})
    assert response.status_code == 200
    password = response.context["result"]["password"]
    assert escape(password) in response.content.decode()  # shown as written (& etc. escaped)
    auditor.refresh_from_db()
    assert auditor.check_password(password) and auditor.must_change_password
    requester_view = _client(security).get(reverse("approvals:detail", args=[approval.pk]))
    assert password not in requester_view.content.decode()
    assert "已批准" in requester_view.content.decode()

    reset = AuditEvent.objects.get(event_type="auth.password_reset")
    assert reset.actor == system and reset.object_id == str(auditor.pk)
    assert reset.detail["approval"] == approval.pk
    assert password not in str(reset.detail)
    for event_type in ("approval.requested", "approval.approved"):
        assert AuditEvent.objects.filter(event_type=event_type).count() == 1
    # The holder and the audit admins are told; the approvers were asked.
    told = set(Notification.objects.values_list("recipient__username", "title"))
    assert (auditor.username, "您的密码已被重置") in told
    assert any(u == system.username and t.startswith("待审批") for u, t in told)
    assert any(u == security.username and "已批准" in t for u, t in told)
    assert any(u == auditor.username and "已提出申请" in t for u, t in told)


def test_every_audit_admin_is_told_of_an_admin_reset(users, make_user):
    other_auditor = make_user(Role.AUDIT_ADMIN, username="auditadmin2")
    approval = approval_request(
        actor=users[Role.SYSTEM_ADMIN],
        kind=KIND,
        object_id=users[Role.SECURITY_ADMIN].pk,
        reason="安全管理员忘记密码",
    )
    approval_decide(actor=other_auditor, request=approval, approve=True)
    for auditor in (users[Role.AUDIT_ADMIN], other_auditor):
        assert Notification.objects.filter(recipient=auditor, key__startswith="approval-").exists()


def test_a_refusal_needs_a_reason_and_changes_nothing(users):
    approval = approval_request(
        actor=users[Role.SECURITY_ADMIN],
        kind=KIND,
        object_id=users[Role.SYSTEM_ADMIN].pk,
        reason="系统管理员忘记密码",
    )
    auditor = _client(users[Role.AUDIT_ADMIN])
    decide = reverse("approvals:decide", args=[approval.pk])
    response = auditor.post(decide, {"decision": "refuse", "reason": ""}, follow=True)
    assert "请填写拒绝理由" in response.content.decode()
    response = auditor.post(decide, {"decision": "refuse", "reason": "未核实本人身份"}, follow=True)
    approval.refresh_from_db()
    assert approval.state == "refused" and approval.decision_reason == "未核实本人身份"
    assert users[Role.SYSTEM_ADMIN].check_password(PASSWORD)
    assert not AuditEvent.objects.filter(event_type="auth.password_reset").exists()
    assert AuditEvent.objects.get(event_type="approval.refused").reason == "未核实本人身份"


def test_ordinary_accounts_are_still_reset_by_the_security_admin_and_the_holder_told(users):
    target = users[Role.INSPECTOR]
    response = _client(users[Role.SECURITY_ADMIN]).post(
        reverse("accounts:user_password_reset", args=[target.pk])
    )
    assert response.status_code == 200 and target.username in response.content.decode()
    assert Notification.objects.filter(recipient=target, title="您的密码已被重置").exists()
    with pytest.raises(ValidationError):
        approval_request(
            actor=users[Role.SECURITY_ADMIN], kind=KIND, object_id=target.pk, reason="x"
        )


def test_only_the_account_keepers_may_ask_for_an_admin_reset(users):
    for role in (Role.AUDIT_ADMIN, Role.LEAD_SECTION):
        with pytest.raises(PermissionDenied):
            approval_request(
                actor=users[role], kind=KIND, object_id=users[Role.SYSTEM_ADMIN].pk, reason="x"
            )


def test_the_user_page_offers_the_request_for_an_admin_and_the_reset_for_others(users):
    client = _client(users[Role.SECURITY_ADMIN])
    admin_page = client.get(reverse("accounts:user_detail", args=[users[Role.AUDIT_ADMIN].pk]))
    assert "申请重置密码" in admin_page.content.decode()
    assert reverse("accounts:user_password_reset", args=[users[Role.AUDIT_ADMIN].pk]) not in (
        admin_page.content.decode()
    )
    other = client.get(reverse("accounts:user_detail", args=[users[Role.INSPECTOR].pk]))
    assert reverse("accounts:user_password_reset", args=[users[Role.INSPECTOR].pk]) in (
        other.content.decode()
    )


# --- the last active account of each admin role ---------------------------------------------
@pytest.mark.parametrize("role", sorted(ADMIN_ROLES))
def test_the_last_active_admin_of_a_role_cannot_be_deactivated(users, role):
    last = users[role]
    # (The service is called directly: for the last system admin the actor is someone else.)
    actor = users[Role.SYSTEM_ADMIN if role != Role.SYSTEM_ADMIN else Role.SECURITY_ADMIN]
    with pytest.raises(ValidationError, match=f"最后一个在用的{role}"):
        user_update(actor=actor, user=last, is_active=False)
    last.refresh_from_db()
    assert last.is_active


def test_the_view_refuses_deactivating_the_last_security_admin_with_the_reason(users):
    target = users[Role.SECURITY_ADMIN]
    response = _client(users[Role.SYSTEM_ADMIN]).post(
        reverse("accounts:user_edit", args=[target.pk]),
        {"full_name": target.full_name, "section": target.section_id},  # is_active unticked
    )
    assert response.status_code == 200
    assert "最后一个在用的安全管理员账户" in response.content.decode()
    target.refresh_from_db()
    assert target.is_active


def test_with_a_second_active_holder_the_first_may_go(users, make_user):
    make_user(Role.SECURITY_ADMIN, username="secadmin2")
    user_update(actor=users[Role.SYSTEM_ADMIN], user=users[Role.SECURITY_ADMIN], is_active=False)
    users[Role.SECURITY_ADMIN].refresh_from_db()
    assert not users[Role.SECURITY_ADMIN].is_active


def test_nobody_deactivates_their_own_account(users, make_user):
    make_user(Role.SYSTEM_ADMIN, username="sysadmin2")
    admin = users[Role.SYSTEM_ADMIN]
    with pytest.raises(ValidationError, match="不能停用自己的账户"):
        user_update(actor=admin, user=admin, is_active=False)


@pytest.mark.parametrize("role", [Role.AUDIT_ADMIN, Role.SYSTEM_ADMIN])
def test_the_last_active_admin_of_a_role_cannot_lose_it(users, role, make_user):
    security = users[Role.SECURITY_ADMIN]
    inactive = make_user(role, username="retired", is_active=False)
    with pytest.raises(ValidationError, match=f"最后一个在用的{role}"):
        user_set_roles(actor=security, user=users[role], roles=[Role.INSPECTOR], reason="调岗")
    assert role in users[role].groups.values_list("name", flat=True)
    response = _client(security).post(
        reverse("accounts:user_roles", args=[users[role].pk]),
        {"roles": [Role.INSPECTOR], "reason": "调岗"},
    )
    assert response.status_code == 200 and f"最后一个在用的{role}" in response.content.decode()
    assert inactive.pk  # an inactive holder does not count


def test_a_role_may_pass_to_someone_else_first(users, make_user):
    successor = make_user(Role.INSPECTOR, username="successor")
    security = users[Role.SECURITY_ADMIN]
    user_set_roles(actor=security, user=successor, roles=[Role.AUDIT_ADMIN], reason="接任")
    user_set_roles(
        actor=security, user=users[Role.AUDIT_ADMIN], roles=[Role.INSPECTOR], reason="调岗"
    )
    assert set(users[Role.AUDIT_ADMIN].groups.values_list("name", flat=True)) == {Role.INSPECTOR}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_admins_deactivated_at_once_leave_one(users, make_user):
    """Two system admins each deactivate one of the last two security admins at the same moment:
    the holders are locked, so one deactivation passes and the other sees it and is refused."""
    import threading

    from django.db import connection

    second = make_user(Role.SECURITY_ADMIN, username="secadmin2")
    actors = [users[Role.SYSTEM_ADMIN], make_user(Role.SYSTEM_ADMIN, username="sysadmin2")]
    barrier = threading.Barrier(2)
    results = []

    def run(actor, target):
        try:
            barrier.wait()
            user_update(actor=actor, user=target, is_active=False)
            results.append("ok")
        except Exception as exc:  # a deadlock too must show in the result
            results.append(exc)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=run, args=(actor, target))
        for actor, target in zip(actors, [users[Role.SECURITY_ADMIN], second], strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results.count("ok") == 1 and len(results) == 2, results
    (refused,) = [r for r in results if r != "ok"]
    assert isinstance(refused, ValidationError) and "最后一个在用的安全管理员" in str(refused)
    assert User.objects.filter(groups__name=Role.SECURITY_ADMIN, is_active=True).count() == 1
