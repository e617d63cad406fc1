"""The plan's filing document moves from its own FileField to core's StoredFile (the one way
uploads are kept: sniffed, capped, never replaced, served through a permission check).
Existing documents are copied into the stored-files area with their hash and original name;
0006 then drops the old columns (a separate migration: PostgreSQL refuses to alter a table with
pending deferred constraint checks in the same transaction)."""

import hashlib
import uuid
from pathlib import Path

import django.db.models.deletion
from django.conf import settings
from django.core.files.storage import default_storage
from django.db import migrations, models


def move_filing_documents(apps, schema_editor):
    Plan = apps.get_model("inspections", "Plan")
    StoredFile = apps.get_model("core", "StoredFile")
    for plan in Plan.objects.exclude(filing_document="").exclude(filing_document__isnull=True):
        with default_storage.open(plan.filing_document.name, "rb") as handle:
            data = handle.read()
        file_id = uuid.uuid4()
        filed = plan.filed_on or plan.updated_at.date()
        relative = f"plan_filing/{filed:%Y/%m}/{file_id.hex}.pdf"
        target = Path(settings.MEDIA_ROOT) / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(target, "xb") as out:
            out.write(data)
        stored = StoredFile.objects.create(
            id=file_id,
            purpose="plan_filing",
            original_name=(plan.filing_document_name or f"备案文件-{plan.pk}.pdf")[:200],
            content_type="application/pdf",
            size=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
            path=relative,
            uploaded_by_id=plan.created_by_id,
        )
        Plan.objects.filter(pk=plan.pk).update(filing_file=stored)


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0002_stored_file"),
        ("inspections", "0004_visits"),
    ]

    operations = [
        migrations.AddField(
            model_name="plan",
            name="filing_file",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="core.storedfile",
                verbose_name="备案文件",
            ),
        ),
        migrations.RunPython(move_filing_documents, migrations.RunPython.noop),
    ]
