"""Two-person rules of accounts, run by the ``approvals`` app (core.extensions.ApprovalKind)."""

from core.extensions import ApprovalKind, load_by_pk

from . import services
from .models import User

APPROVAL_KINDS = [
    ApprovalKind(
        code="accounts.admin_password_reset",
        label="重置管理员密码",
        object_type="accounts.user",
        load=load_by_pk(User.objects.all()),
        check_request=services.admin_password_reset_check_request,
        approver_roles=services.admin_password_reset_approver_roles,
        check_decider=services.admin_password_reset_check_decider,
        perform=services.admin_password_reset_perform,
        watchers=services.admin_password_reset_watchers,
        result_template="accounts/approval_password_reset_result.html",
    )
]
