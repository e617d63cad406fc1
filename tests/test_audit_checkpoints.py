"""The audit chain anchored outside the database (issue 21, finding 1 and item 1b).

The probe's attacks, each reported BROKEN with the seq where the log diverges: TRUNCATE with
the test-only switch, the tail deleted, a row rewritten and every later hash recomputed with
the model's own ``compute_hash``. An honest restore of an older backup passes.
"""

import io
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from accounts.roles import Role
from audit import checkpoints
from audit.apps import check_checkpoint_key
from audit.models import GENESIS_HASH, AuditEvent
from audit.services import audit_chain_verify, audit_checkpoint_create, audit_record
from audit.tasks import audit_checkpoint
from tests.pdf_text import text_of
from tests.permissions import assert_role_access


@pytest.fixture
def store(settings, tmp_path):
    settings.AUDIT_CHECKPOINT_DIR = str(tmp_path / "checkpoints")
    return Path(settings.AUDIT_CHECKPOINT_DIR)


def _events(n: int) -> list[AuditEvent]:
    return [audit_record(event_type="test.event", detail={"i": i}) for i in range(n)]


def _behind_the_apps_back(statements: list[tuple[str, list]]) -> None:
    """As the table's owner would: the append-only triggers off, the statements, back on."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER USER")
            for sql, params in statements:
                cursor.execute(sql, params)
            cursor.execute("ALTER TABLE audit_auditevent ENABLE TRIGGER USER")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        else:
            cursor.execute("DROP TRIGGER audit_event_no_update")
            for sql, params in statements:
                cursor.execute(sql, params)
            cursor.execute(
                "CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_auditevent "
                "BEGIN SELECT RAISE(ABORT, 'audit_auditevent is append-only'); END;"
            )


def _rewrite_from(seq: int, *, macs: str = "keep") -> None:
    """Change event ``seq`` and recompute its hash and every later one with the model's own
    ``compute_hash`` (the chain alone then verifies). ``macs``: keep the old ones, or drop."""
    prev = AuditEvent.objects.get(seq=seq - 1).hash if seq > 1 else GENESIS_HASH
    updates = []
    for event in AuditEvent.objects.filter(seq__gte=seq).order_by("seq"):
        if event.seq == seq:
            event.reason = "rewritten"
        event.prev_hash = prev
        event.hash = prev = event.compute_hash()
        mac = event.mac if macs == "keep" else None
        updates.append(
            (
                "UPDATE audit_auditevent SET reason = %s, prev_hash = %s, hash = %s, mac = %s "
                "WHERE seq = %s",
                [event.reason, event.prev_hash, event.hash, mac, event.seq],
            )
        )
    _behind_the_apps_back(updates)


def _truncate() -> None:
    """The probe's statement on PostgreSQL (the switch exists in the test database only);
    SQLite has no TRUNCATE and no DELETE trigger: the same effect."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("SET LOCAL audit.allow_truncate = 'on'")
            cursor.execute("TRUNCATE audit_auditevent")
        else:
            cursor.execute("DELETE FROM audit_auditevent")


# --- the probe's three attacks ------------------------------------------------------------------


def test_a_truncated_log_is_broken_at_seq_1(db, store):
    _events(6)
    result, path = audit_checkpoint_create()
    assert result.ok and path.is_file()
    _truncate()
    assert not AuditEvent.objects.exists()
    result = audit_chain_verify()
    assert not result.ok
    assert result.broken_seq == 1 and "短" in result.problem and "6" in result.problem


def test_the_command_reports_the_truncation_and_exits_1(db, store, capsys):
    _events(3)
    call_command("verify_audit_chain")
    assert capsys.readouterr().out.startswith("OK 3 events")
    _truncate()
    with pytest.raises(CommandError) as exc:
        call_command("verify_audit_chain")
    assert exc.value.returncode == 1
    assert capsys.readouterr().out.startswith("BROKEN at seq 1:")
    assert len(list(store.iterdir())) == 1  # no checkpoint of a broken chain


def test_a_deleted_tail_is_broken_where_the_log_now_ends(db, store):
    _events(10)
    assert audit_checkpoint_create()[0].ok
    _behind_the_apps_back([("DELETE FROM audit_auditevent WHERE seq >= %s", [8])])
    # On its own the shorter chain is intact: only the checkpoint outside the database tells.
    assert audit_chain_verify(anchored=False).ok
    result = audit_chain_verify()
    assert not result.ok and result.broken_seq == 8 and result.checked == 7


def test_a_rewritten_suffix_with_recomputed_hashes_is_broken_at_the_rewritten_row(db, store):
    _events(10)
    assert audit_checkpoint_create()[0].ok
    _rewrite_from(4)
    result = audit_chain_verify()
    assert not result.ok and result.broken_seq == 4 and "密钥签名" in result.problem


def test_dropping_the_macs_of_a_rewritten_suffix_does_not_hide_it(db, store):
    _events(10)
    assert audit_checkpoint_create()[0].ok
    _rewrite_from(4, macs="drop")
    result = audit_chain_verify()
    assert not result.ok and result.broken_seq == 4 and "缺少密钥签名" in result.problem


