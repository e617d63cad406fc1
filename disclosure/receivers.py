"""Signal receivers, connected in ``DisclosureConfig.ready``.

- ``visit_approved`` (inspections, sent on commit with ``visit_id``): publication records with
  their deadline. A failure is logged, never raised into the approval; the daily scan creates
  any record that is still missing (``publication_sweep_missing``).
- ``calendar_year_published`` (sent on commit with ``calendar_year``): 待定 deadlines filled in,
  open deadlines touching that year recomputed.
"""

import logging

from inspections.signals import visit_approved
from workdays.signals import calendar_year_published

from .services import publication_create_for_visit, publication_deadlines_refresh

logger = logging.getLogger(__name__)


def on_visit_approved(sender, visit_id=None, **kwargs):
    try:
        publication_create_for_visit(visit_id=visit_id)
    except Exception:
        logger.exception(
            "publication records for visit %s failed; the daily scan retries", visit_id
        )


def on_calendar_year_published(sender, calendar_year=None, **kwargs):
    publication_deadlines_refresh(years=[calendar_year.year] if calendar_year else None)


def connect() -> None:
    calendar_year_published.connect(
        on_calendar_year_published, dispatch_uid="disclosure.publication.calendar"
    )
    visit_approved.connect(on_visit_approved, dispatch_uid="disclosure.publication.visit")
