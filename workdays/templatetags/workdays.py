"""``{% load workdays %}`` — show a working-day deadline or "待定（…）".

- ``{{ end_date|workday_deadline }}`` / ``{{ end_date|workday_deadline:5 }}``: the deadline
  (YYYY-MM-DD) n working days (default 20) after the date, or 待定（2027年节假日安排未发布）.
- ``{{ deadline }}`` where ``deadline`` is a ``workdays.calendar.Deadline`` renders the same.

In a list, compute the deadlines once with ``WorkingCalendar().deadline(...)`` in the view
instead of the filter (the filter loads the published-years index per call).
"""

import datetime as dt

from django import template

from workdays.calendar import DEFAULT_WORKING_DAYS, deadline_or_pending

register = template.Library()


@register.filter
def workday_deadline(end_date: dt.date | None, n: int = DEFAULT_WORKING_DAYS) -> str:
    if not isinstance(end_date, dt.date) or isinstance(end_date, dt.datetime):
        return ""
    return str(deadline_or_pending(end_date, int(n)))
