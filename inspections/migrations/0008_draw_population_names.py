"""The names of a draw's frozen population as they were at the freeze (issue 21 item 11): one
append-only row per draw, guarded like the draw's other records (migration 0003)."""

import django.db.models.deletion
from django.db import migrations, models

TABLE = "inspections_drawpopulationnames"

PG_FORWARD = (
    f"CREATE TRIGGER {TABLE}_append_only BEFORE UPDATE OR DELETE ON {TABLE} "
    "FOR EACH ROW EXECUTE FUNCTION inspections_append_only();"
)
PG_REVERSE = f"DROP TRIGGER IF EXISTS {TABLE}_append_only ON {TABLE};"
SQLITE_FORWARD = (
    f"CREATE TRIGGER {TABLE}_no_update BEFORE UPDATE ON {TABLE} "
    "BEGIN SELECT RAISE(ABORT, 'draw records are append-only'); END;"
)
SQLITE_REVERSE = f"DROP TRIGGER IF EXISTS {TABLE}_no_update;"


def forward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_FORWARD, params=None)
    elif vendor == "sqlite":
        schema_editor.execute(SQLITE_FORWARD, params=None)


def reverse(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_REVERSE, params=None)
    elif vendor == "sqlite":
        schema_editor.execute(SQLITE_REVERSE, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("inspections", "0007_draw_background_request"),
    ]

    operations = [
        migrations.CreateModel(
            name="DrawPopulationNames",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("names", models.BinaryField(verbose_name="冻结时的企业名称 names.json")),
                ("names_sha256", models.CharField(max_length=64, verbose_name="企业名称 SHA-256")),
                (
                    "draw",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="population_names",
                        to="inspections.draw",
                    ),
                ),
            ],
            options={
                "verbose_name": "冻结时的企业名称",
                "verbose_name_plural": "冻结时的企业名称",
            },
        ),
        migrations.RunPython(forward, reverse),
    ]
