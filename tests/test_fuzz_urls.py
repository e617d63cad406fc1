"""No input gives a 500 (issue 21 item 7): every routed URL, with fuzzed query parameters, as
the roles that may open it and as ones that may not, answers below 500.

The URLs come from ``get_resolver()`` (a new view is fuzzed without touching this file); path
parameters are filled with ids of the demo data (``seed_demo``'s modules) or odd values; the
query carries the names the views read (collected from the sources) and random ones, with
values from ``NASTY`` (NUL, ``²``, huge ints, bad and extreme dates, long strings, unicode)
and Hypothesis' text. Every login is probed on each URL; Hypothesis then runs derandomized,
four examples per URL, drawing the role among anonymous, up to three that get a 200 and one
that is refused, so the module stays under a minute on SQLite; on PostgreSQL it also catches
NUL in text filters.
"""

import io
import re
import uuid
from pathlib import Path

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.demo import DEMO_USERS
from accounts.models import User
from core.extensions import app_modules

ROOT = Path(__file__).resolve().parent.parent
APPS = [
    "accounts",
    "approvals",
    "audit",
    "core",
    "disclosure",
    "enterprises",
    "inspections",
    "inspectors",
    "oversight",
    "workdays",
]

# The names the views read from the query string (and those of the GET filter forms).
_READS = re.compile(
    r"""(?:request\.GET\.get\(|param_\w+\(request\.(?:GET|POST),\s*)["'](\w+)["']"""
)
FORM_NAMES = [
    "from",
    "to",
    "start",
    "end",
    "section",
    "task",
    "q",
    "trade",
    "township",
    "enterprise_type",
    "scale",
    "status",
    "tier",
    "licence",
    "group",
    "check_items",
    "enterprise_uscc",
    "page",
    "kind",
]


def _param_names() -> list[str]:
    names = set(FORM_NAMES)
    for app in APPS:
        for source in (ROOT / app).rglob("*.py"):
            names.update(_READS.findall(source.read_text(encoding="utf-8")))
    return sorted(names)


NASTY = [
    "\x00",
    "a\x00b",
    "²",
    "١٢",
    "-1",
    "0",
    "9" * 30,
    str(2**63),
    "1e9",
    "0001-01-01",
    "9999-12-31",
    "2026-02-30",
    "2026-13-01",
    "x" * 5000,
    "企业\n名称",
    "😀" * 50,
    "%",
    "' OR 1=1 --",
    "<script>",
    "not-a-uuid",
    "xlsx",
    "1",
    "",
]
VALUES = st.one_of(st.sampled_from(NASTY), st.text(max_size=40))
INTS = [0, 1, 2, 3, 2**31, 2**63 + 7]


def _routes() -> list[tuple[str, list[tuple[str, str]]]]:
    """(pattern as a format string, [(converter, name)]) for every routed URL."""
    routes = []

    def walk(patterns, prefix):
        for entry in patterns:
            pattern = prefix + str(entry.pattern)
            if isinstance(entry, URLResolver):
                walk(entry.url_patterns, pattern)
            elif isinstance(entry, URLPattern):
                if pattern.startswith("^"):  # a regex route: its one catch-all group
                    pattern = re.sub(r"\(\?P<(\w+)>[^)]*\)", r"<str:\1>", pattern.strip("^$"))
                params = re.findall(r"<(?:(\w+):)?(\w+)>", pattern)
                template = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", pattern)
                routes.append((template, params))

    walk(get_resolver().url_patterns, "")
    return sorted(set((t, tuple(p)) for t, p in routes))


def _path_value(converter: str):
    if converter == "int":
        return st.sampled_from(INTS)
    if converter == "uuid":
        return st.sampled_from([str(uuid.UUID(int=1)), "00000000-0000-0000-0000-000000000000"])
    return st.sampled_from(["all", "enterprise", "a", "x" * 300, "２", "..%2F", "latest"])


