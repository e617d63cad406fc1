"""纪检派驻组 sees everything and changes nothing: every URL of the project refuses its POST with
403 except the explicit allow-list (PUT, PATCH and DELETE are refused for everyone with 405)."""

import uuid

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.converters import IntConverter, PathConverter, SlugConverter, UUIDConverter

from accounts.middleware import READ_ONLY_ALLOWED_VIEWS
from accounts.roles import Role
from audit.models import AuditEvent
from core.models import Notification

SAMPLE = {
    IntConverter: "1",
    SlugConverter: "x",
    UUIDConverter: str(uuid.UUID(int=1)),
    PathConverter: "x",
}


def _walk(patterns, prefix="", namespace=""):
    for p in patterns:
        if isinstance(p, URLResolver):
            ns = f"{namespace}{p.namespace}:" if p.namespace else namespace
            yield from _walk(p.url_patterns, prefix + _fill(p.pattern), ns)
        elif isinstance(p, URLPattern):
            yield f"{namespace}{p.name}", prefix + _fill(p.pattern)


def _fill(pattern) -> str:
    route = str(pattern)
    for name, converter in getattr(pattern, "converters", {}).items():
        for kind, sample in SAMPLE.items():
            if isinstance(converter, kind):
                value = sample
                break
        else:
            value = "x"
        route = route.replace(
            f"<{type(converter).__name__.replace('Converter', '').lower()}:{name}>", value
        ).replace(f"<{name}>", value)
    import re

    return re.sub(r"<[^>]+>", "1", route)


def all_urls():
    return sorted(set(_walk(get_resolver().url_patterns)))


def test_the_walk_finds_the_project_urls():
    names = {name for name, _ in all_urls()}
    assert {"accounts:user_add", "audit:chain_verify", "core:dashboard"} <= names


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_discipline_group_cannot_change_anything(client_for, method):
    """POST is refused by the read-only guard (403, audited). PUT, PATCH and DELETE are used by
    no view and are refused for everybody before any user is looked at (405,
    core.middleware.AllowedMethodsMiddleware), so they never reach the guard."""
    client = client_for(Role.DISCIPLINE)
    expected = 403 if method == "post" else 405
    refused = 0
    for name, url in all_urls():
        if name in READ_ONLY_ALLOWED_VIEWS:
            continue
        response = getattr(client, method)("/" + url.lstrip("/"))
        assert response.status_code == expected, (
            f"{method.upper()} /{url} ({name}) → {response.status_code}"
        )
        refused += 1
    assert refused > 5
    audited = refused if method == "post" else 0
    assert AuditEvent.objects.filter(event_type="auth.write_denied").count() == audited


def test_discipline_group_may_use_its_allow_list(client_for, users):
    client = client_for(Role.DISCIPLINE)
    user = users[Role.DISCIPLINE]
    note = Notification.objects.create(recipient=user, key="k", title="t")
    assert client.post(f"/notifications/{note.pk}/read/").status_code == 302
    note.refresh_from_db()
    assert note.read_at is not None
    assert client.post("/i18n/setlang/", {"language": "en", "next": "/"}).status_code == 302
    response = client.post(
        "/accounts/password/",
        {
            "old_password": "Test-pass-2026",
            "new_password1": "Another-pass-9",
            "new_password2": "Another-pass-9",
        },
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password("Another-pass-9")
    assert client.post("/accounts/logout/").status_code == 302


def test_discipline_group_can_read_the_audit_log(client_for):
    assert client_for(Role.DISCIPLINE).get("/audit/events/").status_code == 200
