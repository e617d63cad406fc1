from accounts.models import UserRequest
from core.extensions import Panel

from .selectors import approvals_requested_open, approvals_to_decide


def panels(request: UserRequest) -> list[Panel]:
    """待我审批 for whoever may decide something now, and one's own open requests."""
    to_decide = approvals_to_decide(request.user, limit=10)
    mine = list(approvals_requested_open(request.user)[:10])
    if not to_decide and not mine:
        return []
    return [
        Panel(
            title="待我审批" if to_decide else "我的审批申请",
            template="approvals/_panel.html",
            context={"to_decide": to_decide, "mine": mine},
            order=1,
        )
    ]
