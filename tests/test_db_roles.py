"""The runtime role owns nothing and may only add to the append-only tables (issue 21 item 1a,
docs/deploy.md §4). PostgreSQL with two roles: ``make test`` creates them (scripts/
pg_test_roles.py); the suite builds its database as the owner, whose ``migrate`` grants the
runtime role its privileges; these tests connect as the runtime role."""

import importlib
import io
import os
from contextlib import contextmanager

import psycopg
import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction
from django.test import Client

from audit.models import AuditEvent
from audit.services import audit_chain_verify, audit_record
from core.dbroles import classify_tables
from inspections.models import Draw, DrawSelection
from inspections.services import visits as visit_services
from tests.conftest import PASSWORD
from tests.draws_fixtures import void_approved
from tests.visits_fixtures import complete_draw, jpeg_bytes, recorders

pytestmark = pytest.mark.postgres


@pytest.fixture
def runtime():
    """The runtime role's connection settings; the two-role set-up is required in CI."""
    if not settings.DATABASE_OWNER_URL:
        if os.environ.get("CI"):
            pytest.fail("CI runs PostgreSQL with two roles (make test, scripts/pg_test_roles.py)")
        pytest.skip("needs DATABASE_OWNER_URL: make test creates the two roles")
    return settings.RUNTIME_DATABASE


def _connect(runtime) -> psycopg.Connection:
    return psycopg.connect(
        dbname=connection.settings_dict["NAME"],
        host=runtime["HOST"] or "127.0.0.1",
        port=runtime["PORT"] or 5432,
        user=runtime["USER"],
        password=runtime["PASSWORD"] or None,
        autocommit=True,
    )


@contextmanager
def _app_as_runtime_role(runtime):
    """Django's own connection as the runtime role, as on a server."""
    saved = {key: connection.settings_dict[key] for key in ("USER", "PASSWORD")}
    connection.close()
    connection.settings_dict.update(USER=runtime["USER"], PASSWORD=runtime["PASSWORD"])
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict.update(saved)


ATTACKS = [
    "SET audit.allow_truncate = 'on'; TRUNCATE {table}",
    "ALTER TABLE {table} DISABLE TRIGGER USER",
    "ALTER TABLE {table} DISABLE TRIGGER ALL",
    "UPDATE {table} SET id = id",
    "DELETE FROM {table}",
]


@pytest.mark.django_db(transaction=True)
def test_the_runtime_role_cannot_truncate_disable_triggers_update_or_delete(
    runtime, lead, make_task, make_enterprises, roster
):
    for i in range(3):
        audit_record(event_type="test.event", detail={"i": i})
    make_enterprises({"A": 3})
    draw = complete_draw(make_task(), lead)
    events, selections = AuditEvent.objects.count(), DrawSelection.objects.count()
    assert selections > 0

    with _connect(runtime) as conn:
        assert conn.execute("SELECT current_user").fetchone() == (runtime["USER"],)
        for table in ("audit_auditevent", "inspections_drawselection"):
            for attack in ATTACKS:
                with pytest.raises(psycopg.errors.InsufficientPrivilege):
                    conn.execute(attack.format(table=table))
        # The draw itself: only the transition columns, and the trigger still guards those.
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("UPDATE inspections_draw SET manifest = ''::bytea")
        with pytest.raises(psycopg.errors.RaiseException, match="can only be voided"):
            conn.execute(
                "UPDATE inspections_draw SET status = 'committed' WHERE id = %s", [draw.pk]
            )
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("DELETE FROM inspections_draw")
        # What it may do: read, and add.
        assert conn.execute("SELECT COUNT(*) FROM audit_auditevent").fetchone() == (events,)

    assert (AuditEvent.objects.count(), DrawSelection.objects.count()) == (events, selections)
    assert audit_chain_verify().ok


def test_the_grants_are_exactly_the_documented_ones(db, runtime):
    role = runtime["USER"]
    kinds = classify_tables()
    append_only = {t for t, (kind, _) in kinds.items() if kind == "append_only"}
    assert {
        "audit_auditevent",
        "inspections_drawselection",
        "inspections_drawwitness",
        "inspections_drawteammember",
        "inspections_drawreplacement",
        "inspections_jointvisit",
        "core_storedfile",
        "inspections_visitevidence",
        "inspections_visitreview",
        "inspections_visitarchive",
        "inspections_visitarchivedocument",
    } <= append_only
    with connection.cursor() as cursor:
        cursor.execute("SELECT tablename, tableowner FROM pg_tables WHERE schemaname = 'public'")
        owners = dict(cursor.fetchall())
        assert role not in owners.values()

        def may(table, privilege):
            cursor.execute("SELECT has_table_privilege(%s, %s, %s)", [role, table, privilege])
            return cursor.fetchone()[0]

        for table in owners:
            kind, _columns = kinds.get(table, ("unknown", []))
            assert not may(table, "TRUNCATE") and not may(table, "REFERENCES"), table
            if kind == "append_only":
                assert may(table, "SELECT") and may(table, "INSERT"), table
                assert not may(table, "UPDATE") and not may(table, "DELETE"), table
            elif kind == "ordinary":
                assert all(may(table, p) for p in ("SELECT", "INSERT", "UPDATE", "DELETE"))
        cursor.execute(
            "SELECT column_name FROM information_schema.column_privileges "
            "WHERE grantee = %s AND table_name = 'inspections_draw' "
            "AND privilege_type = 'UPDATE' ORDER BY 1",
            [role],
        )
        updatable = [name for (name,) in cursor.fetchall()]
    fields = Draw.VOID_FIELDS | Draw.COMPLETE_FIELDS | Draw.REQUEST_FIELDS
    assert updatable == sorted(Draw._meta.get_field(f).column for f in fields)
    assert "manifest" not in updatable and "secret" not in updatable


