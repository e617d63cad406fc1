"""Backups of the database and the media files, with a manifest (docs/deploy.md, "Backups").

A backup is a directory::

    manifest.json       what was saved: app version, migrations applied, the audit chain's
                        last event (seq and hash), and the SHA-256 and size of every file below
    SHA256SUMS          the same checksums for ``sha256sum -c`` (no Python needed to check)
    database.dump       PostgreSQL: ``pg_dump --format=custom`` of one consistent snapshot
    database.sqlite3    SQLite (the embedded default): a copy made by SQLite's online backup API
    media/…             every file under MEDIA_ROOT (uploads, evidence, export batches)

Consistency: the database is read in one snapshot (PostgreSQL: a REPEATABLE READ transaction
whose snapshot pg_dump shares; SQLite: the backup API's copy), and the manifest's audit head and
file list are read from that same snapshot. Media is copied afterwards: files are written before
the row that names them commits and are never replaced, so every stored file the snapshot knows
is already on disk when it is copied.

Restore refuses a non-empty target database and any media file that would be replaced by
different bytes unless ``force`` is given; it checks every checksum first, and afterwards
verifies the audit chain and that the restored chain holds the manifest's last event.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess  # nosec B404
import tomllib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import django
from django.conf import settings
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from audit import checkpoints
from audit.models import AuditEvent
from audit.services import audit_chain_verify, audit_record
from core.dbroles import connected_as_owner, runtime_grant_if_two_roles
from core.models import StoredFile

MANIFEST = "manifest.json"
SUMS = "SHA256SUMS"
FORMAT = 1
DUMP_NAMES = {"postgresql": "database.dump", "sqlite": "database.sqlite3"}
MEDIA_DIR = "media"
CHUNK = 1024 * 1024


# --- small helpers ------------------------------------------------------------------------------


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(CHUNK):
            digest.update(block)
    return digest.hexdigest()


def app_version() -> str:
    try:
        with open(Path(settings.BASE_DIR) / "pyproject.toml", "rb") as handle:
            project = tomllib.load(handle)["project"]
        return f"{project['name']} {project['version']}"
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        return "unknown"


def _safe_relative(name: str) -> PurePosixPath:
    """A manifest path must stay inside the backup directory (no absolute path, no ``..``)."""
    rel = PurePosixPath(name)
    if rel.is_absolute() or ".." in rel.parts or not rel.parts or "\\" in name:
        raise CommandError(f"清单中的文件路径不合法：{name}")
    return rel


def _audit_table() -> str:
    return AuditEvent._meta.db_table


def _files_table() -> str:
    return StoredFile._meta.db_table


def read_state(cursor: Any) -> dict[str, Any]:
    """Migrations, audit head and stored-file list, read through a DB-API cursor."""
    cursor.execute("SELECT app, name FROM django_migrations ORDER BY id")
    migrations: dict[str, list[str]] = {}
    for app, name in cursor.fetchall():
        migrations.setdefault(app, []).append(name)
    audit = _audit_table()
    cursor.execute(f"SELECT COUNT(*) FROM {audit}")  # noqa: S608  # nosec B608 - _meta name
    events = cursor.fetchone()[0]
    cursor.execute(f"SELECT seq, hash FROM {audit} ORDER BY seq DESC LIMIT 1")  # noqa: S608  # nosec B608
    head = cursor.fetchone()
    cursor.execute(f"SELECT MIN(seq) FROM {audit} WHERE mac IS NOT NULL AND mac <> ''")  # noqa: S608  # nosec B608
    keyed_from = cursor.fetchone()[0]
    cursor.execute(f"SELECT path, sha256 FROM {_files_table()}")  # noqa: S608  # nosec B608
    stored = {path: sha for path, sha in cursor.fetchall()}
    return {
        "migrations": migrations,
        "audit": {
            "events": events,
            "last_seq": head[0] if head else 0,
            "last_hash": head[1] if head else "",
            "keyed_from": keyed_from,
        },
        "stored_files": stored,
    }


def _pg_env(settings_dict: dict[str, Any]) -> dict[str, Any]:
    """libpq environment for pg_dump / pg_restore: the password never appears in argv."""
    env = dict(os.environ)
    mapping = {
        "PGHOST": settings_dict.get("HOST"),
        "PGPORT": settings_dict.get("PORT"),
        "PGUSER": settings_dict.get("USER"),
        "PGPASSWORD": settings_dict.get("PASSWORD"),
        "PGDATABASE": settings_dict.get("NAME"),
    }
    sslmode = (settings_dict.get("OPTIONS") or {}).get("sslmode")
    if sslmode:
        mapping["PGSSLMODE"] = sslmode
    env.update({k: str(v) for k, v in mapping.items() if v not in (None, "")})
    return env


def _run(args: list[str], env: dict[str, Any]) -> None:
    tool = args[0]
    if shutil.which(tool) is None:
        raise CommandError(f"找不到 {tool}：请安装 postgresql-client（与服务器同一主版本）。")
    result = subprocess.run(args, env=env, capture_output=True, text=True, check=False)  # noqa: S603  # nosec B603
    if result.returncode != 0:
        raise CommandError(f"{tool} 失败（退出码 {result.returncode}）：{result.stderr.strip()}")


# --- create ----------------------------------------------------------------------------------


@dataclass
class BackupResult:
    directory: Path
    manifest: dict[str, Any]
    warnings: list[str] = field(default_factory=list)


def _dump_postgresql(target: Path) -> dict[str, Any]:
    """pg_dump of one exported snapshot; the state is read from that same snapshot."""
    # A separate plain connection (not Django's, not from a pool): its transaction holds the
    # snapshot while pg_dump runs.
    raw = connection.Database.connect(**connection.get_connection_params())  # type: ignore[attr-defined]  # not in the stubs
    try:
        raw.autocommit = False
        with raw.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            cursor.execute("SELECT pg_export_snapshot()")
            snapshot = cursor.fetchone()[0]
            state = read_state(cursor)
            _run(
                [
                    "pg_dump",
                    "--format=custom",
                    "--compress=6",
                    f"--snapshot={snapshot}",
                    f"--file={target}",
                ],
                _pg_env(connection.settings_dict),
            )
        raw.rollback()
    finally:
        raw.close()
    return state


def _dump_sqlite(target: Path) -> dict[str, Any]:
    """SQLite's online backup API: a consistent copy while the app keeps running."""
    if connection.in_atomic_block:
        # The copy waits for the connection's own open write transaction: it would never end.
        raise CommandError("SQLite 备份不能在事务中进行。")
    connection.ensure_connection()
    copy = sqlite3.connect(target)
    try:
        connection.connection.backup(copy)
        copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
        state = read_state(copy.cursor())
    finally:
        copy.close()
    return state


