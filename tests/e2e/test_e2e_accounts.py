"""Journeys of the accounts layer in a real browser: every role's own dashboard and navigation,
the read-only discipline group, the login lockout, the language switch."""

from urllib.parse import urlparse

import pytest
from django.urls import reverse

from accounts.forms import LOCKED
from accounts.roles import ROLE_DESCRIPTIONS, Role
from audit.models import AuditEvent
from core.extensions import nav_items

from .conftest import DEMO_LOGIN

pytestmark = pytest.mark.browser


def _expected_nav(role) -> tuple[list[str], list[str]]:
    """The navigation labels this role must see, and those it must not (from every app's
    NAV_ITEMS, so the journey follows the features as they are added)."""
    shown, hidden = [], []
    for item in nav_items():
        (shown if role in item.roles else hidden).append(item.label)
    return shown, [label for label in hidden if label not in shown]


@pytest.mark.parametrize("role", list(Role), ids=[DEMO_LOGIN[r] for r in Role])
def test_each_role_sees_its_own_dashboard_and_navigation(page, demo_users, e2e, role):
    user = demo_users[role]
    e2e.login(page, user.username)

    assert urlparse(page.url).path == reverse("core:dashboard")
    assert page.locator("h1").inner_text().strip() == f"您好，{user.full_name}"
    # The role card of the dashboard describes this role and no other.
    cards = page.locator("section.cards .card h2").all_inner_texts()
    assert cards == [str(role)]
    assert ROLE_DESCRIPTIONS[role] in page.locator("section.cards").inner_text()
    assert str(role) in page.locator("header .who").inner_text()

    shown, hidden = _expected_nav(role)
    labels = e2e.nav_labels(page)
    assert labels == shown
    for label in hidden:
        assert label not in labels, f"{role} sees {label}"
    e2e.shot(page, "dashboard")

    # Every entry of the navigation opens for this role: no 403, no error behind a link.
    links = page.locator("nav.sidenav a")
    targets = [
        (links.nth(i).inner_text(), links.nth(i).get_attribute("href"))
        for i in range(links.count())
    ]
    for label, href in targets:
        response = page.goto(href)
        assert response.status < 400, f"{role}: {label} ({href}) → {response.status}"
        active = [a.get_attribute("href") for a in page.locator("nav.sidenav a.active").all()]
        assert href == "/" or href in active, f"{label} is not highlighted on its own page"


def test_discipline_group_reads_but_cannot_write(page, demo_users, e2e):
    e2e.login(page, "discipline")
    page.locator("nav.sidenav a", has_text="审计日志").click()
    page.wait_for_load_state()
    assert page.url.endswith(reverse("audit:event_list"))
    assert "无权操作" not in page.content()
    e2e.shot(page, "audit-log")

    # A write, sent the way a browser sends one (real form, CSRF token), is refused before
    # any view runs, with the read-only message, and the refusal is itself audited.
    e2e.post_form(page, reverse("accounts:section_add"), {"code": "x", "name": "伪造股室"})
    assert page.locator("h1").inner_text() == "无权操作"
    assert "纪检派驻组为只读角色，不能修改任何数据。" in page.locator("main").inner_text()
    e2e.shot(page, "write-refused")
    assert AuditEvent.objects.filter(
        event_type="auth.write_denied", actor=demo_users[Role.DISCIPLINE]
    ).exists()
    from accounts.models import Section

    assert not Section.objects.filter(name="伪造股室").exists()


def test_five_wrong_passwords_lock_the_account(page, demo_users, e2e):
    for attempt in range(1, 6):
        e2e.login(page, "inspector", "Wrong-pass-9", expect_ok=False)
        errors = page.locator(".errorlist-box").inner_text()
        if attempt < 5:
            assert "用户名或密码错误" in errors
    assert LOCKED in errors
    e2e.shot(page, "locked")
    # Even the right password is now refused with the same message.
    e2e.login(page, "inspector", expect_ok=False)
    assert "/accounts/login/" in page.url
    assert LOCKED in page.locator(".errorlist-box").inner_text()


