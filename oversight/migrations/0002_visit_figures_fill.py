"""Fill the precomputed report figures of the visits recorded before they existed."""

from django.db import migrations


def fill(apps, schema_editor):
    from oversight.figures import visit_figures_refresh

    visit_figures_refresh(visit_ids=None, apps=apps)


class Migration(migrations.Migration):
    dependencies = [
        ("oversight", "0001_visit_figures"),
        ("disclosure", "0004_publication_fillfactor"),
        ("inspections", "0007_draw_background_request"),
    ]

    operations = [migrations.RunPython(fill, migrations.RunPython.noop)]