def _copy_media(media_root: Path, target: Path, warnings: list[str]) -> dict[str, dict[str, Any]]:
    files: dict[str, dict[str, Any]] = {}
    if not media_root.is_dir():
        warnings.append(f"MEDIA_ROOT 不存在：{media_root}（未备份任何文件）")
        return files
    for source in sorted(media_root.rglob("*")):
        if source.is_symlink():
            warnings.append(f"跳过符号链接：{source}")
            continue
        if not source.is_file():
            continue
        rel = source.relative_to(media_root).as_posix()
        dest = target / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, dest)
        files[f"{MEDIA_DIR}/{rel}"] = {"sha256": sha256_file(dest), "size": dest.stat().st_size}
    return files


def backup_create(*, directory: Path | str) -> BackupResult:
    directory = Path(directory).expanduser().resolve()
    if directory.exists() and (not directory.is_dir() or any(directory.iterdir())):
        raise CommandError(f"备份目录已存在且不为空，不覆盖：{directory}")
    vendor = connection.vendor
    if vendor not in DUMP_NAMES:
        raise CommandError(f"不支持的数据库：{vendor}")
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    dump = directory / DUMP_NAMES[vendor]
    started = timezone.now()
    state = _dump_postgresql(dump) if vendor == "postgresql" else _dump_sqlite(dump)
    warnings: list[str] = []
    media_root = Path(settings.MEDIA_ROOT)
    files = {dump.name: {"sha256": sha256_file(dump), "size": dump.stat().st_size}}
    files.update(_copy_media(media_root, directory / MEDIA_DIR, warnings))

    # Every file the database knows must be in the backup, with the bytes it was stored with.
    stored = state.pop("stored_files")
    missing = sorted(p for p in stored if f"{MEDIA_DIR}/{p}" not in files)
    altered = sorted(
        p
        for p, sha in stored.items()
        if f"{MEDIA_DIR}/{p}" in files and files[f"{MEDIA_DIR}/{p}"]["sha256"] != sha
    )
    if missing:
        warnings.append(f"{len(missing)} 个登记的文件在 MEDIA_ROOT 中不存在：{missing[:5]}")
    if altered:
        warnings.append(f"{len(altered)} 个登记的文件内容与登记的哈希不一致：{altered[:5]}")

    # The audit chain's head in this snapshot, signed with the application server's key: kept
    # in the manifest (it travels with the backup) and in the checkpoint store (it stays here).
    audit_state = state["audit"]
    checkpoint = checkpoints.checkpoint_document(
        seq=audit_state["last_seq"],
        hash=audit_state["last_hash"],
        count=audit_state["events"],
        keyed_from=audit_state.pop("keyed_from"),
    )
    checkpoints.checkpoint_write(checkpoint)
    audit_state["checkpoint"] = checkpoint
    manifest = {
        "format": FORMAT,
        "kind": "wugang-backup",
        "created_at": started.isoformat(),
        "finished_at": timezone.now().isoformat(),
        "app_version": app_version(),
        "django_version": django.get_version(),
        "database": {
            "vendor": vendor,
            "name": str(connection.settings_dict.get("NAME")),
            "file": dump.name,
        },
        "migrations": state["migrations"],
        "audit": state["audit"],
        "media_root": str(media_root),
        "stored_files": {"count": len(stored), "missing": missing, "altered": altered},
        "files": files,
    }
    (directory / MANIFEST).write_text(
        json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True), encoding="utf-8"
    )
    (directory / SUMS).write_text(
        "".join(f"{info['sha256']}  {name}\n" for name, info in sorted(files.items())),
        encoding="utf-8",
    )
    _audit("backup.created", directory, manifest)
    return BackupResult(directory, manifest, warnings)


