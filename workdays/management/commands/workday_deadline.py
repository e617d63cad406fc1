import datetime as dt
import re
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from workdays.calendar import DEFAULT_WORKING_DAYS, CalendarYearNotPublished, add_working_days

DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")


class Command(BaseCommand):
    help = (
        "打印检查结束日期之后第 N 个工作日（默认 20，公示期限）。"
        "Print the N-th working day after the end date (default 20: the publication deadline)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("end_date", help="YYYY-MM-DD, the inspection's end date")
        parser.add_argument("n", nargs="?", default=str(DEFAULT_WORKING_DAYS), help="N ≥ 1")

    def handle(self, *args: Any, **options: Any) -> None:
        raw = options["end_date"]
        try:
            if not DATE_RE.fullmatch(raw):
                raise ValueError(raw)
            end_date = dt.date.fromisoformat(raw)
        except ValueError as exc:
            raise CommandError(
                f"日期无效：“{raw}”，应为 YYYY-MM-DD。Invalid date {raw!r}: expected YYYY-MM-DD."
            ) from exc
        try:
            n = int(options["n"])
        except ValueError:
            n = 0
        if n < 1:
            raise CommandError(
                f"工作日数无效：“{options['n']}”，须为不小于 1 的整数。"
                f"Invalid number of working days {options['n']!r}: must be an integer ≥ 1."
            )
        try:
            deadline = add_working_days(end_date, n)
        except CalendarYearNotPublished as exc:
            raise CommandError(f"{exc.message_zh} {exc.message_en}") from exc
        self.stdout.write(deadline.isoformat())
