import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction
from django.db.utils import DatabaseError

from accounts.roles import Role
from audit.models import GENESIS_HASH, AppendOnlyError, AuditEvent
from audit.services import audit_chain_verify, audit_record
from tests.permissions import assert_role_access


def _events(n=3, actor=None):
    return [
        audit_record(event_type="test.event", actor=actor, detail={"i": i, "名": "值"})
        for i in range(n)
    ]


def test_events_form_a_hash_chain(users):
    first, second, third = _events(3, actor=users[Role.LEAD_SECTION])
    assert first.seq == 1 and first.prev_hash == GENESIS_HASH
    assert second.prev_hash == first.hash and third.prev_hash == second.hash
    assert first.actor_roles == Role.LEAD_SECTION
    stored = AuditEvent.objects.get(seq=2)
    assert stored.compute_hash() == stored.hash  # what the database returns hashes the same
    assert audit_chain_verify().ok


def test_event_is_rolled_back_with_the_change(db):
    with pytest.raises(RuntimeError), transaction.atomic():
        audit_record(event_type="test.event")
        raise RuntimeError("the change failed")
    assert not AuditEvent.objects.exists()


def test_model_refuses_save_over_and_delete(db):
    event = audit_record(event_type="test.event")
    event.reason = "changed"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.all().delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.update(reason="x")


def test_database_refuses_raw_update(db):
    audit_record(event_type="test.event")
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE audit_auditevent SET reason = 'x'")


@pytest.mark.postgres
def test_postgres_trigger_refuses_delete_and_truncate(db):
    audit_record(event_type="test.event")
    for statement in [
        "DELETE FROM audit_auditevent",
        "SET LOCAL audit.allow_truncate = 'off'; TRUNCATE audit_auditevent",
    ]:
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement)
    assert AuditEvent.objects.count() == 1


def _tamper(sql: str):
    """Edit a row behind the app's back, with the append-only trigger out of the way."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # The table's owner (the role the suite builds its database with) can switch the
            # triggers off: the attack we must detect (issue 21, finding 1).
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no pending FK checks: ALTER
            cursor.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER USER")
            cursor.execute(sql)
            cursor.execute("ALTER TABLE audit_auditevent ENABLE TRIGGER USER")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        else:
            cursor.execute("DROP TRIGGER audit_event_no_update")
            cursor.execute(sql)
            cursor.execute(
                "CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_auditevent "
                "BEGIN SELECT RAISE(ABORT, 'append-only'); END;"
            )


def test_verify_command_passes_on_an_intact_chain(db, capsys):
    _events(4)
    call_command("verify_audit_chain")
    assert capsys.readouterr().out.startswith("OK 4 events")


def test_verify_command_finds_an_edited_row(db, capsys):
    _events(5)
    _tamper("UPDATE audit_auditevent SET reason = 'rewritten' WHERE seq = 3")
    with pytest.raises(CommandError) as exc:
        call_command("verify_audit_chain")
    assert exc.value.returncode == 1
    assert "BROKEN at seq 3" in capsys.readouterr().out


def test_verify_finds_a_deleted_row(db):
    _events(5)
    _tamper("DELETE FROM audit_auditevent WHERE seq = 2")
    result = audit_chain_verify()
    assert not result.ok and result.broken_seq == 2


def test_verify_finds_a_rehashed_row_at_the_row_itself(db):
    # Before each event carried a mac this was found only through the next link (seq 3); the
    # mac, which needs the application server's key, now pins the rewritten row itself.
    events = _events(4)
    forged = AuditEvent.objects.get(seq=2)
    forged.reason = "forged"
    new_hash = forged.compute_hash()
    _tamper(f"UPDATE audit_auditevent SET reason='forged', hash='{new_hash}' WHERE seq=2")
    result = audit_chain_verify()
    assert not result.ok and result.broken_seq == 2 and "密钥签名" in result.problem
    assert events[2].prev_hash != new_hash


def test_audit_log_access(users):
    assert_role_access(users, "/audit/events/", {Role.AUDIT_ADMIN, Role.DISCIPLINE})
    assert_role_access(users, "/audit/verify/", {Role.AUDIT_ADMIN}, method="post")


def test_audit_admin_verifies_from_the_screen(client_for):
    client = client_for(Role.AUDIT_ADMIN)
    response = client.post("/audit/verify/", follow=True)
    assert "日志链完整" in response.content.decode()
    assert AuditEvent.objects.filter(event_type="audit.chain_verified").exists()
    assert response.redirect_chain[-1][0] == "/audit/events/"


def test_verifying_from_the_security_screen_returns_to_it(client_for):
    client = client_for(Role.AUDIT_ADMIN)
    screen = client.get("/audit/security/").content.decode()
    assert 'name="back" value="security"' in screen
    response = client.post("/audit/verify/", {"back": "security"}, follow=True)
    assert response.redirect_chain[-1][0] == "/audit/security/"
    assert "日志链完整" in response.content.decode()
    # Anything else goes back to the log: the target is chosen, never taken from the request.
    response = client.post("/audit/verify/", {"back": "https://evil.example/"})
    assert response["Location"] == "/audit/events/"


def test_event_list_pages_by_sequence_without_counting(client_for, django_assert_max_num_queries):
    for i in range(120):
        audit_record(event_type="test.event", detail={"i": i})
    client = client_for(Role.AUDIT_ADMIN)
    first = client.get("/audit/events/?type=test.")
    seqs = [e.seq for e in first.context["events"]]
    assert len(seqs) == 50 and seqs == sorted(seqs, reverse=True)
    second = client.get(f"/audit/events/?type=test.&before={first.context['next_before']}")
    assert max(e.seq for e in second.context["events"]) == min(seqs) - 1
    third = client.get(f"/audit/events/?type=test.&before={second.context['next_before']}")
    assert len(third.context["events"]) == 20 and third.context["next_before"] is None
    # A constant number of queries whatever the page, and none of them counts the table.
    with django_assert_max_num_queries(8) as queries:
        client.get(f"/audit/events/?before={second.context['next_before']}")
    assert not any(
        "COUNT(" in q["sql"] and "audit_auditevent" in q["sql"] for q in queries.captured_queries
    )


def test_security_overview_counts_and_is_itself_audited(client_for, make_user):
    from django.test import Client

    make_user(Role.INSPECTOR, username="zhangwei")
    for _ in range(5):
        Client().post("/accounts/login/", {"username": "zhangwei", "password": "bad-Pass-1"})
    client = client_for(Role.DISCIPLINE)
    response = client.get("/audit/security/")
    assert response.status_code == 200
    (_day, counts), *_ = response.context["rows"]
    labels = [label for _code, label in response.context["columns"]]
    assert counts[labels.index("登录失败")] == 5
    assert counts[labels.index("账户锁定")] == 1
    assert len(response.context["lockouts"]) == 1
    assert AuditEvent.objects.filter(event_type="oversight.viewed").exists()


def test_security_overview_access(users):
    assert_role_access(users, "/audit/security/", {Role.AUDIT_ADMIN, Role.DISCIPLINE})