def test_language_switch_to_english_and_back(page, demo_users, e2e):
    e2e.login(page, "sysadmin")
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    page.locator("form.lang button[value=en]").click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "en"
    nav = e2e.nav_labels(page)
    assert "Dashboard" in nav and "Users" in nav
    assert "Log out" in page.locator("header").inner_text()
    e2e.shot(page, "english")
    page.locator("form.lang button[value=zh-hans]").click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    assert "首页" in e2e.nav_labels(page)


def test_logout_ends_the_session(page, demo_users, e2e):
    e2e.login(page, "head")
    e2e.logout(page)
    page.goto("/")
    assert "/accounts/login/" in page.url
    e2e.shot(page, "login-page")


def test_the_idle_logout_warns_first_and_can_be_put_off(page, demo_users, e2e, settings):
    """30 minutes shortened to 8 seconds, the warning to the last 5: the warning appears, 继续使用
    puts the logout off, and left alone the page logs out, audited, back to the login page."""
    settings.SESSION_COOKIE_AGE = 8
    settings.SESSION_IDLE_WARNING_SECONDS = 5
    e2e.login(page, "inspector")
    warning = page.locator("#idle-warning")
    assert warning.is_hidden()
    warning.wait_for(state="visible", timeout=8000)
    assert "后自动退出登录" in warning.inner_text()
    e2e.shot(page, "idle-warning")
    page.locator("#idle-continue").click()
    warning.wait_for(state="hidden", timeout=3000)

    page.wait_for_url("**/accounts/login/**", timeout=20000)
    assert "因长时间没有操作，您已退出登录" in page.locator(".messages").inner_text()
    e2e.shot(page, "idle-logged-out")
    assert AuditEvent.objects.filter(
        event_type="auth.logout", actor=demo_users[Role.INSPECTOR], reason__startswith="空闲超时"
    ).exists()
    page.goto("/")
    assert "/accounts/login/" in page.url


def test_an_admins_password_reset_is_asked_by_one_admin_and_approved_by_another(
    page, demo_users, e2e
):
    """三员分立 for the admins: the security admin asks to reset the audit admin's password; the
    system admin approves it in their own session and alone sees the one-time password; the audit
    admin logs in with it and finds the notice."""
    auditor = demo_users[Role.AUDIT_ADMIN]
    e2e.login(page, "secadmin")
    page.goto(reverse("accounts:user_detail", args=[auditor.pk]))
    assert page.locator("form[action$='/reset-password/']").count() == 0  # no direct reset
    page.locator("#id_reset_reason").fill("周静本人到场，忘记密码")
    page.get_by_role("button", name="提交申请").click()
    page.wait_for_load_state()
    assert "申请已提交" in page.locator(".messages").inner_text()
    assert "待审批" in page.locator("main").inner_text()
    assert page.locator("form[action$='/decide/']").count() == 0  # not by the requester
    e2e.shot(page, "requested")
    e2e.logout(page)

    e2e.login(page, "sysadmin")
    panel = page.locator("section.panel", has_text="待我审批")
    panel.get_by_role("link", name=str(auditor)).click()
    page.wait_for_load_state()
    page.locator("input[name=decision][value=approve]").check()
    page.get_by_role("button", name="提交审批").click()
    page.wait_for_load_state()
    password = page.locator(".secret code").inner_text().strip()
    assert len(password) == 12
    e2e.shot(page, "approved")
    e2e.logout(page)

    e2e.login(page, "secadmin")  # the requester never sees the password
    page.goto(reverse("approvals:list"))
    page.locator("table a").first.click()
    page.wait_for_load_state()
    assert "已批准" in page.locator("main").inner_text()
    assert password not in page.content()
    e2e.logout(page)

    e2e.login(page, "auditadmin", password)
    page.goto(reverse("core:notifications"))
    assert "您的密码已被重置" in page.locator("main").inner_text()
    e2e.shot(page, "holder-notified")
    assert AuditEvent.objects.filter(
        event_type="auth.password_reset", actor=demo_users[Role.SYSTEM_ADMIN]
    ).exists()
