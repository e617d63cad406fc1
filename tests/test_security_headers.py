"""Browser-side protections (等保2.0: 入侵防范, 数据保密性): a strict Content-Security-Policy with no
inline script, clickjacking refused, cookies flagged, and production settings that pass
``check --deploy``. The templates are checked for inline script and style, which the policy
would block in the browser (tests/e2e also fails on any CSP report)."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.conf import settings
from django.test import Client

from accounts.roles import Role
from tests.conftest import PASSWORD


def _directives(policy: str) -> dict[str, list[str]]:
    result = {}
    for part in policy.split(";"):
        words = part.split()
        if words:
            result[words[0]] = words[1:]
    return result


@pytest.fixture
def pages(client_for, db):
    """A public page, a logged-in page and an error page."""
    return {
        "login": Client().get("/accounts/login/"),
        "dashboard": client_for(Role.SYSTEM_ADMIN).get("/"),
        "forbidden": client_for(Role.INSPECTOR).get("/accounts/users/"),
    }


def test_every_kind_of_page_gets_a_csp_without_inline_script(pages):
    for name, response in pages.items():
        policy = _directives(response["Content-Security-Policy"])
        script = policy.get("script-src", policy.get("default-src"))
        assert script == ["'self'"], f"{name}: script-src {script}"
        for directive, sources in policy.items():
            assert "'unsafe-inline'" not in sources, f"{name}: {directive} allows inline"
            assert "'unsafe-eval'" not in sources, f"{name}: {directive} allows eval"
        assert policy["object-src"] == ["'none'"]
        assert policy["frame-ancestors"] == ["'none'"]
        assert policy["base-uri"] == ["'self'"]
        assert policy["form-action"] == ["'self'"]


def test_clickjacking_is_refused_everywhere(pages):
    for name, response in pages.items():
        assert response["X-Frame-Options"] == "DENY", name
        assert response["X-Content-Type-Options"] == "nosniff", name
        assert response["Referrer-Policy"] == "same-origin", name


def test_login_sets_an_httponly_samesite_session_cookie(make_user, section):
    make_user(Role.INSPECTOR, section=section, username="cookie")
    response = Client().post(
        "/accounts/login/", {"username": "cookie", "password": "Test-pass-2026"}
    )
    assert response.status_code == 302
    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"
    # Idle logout after 30 minutes; the cookie dies with the browser.
    assert settings.SESSION_COOKIE_AGE == 30 * 60 and settings.SESSION_SAVE_EVERY_REQUEST
    assert cookie["max-age"] == ""


PRODUCTION_SETTINGS = [
    "DEBUG",
    "SESSION_COOKIE_SECURE",
    "SESSION_COOKIE_HTTPONLY",
    "SESSION_COOKIE_SAMESITE",
    "SESSION_COOKIE_NAME",
    "SESSION_EXPIRE_AT_BROWSER_CLOSE",
    "CSRF_COOKIE_SECURE",
    "CSRF_COOKIE_HTTPONLY",
    "CSRF_COOKIE_NAME",
    "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_PROXY_SSL_HEADER",
    "X_FRAME_OPTIONS",
    "SECURE_CONTENT_TYPE_NOSNIFF",
]


def _production(extra_env=None, *code):
    env = {
        **{k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"},
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "SECRET_KEY": "prod-test-" + "k" * 60,
        "ALLOWED_HOSTS": "inspect.wugang.example",
        "DATABASE_URL": "",
        "FIELD_ENCRYPTION_KEY": Fernet.generate_key().decode(),
        "AUDIT_CHECKPOINT_KEY": "prod-test-audit-" + "c" * 40,
        **(extra_env or {}),
    }
    return subprocess.run(
        [sys.executable, "-c", "\n".join(code)],
        env=env,
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_settings_flag_the_cookies_and_force_https():
    result = _production(
        None,
        "import django, json; django.setup()",
        "from django.conf import settings as s",
        f"print(json.dumps({{k: getattr(s, k) for k in {PRODUCTION_SETTINGS!r}}}))",
    )
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout.strip().splitlines()[-1])
    assert values["DEBUG"] is False
    assert values["SESSION_COOKIE_SECURE"] and values["CSRF_COOKIE_SECURE"]
    assert values["SESSION_COOKIE_HTTPONLY"] and values["CSRF_COOKIE_HTTPONLY"]
    assert values["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert values["SESSION_COOKIE_NAME"].startswith("__Secure-")
    assert values["CSRF_COOKIE_NAME"].startswith("__Secure-")
    assert values["SESSION_EXPIRE_AT_BROWSER_CLOSE"] is True
    assert values["SECURE_SSL_REDIRECT"] is True
    assert values["SECURE_HSTS_SECONDS"] >= 31536000 and values["SECURE_HSTS_INCLUDE_SUBDOMAINS"]
    assert values["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert values["X_FRAME_OPTIONS"] == "DENY" and values["SECURE_CONTENT_TYPE_NOSNIFF"]


def test_production_refuses_to_start_without_a_secret_key():
    env = {k: v for k, v in os.environ.items() if k != "SECRET_KEY"}
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        env={**env, "DJANGO_SETTINGS_MODULE": "config.settings.production", "DATABASE_URL": ""},
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_check_deploy_passes_with_production_settings():
    result = _production(
        None,
        "import sys",
        "from django.core.management import execute_from_command_line",
        "execute_from_command_line(['manage.py', 'check', '--deploy', '--fail-level', 'WARNING'])",
    )
    assert result.returncode == 0, result.stdout + result.stderr


INLINE_SCRIPT = re.compile(r"<script\b(?![^>]*\bsrc=)[^>]*>", re.I)
STYLE_ATTR = re.compile(r"""\sstyle\s*=\s*["']""", re.I)
EVENT_ATTR = re.compile(r"""\son[a-z]+\s*=\s*["']""", re.I)
STYLE_ELEMENT = re.compile(r"<style\b", re.I)


