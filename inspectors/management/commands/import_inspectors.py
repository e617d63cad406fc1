"""python manage.py import_inspectors FILE [--dry-run] (docs/contracts.md)."""

from django.core.management.base import BaseCommand, CommandError

from core.spreadsheets import OUTCOME_LABELS, run_preview

MAX_ERRORS_PRINTED = 200


class Command(BaseCommand):
    help = "导入执法检查人员名录（xlsx，中文表头；全部成功或全部不写入）。"

    def add_arguments(self, parser):
        parser.add_argument("file", help=".xlsx（也接受 .xls / .csv）")
        parser.add_argument("--dry-run", action="store_true", help="只校验并预览，不写入")

    def handle(self, *args, file, dry_run, **options):
        from inspectors.importers import InspectorImporter
        from inspectors.services import ImportRefused, inspector_import

        try:
            open(file, "rb").close()
        except OSError as exc:
            raise CommandError(f"无法打开文件：{file}（{exc.strerror}）") from None
        if dry_run:
            preview = run_preview(InspectorImporter(), file, filename=file)
            self._report(preview)
            if not preview.ok:
                raise CommandError(f"文件有 {len(preview.errors)} 处错误，未写入任何数据")
            self.stdout.write("试运行：未写入任何数据")
            return
        try:
            preview, written = inspector_import(actor=None, source=file, filename=file)
        except ImportRefused as exc:
            self._report(exc.preview)
            raise CommandError(f"文件有 {len(exc.preview.errors)} 处错误，未写入任何数据") from None
        self._report(preview)
        self.stdout.write(
            self.style.SUCCESS(f"已导入：新增 {written['created']}，更新 {written['updated']}")
        )

    def _report(self, preview):
        counts = preview.counts
        if preview.file_error is None:
            self.stdout.write(
                "共 {total} 行：".format(**counts)
                + "，".join(
                    f"{OUTCOME_LABELS[k]} {counts[k]}"
                    for k in ("new", "updated", "unchanged", "error")
                )
            )
        for error in preview.errors[:MAX_ERRORS_PRINTED]:
            self.stderr.write(str(error) if error.row else error.message)
        if len(preview.errors) > MAX_ERRORS_PRINTED:
            self.stderr.write(f"……另有 {len(preview.errors) - MAX_ERRORS_PRINTED} 处错误未列出")
