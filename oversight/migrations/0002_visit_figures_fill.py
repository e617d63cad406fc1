"""Filled the precomputed report figures of the visits recorded before they existed. The fill
now happens in 0004 (after 0003 added columns the current ``visit_figures_refresh`` writes, which
this migration's historical models lack), so this step does nothing."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("oversight", "0001_visit_figures"),
        ("disclosure", "0004_publication_fillfactor"),
        ("inspections", "0007_draw_background_request"),
    ]

    operations = [migrations.RunPython(migrations.RunPython.noop, migrations.RunPython.noop)]