def _audit(
    event_type: str, directory: Path, manifest: dict[str, Any], epoch: int | None = None
) -> None:
    with transaction.atomic():
        audit_record(
            event_type=event_type,
            actor_name=f"manage.py ({getpass.getuser()})",
            object_type="backup",
            detail={
                "directory": str(directory),
                "created_at": manifest["created_at"],
                "audit_last_seq": manifest["audit"]["last_seq"],
                "audit_last_hash": manifest["audit"]["last_hash"],
                "files": len(manifest["files"]),
                **({"restore_epoch": epoch} if epoch is not None else {}),
            },
        )


# --- verify ----------------------------------------------------------------------------------


def backup_verify(*, directory: Path | str) -> dict[str, Any]:
    """Load the manifest and check every file's size and SHA-256; return the manifest."""
    directory = Path(directory).expanduser().resolve()
    try:
        manifest: dict[str, Any] = json.loads((directory / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CommandError(f"不是备份目录（缺少 {MANIFEST}）：{directory}") from None
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise CommandError(f"{MANIFEST} 已损坏：{directory}") from None
    if manifest.get("kind") != "wugang-backup" or manifest.get("format") != FORMAT:
        raise CommandError(f"不认识的备份格式：{manifest.get('kind')} {manifest.get('format')}")
    problems = []
    for name, info in sorted(manifest["files"].items()):
        path = directory / _safe_relative(name)
        if not path.is_file():
            problems.append(f"缺少 {name}")
        elif path.stat().st_size != info["size"] or sha256_file(path) != info["sha256"]:
            problems.append(f"内容已改变 {name}")
    if problems:
        raise CommandError("备份校验失败：" + "；".join(problems[:20]))
    return manifest


# --- restore ---------------------------------------------------------------------------------


@dataclass
class RestoreResult:
    manifest: dict[str, Any]
    events: int
    last_hash: str
    media_copied: int
    media_same: int
    unapplied: list[str]
    file_problems: list[str]
    audited: bool = True


def _database_tables() -> list[str]:
    connection.ensure_connection()
    return connection.introspection.table_names()


def _media_plan(
    directory: Path, manifest: dict[str, Any], force: bool
) -> list[tuple[Path, Path, bool]]:
    """(source, target, needs copying) for every media file; refuses replacements unless force."""
    media_root = Path(settings.MEDIA_ROOT).resolve()
    plan, conflicts = [], []
    prefix = f"{MEDIA_DIR}/"
    for name, info in sorted(manifest["files"].items()):
        if not name.startswith(prefix):
            continue
        rel = _safe_relative(name[len(prefix) :])
        target = media_root / rel
        if target.is_file() and sha256_file(target) == info["sha256"]:
            plan.append((directory / name, target, False))
            continue
        if target.exists():
            conflicts.append(str(rel))
        plan.append((directory / name, target, True))
    if conflicts and not force:
        raise CommandError(
            f"MEDIA_ROOT 中有 {len(conflicts)} 个同名但内容不同的文件（如 {conflicts[:3]}），"
            "不覆盖；确认要覆盖时加 --force。"
        )
    return plan


def _restore_postgresql(dump: Path, force: bool) -> None:
    connection.close()
    args = [
        "pg_restore",
        "--no-owner",
        "--no-privileges",
        "--exit-on-error",
        "--single-transaction",
    ]
    if force:
        args += ["--clean", "--if-exists"]
    settings_dict = connection.settings_dict
    args += [f"--dbname={settings_dict['NAME']}", str(dump)]
    _run(args, _pg_env(settings_dict))


def _restore_sqlite(copy: Path) -> None:
    connection.ensure_connection()
    source = sqlite3.connect(copy)
    try:
        source.backup(connection.connection)
    finally:
        source.close()
    connection.close()


def _check_stored_files() -> list[str]:
    media_root = Path(settings.MEDIA_ROOT)
    problems = []
    for path, sha in StoredFile.objects.values_list("path", "sha256").iterator():
        target = media_root / path
        if not target.is_file():
            problems.append(f"缺少 {path}")
        elif sha256_file(target) != sha:
            problems.append(f"哈希不符 {path}")
    return problems


def _unapplied_migrations() -> list[str]:
    executor = MigrationExecutor(connection)
    targets = executor.loader.graph.leaf_nodes()
    return [f"{m.app_label}.{m.name}" for m, _ in executor.migration_plan(targets)]


def backup_restore(*, directory: Path | str, force: bool = False) -> RestoreResult:
    """Restore as the owner role when there are two (``DATABASE_OWNER_URL``): the restored
    tables are the owner's, and the runtime role is granted its privileges again."""
    with connected_as_owner():
        return _backup_restore(directory=directory, force=force)


def _backup_restore(*, directory: Path | str, force: bool = False) -> RestoreResult:
    directory = Path(directory).expanduser().resolve()
    manifest = backup_verify(directory=directory)
    vendor = manifest["database"]["vendor"]
    if vendor != connection.vendor:
        raise CommandError(
            f"备份来自 {vendor} 数据库，当前数据库是 {connection.vendor}：不能直接恢复。"
        )
    signed_head = manifest["audit"].get("checkpoint")
    if signed_head is not None and not checkpoints.signature_valid(signed_head):
        raise CommandError(
            "备份清单中的审计检查点签名不符：清单被改动，或 AUDIT_CHECKPOINT_KEY 不是备份时的密钥。"
        )
    tables = _database_tables()
    if tables and not force:
        raise CommandError(
            f"目标数据库不为空（{len(tables)} 张表），不覆盖。请恢复到新建的空数据库；"
            "确认要覆盖时加 --force。"
        )
    plan = _media_plan(directory, manifest, force)
    dump = directory / manifest["database"]["file"]
    if vendor == "postgresql":
        _restore_postgresql(dump, force)
    else:
        _restore_sqlite(dump)
    copied = 0
    for source, target, needed in plan:
        if needed:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
            copied += 1

    expected = manifest["audit"]
    # The restored chain on its own first (hashes and macs): the checkpoints made after this
    # backup describe a history the restore is about to supersede.
    check = audit_chain_verify(anchored=False)
    if not check.ok:
        raise CommandError(f"恢复后审计日志链断裂：序号 {check.broken_seq}，{check.problem}")
    if expected["last_seq"]:
        held = AuditEvent.objects.filter(seq=expected["last_seq"]).values_list("hash", flat=True)
        if list(held) != [expected["last_hash"]]:
            raise CommandError(
                f"恢复后的审计日志不含备份时的最后一条记录（序号 {expected['last_seq']}）。"
            )
    if check.checked != expected["events"]:
        raise CommandError(f"恢复后审计记录数为 {check.checked}，备份清单为 {expected['events']}。")
    runtime_grant_if_two_roles()
    # An honest restore to an older state: a new epoch, so the later checkpoints are superseded
    # rather than read as truncation. Then the whole chain against every anchor.
    epoch = checkpoints.epoch_record(
        seq=expected["last_seq"],
        hash=expected["last_hash"],
        from_epoch=(signed_head or {}).get("epoch", checkpoints.current_epoch()),
        backup_created_at=manifest["created_at"],
    )
    check = audit_chain_verify()
    if not check.ok:
        raise CommandError(f"恢复后审计日志与检查点不符：序号 {check.broken_seq}，{check.problem}")
    result = RestoreResult(
        manifest=manifest,
        events=check.checked,
        last_hash=check.last_hash,
        media_copied=copied,
        media_same=len(plan) - copied,
        unapplied=_unapplied_migrations(),
        file_problems=_check_stored_files(),
    )
    try:
        _audit("backup.restored", directory, manifest, epoch=epoch["epoch"])
    except DatabaseError:
        # An older schema than the code's audit model (migrations pending): the chain itself is
        # intact; the restore event cannot be written until ``migrate`` has run.
        result.audited = False
    return result
