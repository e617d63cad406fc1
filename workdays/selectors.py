"""Reads for the calendar screens: month grids, the diffs shown before approval."""

import calendar as pycal
import datetime as dt
from dataclasses import dataclass

from django.db.models import QuerySet

from approvals.models import ApprovalRequest
from approvals.selectors import approvals_open_for

from .calendar import KIND_LABELS, DayInfo
from .models import CalendarDay, CalendarYear
from .seed_data import plain_kind

WEEKDAYS = ["一", "二", "三", "四", "五", "六", "日"]


def revision_days(calendar_year: CalendarYear) -> dict[dt.date, DayInfo]:
    return {
        d.date: DayInfo(d.date, d.kind, d.holiday_name)
        for d in CalendarDay.objects.filter(calendar_year=calendar_year).only(
            "date", "kind", "holiday_name"
        )
    }


def effective_days(year: int) -> dict[dt.date, DayInfo] | None:
    """The effective kinds of every date of ``year`` (published revision, overlaid with the
    December dates set by next year's published notice), or None if not published."""
    published = {
        y.year: y
        for y in CalendarYear.objects.filter(
            year__in=[year, year + 1], status=CalendarYear.Status.PUBLISHED
        )
    }
    if year not in published:
        return None
    days = {d: info for d, info in revision_days(published[year]).items() if d.year == year}
    if year + 1 in published:
        days.update(
            {d: info for d, info in revision_days(published[year + 1]).items() if d.year == year}
        )
    return days


@dataclass(frozen=True)
class Month:
    number: int
    weeks: list[list[DayInfo | None]]
    working_days: int


def month_grid(year: int, days: dict[dt.date, DayInfo]) -> list[Month]:
    """Twelve months as Monday-first weeks of ``DayInfo`` (None outside the month)."""
    months = []
    for month in range(1, 13):
        weeks = []
        for week in pycal.Calendar(firstweekday=0).monthdatescalendar(year, month):
            weeks.append([days.get(d) if d.month == month else None for d in week])
        working = sum(
            1 for d, info in days.items() if d.month == month and d.year == year and info.is_working
        )
        months.append(Month(month, weeks, working))
    return months


@dataclass(frozen=True)
class DiffRow:
    date: dt.date
    before: str
    after: str
    holiday_name: str

    @property
    def weekday(self) -> str:
        return WEEKDAYS[self.date.weekday()]

    @property
    def before_label(self) -> str:
        return KIND_LABELS.get(self.before, "—")

    @property
    def after_label(self) -> str:
        return KIND_LABELS[self.after]


def diff_against_plain(days: dict[dt.date, DayInfo]) -> list[DiffRow]:
    """Dates whose kind differs from a plain Monday–Friday year."""
    return [
        DiffRow(d, plain_kind(d), info.kind, info.holiday_name)
        for d, info in sorted(days.items())
        if info.kind != plain_kind(d)
    ]


def diff_between(old: dict[dt.date, DayInfo], new: dict[dt.date, DayInfo]) -> list[DiffRow]:
    """Dates whose kind or holiday name differs between two revisions."""
    rows = []
    for d in sorted(set(old) | set(new)):
        a, b = old.get(d), new.get(d)
        a_kind = a.kind if a else plain_kind(d)
        b_kind = b.kind if b else plain_kind(d)
        if a_kind != b_kind or (a and b and a.holiday_name != b.holiday_name):
            rows.append(DiffRow(d, a_kind, b_kind, b.holiday_name if b else ""))
    return rows


def year_rows() -> dict[int, list[CalendarYear]]:
    """Every year's revisions, newest year first, for the index page."""
    records = CalendarYear.objects.select_related("entered_by", "approved_by").order_by(
        "-year", "-revision"
    )
    by_year: dict[int, list[CalendarYear]] = {}
    for record in records:
        by_year.setdefault(record.year, []).append(record)
    return by_year


def pending_drafts() -> QuerySet[CalendarYear]:
    return CalendarYear.objects.filter(status=CalendarYear.Status.DRAFT).select_related(
        "entered_by"
    )


CALENDAR_KIND = "workdays.calendar_year"


def calendar_pending(record: CalendarYear) -> ApprovalRequest | None:
    """The open publication request of ``record`` (a draft), if any."""
    return approvals_open_for(kind=CALENDAR_KIND, object_ids=[record.pk]).get(str(record.pk))
