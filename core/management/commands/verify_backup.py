"""``python manage.py verify_backup DIR``: check a backup's files against its manifest.

Touches no database. Exit status: 0 every file present with its recorded size and SHA-256;
1 otherwise (the first problems are printed).
"""

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from ._backup import backup_verify


class Command(BaseCommand):
    help = "核对备份目录中每个文件的大小与 SHA-256（不连接数据库）。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("directory", help="create_backup 写出的备份目录")

    def handle(self, *args: Any, directory: str, **options: Any) -> None:
        manifest = backup_verify(directory=directory)
        audit = manifest["audit"]
        self.stdout.write(
            f"OK {len(manifest['files'])} 个文件；{manifest['created_at']}，"
            f"{manifest['app_version']}，{manifest['database']['vendor']}，"
            f"审计日志 {audit['events']} 条，最后哈希 {audit['last_hash']}"
        )
