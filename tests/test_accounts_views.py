import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.test import Client

from accounts.models import User
from accounts.roles import Role
from accounts.services import user_set_roles
from audit.models import AuditEvent
from tests.permissions import assert_role_access


def test_user_list_is_for_system_and_security_admins(users):
    assert_role_access(users, "/accounts/users/", {Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN})


def test_only_system_admin_creates_users(users):
    assert_role_access(users, "/accounts/users/add/", {Role.SYSTEM_ADMIN})


def test_user_create_issues_a_one_time_password_and_audits(client_for, section):
    client = client_for(Role.SYSTEM_ADMIN)
    response = client.post(
        "/accounts/users/add/",
        {
            "username": "Newman",
            "full_name": "新用户",
            "section": section.pk,
            "mobile": "",
            "email": "",
            "is_active": "on",
        },
    )
    assert response.status_code == 200
    user = User.objects.get(username="newman")
    assert user.must_change_password
    password = response.context["password"]
    assert user.check_password(password)
    event = AuditEvent.objects.get(event_type="user.created")
    assert password not in str(event.detail)


def test_only_security_admin_grants_roles(users):
    target = users[Role.INSPECTOR]
    assert_role_access(users, f"/accounts/users/{target.pk}/roles/", {Role.SECURITY_ADMIN})


def test_security_admin_grants_roles_with_audit(client_for, users):
    target = users[Role.INSPECTOR]
    client = client_for(Role.SECURITY_ADMIN)
    response = client.post(
        f"/accounts/users/{target.pk}/roles/",
        {"roles": [Role.INSPECTOR, Role.SECTION_STAFF], "reason": "岗位调整"},
    )
    assert response.status_code == 302
    assert set(target.groups.values_list("name", flat=True)) == {Role.INSPECTOR, Role.SECTION_STAFF}
    event = AuditEvent.objects.get(event_type="auth.roles_changed")
    assert event.detail["after"] == sorted([Role.INSPECTOR, Role.SECTION_STAFF])
    assert event.reason == "岗位调整"


@pytest.mark.parametrize(
    "pair",
    [
        (Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN),
        (Role.SYSTEM_ADMIN, Role.AUDIT_ADMIN),
        (Role.SECURITY_ADMIN, Role.AUDIT_ADMIN),
    ],
)
def test_three_admin_roles_are_mutually_exclusive(users, pair):
    target = users[Role.INSPECTOR]
    with pytest.raises(ValidationError):
        user_set_roles(actor=users[Role.SECURITY_ADMIN], user=target, roles=list(pair), reason="x")
    # The guard holds outside the service too (shell, scripts).
    target.groups.set(Group.objects.filter(name=pair[0]))
    second = Group.objects.get(name=pair[1])
    with pytest.raises(ValidationError), transaction.atomic():
        target.groups.add(second)
    with pytest.raises(ValidationError), transaction.atomic():
        second.user_set.add(target)
    assert set(target.groups.values_list("name", flat=True)) == {pair[0]}


def test_security_admin_cannot_change_own_roles(users):
    admin = users[Role.SECURITY_ADMIN]
    with pytest.raises(ValidationError):
        user_set_roles(actor=admin, user=admin, roles=[Role.LEAD_SECTION], reason="x")


def test_system_admin_cannot_grant_roles_through_the_service(users):
    with pytest.raises(PermissionDenied):
        user_set_roles(
            actor=users[Role.SYSTEM_ADMIN],
            user=users[Role.INSPECTOR],
            roles=[Role.LEAD_SECTION],
            reason="x",
        )


def test_password_reset_by_security_admin_forces_a_change(client_for, users):
    target = users[Role.INSPECTOR]
    response = client_for(Role.SECURITY_ADMIN).post(f"/accounts/users/{target.pk}/reset-password/")
    assert response.status_code == 200
    target.refresh_from_db()
    assert target.must_change_password
    assert target.check_password(response.context["password"])
    assert AuditEvent.objects.filter(event_type="auth.password_reset").exists()


def test_password_reset_is_refused_to_others(users):
    target = users[Role.INSPECTOR]
    allowed = {Role.SECURITY_ADMIN}
    assert_role_access(
        users, f"/accounts/users/{target.pk}/reset-password/", allowed, method="post"
    )


def test_sections_are_kept_by_the_system_admin(users):
    assert_role_access(users, "/accounts/sections/add/", {Role.SYSTEM_ADMIN})
    client = Client()
    client.force_login(users[Role.SYSTEM_ADMIN])
    client.post(
        "/accounts/sections/add/", {"code": "waimao", "name": "对外贸易股", "is_active": "on"}
    )
    assert AuditEvent.objects.filter(event_type="section.created").exists()


def test_every_role_reaches_its_dashboard(users):
    assert_role_access(users, "/", set(Role))
