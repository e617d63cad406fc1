from django.core.management.base import BaseCommand, CommandError

from audit.services import audit_chain_verify


class Command(BaseCommand):
    help = "重新计算审计日志哈希链，报告第一处断链。Exit 0 when intact, 1 when broken."

    def handle(self, *args, **options):
        result = audit_chain_verify()
        if result.ok:
            self.stdout.write(f"OK {result.checked} events, last hash {result.last_hash}")
            return
        self.stdout.write(f"BROKEN at seq {result.broken_seq}: {result.problem}")
        raise CommandError(f"audit chain broken at seq {result.broken_seq}", returncode=1)
