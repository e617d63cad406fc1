"""The roles of the system. Each is a Django group named with its Chinese name.

The English names are for code; the group names are the contract (docs/contracts.md).
"""

from django.db import models


class Role(models.TextChoices):
    LEAD_SECTION = "牵头股室", "牵头股室"
    SECTION_STAFF = "业务股室", "业务股室"
    INSPECTOR = "执法检查人员", "执法检查人员"
    SECTION_HEAD = "股室负责人", "股室负责人"
    DISCIPLINE = "纪检派驻组", "纪检派驻组"
    SYSTEM_ADMIN = "系统管理员", "系统管理员"
    SECURITY_ADMIN = "安全管理员", "安全管理员"
    AUDIT_ADMIN = "审计管理员", "审计管理员"


# 三员分立: one person holds at most one of these.
ADMIN_ROLES = frozenset({Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN, Role.AUDIT_ADMIN})

# Roles whose members may read business records (registers, plans, draws, results).
BUSINESS_READERS = frozenset(
    {
        Role.LEAD_SECTION,
        Role.SECTION_STAFF,
        Role.INSPECTOR,
        Role.SECTION_HEAD,
        Role.DISCIPLINE,
        Role.SYSTEM_ADMIN,
    }
)

# Roles that may never change anything (the discipline group audits; the audit admin reads logs).
READ_ONLY_ROLES = frozenset({Role.DISCIPLINE})

ROLE_DESCRIPTIONS = {
    Role.LEAD_SECTION: "制定年度抽查计划并备案，执行企业抽取，汇总上报",
    Role.SECTION_STAFF: "维护本股室检查事项与登记表，组织实施抽查任务",
    Role.INSPECTOR: "实施检查，录入并公示检查结果（谁检查、谁录入、谁公示）",
    Role.SECTION_HEAD: "审核本股室检查结果",
    Role.DISCIPLINE: "只读监督：核验抽取、查看修改记录、逾期公示与公平性统计",
    Role.SYSTEM_ADMIN: "维护用户、股室、执法人员名录库、节假日日历和基础数据（不授予角色，不查看日志）",
    Role.SECURITY_ADMIN: "授予角色、重置密码、维护安全策略",
    Role.AUDIT_ADMIN: "只读审计日志并核验日志链",
}
