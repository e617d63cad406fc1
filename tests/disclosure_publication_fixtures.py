"""Fixtures for the publication tests (imported by tests/test_disclosure_publication*.py,
test_disclosure_export*.py and test_disclosure_public*.py)."""

import datetime as dt
import itertools

import pytest

from accounts.roles import Role
from disclosure.services import publication_record_create
from enterprises.models import CheckItem, Enterprise, Township
from enterprises.uscc import check_char
from inspections.models import Plan, Task

D = dt.date
_ids = itertools.count(1)


def uscc(n: int) -> str:
    first = f"91410481{n:09d}"
    return first + check_char(first)


def frozen(day: dt.date, hour: int = 9):
    """time_machine at ``day`` 09:00 Asia/Shanghai (01:00 UTC)."""
    import time_machine

    return time_machine.travel(
        dt.datetime(day.year, day.month, day.day, hour - 8, 0, tzinfo=dt.UTC), tick=False
    )


@pytest.fixture
def plan(lead_section):
    return Plan.objects.create(
        year=2026, number="WGJH-2026-01", name="2026年度双随机抽查计划", lead_section=lead_section
    )


@pytest.fixture
def check_item(section):
    return CheckItem.objects.create(
        code="GX-101",
        name="成品油零售经营资格检查",
        legal_basis="《成品油市场管理办法》",
        section=section,
        methods=["onsite"],
    )


@pytest.fixture
def task(plan, lead_section, check_item):
    task = Task.objects.create(
        plan=plan,
        year=2026,
        seq=1,
        number="舞工信商抽〔2026〕1号",
        name="成品油零售专项抽查",
        kind="non_directed",
        lead_section=lead_section,
        window_start=D(2026, 1, 1),
        window_end=D(2026, 12, 31),
        methods=["onsite"],
    )
    task.check_items.set([check_item])
    return task


@pytest.fixture
def make_enterprise(db):
    counter = itertools.count(1)
    township = Township.objects.get_or_create(code="yakou", defaults={"name": "垭口街道"})[0]

    def make(**fields) -> Enterprise:
        n = next(counter)
        return Enterprise.objects.create(
            uscc=fields.pop("uscc", uscc(n)),
            name=fields.pop("name", f"舞钢市测试加油站{n}"),
            legal_representative=fields.pop("legal_representative", f"张法人{n}"),
            contact_phone=fields.pop("contact_phone", f"1380000{n:04d}"),
            township=fields.pop("township", township),
            **fields,
        )

    return make


@pytest.fixture
def inspector_user(make_user, section):
    return make_user(Role.INSPECTOR, section=section, username="insp_a", full_name="检查员甲")


@pytest.fixture
def make_record(task, make_enterprise, section, inspector_user):
    def make(check_end=None, result="未发现问题", **fields):
        check_end = check_end or D(2026, 10, 3)
        enterprise = fields.pop("enterprise", None) or make_enterprise()
        return publication_record_create(
            result_id=fields.pop("result_id", None) or next(_ids) + 10_000,
            visit_id=fields.pop("visit_id", 1),
            task=fields.pop("task", task),
            enterprise=enterprise,
            check_item=fields.pop("check_item", "成品油零售经营资格检查"),
            check_end=check_end,
            result_text=result,
            section=fields.pop("section", section),
            inspectors=fields.pop("inspectors", [inspector_user]),
            **fields,
        )

    return make


@pytest.fixture
def correct(users):
    """Propose a correction and have the section's head approve it on the approvals flow;
    returns the new current version."""
    from approvals.services import approval_decide
    from disclosure.services import correction_propose

    def run(*, actor, record, result_text: str, reason: str, approver=None):
        approval = correction_propose(
            actor=actor, record=record, result_text=result_text, reason=reason
        )
        approval_decide(actor=approver or users[Role.SECTION_HEAD], request=approval, approve=True)
        record.refresh_from_db()
        return record.current_version

    return run
