"""Backups (create_backup / restore_backup / verify_backup): a backup restored into a fresh
database holds the same audit chain (it verifies, and ends at the event the manifest names) and
the stored uploads come back byte for byte; a non-empty database, a differing media file and a
tampered backup are refused."""

import io
import json
import os
import sqlite3
import subprocess
import sys
import uuid
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from accounts.roles import Role
from audit.models import AuditEvent
from audit.services import audit_chain_verify, audit_record
from core.models import StoredFile
from core.uploads import file_store, register_file_purpose

BASE_DIR = Path(django_settings.BASE_DIR)


def _png(colour: str) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (3, 2), colour).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture
def media(settings, tmp_path):
    root = tmp_path / "media-source"
    root.mkdir()
    settings.MEDIA_ROOT = str(root)
    register_file_purpose(
        "backup_test", kinds={"png"}, can_read=lambda user, f: user.has_role(Role.INSPECTOR)
    )
    return root


def _populate(users) -> tuple:
    """Two stored uploads and a few business events; returns (stored file, its bytes)."""
    actor = users[Role.INSPECTOR]
    data = _png("red")
    stored = file_store(upload=("现场照片.png", data), purpose="backup_test", actor=actor)
    file_store(upload=("第二张.png", _png("blue")), purpose="backup_test", actor=actor)
    for n in range(3):
        audit_record(event_type="test.backup", actor=actor, detail={"n": n, "text": "中文"})
    return stored, data


