"""Write the seed calendar (2004–2026) from the ``chinesecalendar`` package into the repository.

Development-only: the package is a dev dependency; the app reads the committed JSON file (through
migration ``disclosure.0002_seed_calendar``) and never imports the package at runtime.
"""

import datetime as dt
import json
from importlib import metadata
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from workdays.seed_data import DEFAULT_DATA_FILE, FIRST_YEAR, LAST_YEAR

# The package's English holiday names → the names in the State Council notices.
HOLIDAY_NAMES = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "Mid-autumn Festival": "中秋节",
    "National Day": "国庆节",
    "Anti-Fascist 70th Day": "中国人民抗日战争暨世界反法西斯战争胜利70周年纪念日",
}


def notice_year(day: dt.date) -> int:
    """Which year's notice a date belongs to: December dates in the package are always the next
    year's New Year arrangement (e.g. 2018-12-29 make-up day and 2018-12-30/31 holiday are in
    the 2019 notice)."""
    return day.year + 1 if day.month == 12 else day.year


def build(first: int, last: int) -> dict[str, Any]:
    try:  # a development dependency: the command says so when it is missing
        from chinese_calendar import constants
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise CommandError(
            "未安装 chinesecalendar（开发依赖）。chinesecalendar (a dev dependency) is not installed."
        ) from exc

    years: dict[str, dict[str, Any]] = {}
    for year in range(first, last + 1):
        years[str(year)] = {
            "notice_title": f"国务院办公厅关于{year}年部分节假日安排的通知",
            "notice_number": "",
            "holidays": [],
            "makeup_days": [],
        }
    runs: dict[int, list[Any]] = {year: [] for year in range(first, last + 1)}
    for day in sorted(constants.holidays):
        year = notice_year(day)
        if year not in runs:
            continue
        name = HOLIDAY_NAMES[constants.holidays[day]]
        current = runs[year]
        if current and current[-1][2] == name and current[-1][1] + dt.timedelta(days=1) == day:
            current[-1][1] = day
        else:
            current.append([day, day, name])
    for year, ranges in runs.items():
        years[str(year)]["holidays"] = [[s.isoformat(), e.isoformat(), n] for s, e, n in ranges]
    for day in sorted(constants.workdays):
        year = notice_year(day)
        if str(year) in years:
            years[str(year)]["makeup_days"].append(day.isoformat())
    return {
        "source": f"chinesecalendar {metadata.version('chinesecalendar')}",
        "first_year": first,
        "last_year": last,
        "note": "周末按公历计算；此处仅列法定节假日（含所跨周末）与调休上班日。"
        "12 月的日期属于下一年的通知（元旦假期可从 12 月 31 日开始）。",
        "years": years,
    }


def dumps(data: dict[str, Any]) -> str:
    """Deterministic, diff-friendly JSON: one holiday range or year list per line."""
    lines = ["{"]
    for key in ("source", "first_year", "last_year", "note"):
        lines.append(f"  {json.dumps(key)}: {json.dumps(data[key], ensure_ascii=False)},")
    lines.append('  "years": {')
    year_keys = list(data["years"])
    for i, year in enumerate(year_keys):
        entry = data["years"][year]
        lines.append(f"    {json.dumps(year)}: {{")
        lines.append(
            f'      "notice_title": {json.dumps(entry["notice_title"], ensure_ascii=False)},'
        )
        lines.append(f'      "notice_number": {json.dumps(entry["notice_number"])},')
        lines.append('      "holidays": [')
        for j, item in enumerate(entry["holidays"]):
            comma = "," if j < len(entry["holidays"]) - 1 else ""
            lines.append(f"        {json.dumps(item, ensure_ascii=False)}{comma}")
        lines.append("      ],")
        lines.append(f'      "makeup_days": {json.dumps(entry["makeup_days"])}')
        lines.append("    }" + ("," if i < len(year_keys) - 1 else ""))
    lines.append("  }")
    lines.append("}")
    return "\n".join(lines) + "\n"


class Command(BaseCommand):
    help = (
        "由 chinesecalendar 生成 2004–2026 年节假日数据文件（开发用）。"
        "Generate the seed calendar data file from chinesecalendar (development only)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--output", default=str(DEFAULT_DATA_FILE), help="JSON file to write")
        parser.add_argument("--first-year", type=int, default=FIRST_YEAR)
        parser.add_argument("--last-year", type=int, default=LAST_YEAR)

    def handle(self, *args: Any, **options: Any) -> None:
        first, last = options["first_year"], options["last_year"]
        if first > last:
            raise CommandError("起始年份不得晚于结束年份。First year must not be after last year.")
        text = dumps(build(first, last))
        path = Path(options["output"])
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        self.stdout.write(str(path))
