from typing import Any

from django.core.management.base import BaseCommand, CommandError

from audit.services import audit_checkpoint_create


class Command(BaseCommand):
    help = (
        "重新计算审计日志哈希链与密钥签名，并与数据库外的每个签名检查点比对，报告第一处断链；"
        "完整时写入新的检查点。Exit 0 when intact, 1 when broken."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        result, path = audit_checkpoint_create()
        if result.ok:
            self.stdout.write(
                f"OK {result.checked} events, last hash {result.last_hash}, "
                f"{result.checkpoints} checkpoints"
                + (f" ({result.superseded} superseded by a restore)" if result.superseded else "")
            )
            self.stderr.write(f"检查点：{path}")
            return
        self.stdout.write(f"BROKEN at seq {result.broken_seq}: {result.problem}")
        raise CommandError(f"audit chain broken at seq {result.broken_seq}", returncode=1)
