"""Dashboard panel: today's working-day status, and from 1 October a warning to 系统管理员 and
牵头股室 until next year's holiday notice is published."""

import datetime as dt

from django.utils.translation import gettext as _

from accounts.models import User, UserRequest
from accounts.roles import Role
from core.extensions import Panel

from .calendar import CalendarYearNotPublished, WorkingCalendar, today
from .models import CalendarYear
from .selectors import WEEKDAYS

WARN_FROM_MONTH = 10  # the State Council notice usually comes out in October–November
WARN_ROLES = (Role.SYSTEM_ADMIN, Role.LEAD_SECTION)


def today_lines(calendar: WorkingCalendar, day: dt.date) -> tuple[str, str]:
    label = _("今天（%(date)s 星期%(weekday)s）") % {
        "date": day.strftime("%Y-%m-%d"),
        "weekday": WEEKDAYS[day.weekday()],
    }
    try:
        info = calendar.day(day)
    except CalendarYearNotPublished as exc:
        return label + _("的日期类型待定（%(year)s年节假日安排未发布）。") % {"year": exc.year}, ""
    if info.kind == "holiday":
        line = label + _("是法定节假日（%(name)s）。") % {"name": info.holiday_name}
    elif info.kind == "weekend":
        line = label + _("是周末。")
    elif info.kind == "makeup":
        line = label + _("是调休上班日。")
    else:
        line = label + _("是工作日。")
    nxt = calendar.deadline(day, 1)
    if nxt.date is None:  # pending
        return line, _("下一个工作日：%(value)s。") % {"value": str(nxt)}
    return line, _("下一个工作日：%(date)s（星期%(weekday)s）。") % {
        "date": nxt.date.isoformat(),
        "weekday": WEEKDAYS[nxt.date.weekday()],
    }


def next_year_warning(user: User, day: dt.date) -> tuple[str, CalendarYear | None]:
    """The warning text (empty when none is due) and the pending draft, if any."""
    if day.month < WARN_FROM_MONTH or not user.has_role(*WARN_ROLES):
        return "", None
    next_year = day.year + 1
    records = CalendarYear.objects.filter(year=next_year).select_related("entered_by")
    if any(r.is_published for r in records):
        return "", None
    draft = next((r for r in records if r.is_draft), None)
    if draft is not None:
        text = _(
            "%(year)s 年节假日安排尚未发布：%(name)s 已录入草稿，待另一位管理员审批。"
            "发布前，跨入 %(year)s 年的公示期限显示“待定”。"
        ) % {"year": next_year, "name": draft.entered_by.display_name if draft.entered_by else ""}
    else:
        text = _(
            "%(year)s 年节假日安排尚未发布。国务院通知发布后请尽快录入；"
            "发布前，跨入 %(year)s 年的公示期限显示“待定”。"
        ) % {"year": next_year}
    return text, draft


def calendar_panel(request: UserRequest) -> list[Panel]:
    day = today()
    calendar = WorkingCalendar()
    today_line, next_line = today_lines(calendar, day)
    warning, draft = next_year_warning(request.user, day)
    return [
        Panel(
            title=_("工作日历"),
            template="workdays/_dashboard_calendar.html",
            context={
                "today": day,
                "today_line": today_line,
                "next_line": next_line,
                "warning": warning,
                "draft": draft,
                "can_enter": request.user.has_role(Role.SYSTEM_ADMIN),
            },
            order=5 if warning else 90,
        )
    ]


def panels(request: UserRequest) -> list[Panel]:
    return calendar_panel(request)
