"""PostgreSQL: leave 30% free space in the publication-record pages so that the daily scan's
update of ``alert`` (not indexed) is a HOT update — no index entry is rewritten
(docs/disclosure.md, "Performance"). Nothing to do on SQLite."""

from django.db import migrations


def set_fillfactor(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE disclosure_publicationrecord SET (fillfactor = 70)")


def reset_fillfactor(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE disclosure_publicationrecord RESET (fillfactor)")


class Migration(migrations.Migration):
    dependencies = [("disclosure", "0003_publication")]
    operations = [migrations.RunPython(set_fillfactor, reset_fillfactor, elidable=False)]
