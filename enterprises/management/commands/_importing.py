"""The register's import commands: one per importer kind, on core's import command."""

from core.management.importing import ImportCommand
from core.spreadsheets import stream_preview
from enterprises.importers import IMPORTERS
from enterprises.services import ImportRefused, import_apply


class RegisterImportCommand(ImportCommand):
    kind = ""
    refused = ImportRefused

    def preview(self, file):
        return stream_preview(IMPORTERS[self.kind](), file, filename=file)

    def apply(self, file):
        return import_apply(actor=None, kind=self.kind, source=file, filename=file)