def test_events_without_macs_are_anchored_by_the_checkpoints(db, store):
    # Events written before the mac existed: a checkpoint is all that anchors them.
    _events(10)
    _behind_the_apps_back([("UPDATE audit_auditevent SET mac = NULL", [])])
    first, _ = audit_checkpoint_create()
    assert first.ok and first.keyed_from is None
    _events(2)  # with macs, after the checkpoint
    _rewrite_from(4, macs="drop")
    result = audit_chain_verify()
    assert not result.ok and result.broken_seq == 10 and "检查点" in result.problem


# --- the checkpoint files ---------------------------------------------------------------------


def test_verification_writes_a_signed_checkpoint_outside_the_database(db, store):
    events = _events(5)
    result, path = audit_checkpoint_create()
    document = json.loads(path.read_text(encoding="utf-8"))
    assert path.parent == store and oct(path.stat().st_mode & 0o777) == "0o640"
    assert (document["seq"], document["count"], document["hash"]) == (5, 5, events[-1].hash)
    assert document["epoch"] == 0 and document["keyed_from"] == 1
    assert checkpoints.signature_valid(document)
    # The signature covers every field: a checkpoint moved back to hide a truncation is refused.
    forged = {**document, "seq": 2, "count": 2, "hash": events[1].hash}
    assert not checkpoints.signature_valid(forged)
    path.write_text(json.dumps(forged), encoding="utf-8")
    result = audit_chain_verify()
    assert not result.ok and "签名不符" in result.problem


def test_an_earlier_key_is_accepted_only_from_the_fallback_list(db, store, settings):
    settings.AUDIT_CHECKPOINT_KEY = "old-key-" + "a" * 40
    _events(3)
    assert audit_checkpoint_create()[0].ok
    settings.AUDIT_CHECKPOINT_KEY = "new-key-" + "b" * 40
    assert not audit_chain_verify().ok  # neither the old checkpoint nor the old macs verify
    settings.AUDIT_CHECKPOINT_KEY_FALLBACKS = ["old-key-" + "a" * 40]
    _events(1)  # signed with the new key
    assert audit_chain_verify().ok


def test_the_key_is_required_outside_development(settings):
    settings.DEBUG = False
    settings.SETTINGS_MODULE = "config.settings.production"
    settings.AUDIT_CHECKPOINT_KEY = ""
    assert [e.id for e in check_checkpoint_key()] == ["audit.E001"]
    settings.AUDIT_CHECKPOINT_KEY = "short"
    assert [e.id for e in check_checkpoint_key()] == ["audit.E002"]
    settings.AUDIT_CHECKPOINT_KEY = "k" * 48
    assert check_checkpoint_key() == []


def test_the_daily_task_writes_a_checkpoint_and_records_a_broken_chain(db, store):
    _events(3)
    first = audit_checkpoint()
    assert Path(first).is_file()
    assert AuditEvent.objects.filter(event_type="audit.chain_verified", outcome="success").exists()
    assert Path(audit_checkpoint()).is_file()  # twice: a second checkpoint, nothing else
    _behind_the_apps_back([("DELETE FROM audit_auditevent WHERE seq >= %s", [3])])
    assert audit_checkpoint().startswith("BROKEN at seq 3")
    assert len(list(store.iterdir())) == 2
    failed = AuditEvent.objects.get(event_type="audit.chain_verified", outcome="failure")
    assert failed.detail["broken_seq"] == 3 and failed.detail["checkpoint"] is None


# --- the audit screen -------------------------------------------------------------------------


def test_checkpoint_screens_are_for_the_log_readers_only(users, store):
    _, path = audit_checkpoint_create()
    name = path.name.removesuffix(".json")
    readers = {Role.AUDIT_ADMIN, Role.DISCIPLINE}
    assert_role_access(users, "/audit/checkpoints/", readers)
    assert_role_access(users, f"/audit/checkpoints/{name}.json", readers)


def test_the_audit_admin_downloads_and_prints_a_checkpoint(client_for, store):
    client = client_for(Role.AUDIT_ADMIN)
    response = client.post("/audit/verify/", {"back": "checkpoints"}, follow=True)
    assert response.redirect_chain[-1][0] == "/audit/checkpoints/"
    page = response.content.decode()
    assert "日志链完整" in page and "已写入新检查点" in page
    (document,) = response.context["checkpoints"]
    name = document["name"].removesuffix(".json")
    assert f"/audit/checkpoints/{name}.json" in page and f"/audit/checkpoints/{name}.pdf" in page

    download = client.get(f"/audit/checkpoints/{name}.json")
    assert download["Content-Disposition"].startswith("attachment;")
    signed = json.loads(download.content)
    assert checkpoints.signature_valid(signed) and signed["hash"] == document["hash"]

    pdf = client.get(f"/audit/checkpoints/{name}.pdf")
    assert pdf["Content-Type"] == "application/pdf"
    text = text_of(pdf.content)
    assert "审计日志检查点" in text and document["signature"][:32] in text
    downloads = AuditEvent.objects.filter(event_type="audit.checkpoint_downloaded")
    assert sorted(e.detail["format"] for e in downloads) == ["json", "pdf"]


