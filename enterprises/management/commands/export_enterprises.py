from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from enterprises.exports import enterprise_export
from enterprises.models import Enterprise


class Command(BaseCommand):
    help = "把整个监管企业名录导出为 xlsx（与导入模板表头相同，可原样再导入）"

    def add_arguments(self, parser):
        parser.add_argument("file", help="输出文件，须以 .xlsx 结尾")

    def handle(self, *args, file, **options):
        path = Path(file)
        if path.suffix.lower() != ".xlsx":
            raise CommandError("输出文件须以 .xlsx 结尾")
        if not path.parent.exists():
            raise CommandError(f"目录不存在：{path.parent}")
        count = enterprise_export(Enterprise.objects.all(), path)
        self.stdout.write(self.style.SUCCESS(f"已导出 {count} 家企业到 {path}"))
