"""The committed seed calendar file and how to expand it into every date's kind.

Pure functions, no ORM and no ``chinese_calendar``: the data migration and the tests use them.
"""

import datetime as dt
import json
from pathlib import Path
from typing import Any

FIRST_YEAR = 2004
LAST_YEAR = 2026
DEFAULT_DATA_FILE = Path(__file__).resolve().parent / "data" / "cn_calendar_2004_2026.json"

WORKDAY, WEEKEND, HOLIDAY, MAKEUP = "workday", "weekend", "holiday", "makeup"


def load(path: Path = DEFAULT_DATA_FILE) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(Path(path).read_text(encoding="utf-8"))
    return data


def plain_kind(day: dt.date) -> str:
    """The kind of a date in a plain Monday–Friday year (no notice)."""
    return WEEKEND if day.weekday() >= 5 else WORKDAY


def expand(
    year: int, holidays: list[tuple[dt.date, dt.date, str]], makeup_days: list[dt.date]
) -> list[tuple[dt.date, str, str]]:
    """Every date of ``year`` (plus the notice's dates in the previous December) as
    ``(date, kind, holiday_name)``, sorted by date."""
    days: dict[dt.date, tuple[str, str]] = {}
    day = dt.date(year, 1, 1)
    while day.year == year:
        days[day] = (plain_kind(day), "")
        day += dt.timedelta(days=1)
    for start, end, name in holidays:
        day = start
        while day <= end:
            days[day] = (HOLIDAY, name)
            day += dt.timedelta(days=1)
    for day in makeup_days:
        days[day] = (MAKEUP, "")
    return [(d, kind, name) for d, (kind, name) in sorted(days.items())]


def parse_year(entry: dict[str, Any]) -> tuple[list[tuple[dt.date, dt.date, str]], list[dt.date]]:
    holidays = [
        (dt.date.fromisoformat(s), dt.date.fromisoformat(e), name)
        for s, e, name in entry["holidays"]
    ]
    makeup = [dt.date.fromisoformat(d) for d in entry["makeup_days"]]
    return holidays, makeup
