"""Working-day arithmetic on the bureau's calendar — the public API other apps call.

- ``add_working_days(end_date, n)``: the n-th working day after ``end_date`` (art. 15: results are
  published within 20 working days from the end of the inspection). Counting starts the day
  **after** ``end_date``; only workdays and make-up working days (调休上班) count.
- ``WorkingCalendar``: the same for many dates at once; each year is loaded once (one query per
  year, then cached in memory and in the Django cache), so 10^5 deadlines need a handful of
  queries.
- If a day that is needed lies in a year whose holiday notice is not published,
  ``CalendarYearNotPublished(year)`` is raised — never a guess.
- ``deadline_or_pending(end_date, n)``: a ``Deadline`` that is either a date or "待定" with the
  reason, for display.

The effective kind of a date in year Y is the published revision of Y, overlaid with the dates
of December Y that the published notice of Y+1 sets (a New Year holiday may start on 31 Dec).
A published revision never changes (corrections are new revisions), so its data is cached by
revision id without any invalidation.
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass

from django.core.cache import cache
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import CalendarDay, CalendarYear

DEFAULT_WORKING_DAYS = 20  # art. 15
_CACHE_PREFIX = "disclosure:calendar:rev:"
_CACHE_SECONDS = 24 * 3600
# Published revisions are immutable, so this process-wide memo never goes stale.
_revision_memo: dict[str, dict[dt.date, tuple[str, str]]] = {}

WORKING_KINDS = frozenset({"workday", "makeup"})
KIND_LABELS = {
    "workday": "工作日",
    "weekend": "周末",
    "holiday": "法定节假日",
    "makeup": "调休上班",
}


class CalendarYearNotPublished(Exception):
    """A day needed for the computation lies in a year whose holiday notice is not published."""

    def __init__(self, year: int):
        self.year = year
        super().__init__(self.message_zh)

    @property
    def message_zh(self) -> str:
        return f"{self.year} 年节假日安排尚未发布，无法计算工作日期限。"

    @property
    def message_en(self) -> str:
        return (
            f"The {self.year} holiday schedule has not been published; "
            "the working-day deadline cannot be computed."
        )

    @property
    def pending_label(self) -> str:
        return f"待定（{self.year}年节假日安排未发布）"


@dataclass(frozen=True)
class DayInfo:
    date: dt.date
    kind: str
    holiday_name: str = ""

    @property
    def is_working(self) -> bool:
        return self.kind in WORKING_KINDS

    @property
    def kind_label(self) -> str:
        return KIND_LABELS[self.kind]


@dataclass(frozen=True)
class _Revision:
    id: int
    content_key: str


def _published_index() -> dict[int, _Revision]:
    """{year: its published revision} — one small query."""
    rows = CalendarYear.objects.filter(status=CalendarYear.Status.PUBLISHED).values_list(
        "year", "id", "content_key"
    )
    return {year: _Revision(pk, str(key)) for year, pk, key in rows}


def _revision_days(revision: _Revision) -> dict[dt.date, tuple[str, str]]:
    """{date: (kind, holiday_name)} of one published revision, memoised (immutable)."""
    days = _revision_memo.get(revision.content_key)
    if days is not None:
        return days
    key = f"{_CACHE_PREFIX}{revision.content_key}"
    packed = cache.get(key)
    if packed is None:
        rows = CalendarDay.objects.filter(calendar_year_id=revision.id).values_list(
            "date", "kind", "holiday_name"
        )
        packed = [(d.toordinal(), kind, name) for d, kind, name in rows]
        cache.set(key, packed, _CACHE_SECONDS)
    days = {dt.date.fromordinal(o): (kind, name) for o, kind, name in packed}
    _revision_memo[revision.content_key] = days
    return days


class WorkingCalendar:
    """A snapshot of the published calendar; load it once and ask it many questions.

    Not for long-lived use across a publication (create a new one per request or job).
    """

    def __init__(self, index: dict[int, _Revision] | None = None):
        self._index = _published_index() if index is None else index
        self._years: dict[int, dict[dt.date, tuple[str, str]]] = {}
        self._working: dict[int, list[dt.date]] = {}

    def is_published(self, year: int) -> bool:
        return year in self._index

    @property
    def published_years(self) -> list[int]:
        return sorted(self._index)

    def revision_id(self, year: int) -> int:
        """The id of the published revision used for ``year`` (stored with deadlines)."""
        if year not in self._index:
            raise CalendarYearNotPublished(year)
        return self._index[year].id

    def _year(self, year: int) -> dict[dt.date, tuple[str, str]]:
        days = self._years.get(year)
        if days is None:
            if year not in self._index:
                raise CalendarYearNotPublished(year)
            own = _revision_days(self._index[year])
            days = {d: v for d, v in own.items() if d.year == year}
            if year + 1 in self._index:  # the next notice may set dates of this December
                nxt = _revision_days(self._index[year + 1])
                days.update({d: v for d, v in nxt.items() if d.year == year})
            self._years[year] = days
        return days

    def _working_days(self, year: int) -> list[dt.date]:
        working = self._working.get(year)
        if working is None:
            working = sorted(
                d for d, (kind, _name) in self._year(year).items() if kind in WORKING_KINDS
            )
            self._working[year] = working
        return working

    def day(self, day: dt.date) -> DayInfo:
        kind, name = self._year(day.year)[day]
        return DayInfo(day, kind, name)

    def is_working_day(self, day: dt.date) -> bool:
        return self.day(day).is_working

    def add_working_days(self, end_date: dt.date, n: int = DEFAULT_WORKING_DAYS) -> dt.date:
        """The n-th working day strictly after ``end_date``."""
        if isinstance(end_date, dt.datetime):
            raise TypeError("end_date must be a date (a local date in Asia/Shanghai)")
        if n < 1:
            raise ValueError("n must be at least 1")
        after = end_date
        year = (end_date + dt.timedelta(days=1)).year
        remaining = n
        while True:
            working = self._working_days(year)
            start = bisect_right(working, after)
            available = len(working) - start
            if remaining <= available:
                return working[start + remaining - 1]
            remaining -= available
            after = dt.date(year, 12, 31)
            year += 1

    def next_working_day(self, day: dt.date) -> dt.date:
        return self.add_working_days(day, 1)

    def count_working_days(self, after: dt.date, through: dt.date) -> int:
        """Working days in (after, through] — what remains until a deadline."""
        if through <= after:
            return 0
        total = 0
        for year in range((after + dt.timedelta(days=1)).year, through.year + 1):
            working = self._working_days(year)
            total += bisect_right(working, through) - bisect_right(working, after)
        return total

    def deadlines(
        self, end_dates: Iterable[dt.date], n: int = DEFAULT_WORKING_DAYS
    ) -> dict[dt.date, dt.date | CalendarYearNotPublished]:
        """{end_date: deadline or the error} for many dates; no query per date."""
        result: dict[dt.date, dt.date | CalendarYearNotPublished] = {}
        for end in set(end_dates):
            try:
                result[end] = self.add_working_days(end, n)
            except CalendarYearNotPublished as exc:
                result[end] = exc
        return result

    def deadline(self, end_date: dt.date, n: int = DEFAULT_WORKING_DAYS) -> Deadline:
        try:
            return Deadline(end_date, n, self.add_working_days(end_date, n))
        except CalendarYearNotPublished as exc:
            return Deadline(end_date, n, None, exc.year)


@dataclass(frozen=True)
class Deadline:
    """A deadline, or "待定" with the reason (the missing year)."""

    end_date: dt.date
    n: int
    date: dt.date | None
    missing_year: int | None = None

    @property
    def is_pending(self) -> bool:
        return self.date is None

    @property
    def reason(self) -> str:
        if self.missing_year is None:
            return ""
        return _("%(year)s年节假日安排未发布") % {"year": self.missing_year}

    def __str__(self) -> str:
        if self.date is not None:
            return self.date.isoformat()
        return _("待定（%(reason)s）") % {"reason": self.reason}


def add_working_days(end_date: dt.date, n: int = DEFAULT_WORKING_DAYS) -> dt.date:
    """The n-th working day after ``end_date`` (end date itself not counted).

    Raises ``CalendarYearNotPublished(year)`` when a needed day lies in an unpublished year.
    """
    return WorkingCalendar().add_working_days(end_date, n)


def deadline_or_pending(end_date: dt.date, n: int = DEFAULT_WORKING_DAYS) -> Deadline:
    return WorkingCalendar().deadline(end_date, n)


def today() -> dt.date:
    """Today's local date (Asia/Shanghai)."""
    return timezone.localdate()


def clear_memo() -> None:
    """Forget the in-process memo (tests; never needed for correctness)."""
    _revision_memo.clear()