@pytest.mark.django_db(transaction=True)
def test_the_app_works_as_the_runtime_role(
    visits_today,
    runtime,
    lead,
    lead2,
    make_task,
    make_enterprises,
    roster,
    inspector_users,
    users,
    tmp_path,
):
    make_enterprises({"A": 2, "D": 1})
    first, second = make_task(), make_task()
    with _app_as_runtime_role(runtime):
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_user")
            assert cursor.fetchone() == (runtime["USER"],)
        # A login: the throttle row locked and written, the session stored, the event chained.
        client = Client()
        response = client.post(
            "/accounts/login/", {"username": lead.username, "password": PASSWORD}
        )
        assert response.status_code == 302
        # A draw frozen, performed (select_for_update and the column-level UPDATE), its visits
        # generated, evidence stored; another draw voided by a second lead member.
        draw = complete_draw(first, lead)
        assert draw.status == Draw.Status.COMPLETED
        visit, *_ = visit_services.visits_create_for_draw(actor=lead, draw=draw)
        recorder = recorders(visit, inspector_users)[0]
        evidence = visit_services.evidence_add(
            actor=recorder, visit=visit, upload=("门口.jpg", jpeg_bytes()), kind="photo"
        )
        assert evidence.pk
        other = complete_draw(second, lead)
        void_approved(requester=lead, draw=other, reason="名单有误", approver=lead2)
        other.refresh_from_db()
        assert other.status == Draw.Status.VOIDED
        # The model's guards still speak first; the database refuses what slips past them.
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("UPDATE audit_auditevent SET reason = 'x'")
        result = audit_chain_verify()
        assert result.ok and result.checked == AuditEvent.objects.count()
        # The nightly backup runs as the application too: pg_dump only reads.
        call_command("create_backup", str(tmp_path / "backup"), stdout=io.StringIO())
        assert (tmp_path / "backup" / "database.dump").read_bytes()[:5] == b"PGDMP"


def test_the_truncate_switch_exists_only_in_the_test_settings(db, runtime):
    migration = importlib.import_module("audit.migrations.0003_event_mac_truncate_guard")
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_get_functiondef('audit_event_append_only'::regproc)")
        assert "allow_truncate" in cursor.fetchone()[0]  # this test database: built with it
    production = migration.function_sql(switch=False)
    assert "allow_truncate" not in production
    # Installed as migrate installs it without AUDIT_TRUNCATE_SWITCH: the owner who sets the
    # flag (as the probe did) is refused all the same. Rolled back with the test.
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(production)
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("SET LOCAL audit.allow_truncate = 'on'")
        cursor.execute("TRUNCATE audit_auditevent")


def test_db_grant_runtime_is_idempotent_and_refuses_the_owner_itself(db, runtime, capsys):
    call_command("db_grant_runtime")
    call_command("db_grant_runtime")
    out = capsys.readouterr().out
    assert out.count(f"已为运行角色 {runtime['USER']} 授权") == 2
    assert "inspections_draw: UPDATE (" in out
    with pytest.raises(CommandError, match="就是当前连接的角色"):
        call_command("db_grant_runtime", role=connection.settings_dict["USER"])
    with pytest.raises(CommandError, match="不存在"):
        call_command("db_grant_runtime", role="no_such_role_here")


@pytest.mark.django_db(transaction=True)
def test_a_first_load_import_as_the_runtime_role_takes_the_ordinary_path(
    runtime, section, lead_section, other_section, monkeypatch
):
    """Bulk-load mode drops and rebuilds indexes and runs ANALYZE, which only the owner may:
    as the runtime role the same import is written the ordinary way, whole."""
    from enterprises import fastpath
    from enterprises.demo import seed_reference
    from enterprises.models import Enterprise
    from enterprises.services import import_apply
    from tests.test_enterprises_import import row, xlsx

    seed_reference()
    monkeypatch.setattr(fastpath, "BULK_MIN_ROWS", 10)
    monkeypatch.setattr(fastpath, "_reltuples", lambda cursor: 0)  # an empty register
    with connection.cursor() as cursor:
        assert fastpath._bulk_wanted(cursor, 30)  # the owner would bulk-load
    used = []
    original = fastpath.pg_insert_staged
    monkeypatch.setattr(
        fastpath, "pg_insert_staged", lambda **kw: used.append(original(**kw)) or used[-1]
    )
    with _app_as_runtime_role(runtime):
        _, written = import_apply(
            actor=None, kind="enterprises", source=xlsx([row(i) for i in range(1, 31)])
        )
        assert used == [False] and written["created"] == 30
        assert Enterprise.objects.count() == 30
