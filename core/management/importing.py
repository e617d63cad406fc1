"""The shared body of the register import commands (``import_enterprises``, ``import_licences``,
``import_tier_assessments``, ``import_check_items``, ``import_inspectors``; a contract:
docs/contracts.md): ``FILE [--dry-run]``; the counts on stdout, each error on stderr as
``第R行 “列”列：原因``; any error → exit 1 with nothing written."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from core.spreadsheets import OUTCOME_LABELS, Preview

MAX_ERRORS_PRINTED = 200


class ImportCommand(BaseCommand):
    file_help = ".xlsx / .xls / .csv（UTF-8 或 GBK）"
    refused: type[Exception] = Exception  # the service's "file has errors" (carries ``preview``)

    def preview(self, file: str) -> Preview:
        """Check the file and classify its rows; write nothing (``--dry-run``)."""
        raise NotImplementedError

    def apply(self, file: str) -> tuple[Any, ...]:
        """Import the file through the app's service: ``(preview, {"created", "updated"})``,
        or raise ``refused`` with the preview when any row is wrong."""
        raise NotImplementedError

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help=self.file_help)
        parser.add_argument("--dry-run", action="store_true", help="只校验并预览，不写入")

    def handle(self, *args: Any, file: str, dry_run: bool, **options: Any) -> None:
        try:
            open(file, "rb").close()
        except OSError as exc:
            raise CommandError(f"无法打开文件：{file}（{exc.strerror}）") from None
        if dry_run:
            preview = self.preview(file)
            self._report(preview)
            if not preview.ok:
                raise CommandError(f"文件有 {preview.error_count} 处错误，未写入任何数据")
            self.stdout.write("试运行：未写入任何数据")
            return
        try:
            preview, written = self.apply(file)
        except self.refused as exc:
            refused: Preview = exc.preview  # type: ignore[attr-defined]  # ``refused`` carries it
            self._report(refused)
            raise CommandError(f"文件有 {refused.error_count} 处错误，未写入任何数据") from None
        self._report(preview)
        self.stdout.write(
            self.style.SUCCESS(f"已导入：新增 {written['created']}，更新 {written['updated']}")
        )

    def _report(self, preview: Preview) -> None:
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
        if preview.error_count > MAX_ERRORS_PRINTED:
            self.stderr.write(f"……另有 {preview.error_count - MAX_ERRORS_PRINTED} 处错误未列出")
