"""Signals of the inspections app.

``visit_approved``: sent once per approval, after the approving transaction commits, with
``visit_id`` (keyword). The disclosure app listens to create the publication record; the
publication deadline counts from ``Visit.check_end``.
"""

from django.dispatch import Signal

visit_approved = Signal()  # kwargs: visit_id
