"""python manage.py import_inspectors FILE [--dry-run] (docs/contracts.md)."""

from core.management.importing import ImportCommand
from core.spreadsheets import run_preview
from inspectors.importers import InspectorImporter
from inspectors.services import ImportRefused, inspector_import


class Command(ImportCommand):
    help = "导入执法检查人员名录（xlsx，中文表头；全部成功或全部不写入）。"
    file_help = ".xlsx（也接受 .xls / .csv）"
    refused = ImportRefused

    def preview(self, file):
        return run_preview(InspectorImporter(), file, filename=file)

    def apply(self, file):
        return inspector_import(actor=None, source=file, filename=file)
