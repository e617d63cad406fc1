"""``python manage.py create_backup DIR``: database + media + manifest into a new directory.

PostgreSQL: ``pg_dump --format=custom`` of one snapshot; SQLite: the online backup API. Every
file under MEDIA_ROOT is copied. ``DIR/manifest.json`` records the app version, the migrations
applied, the audit chain's last event and the SHA-256 of every file (also in ``SHA256SUMS``).
Exit status: 0 written (warnings on stderr), 1 error. See docs/deploy.md, "Backups".
"""

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from ._backup import backup_create


class Command(BaseCommand):
    help = "备份数据库与上传文件到一个新目录（含清单与哈希）。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("directory", help="备份目录（不存在或为空）")

    def handle(self, *args: Any, directory: str, **options: Any) -> None:
        result = backup_create(directory=directory)
        for warning in result.warnings:
            self.stderr.write(self.style.WARNING(f"警告：{warning}"))
        manifest = result.manifest
        audit = manifest["audit"]
        self.stderr.write(
            f"{manifest['database']['vendor']}，{len(manifest['files']) - 1} 个媒体文件，"
            f"审计日志 {audit['events']} 条，最后一条 #{audit['last_seq']} {audit['last_hash']}"
        )
        self.stdout.write(str(result.directory))
