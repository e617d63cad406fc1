"""``python manage.py restore_backup DIR [--force]``: restore a ``create_backup`` directory.

Checks every file's SHA-256 against the manifest first. Refuses a non-empty target database and
any media file that would be replaced by different bytes unless ``--force``. Afterwards verifies
the audit chain and that it still holds the manifest's last event, and checks every stored
file's hash. Restore into a freshly created database, then run ``migrate`` if the code is newer.
Exit status: 0 restored and verified; 1 refused or verification failed. docs/deploy.md.
"""

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from ._backup import backup_restore


class Command(BaseCommand):
    help = "从备份目录恢复数据库与上传文件，并核验审计日志链。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("directory", help="create_backup 写出的备份目录")
        parser.add_argument(
            "--force",
            action="store_true",
            help="覆盖非空的数据库和同名但内容不同的文件（慎用）",
        )

    def handle(self, *args: Any, directory: str, force: bool = False, **options: Any) -> None:
        result = backup_restore(directory=directory, force=force)
        manifest = result.manifest
        self.stdout.write(
            f"已恢复 {manifest['created_at']} 的备份（{manifest['app_version']}）："
            f"复制 {result.media_copied} 个文件，{result.media_same} 个已存在且相同。"
        )
        self.stdout.write(f"OK 审计日志链完整：{result.events} 条，最后哈希 {result.last_hash}")
        for problem in result.file_problems:
            self.stderr.write(self.style.WARNING(f"文件：{problem}"))
        if not result.audited:
            self.stderr.write(self.style.WARNING("未能写入“恢复备份”审计事件（数据库结构较旧）。"))
        if result.unapplied:
            self.stderr.write(
                self.style.WARNING(
                    f"代码比备份新：有 {len(result.unapplied)} 个迁移未执行，"
                    "请运行 manage.py migrate。"
                )
            )
