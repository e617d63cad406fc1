"""Shared fixtures: one user per role (healthchecks-style personas), sections, role clients."""

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test import Client

from accounts.models import Section, User
from accounts.roles import Role

PASSWORD = "Test-pass-2026"


def pytest_collection_modifyitems(config, items):
    # The PostgreSQL-only tests are skipped on SQLite, and say so.
    from django.conf import settings

    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        skip = pytest.mark.skip(reason="needs PostgreSQL (DATABASE_URL)")
        for item in items:
            if "postgres" in item.keywords:
                item.add_marker(skip)


@pytest.fixture
def lead_section(db):
    return Section.objects.create(code="fagui", name="政策法规股", is_lead=True)


@pytest.fixture
def section(db):
    return Section.objects.create(code="shichang", name="市场运行股")


@pytest.fixture
def other_section(db):
    return Section.objects.create(code="shangmao", name="商贸服务股")


@pytest.fixture
def make_user(db):
    counter = {"n": 0}

    def make(*roles: str, section=None, username=None, **fields) -> User:
        counter["n"] += 1
        user = User.objects.create_user(
            username=username or f"user{counter['n']}",
            password=PASSWORD,
            full_name=fields.pop("full_name", f"测试用户{counter['n']}"),
            section=section,
            must_change_password=fields.pop("must_change_password", False),
            **fields,
        )
        if roles:
            user.groups.set(Group.objects.filter(name__in=roles))
        return user

    return make


@pytest.fixture
def users(make_user, lead_section, section):
    """One user per role; lead-section users sit in the lead section, others in a section."""
    result = {}
    for role in Role:
        home = lead_section if role == Role.LEAD_SECTION else section
        result[role] = make_user(role, section=home, username=f"u_{role.name.lower()}")
    return result


@pytest.fixture
def client_for(users):
    def make(role: str) -> Client:
        client = Client()
        client.force_login(users[role])
        return client

    return make


def is_postgres() -> bool:
    return connection.vendor == "postgresql"
