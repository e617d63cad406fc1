"""CSRF on every form (等保2.0: 入侵防范): every URL of the application refuses a POST without a
token, no view is exempt, and every POST form in every template carries the token."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from accounts.roles import Role

SAMPLE = {"int": "1", "str": "x", "slug": "x", "uuid": "00000000-0000-0000-0000-000000000000"}


def _routes(patterns=None, prefix=""):
    """Every concrete (path, view) of the URLconf, converters filled with sample values."""
    for entry in get_resolver().url_patterns if patterns is None else patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from _routes(entry.url_patterns, route)
        elif isinstance(entry, URLPattern):
            if route.startswith("^"):  # a regex route: not used by this project
                continue
            path = re.sub(
                r"<(?:(\w+):)?\w+>", lambda m: SAMPLE.get(m.group(1) or "str", "x"), route
            )
            yield "/" + path, entry.callback


ROUTES = sorted(_routes(), key=lambda r: r[0])


def test_the_urlconf_was_walked():
    paths = [path for path, _ in ROUTES]
    assert "/accounts/login/" in paths and "/" in paths and len(paths) > 10


@pytest.mark.parametrize("view", [v for _, v in ROUTES], ids=[p for p, _ in ROUTES])
def test_no_view_is_csrf_exempt(view):
    assert not getattr(view, "csrf_exempt", False)


CSRF_FAILED = "CSRF"


def _is_csrf_refusal(response) -> bool:
    return response.status_code == 403 and CSRF_FAILED in response.content.decode(errors="ignore")


@pytest.mark.parametrize("path", [p for p, _ in ROUTES])
def test_post_without_token_is_refused_everywhere(path, make_user, section):
    # A user who may write (not the read-only group, whose refusal comes first) and is
    # logged in: the token check must be what stops the request, not the login or the role.
    user = make_user(Role.SYSTEM_ADMIN, section=section, username="csrf_probe")
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    response = client.post(path, {"name": "x"})
    assert _is_csrf_refusal(response), f"POST {path} without token → {response.status_code}"


@pytest.mark.parametrize("path", ["/accounts/login/", "/i18n/setlang/"])
def test_anonymous_posts_need_the_token_too(path, db):
    response = Client(enforce_csrf_checks=True).post(path, {"username": "x", "password": "y"})
    assert _is_csrf_refusal(response)


def test_the_same_post_with_the_token_passes_the_check(make_user, section):
    """The control: with a token the request reaches the view (so the 403 above is CSRF's)."""
    make_user(Role.SYSTEM_ADMIN, section=section, username="csrf_probe")
    client = Client(enforce_csrf_checks=True)
    page = client.get("/accounts/login/")
    token = (
        re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page.content).group(1).decode()
    )
    response = client.post(
        "/accounts/login/",
        {"username": "csrf_probe", "password": "Test-pass-2026", "csrfmiddlewaretoken": token},
    )
    assert response.status_code == 302


FORM_RE = re.compile(r"<form\b[^>]*>.*?</form>", re.S | re.I)
POST_RE = re.compile(r"""method\s*=\s*["']?post""", re.I)


def _templates():
    roots = [Path(settings.BASE_DIR) / "templates"]
    roots += [p for p in Path(settings.BASE_DIR).glob("*/templates") if ".venv" not in p.parts]
    for root in roots:
        yield from sorted(root.rglob("*.html"))


def test_every_post_form_in_every_template_has_the_token():
    missing = []
    checked = 0
    for template in _templates():
        for form in FORM_RE.findall(template.read_text(encoding="utf-8")):
            opening = form[: form.index(">") + 1]
            if POST_RE.search(opening):
                checked += 1
                if "{% csrf_token %}" not in form:
                    missing.append(f"{template.relative_to(settings.BASE_DIR)}: {opening}")
    assert checked >= 5
    assert not missing, "POST forms without {% csrf_token %}:\n" + "\n".join(missing)
