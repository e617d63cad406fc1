"""Two-person rule of the working-day calendar, run by the ``approvals`` app
(core.extensions.ApprovalKind): the 系统管理员 who entered a year's notice asks for its
publication; another 系统管理员 or a 安全管理员 approves it in their own session."""

from core.extensions import ApprovalKind, load_by_pk

from . import services
from .models import CalendarYear


def _describe(record: CalendarYear) -> str:
    return f"{record.year} 年节假日安排第 {record.revision} 版"


APPROVAL_KINDS = [
    ApprovalKind(
        code=services.CALENDAR_KIND,
        label="发布节假日安排",
        object_type="workdays.calendaryear",
        load=load_by_pk(CalendarYear.objects.select_related("entered_by")),
        check_request=services.calendar_year_check_request,
        check_payload=services.calendar_year_check_payload,
        approver_roles=services.calendar_year_approver_roles,
        check_decider=services.calendar_year_check_decider,
        perform=services.calendar_year_perform,
        describe=_describe,
    ),
]
