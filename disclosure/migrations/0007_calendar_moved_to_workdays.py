"""The working-day calendar now lives in the ``workdays`` app (docs/decisions.md, decision 100).

State only: the publication record's ``calendar_revision`` points at ``workdays.CalendarYear``,
whose table is still ``disclosure_calendaryear`` (same rows, same foreign key in the database),
and ``disclosure`` forgets its old calendar models. No SQL runs.
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("disclosure", "0006_publication_deadline_indexes"),
        ("workdays", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="publicationrecord",
                    name="calendar_revision",
                    field=models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="workdays.calendaryear",
                        verbose_name="所用日历版本",
                    ),
                ),
                migrations.DeleteModel(name="CalendarDay"),
                migrations.DeleteModel(name="CalendarYear"),
            ]
        )
    ]
