"""The schedule of an inspection scheme (检查方案, art. 6(4)): the working day on which each
selected enterprise is visited.

Deterministic, so the schedule printed in the scheme before the visits exist is the one the
visits get when they are created (docs/visits.md, "检查日期"):

- the days are the working days of the window (holiday calendar, 调休 included) from the window
  start or today, whichever is later;
- the visits, in ticket order, are spread evenly over those days: visit i of n goes to day
  ``i * days // n``; when a team member already has ``per_day`` visits on that day (this
  schedule's or another task's), the next day with room for the whole team is taken, wrapping
  round to the first day; when no day has room, the even-spread day is kept and the row is
  marked over capacity, for staff to move by hand.

A year whose holiday notice is not published is scheduled Monday to Friday and named in
``provisional_years``, so that the scheme says so instead of pretending to know the holidays.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field

from workdays.calendar import CalendarYearNotPublished, WorkingCalendar


@dataclass(frozen=True)
class ScheduleDays:
    days: list[dt.date]
    provisional_years: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class PlannedVisit:
    key: Hashable  # whatever the caller identifies the visit by (a selection id)
    day: dt.date | None  # None: no working day left in the window
    over_capacity: bool = False


def day_is_working(calendar: WorkingCalendar, day: dt.date) -> tuple[bool, bool]:
    """(is a working day, is a guess because the year's holiday notice is not published)."""
    try:
        return calendar.is_working_day(day), False
    except CalendarYearNotPublished:
        return day.weekday() < 5, True


def schedule_days(
    *, start: dt.date, end: dt.date, calendar: WorkingCalendar | None = None
) -> ScheduleDays:
    """The working days in [start, end]."""
    calendar = calendar or WorkingCalendar()
    days, provisional = [], set()
    day = start
    while day <= end:
        working, guess = day_is_working(calendar, day)
        if guess:
            provisional.add(day.year)
        if working:
            days.append(day)
        day += dt.timedelta(days=1)
    return ScheduleDays(days, sorted(provisional))


def schedule_assign(
    *,
    teams: Iterable[tuple[Hashable, list[Hashable]]],
    days: list[dt.date],
    busy: dict[tuple[Hashable, dt.date], int] | None = None,
    per_day: int,
) -> list[PlannedVisit]:
    """A day for each (key, team members) in the given order; ``busy`` counts the visits each
    member already has on a day (it is not modified)."""
    teams = list(teams)
    if not days:
        return [PlannedVisit(key, None) for key, _members in teams]
    load: dict[tuple[Hashable, dt.date], int] = defaultdict(int, busy or {})
    planned = []
    n, m = len(teams), len(days)
    for i, (key, members) in enumerate(teams):
        ideal = i * m // n
        chosen = None
        for step in range(m):
            day = days[(ideal + step) % m]
            if all(load[member, day] < per_day for member in members):
                chosen = day
                break
        over = chosen is None
        if chosen is None:
            chosen = days[ideal]
        for member in members:
            load[member, chosen] += 1
        planned.append(PlannedVisit(key, chosen, over))
    return planned
