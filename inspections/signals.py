"""Signals of the inspections app.

``visit_approved``: sent once per approval, after the approving transaction commits, with
``visit_id`` (keyword). The disclosure app listens to create the publication record; the
publication deadline counts from ``Visit.check_end``.

``visits_changed``: sent inside the changing transaction, with ``visit_ids`` (keyword: ids or a
queryset of ids), by every service that changes what the report figures count (status,
results, follow-ups, lead transfers, non-cooperation; disclosure: publication records). The oversight app listens and rewrites
its precomputed figures of those visits in the same transaction.
"""

from django.dispatch import Signal

visit_approved = Signal()  # kwargs: visit_id
visits_changed = Signal()  # kwargs: visit_ids