def _run(command: list[str], env: dict) -> subprocess.CompletedProcess:
    full_env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "REDIS_URL": "",
        **env,
    }
    return subprocess.run(
        [sys.executable, "manage.py", *command, "--skip-checks"],
        cwd=BASE_DIR,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _create(directory: Path) -> dict:
    out, err = io.StringIO(), io.StringIO()
    call_command("create_backup", str(directory), stdout=out, stderr=err)
    assert out.getvalue().strip() == str(directory.resolve())
    return json.loads((directory / "manifest.json").read_text(encoding="utf-8"))


def _restore_and_check(source, backup: Path, env: dict, target_media: Path, query, tables):
    """The shared body of the PostgreSQL and SQLite journeys: ``query(sql)`` reads one value
    from the target database, ``tables()`` counts its tables."""
    assert source.ok and source.checked >= 5

    # A differing file already at one of the backup's media paths: refused, nothing written.
    manifest = json.loads((backup / "manifest.json").read_text(encoding="utf-8"))
    clash = next(name for name in manifest["files"] if name.startswith("media/"))
    clash_path = target_media / clash.removeprefix("media/")
    clash_path.parent.mkdir(parents=True)
    clash_path.write_bytes(b"something else")
    refused = _run(["restore_backup", str(backup)], env)
    assert refused.returncode == 1
    assert "内容不同" in refused.stderr
    assert tables() == 0
    clash_path.unlink()

    restored = _run(["restore_backup", str(backup)], env)
    assert restored.returncode == 0, restored.stderr
    assert "审计日志链完整" in restored.stdout

    # The restored chain verifies, and holds the source's last event at the same position.
    verified = _run(["verify_audit_chain"], env)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert verified.stdout.startswith("OK ")
    assert query(f"SELECT hash FROM audit_auditevent WHERE seq = {source.checked}") == (
        source.last_hash
    )
    # … plus exactly one more: the restore itself is audited.
    assert query("SELECT COUNT(*) FROM audit_auditevent") == source.checked + 1
    assert query("SELECT event_type FROM audit_auditevent ORDER BY seq DESC LIMIT 1") == (
        "backup.restored"
    )

    # Restoring again into the now non-empty database is refused and changes nothing.
    again = _run(["restore_backup", str(backup)], env)
    assert again.returncode == 1
    assert "不为空" in again.stderr
    assert query("SELECT COUNT(*) FROM audit_auditevent") == source.checked + 1


# --- PostgreSQL: pg_dump / pg_restore into a database created for the test --------------------


def _pg_url(name: str) -> str:
    # The application's own role: the runtime role when there are two (the restore then
    # connects as the owner through DATABASE_OWNER_URL, and grants the runtime role again).
    s = getattr(django_settings, "RUNTIME_DATABASE", None) or connection.settings_dict
    auth = quote(s["USER"] or "postgres")
    if s.get("PASSWORD"):
        auth += ":" + quote(s["PASSWORD"])
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{name}"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_postgres_backup_restores_into_a_fresh_database(users, media, tmp_path):
    stored, data = _populate(users)
    backup = tmp_path / "backup"
    source = audit_chain_verify()  # before the backup: create_backup audits itself afterwards
    manifest = _create(backup)
    assert manifest["database"]["vendor"] == "postgresql"
    assert manifest["audit"]["last_hash"] == source.last_hash
    assert (backup / "database.dump").read_bytes()[:5] == b"PGDMP"  # pg_dump custom format

    configured = urlsplit(os.environ.get("DATABASE_URL", "")).path.lstrip("/") or "wugang"
    fresh = f"{configured}_restore_{uuid.uuid4().hex[:8]}"
    with connection._nodb_cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{fresh}"')
    target_media = tmp_path / "media-restored"
    env = {"DATABASE_URL": _pg_url(fresh), "MEDIA_ROOT": str(target_media)}
    import psycopg

    s = connection.settings_dict

    def query(sql):
        with (
            psycopg.connect(
                dbname=fresh,
                host=s["HOST"] or "127.0.0.1",
                port=s["PORT"] or 5432,
                user=s["USER"] or "postgres",
                password=s.get("PASSWORD") or None,
            ) as conn,
            conn.cursor() as cursor,
        ):
            cursor.execute(sql)
            row = cursor.fetchone()
            return row[0] if row else None

    def tables():
        return query("SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'public'")

    try:
        _restore_and_check(source, backup, env, target_media, query, tables)
        if django_settings.DATABASE_OWNER_URL:
            # Restored as the owner, then the runtime role granted again: it owns nothing and
            # may only add to the audit log (docs/deploy.md §4).
            runtime = django_settings.DATABASE_RUNTIME_ROLE
            owned = "SELECT COUNT(*) FROM pg_tables WHERE schemaname = 'public' AND tableowner = "
            assert query(f"{owned}'{runtime}'") == 0
            privilege = f"SELECT has_table_privilege('{runtime}', 'audit_auditevent', "
            assert query(privilege + "'INSERT')") is True
            assert query(privilege + "'UPDATE')") is False
            assert query(privilege + "'TRUNCATE')") is False
        path = query(f"SELECT path FROM core_storedfile WHERE id = '{stored.pk}'")
        assert (target_media / path).read_bytes() == data
    finally:
        with connection._nodb_cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{fresh}" WITH (FORCE)')


# --- SQLite: the online backup API into a new database file ------------------------------------


@pytest.mark.skipif(
    django_settings.DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3",
    reason="the SQLite variant runs in the SQLite suite",
)
@pytest.mark.django_db(transaction=True)
def test_sqlite_backup_restores_into_a_fresh_database(users, media, tmp_path):
    stored, data = _populate(users)
    backup = tmp_path / "backup"
    source = audit_chain_verify()  # before the backup: create_backup audits itself afterwards
    manifest = _create(backup)
    assert manifest["database"]["vendor"] == "sqlite"
    assert manifest["audit"]["last_hash"] == source.last_hash
    copy = backup / "database.sqlite3"
    assert copy.read_bytes()[:16] == b"SQLite format 3\x00"

    target_db = tmp_path / "restored.sqlite3"
    target_media = tmp_path / "media-restored"
    env = {"DATABASE_URL": f"sqlite:///{target_db}", "MEDIA_ROOT": str(target_media)}

    def query(sql):
        conn = sqlite3.connect(target_db)
        try:
            row = conn.execute(sql).fetchone()
        finally:
            conn.close()
        return row[0] if row else None

    def tables():
        if not target_db.exists():
            return 0
        return query("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table'")

    _restore_and_check(source, backup, env, target_media, query, tables)
    path = query(f"SELECT path FROM core_storedfile WHERE id = '{stored.pk.hex}'")
    assert (target_media / path).read_bytes() == data


# --- refusals, on either database ----------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_tampered_or_incomplete_backup_is_refused_before_anything_is_touched(
    users, media, tmp_path
):
    _populate(users)
    # A stored upload lost from disk before the backup: the backup says so (manifest, stderr).
    lost = StoredFile.objects.get(original_name="第二张.png")
    (media / lost.path).unlink()
    backup = tmp_path / "backup"
    err = io.StringIO()
    call_command("create_backup", str(backup), stdout=io.StringIO(), stderr=err)
    manifest = json.loads((backup / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["stored_files"]["missing"] == [lost.path]
    assert "1 个登记的文件在 MEDIA_ROOT 中不存在" in err.getvalue()

    out = io.StringIO()
    call_command("verify_backup", str(backup), stdout=out)
    assert out.getvalue().startswith(f"OK {len(manifest['files'])} ")

    photo = next(backup / name for name in manifest["files"] if name.startswith("media/"))
    photo.write_bytes(photo.read_bytes() + b"x")
    with pytest.raises(CommandError, match="内容已改变"):
        call_command("verify_backup", str(backup))
    with pytest.raises(CommandError, match="备份校验失败"):
        call_command("restore_backup", str(backup), force=True)

    photo.unlink()
    with pytest.raises(CommandError, match="缺少"):
        call_command("verify_backup", str(backup))


def test_create_refuses_a_non_empty_directory(tmp_path):
    target = tmp_path / "old"
    target.mkdir()
    (target / "keep.txt").write_text("earlier backup")
    with pytest.raises(CommandError, match="不为空"):
        call_command("create_backup", str(target))
    assert [p.name for p in target.iterdir()] == ["keep.txt"]


def test_a_manifest_cannot_point_outside_the_backup(tmp_path):
    (tmp_path / "manifest.json").write_text(
        json.dumps(
            {
                "kind": "wugang-backup",
                "format": 1,
                "files": {"../../etc/passwd": {"sha256": "0" * 64, "size": 1}},
            }
        )
    )
    with pytest.raises(CommandError, match="不合法"):
        call_command("verify_backup", str(tmp_path))


@pytest.mark.django_db(transaction=True)
def test_manifest_records_the_snapshot_and_restore_refuses_the_running_database(
    tmp_path, media, users
):
    _populate(users)
    head = AuditEvent.objects.order_by("-seq").values_list("seq", "hash").first()
    count = AuditEvent.objects.count()
    backup = tmp_path / "b"
    manifest = _create(backup)
    assert (manifest["audit"]["last_seq"], manifest["audit"]["last_hash"]) == head
    assert manifest["audit"]["events"] == count
    assert manifest["app_version"].startswith("wugang-inspections ")
    assert "0001_initial" in manifest["migrations"]["audit"]
    assert manifest["stored_files"] == {"count": 2, "missing": [], "altered": []}
    lines = (backup / "SHA256SUMS").read_text().splitlines()
    assert sorted(line.split("  ", 1)[1] for line in lines) == sorted(manifest["files"])
    # create_backup audits itself, after the snapshot
    assert AuditEvent.objects.order_by("-seq").first().event_type == "backup.created"

    # The running database is not empty: restoring into it is refused and changes nothing.
    before = AuditEvent.objects.count()
    with pytest.raises(CommandError, match="不为空"):
        call_command("restore_backup", str(backup))
    assert AuditEvent.objects.count() == before
