"""The calendar's publication in tests: asked by the entrant, approved by another admin on the
approvals flow (the two steps the pages take)."""

from approvals.services import approval_decide
from workdays.models import CalendarYear
from workdays.services import calendar_year_request


def calendar_approved(*, approver, calendar_year: CalendarYear, requester=None) -> CalendarYear:
    approval = calendar_year_request(
        actor=requester or calendar_year.entered_by, calendar_year=calendar_year
    )
    approval_decide(actor=approver, request=approval, approve=True)
    calendar_year.refresh_from_db()
    return calendar_year
