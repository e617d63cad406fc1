"""The approval kinds of every installed app (``<app>/approval_kinds.py``)."""

from functools import cache

from django.core.exceptions import ValidationError

from core.extensions import ApprovalKind, app_modules


@cache
def approval_kinds() -> dict[str, ApprovalKind]:
    kinds: dict[str, ApprovalKind] = {}
    for module in app_modules("approval_kinds"):
        for kind in module.APPROVAL_KINDS:
            if kind.code in kinds:
                raise ValueError(f"approval kind {kind.code} declared twice")
            kinds[kind.code] = kind
    return kinds


def approval_kind(code: str) -> ApprovalKind:
    try:
        return approval_kinds()[code]
    except KeyError:
        raise ValidationError(f"未知的审批类型：{code}") from None
