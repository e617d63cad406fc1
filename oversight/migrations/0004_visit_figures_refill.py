"""Rewrite the precomputed report figures: the township, the joint flag, the result categories
and the trades (0003) are filled for the visits recorded before."""

from django.db import migrations


def refill(apps, schema_editor):
    from oversight.figures import visit_figures_refresh

    visit_figures_refresh(visit_ids=None, apps=apps)


class Migration(migrations.Migration):
    dependencies = [("oversight", "0003_visit_figures_register_categories")]

    operations = [migrations.RunPython(refill, migrations.RunPython.noop)]
