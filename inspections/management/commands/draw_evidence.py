"""draw_evidence DRAW_ID OUT.zip — write a draw's evidence package.

Prints ``<OUT.zip> <sha256 of the zip>`` and exits 0; a missing or not yet performed draw is a
CommandError (exit 1).
"""

import hashlib
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from inspections.models import Draw
from inspections.selectors.draws import evidence_zip


class Command(BaseCommand):
    help = (
        "写出一次抽取的证据包（manifest.csv、inspectors.csv、experts.csv、draw.json、verify.py）。"
    )

    def add_arguments(self, parser):
        parser.add_argument("draw_id", type=int)
        parser.add_argument("out", help="输出的 zip 文件路径")

    def handle(self, *args, **options):
        draw = Draw.objects.filter(pk=options["draw_id"]).first()
        if draw is None:
            raise CommandError(f"抽取 {options['draw_id']} 不存在")
        if draw.document is None:
            raise CommandError(f"抽取 {draw.pk} 尚未完成摇号，没有证据包")
        data = evidence_zip(draw)
        out = Path(options["out"])
        try:
            out.write_bytes(data)
        except OSError as exc:
            raise CommandError(f"无法写入 {out}：{exc}") from exc
        self.stdout.write(f"{out} {hashlib.sha256(data).hexdigest()}")
