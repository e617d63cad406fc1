"""Two-person rules of the draw, run by the ``approvals`` app (core.extensions.ApprovalKind):
a void and a post-draw replacement are asked by one 牵头股室 member and approved by another
person in their own session; only the approval changes the draw."""

from core.extensions import ApprovalKind, load_by_pk

from .models import Draw, DrawSelection
from .services import draws as services


def _describe_draw(draw: Draw) -> str:
    return f"抽取 #{draw.pk}（任务 {draw.task.number}）"


def _describe_selection(selection: DrawSelection) -> str:
    return f"抽取 #{selection.draw_id} {selection.enterprise.name}（{selection.uscc}）检查组"


APPROVAL_KINDS = [
    ApprovalKind(
        code=services.VOID_KIND,
        label="作废抽取",
        object_type="inspections.draw",
        load=load_by_pk(Draw.objects.select_related("task", "operator")),
        check_request=services.draw_void_check_request,
        approver_roles=services.draw_void_approver_roles,
        check_decider=services.draw_void_check_decider,
        perform=services.draw_void_perform,
        describe=_describe_draw,
    ),
    ApprovalKind(
        code=services.REPLACE_KIND,
        label="抽取后回避替补",
        object_type="inspections.drawselection",
        load=load_by_pk(DrawSelection.objects.select_related("draw", "enterprise")),
        check_request=services.draw_replace_check_request,
        check_payload=services.draw_replace_check_payload,
        approver_roles=services.draw_replace_approver_roles,
        perform=services.draw_replace_perform,
        describe=_describe_selection,
    ),
]