# Templates never served to a browser (rendered to PDF by WeasyPrint, or to e-mail) may style
# themselves inline; by convention their path has a "pdf" or "email" part.
NOT_FOR_BROWSER = re.compile(r"(^|[/_.-])(pdf|email)([/_.-]|$)")


def test_no_template_has_inline_script_style_or_event_handlers():
    roots = [Path(settings.BASE_DIR) / "templates", *Path(settings.BASE_DIR).glob("*/templates")]
    found = []
    for root in roots:
        for template in sorted(root.rglob("*.html")):
            if NOT_FOR_BROWSER.search(str(template.relative_to(root))):
                continue
            text = template.read_text(encoding="utf-8")
            for name, pattern in [
                ("inline <script>", INLINE_SCRIPT),
                ('style="…"', STYLE_ATTR),
                ('on…="…" handler', EVENT_ATTR),
                ("<style> element", STYLE_ELEMENT),
            ]:
                if pattern.search(text):
                    found.append(f"{template.relative_to(settings.BASE_DIR)}: {name}")
    assert not found, "the CSP would block these:\n" + "\n".join(found)


# --- Probe findings (issue 21, item 12): cache, methods ------------------------------------------
@pytest.mark.parametrize("method", ["TRACE", "PUT", "DELETE", "PATCH", "OPTIONS", "CONNECT"])
@pytest.mark.parametrize("path", ["/", "/accounts/login/", "/disclosure/public/"])
def test_methods_other_than_get_head_post_are_refused(method, path, client_for):
    """TRACE answered 200 when gunicorn was reached directly; the application itself now
    refuses it (and every method it does not use) before any view, anonymous or logged in."""
    for client in (Client(), client_for(Role.SYSTEM_ADMIN)):
        response = client.generic(method, path)
        assert response.status_code == 405, f"{method} {path} → {response.status_code}"
        assert response["Allow"] == "GET, HEAD, POST"
        assert b"Cookie" not in response.content  # nothing of the request echoed back


def test_nginx_refuses_the_unused_methods_too():
    conf = (Path(settings.BASE_DIR) / "deploy" / "nginx" / "wugang.conf").read_text()
    assert "if ($request_method !~ ^(GET|HEAD|POST)$)" in conf and "return 405;" in conf


def _no_store(response) -> bool:
    directives = {d.strip() for d in response.get("Cache-Control", "").split(",")}
    return "no-store" in directives and response.get("Pragma") == "no-cache"


def test_logged_in_pages_are_not_kept_by_the_browser(client_for, users):
    """Personal data stayed in the browser cache after logout: every response to a logged-in
    user — page, htmx part, redirect, refusal, not found — now says no-store."""
    client = client_for(Role.SECURITY_ADMIN)
    target = users[Role.INSPECTOR]
    responses = {
        "dashboard": client.get("/"),
        "user page": client.get(f"/accounts/users/{target.pk}/"),
        "user list htmx": client.get("/accounts/users/", HTTP_HX_REQUEST="true"),
        "redirect": client.post(f"/accounts/users/{target.pk}/roles/", {"reason": "x"}),
        "refused": client.get("/accounts/users/add/"),
        "not found": client.get("/accounts/users/999999/"),
        "session status": client.get("/accounts/session/"),
    }
    for name, response in responses.items():
        assert _no_store(response), f"{name} ({response.status_code}): {response.headers}"
    # Logging out: the answer to the logout itself is not cached either.
    assert _no_store(client.post("/accounts/logout/"))


def test_the_login_answer_that_logs_in_is_not_cached(make_user):
    make_user(Role.INSPECTOR, username="nocache")
    response = Client().post("/accounts/login/", {"username": "nocache", "password": PASSWORD})
    assert response.status_code == 302 and _no_store(response)


def test_public_pages_keep_their_own_cache_headers(db):
    response = Client().get("/disclosure/public/")
    assert response.status_code == 200
    assert "no-store" not in response.get("Cache-Control", "")
