"""What the visit services share: the errors, the document-number prefixes, the row lock with its
version check, the role checks, the team notification and the result-category rules.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from core.services import notification_send

from ...models import ResultCategory, Visit
from ...selectors import visits as selectors
from ...signals import visits_changed

NOTICE_PREFIX = "舞工信商检通"
ARCHIVE_PREFIX = "舞工信商抽档"
ORGANISATION = "舞钢市工业信息化和商务局"


class VisitError(ValidationError):
    """A rule of the visit workflow refused the change (messages are for the user)."""


class VisitConflict(VisitError):
    """Someone else saved the visit since the editor loaded it (optimistic locking)."""


# --- helpers -----------------------------------------------------------------------------------


def _lock(visit: Visit, version: int | None = None) -> Visit:
    locked = (
        Visit.objects.select_for_update(of=("self",)).select_related("updated_by").get(pk=visit.pk)
    )
    if version is not None and int(version) != locked.version:
        who = locked.updated_by.display_name if locked.updated_by else "其他用户"
        when = timezone.localtime(locked.updated_at).strftime("%H:%M:%S")
        raise VisitConflict(
            f"该检查记录已被{who}于{when}修改（您打开的是第{version}版，当前为第{locked.version}版），"
            "您这次的修改没有保存。您的输入仍在页面上：请复制后刷新页面，核对后再保存。"
        )
    return locked


def _bump(visit: Visit, actor, fields: list[str]) -> None:
    visit.version += 1
    visit.updated_by = actor
    visit.save(update_fields=[*fields, "version", "updated_by", "updated_at"])
    visits_changed.send(sender=Visit, visit_ids=[visit.pk])  # the report figures


def _require_recorder(actor, visit: Visit) -> None:
    if not selectors.can_record(actor, visit):
        raise PermissionDenied("只有本次检查组的执法检查人员可以录入检查记录。")


def _require_editable(visit: Visit) -> None:
    if not visit.is_editable:
        raise VisitError(
            f"检查记录“{visit.get_status_display()}”，不能修改"
            + (
                "（已提交待审核，提交人也不能修改；如需修改请由股室负责人退回）。"
                if visit.status == Visit.Status.SUBMITTED
                else "。"
            )
        )


def _notify_team(visit: Visit, *, key: str, title: str, body: str, skip=None) -> None:
    """Notify every team member with a login (but ``skip``), linking to the visit."""
    link = reverse("inspections:visit_detail", args=[visit.pk])
    for member in visit.members.select_related("inspector__user"):
        user = member.inspector.user
        if user is not None and user != skip:
            notification_send(recipient=user, key=key, title=title, body=body, link=link)


def _snapshot(visit: Visit) -> dict:
    return selectors.visit_snapshot(visit)


def _next_seq(model, year: int, field_year: str, field_seq: str) -> int:
    last = (
        model.objects.filter(**{field_year: year})
        .order_by(f"-{field_seq}")
        .values_list(field_seq, flat=True)
        .first()
    )
    return (last or 0) + 1


def _categories_check(categories: list[ResultCategory], item_name: str) -> list[str]:
    """The combination rules of result categories (on every save, not only on submit)."""
    errors = []
    exclusive = [c for c in categories if c.exclusive]
    if exclusive and len(categories) > 1:
        errors.append(f"{item_name}：“{exclusive[0].label}”不能与其他检查结果同时选择。")
    chosen = {c.pk for c in categories}
    for c in categories:
        if c.parent_id and c.parent_id not in chosen and c.parent:
            errors.append(f"{item_name}：选择“{c.label}”时必须同时选择“{c.parent.label}”。")
    return errors
