"""``manage.py rotate_field_key [--batch-size N]``: re-encrypt every encrypted field under the
first ``FIELD_ENCRYPTION_KEY`` and recompute the keyed digests (docs/deploy.md §10).

Run after putting the new key first and the old one in ``FIELD_ENCRYPTION_KEY_FALLBACKS``.
Batches of N rows, each one transaction with one ``field_key.rotated`` audit event; resumable.
Exit 0 done; 1 a row that no configured key decrypts (the batches before it are kept).
"""

from django.core.management.base import BaseCommand

from inspectors.key_rotation import field_key_rotate


class Command(BaseCommand):
    help = "用新的字段加密密钥重新加密所有加密字段（如身份证号）并重算其摘要；可中断后续跑。"

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=500, help="每批行数（默认 500）")

    def handle(self, *args, batch_size=500, **options):
        result = field_key_rotate(batch_size=max(1, batch_size))
        self.stdout.write(
            f"已重新加密 {result.rotated} 行，跳过 {result.skipped} 行（已是新密钥），"
            f"共 {result.batches} 批。"
        )
