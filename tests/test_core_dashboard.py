from django.test import Client

from accounts.roles import Role
from audit.services import audit_record


def test_security_admin_sees_locked_accounts(client_for, make_user):
    make_user(Role.INSPECTOR, username="zhangwei")
    for _ in range(5):
        Client().post("/accounts/login/", {"username": "zhangwei", "password": "bad-Pass-1"})
    body = client_for(Role.SECURITY_ADMIN).get("/").content.decode()
    assert "当前被锁定的用户名" in body and "zhangwei" in body


def test_audit_admin_sees_the_last_verification(client_for, users):
    audit_record(
        event_type="audit.chain_verified", actor=users[Role.AUDIT_ADMIN], detail={"checked": 3}
    )
    body = client_for(Role.AUDIT_ADMIN).get("/").content.decode()
    assert "最近一次日志链核验" in body and "完整" in body


def test_inspector_dashboard_has_no_admin_panels(client_for):
    body = client_for(Role.INSPECTOR).get("/").content.decode()
    assert "账户安全" not in body and "日志链" not in body


def test_navigation_highlights_only_the_closest_entry(client_for):
    from django.test import RequestFactory

    from core.context_processors import navigation

    client = client_for(Role.LEAD_SECTION)
    response = client.get("/")
    request = RequestFactory().get("/accounts/users/")
    request.user = response.wsgi_request.user
    active = [i["label"] for i in navigation(request)["nav_items"] if i["active"]]
    assert len(active) <= 1
    request = RequestFactory().get("/")
    request.user = response.wsgi_request.user
    assert [i["label"] for i in navigation(request)["nav_items"] if i["active"]] == ["首页"]