def test_a_tampered_or_unknown_checkpoint_is_not_served(client_for, store):
    client = client_for(Role.AUDIT_ADMIN)
    client.post("/audit/verify/")
    (path,) = store.iterdir()
    name = path.name.removesuffix(".json")
    document = json.loads(path.read_text(encoding="utf-8"))
    path.write_text(json.dumps({**document, "seq": 0}), encoding="utf-8")
    assert client.get(f"/audit/checkpoints/{name}.json").status_code == 404
    assert (
        client.get("/audit/checkpoints/e0000-s000000000001-20261207T000000000000Z.pdf").status_code
        == 404
    )
    assert client.get("/audit/checkpoints/..%2Fsecret.json").status_code == 404


# --- backups and an honest restore --------------------------------------------------------------


def _create_backup(directory: Path) -> dict:
    call_command("create_backup", str(directory), stdout=io.StringIO(), stderr=io.StringIO())
    return json.loads((directory / "manifest.json").read_text(encoding="utf-8"))


@pytest.mark.django_db(transaction=True)  # SQLite's backup API waits for open transactions
def test_every_backup_manifest_carries_a_signed_checkpoint(store, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    events = _events(4)
    manifest = _create_backup(tmp_path / "backup")
    signed = manifest["audit"]["checkpoint"]
    assert checkpoints.signature_valid(signed)
    assert (signed["seq"], signed["hash"], signed["count"]) == (4, events[-1].hash, 4)
    assert (store / checkpoints.checkpoint_name(signed)).is_file()  # kept here too

    # A manifest whose checkpoint was edited is refused before anything is touched.
    manifest["audit"]["checkpoint"]["seq"] = 3
    (tmp_path / "backup" / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(CommandError, match="签名不符"):
        call_command("restore_backup", str(tmp_path / "backup"), "--force")
    assert AuditEvent.objects.count() == 5  # + backup.created; nothing restored


def _manage(command: list[str], env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *command, "--skip-checks"],
        cwd=django_settings.BASE_DIR,
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.test",
            "REDIS_URL": "",
            **env,
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.skipif(
    django_settings.DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3",
    reason="a restore into a new SQLite file (PostgreSQL: test_core_backup's restore)",
)
@pytest.mark.django_db(transaction=True)
def test_an_honest_restore_of_an_older_backup_passes_and_a_hand_made_one_does_not(
    store, settings, tmp_path
):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    _events(5)
    manifest = _create_backup(tmp_path / "backup")  # checkpoint at seq 5, then backup.created
    _events(4)
    later, _ = audit_checkpoint_create()  # a checkpoint at seq 10 of the history left behind
    assert later.ok and later.checked == 10

    target = tmp_path / "restored.sqlite3"
    env = {
        "DATABASE_URL": f"sqlite:///{target}",
        "MEDIA_ROOT": str(tmp_path / "media-restored"),
        "AUDIT_CHECKPOINT_DIR": str(store),
    }
    restored = _manage(["restore_backup", str(tmp_path / "backup")], env)
    assert restored.returncode == 0, restored.stderr
    epoch = json.loads((store / "epoch-0001.json").read_text(encoding="utf-8"))
    assert checkpoints.signature_valid(epoch)
    assert (epoch["seq"], epoch["hash"], epoch["from_epoch"]) == (
        5,
        manifest["audit"]["last_hash"],
        0,
    )
    verified = _manage(["verify_audit_chain"], env)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "superseded by a restore" in verified.stdout  # the seq-10 checkpoint

    # The same older database put back by hand, without restore_backup's epoch: the log is
    # shorter than the checkpoints say — reported, not mistaken for an honest restore.
    by_hand = tmp_path / "checkpoints-no-epoch"
    by_hand.mkdir()
    for path in store.glob("e*.json"):
        if not path.name.startswith("epoch-"):
            (by_hand / path.name).write_bytes(path.read_bytes())
    refused = _manage(["verify_audit_chain"], {**env, "AUDIT_CHECKPOINT_DIR": str(by_hand)})
    assert refused.returncode == 1
    # Restored 1–5, + backup.restored at 6; the abandoned history's checkpoint says 10.
    assert refused.stdout.startswith("BROKEN at seq 7:"), refused.stdout
    conn = sqlite3.connect(target)
    try:
        assert conn.execute("SELECT COUNT(*) FROM audit_auditevent").fetchone() == (6,)
    finally:
        conn.close()


def test_checkpointing_the_same_head_twice_at_one_instant_gives_one_file(db, store):
    import time_machine

    _events(2)
    with time_machine.travel("2026-12-07 02:10:00+08:00", tick=False):
        first = audit_checkpoint_create()[1]
        second = audit_checkpoint_create()[1]
    assert first == second and len(list(store.iterdir())) == 1


def test_a_database_restored_from_before_the_mac_column_still_verifies(db, store):
    # restore_backup verifies before `migrate` has added the column (rolled back with the test).
    _events(3)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("ALTER TABLE audit_auditevent DROP COLUMN mac")
    result = audit_chain_verify(anchored=False)
    assert result.ok and result.checked == 3 and result.keyed_from is None
