"""Demo sections and one login per role (docs/contracts.md, "Demo logins")."""

from typing import Any

from django.contrib.auth.models import Group

from .models import Section, User
from .roles import Role

DEMO_PASSWORD = "Wgdemo#2026"  # noqa: S105 - the documented demo login

SECTIONS = [
    ("fagui", "政策法规股", True, "0375-8111001"),
    ("shichang", "市场运行股", False, "0375-8111002"),
    ("shangmao", "商贸服务股", False, "0375-8111003"),
    ("waimao", "对外贸易股", False, "0375-8111004"),
    ("gongye", "工业运行股", False, "0375-8111005"),
    ("bangong", "办公室", False, "0375-8111000"),
]

# username, full name, section code, roles
DEMO_USERS = [
    ("lead", "李建国", "fagui", [Role.LEAD_SECTION]),
    ("staff", "王丽娟", "shichang", [Role.SECTION_STAFF]),
    ("inspector", "张伟", "shichang", [Role.INSPECTOR]),
    ("head", "赵国强", "shichang", [Role.SECTION_HEAD]),
    ("discipline", "陈志刚", None, [Role.DISCIPLINE]),
    ("sysadmin", "刘洋", "bangong", [Role.SYSTEM_ADMIN]),
    ("secadmin", "孙敏", "bangong", [Role.SECURITY_ADMIN]),
    ("auditadmin", "周静", "bangong", [Role.AUDIT_ADMIN]),
    # A second lead-section member: voiding a draw needs someone other than the operator.
    ("lead2", "马晓燕", "fagui", [Role.LEAD_SECTION]),
]


def seed(*, stdout: Any) -> None:
    sections = {}
    for code, name, is_lead, phone in SECTIONS:
        sections[code], _ = Section.objects.get_or_create(
            code=code, defaults={"name": name, "is_lead": is_lead, "phone": phone}
        )
    for username, full_name, section_code, roles in DEMO_USERS:
        user, created = User.objects.get_or_create(
            username=username,
            defaults={
                "full_name": full_name,
                "section": sections.get(section_code) if section_code else None,
                "is_demo": True,
                "must_change_password": False,
            },
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
            user.groups.set(Group.objects.filter(name__in=roles))
    stdout.write(f"  股室 {len(SECTIONS)} 个，演示账户 {len(DEMO_USERS)} 个")
