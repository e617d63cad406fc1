"""Shared fixtures: one user per role (healthchecks-style personas), sections, role clients."""

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.db.models.signals import post_migrate
from django.test import Client

from accounts.models import Section, User
from accounts.roles import Role

PASSWORD = "Test-pass-2026"

# The fixtures of the feature test modules, shared by name across the suite (their helpers,
# which are plain functions and constants, are imported by name where used).
pytest_plugins = [
    "tests.plans_fixtures",
    "tests.draws_fixtures",
    "tests.visits_fixtures",
    "tests.disclosure_publication_fixtures",
    "tests.reports_fixtures",
]


def pytest_collection_modifyitems(config, items):
    # The PostgreSQL-only tests are skipped on SQLite, and say so.
    from django.conf import settings

    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        skip = pytest.mark.skip(reason="needs PostgreSQL (DATABASE_URL)")
        for item in items:
            if "postgres" in item.keywords:
                item.add_marker(skip)


@pytest.fixture(autouse=True)
def _empty_cache():
    """Each test starts with an empty cache: the local-memory cache outlives a test's rolled
    back database, and a value kept under a key a later test's data happens to reproduce (the
    same highest ids on SQLite) would leak into it."""
    from django.core.cache import cache

    cache.clear()
    yield


@pytest.fixture(autouse=True)
def _empty_checkpoint_store(settings):
    """Each test starts with no audit checkpoints: the store is a folder outside the database
    (audit/checkpoints.py), so a test's rolled-back events would otherwise leave checkpoints
    that the next test's log cannot hold."""
    import shutil

    yield
    shutil.rmtree(settings.AUDIT_CHECKPOINT_DIR, ignore_errors=True)


@pytest.fixture
def eager():
    """Run Celery tasks in the calling thread (no broker) while the test runs."""
    from config.celery_app import app

    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


@pytest.fixture
def celery_worker_threads():
    """A real Celery worker (two threads) on the real broker, for the tests that need the
    whole path: Redis as broker and result backend (the tests using it skip without REDIS_URL)."""
    from celery.contrib.testing.worker import start_worker
    from django.conf import settings

    from config.celery_app import app

    def forget_backend():
        # Celery caches the result backend per thread on first use; an earlier test may have
        # created the "no backend" one, which would ignore the setting below.
        app._local.__dict__.pop("backend", None)

    app.conf.result_backend = settings.REDIS_URL
    app.conf.broker_url = settings.CELERY_BROKER_URL
    app.conf.task_ignore_result = False
    forget_backend()
    app.control.purge()
    with start_worker(
        app, pool="threads", concurrency=2, perform_ping_check=False, shutdown_timeout=30
    ) as running:
        yield running
    app.conf.task_ignore_result = True
    app.conf.result_backend = None
    forget_backend()


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


# --- Data the migrations create (role groups, sampling rates, result categories, calendar) ---
# A transactional test (every live-server test is one) ends with a flush that empties every
# table; the flush then re-emits post_migrate, but data migrations do not run again. So the
# rows the migrations created are snapshotted once, before the first test, and put back
# after every flush, for the tests that follow, which otherwise would find users without roles
# and tasks without sampling rates. (One mechanism for all reference data: the apps carry no
# test-only post_migrate hooks.)
NOT_SNAPSHOTTED = {"contenttypes.contenttype", "auth.permission", "sessions.session"}
_snapshot: list[str] = []


def _take_snapshot() -> None:
    from django.apps import apps
    from django.core import serializers

    objects = []
    for model in apps.get_models():
        if model._meta.label_lower in NOT_SNAPSHOTTED or model._meta.proxy:
            continue
        if not model._meta.managed:
            continue
        objects.extend(model._default_manager.order_by("pk"))
    _snapshot[:] = [serializers.serialize("json", objects, use_natural_foreign_keys=True)]


def _restore_snapshot(sender=None, **kwargs) -> None:
    if sender is not None and sender.label != "accounts":
        return  # post_migrate is sent once per app: restore once, after auth's permissions
    if not _snapshot:
        for name in Role.values:  # no snapshot yet: at least the role groups
            Group.objects.get_or_create(name=name)
        return
    from django.core import serializers
    from django.db import transaction

    with transaction.atomic():
        for obj in serializers.deserialize("json", _snapshot[0], handle_forward_references=True):
            obj.save()


post_migrate.connect(_restore_snapshot, dispatch_uid="e2e-restore-migration-data")


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """pytest-django's database setup, then the snapshot, taken while the database holds only
    what the migrations made. (Requested only when a test uses the database: pytest-django
    creates test databases only for such sessions.)"""
    with django_db_blocker.unblock():
        _take_snapshot()