@pytest.fixture
def demo(db, settings):
    from cryptography.fernet import Fernet

    if not getattr(settings, "FIELD_ENCRYPTION_KEY", ""):
        settings.FIELD_ENCRYPTION_KEY = Fernet.generate_key().decode()
    for module in app_modules("demo"):
        module.seed(stdout=io.StringIO())
    # A server error comes back as a response (not raised), so that all of them are listed.
    clients = {"anonymous": Client(raise_request_exception=False)}
    for username, _name, _section, _roles in DEMO_USERS:
        client = Client(raise_request_exception=False)
        client.force_login(User.objects.get(username=username))
        clients[username] = client
    return clients


ROUTES = _routes()


def _roles_to_fuzz(clients, template, params) -> list[str]:
    """Up to three roles that may open the URL (with id 1 and a plain value in its path), so
    that the fuzzed parameters reach the view's parsing rather than stopping at a 403, plus the
    anonymous client and the first refused role (their refusals are fuzzed too). Three, not
    all: a permitted GET of a PDF renders it, and the module must stay within its budget."""
    plain = {name: 1 if conv == "int" else "all" for conv, name in params}
    url = "/" + template.format(**plain)
    allowed, refused = [], []
    for role in sorted(set(clients) - {"anonymous"}):
        if len(allowed) == 3:
            break
        (allowed if clients[role].get(url).status_code == 200 else refused).append(role)
    return ["anonymous", *allowed, *refused[:1]]


def _probe(clients, roles, template, path, query, failures):
    @settings(
        max_examples=4,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(role=st.sampled_from(roles), path=path, query=query)
    def probe(role, path, query):
        url = "/" + template.format(**path)
        response = clients[role].get(url, query)
        if response.status_code >= 500:
            exc = response.exc_info[1] if response.exc_info else None
            failures.append(
                f"{role} GET {url} {query!r:.300} -> {response.status_code} {exc!r:.200}"
            )

    return probe


@pytest.mark.django_db
def test_no_url_answers_5xx_to_fuzzed_parameters(demo):
    names = _param_names()
    query = st.dictionaries(
        st.one_of(st.sampled_from(names), st.text(min_size=1, max_size=8)), VALUES, max_size=6
    )
    failures = []
    for template, params in ROUTES:
        path = st.fixed_dictionaries({name: _path_value(conv) for conv, name in params})
        roles = _roles_to_fuzz(demo, template, params)
        _probe(demo, roles, template, path, query, failures)()
    assert not failures, "\n".join(dict.fromkeys(failures))


@pytest.mark.django_db
def test_every_list_reads_nul_and_superscript_digits_without_5xx(demo):
    """The probe's own requests, as a user who may read each page (deterministic)."""
    probes = [
        ("anonymous", "/disclosure/public/", {"q": "\x00"}),
        ("lead", "/inspectors/", {"section": "abc", "q": "\x00"}),
        ("lead", "/inspections/plans/", {"year": "²"}),
        ("lead", "/inspections/tasks/", {"year": "²", "q": "\x00"}),
        ("lead", "/inspections/visits/", {"task": "²", "q": "a\x00"}),
        ("auditadmin", "/audit/events/", {"before": "²", "actor": "\x00", "object_id": "\x00"}),
        ("auditadmin", "/audit/security/", {"to": "0001-01-01"}),
        ("auditadmin", "/audit/security/", {"from": "9999-12-31"}),
        ("discipline", "/oversight/draws/", {"before": "²", "to": "0001-01-01"}),
        ("lead", "/enterprises/", {"q": "\x00", "after": "\x00", "before": "\x00"}),
        ("lead", "/enterprises/check-items/", {"q": "\x00", "status": "\x00"}),
        ("staff", "/disclosure/publications/", {"q": "\x00", "f": "\x00"}),
        ("secadmin", "/accounts/users/", {"q": "\x00"}),
        ("sysadmin", "/calendar/new/", {"correct": "²"}),
    ]
    for role, url, query in probes:
        response = demo[role].get(url, query)
        assert response.status_code == 200, (role, url, query, response.status_code)
