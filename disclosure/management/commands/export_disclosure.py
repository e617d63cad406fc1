"""``python manage.py export_disclosure [--since YYYY-MM-DD] [--output FILE.xlsx]``

Creates an export batch of every approved, unsent result (待报送, 被退回 and approved
corrections; with ``--since`` only those whose check ended on or after that date), writes its
xlsx and JSON, moves the records to 已报送, and prints the written xlsx's path on its own line
(``--output``: a copy written there; otherwise the stored batch file under MEDIA_ROOT).

Exit status: 0 written; 1 error (bad date, bad or existing output path); 2 nothing to send.
"""

import datetime as dt
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from disclosure.services import batch_build, batch_create


class Command(BaseCommand):
    help = "生成公示报送批次（xlsx + JSON），打印写出的 xlsx 文件路径。"

    def add_arguments(self, parser):
        parser.add_argument("--since", help="只报送检查结束日期在此日期及以后的结果（YYYY-MM-DD）")
        parser.add_argument("--output", help="另存一份 xlsx 到此路径（须以 .xlsx 结尾，不覆盖）")

    def handle(self, *args, since=None, output=None, **options):
        since_date = None
        if since:
            try:
                since_date = dt.date.fromisoformat(since)
            except ValueError:
                raise CommandError(f"日期格式不正确：{since}（应为 YYYY-MM-DD）") from None
        target = None
        if output:
            target = Path(output).expanduser().resolve()
            if target.suffix.lower() != ".xlsx":
                raise CommandError(f"输出文件须以 .xlsx 结尾：{output}")
            if not target.parent.is_dir():
                raise CommandError(f"输出目录不存在：{target.parent}")
            if target.exists():
                raise CommandError(f"输出文件已存在，不覆盖：{target}")
        batch = batch_create(actor=None, since=since_date)
        if batch is None:
            raise CommandError("没有待报送的结果。", returncode=2)
        batch = batch_build(batch_id=batch.pk)
        stored = Path(settings.MEDIA_ROOT) / batch.xlsx_file.path
        if target is not None:
            target.write_bytes(stored.read_bytes())
            path = target
        else:
            path = stored.resolve()
        self.stderr.write(f"批次 {batch.number}：{batch.row_count} 行，SHA-256 {batch.xlsx_sha256}")
        self.stdout.write(str(path))
