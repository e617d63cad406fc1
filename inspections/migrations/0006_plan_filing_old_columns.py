from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("inspections", "0005_plan_filing_stored_file")]

    operations = [
        migrations.RemoveField(model_name="plan", name="filing_document"),
        migrations.RemoveField(model_name="plan", name="filing_document_name"),
        migrations.RemoveField(model_name="plan", name="filing_document_sha256"),
    ]
