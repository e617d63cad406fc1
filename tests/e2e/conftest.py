"""Browser journeys: Playwright for Python driving Debian's Chromium against a live server.

What a new journey needs (see tests/e2e/README.md):

    pytestmark = pytest.mark.browser

    def test_something(page, demo_users, e2e):
        e2e.login(page, "lead")
        page.get_by_role("link", name="抽查计划").click()
        e2e.shot(page, "plan-list")

``page`` is a fresh 1024×768 browser tab whose ``base_url`` is the live server (so
``page.goto("/enterprises/")`` works); ``demo_users`` seeds the demo sections and one login per
role (``accounts.demo``); ``e2e.shot`` saves ``test-artifacts/screenshots/<test>-<name>.png``.

Chromium: ``/usr/bin/chromium`` (Debian's package; Playwright's own download does not work
here), or ``E2E_CHROMIUM``. When it is missing the browser tests are skipped with the reason —
except in CI (``CI`` set), where a missing browser is an error, never a silent skip.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest
from django.conf import settings

from accounts.roles import Role

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# CSP reports the browser may give that are known and harmless, each with why:
KNOWN_CSP_REPORTS = {
    # htmx 2 inserts a <style> for its .htmx-indicator class unless
    # htmx.config.includeIndicatorStyles is false; the CSP blocks it, nothing else happens.
    # The fix (lead): <meta name="htmx-config" content='{"includeIndicatorStyles":false}'>
    # in templates/base.html — then this entry can go.
    "sha256-faU7yAF8NxuMTNEwVmBz+VcYeIoBQ2EMHW3WaVxCvnk=",
}
VIEWPORT = {"width": 1024, "height": 768}
SCREENSHOT_DIR = Path(settings.BASE_DIR) / "test-artifacts" / "screenshots"
# The demo logins of accounts.demo (docs/contracts.md, "Demo logins").
DEMO_LOGIN = {
    Role.LEAD_SECTION: "lead",
    Role.SECTION_STAFF: "staff",
    Role.INSPECTOR: "inspector",
    Role.SECTION_HEAD: "head",
    Role.DISCIPLINE: "discipline",
    Role.SYSTEM_ADMIN: "sysadmin",
    Role.SECURITY_ADMIN: "secadmin",
    Role.AUDIT_ADMIN: "auditadmin",
}


def chromium_path() -> str | None:
    candidate = os.environ.get("E2E_CHROMIUM") or "/usr/bin/chromium"
    if Path(candidate).is_file() and os.access(candidate, os.X_OK):
        return candidate
    return shutil.which("chromium") or shutil.which("chromium-browser")


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() not in ("", "0", "false", "no")


@pytest.fixture(scope="session")
def live_server(request, django_db_setup):
    """pytest-django's live server, on 127.0.0.1 only. Django's live-server thread wraps the app
    in a media-files handler built from MEDIA_URL; ours is None (uploads are served only by
    permission-checked views), which that handler cannot parse — so while the thread starts,
    MEDIA_URL points at a prefix no view uses, and it is None again for the application.
    After ``django_db_setup``, so the server is built knowing the test database (whether a run
    starts with a browser test or reaches one after others)."""
    from unittest import mock

    from django.core.servers.basehttp import WSGIServer
    from django.db import connections
    from django.test import override_settings
    from django.test.testcases import LiveServerThread
    from pytest_django.live_server_helper import LiveServer

    class OneRequestAtATime(WSGIServer):
        def __init__(self, *args, connections_override=None, **kwargs):
            # The server thread already uses the overridden connections (LiveServerThread.run).
            super().__init__(*args, **kwargs)

    # In-memory SQLite: the server thread shares the test's one connection, and the threaded
    # server would use it from several request threads at once (a browser loads a page and its
    # htmx parts in parallel): "no such savepoint" and broken transactions under load. There,
    # one request at a time; PostgreSQL keeps the threaded server.
    shared = any(c.vendor == "sqlite" and c.is_in_memory_db() for c in connections.all())
    server_class = OneRequestAtATime if shared else LiveServerThread.server_class
    addr = request.config.getvalue("liveserver") or "127.0.0.1"
    with (
        override_settings(MEDIA_URL="/__media-not-served__/"),
        mock.patch.object(LiveServerThread, "server_class", server_class),
    ):
        server = LiveServer(addr)
    yield server
    server.stop()


@pytest.fixture
def browser():
    """Chromium, started for each test and stopped after it. Playwright's sync API keeps an
    asyncio loop running on this thread while it is started, which Django's async-safety guard
    takes for async code — so the ORM calls of the test body need DJANGO_ALLOW_ASYNC_UNSAFE. A
    browser per test keeps both (the loop and the variable) inside browser tests: nothing leaks
    into the tests that run after them (about 0.3 s per test)."""
    path = chromium_path()
    if path is None:
        message = "Chromium not found (install Debian's `chromium` package or set E2E_CHROMIUM)"
        if _in_ci():
            pytest.fail(f"{message}; in CI the browser tests must run", pytrace=False)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
            yield browser
            browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def page(browser, live_server, request):
    """A fresh 1024×768 tab (own cookies) on the live server; CSP violations and page errors
    fail the test (the strict CSP forbids inline script and style)."""
    context = browser.new_context(
        base_url=live_server.url, viewport=VIEWPORT, locale="zh-CN", timezone_id="Asia/Shanghai"
    )
    context.set_default_timeout(30_000)  # PDFs under load on 2 cores
    tab = context.new_page()
    problems: list[str] = []
    tab.on(
        "console",
        lambda msg: (
            problems.append(msg.text)
            if msg.type == "error"
            and "Content Security Policy" in msg.text
            and not any(known in msg.text for known in KNOWN_CSP_REPORTS)
            else None
        ),
    )
    tab.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
    tab.on("dialog", lambda dialog: dialog.accept())  # data-confirm buttons (static/js/app.js)
    yield tab
    context.close()
    if not getattr(request.node, "_e2e_allow_console_errors", False):
        assert not problems, f"browser reported: {problems}"


@pytest.fixture
def demo_users(transactional_db, live_server):
    """The demo sections and one demo login per role (password ``DEMO_PASSWORD``)."""
    from io import StringIO

    from accounts import demo
    from accounts.models import User

    demo.seed(stdout=StringIO())
    return {role: User.objects.get(username=name) for role, name in DEMO_LOGIN.items()}


@pytest.fixture
def demo_all(demo_users, settings):
    """Every app's demo data (``<app>/demo.py``, in app order, as ``seed_demo`` does) on top
    of the demo logins — for journeys that need a register, plans and tasks to work on."""
    from io import StringIO

    from cryptography.fernet import Fernet

    from core.extensions import app_modules

    if not getattr(settings, "FIELD_ENCRYPTION_KEY", ""):
        settings.FIELD_ENCRYPTION_KEY = Fernet.generate_key().decode()
    for module in app_modules("demo"):
        module.seed(stdout=StringIO())
    return demo_users


class E2E:
    """Helpers shared by every journey; reach them through the ``e2e`` fixture."""

    def __init__(self, request):
        self.request = request

    @property
    def password(self) -> str:
        from accounts.demo import DEMO_PASSWORD

        return DEMO_PASSWORD

    def login(self, page, username: str, password: str | None = None, *, expect_ok=True):
        """Log in through the real form; by default asserts the dashboard is reached."""
        page.goto("/accounts/login/")
        page.locator("#id_username").fill(username)
        page.locator("#id_password").fill(self.password if password is None else password)
        page.locator("form[action$='/accounts/login/'] button[type=submit]").click()
        page.wait_for_load_state()
        if expect_ok:
            assert "/accounts/login/" not in page.url, f"login as {username} failed: {page.url}"
        return page

    def logout(self, page):
        page.locator("form[action$='/accounts/logout/'] button").click()
        page.wait_for_url(re.compile(r"/accounts/login/"))

    def nav_labels(self, page) -> list[str]:
        return [t.strip() for t in page.locator("nav.sidenav a").all_inner_texts()]

    def shot(self, page, name: str, *, full_page: bool = False) -> Path:
        """Save a screenshot as test-artifacts/screenshots/<test>-<name>.png."""
        SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
        test = re.sub(r"[^A-Za-z0-9_.-]+", "-", self.request.node.name).strip("-")
        path = SCREENSHOT_DIR / f"{test}-{name}.png"
        page.screenshot(path=str(path), full_page=full_page)
        return path

    def post_form(self, page, action: str, fields: dict | None = None):
        """Submit a real POST form from the current page (its CSRF token included), as a user
        would with a form the page does not show — e.g. to prove a write is refused."""
        with page.expect_navigation():
            self._submit(page, action, fields)
        page.wait_for_load_state()
        return page

    @staticmethod
    def _submit(page, action, fields):
        page.evaluate(
            """([action, fields]) => {
                const form = document.createElement('form');
                form.method = 'post';
                form.action = action;
                const token = document.querySelector('input[name=csrfmiddlewaretoken]');
                const all = Object.assign({csrfmiddlewaretoken: token ? token.value : ''}, fields);
                for (const [name, value] of Object.entries(all)) {
                    const input = document.createElement('input');
                    input.type = 'hidden'; input.name = name; input.value = value;
                    form.appendChild(input);
                }
                document.body.appendChild(form);
                form.submit();
            }""",
            [action, fields or {}],
        )


@pytest.fixture
def e2e(request):
    return E2E(request)
