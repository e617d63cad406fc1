"""Demo: 2004–2026 are published by the migration; 2027 is NOT published. The system
administrator has entered a 2027 draft that awaits a second admin's approval, so the demo shows
the approval flow and deadlines reaching into 2027 as 待定."""

import datetime as dt
from typing import Any

from accounts.models import User

from .models import CalendarYear
from .services import Arrangement, HolidayRange, calendar_draft_create, calendar_year_request

DEMO_2027 = Arrangement(
    holidays=(
        HolidayRange(dt.date(2027, 1, 1), dt.date(2027, 1, 3), "元旦"),
        HolidayRange(dt.date(2027, 2, 5), dt.date(2027, 2, 13), "春节"),
        HolidayRange(dt.date(2027, 4, 3), dt.date(2027, 4, 5), "清明节"),
        HolidayRange(dt.date(2027, 5, 1), dt.date(2027, 5, 5), "劳动节"),
        HolidayRange(dt.date(2027, 6, 9), dt.date(2027, 6, 9), "端午节"),
        HolidayRange(dt.date(2027, 9, 15), dt.date(2027, 9, 15), "中秋节"),
        HolidayRange(dt.date(2027, 10, 1), dt.date(2027, 10, 7), "国庆节"),
    ),
    makeup_days=(
        dt.date(2027, 1, 31),
        dt.date(2027, 2, 20),
        dt.date(2027, 4, 25),
        dt.date(2027, 5, 8),
        dt.date(2027, 9, 26),
        dt.date(2027, 10, 9),
    ),
)


def seed(*, stdout: Any) -> None:
    sysadmin = User.objects.filter(username="sysadmin").first()
    if sysadmin is None or CalendarYear.objects.filter(year=2027).exists():
        return
    draft = calendar_draft_create(
        actor=sysadmin,
        year=2027,
        notice_title="国务院办公厅关于2027年部分节假日安排的通知（演示草稿）",
        notice_number="",
        arrangement=DEMO_2027,
    )
    # Asked for publication, so the security admin finds it under 审批事项 → 待我审批.
    calendar_year_request(actor=sysadmin, calendar_year=draft)
    stdout.write("  工作日历：2004—2026 年已发布；2027 年草稿已提交发布申请、待审批（演示“待定”）")
