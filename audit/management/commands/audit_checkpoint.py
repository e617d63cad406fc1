from typing import Any

from django.core.management.base import BaseCommand, CommandError

from audit.services import audit_checkpoint_create


class Command(BaseCommand):
    help = "核验审计日志链，完整时在数据库之外写入一个签名检查点并打印其路径。Exit 1 when broken."

    def handle(self, *args: Any, **options: Any) -> None:
        result, path = audit_checkpoint_create()
        if path is None:
            self.stderr.write(f"BROKEN at seq {result.broken_seq}: {result.problem}")
            raise CommandError("审计日志链断裂：未写入检查点。", returncode=1)
        self.stdout.write(str(path))
