"""Fixtures for the draw tests (imported by tests/test_draws_*.py): a task over a small
population in four tiers and a roster of certified inspectors."""

import datetime

import pytest

from accounts.roles import Role
from enterprises.models import CheckItem, Enterprise, RiskAssessment, Township, Trade
from enterprises.uscc import check_char
from inspections.models import Task
from inspectors.models import Certificate, Inspector

WINDOW = (datetime.date(2026, 12, 1), datetime.date(2026, 12, 20))
DICE = "31415265312345626153"
WITNESSES = ["王见证", "李见证"]


def uscc(n: int) -> str:
    first = f"91410481{n:09d}"
    return first + check_char(first)


@pytest.fixture
def trade(section):
    return Trade.objects.create(code="oil", name="成品油零售", section=section)


@pytest.fixture
def township(db):
    return Township.objects.create(code="yakou", name="垭口街道")


@pytest.fixture
def item(section, trade):
    item = CheckItem.objects.create(
        code="GX-001",
        name="成品油零售经营资格检查",
        legal_basis="《成品油市场管理办法》",
        section=section,
        methods=["onsite"],
    )
    item.trades.add(trade)
    return item


@pytest.fixture
def make_enterprises(trade, township):
    def make(tiers: dict[str, int], start: int = 1) -> list[Enterprise]:
        out, n = [], start
        for tier, count in tiers.items():
            for _ in range(count):
                e = Enterprise.objects.create(
                    uscc=uscc(n),
                    name=f"舞钢市测试企业{n}",
                    township=township,
                    legal_representative=f"法人{n}",
                )
                e.trades.add(trade)
                RiskAssessment.objects.create(
                    enterprise=e,
                    tier=tier,
                    effective_date=datetime.date(2026, 1, 1),
                    source="测试",
                )
                out.append(e)
                n += 1
        return out

    return make


@pytest.fixture
def make_task(lead_section, item):
    counter = {"n": 0}

    def make(**fields) -> Task:
        counter["n"] += 1
        items = fields.pop("items", [item])
        task = Task.objects.create(
            adhoc_reason="测试",
            year=2026,
            seq=counter["n"],
            number=f"舞工信商抽〔2026〕{counter['n']}号",
            name=fields.pop("name", "成品油零售专项抽查"),
            lead_section=lead_section,
            window_start=fields.pop("window_start", WINDOW[0]),
            window_end=fields.pop("window_end", WINDOW[1]),
            methods=["onsite"],
            **fields,
        )
        task.check_items.set(items)
        return task

    return make


@pytest.fixture
def make_inspector(section, trade):
    counter = {"n": 0}

    def make(**fields) -> Inspector:
        counter["n"] += 1
        inspector = Inspector.objects.create(
            staff_number=fields.pop("staff_number", f"WG{counter['n']:03d}"),
            name=fields.pop("name", f"检查员{counter['n']}"),
            section=section,
            **fields,
        )
        Certificate.objects.create(
            inspector=inspector,
            number=f"豫41{counter['n']:06d}",
            issued_on=datetime.date(2024, 1, 1),
            expires_on=datetime.date(2028, 1, 1),
        )
        inspector.trades.add(trade)
        return inspector

    return make


@pytest.fixture
def roster(make_inspector):
    return [make_inspector() for _ in range(6)]


@pytest.fixture
def lead(users):
    return users[Role.LEAD_SECTION]


@pytest.fixture
def lead2(make_user, lead_section):
    return make_user(Role.LEAD_SECTION, section=lead_section, username="lead_two")


# --- The draw's two-person rules, as the two people do them (helpers, not fixtures) -----------
def void_approved(*, requester, draw, reason, approver):
    """A void asked by ``requester`` and approved by ``approver`` (the approvals flow)."""
    from approvals.services import approval_decide
    from inspections.services import draws as services

    approval = services.draw_void_request(actor=requester, draw=draw, reason=reason)
    approval_decide(actor=approver, request=approval, approve=True)
    draw.refresh_from_db()
    return draw


def replace_approved(*, requester, selection, out, reason, approver):
    """A post-draw replacement asked by ``requester`` and approved by ``approver``; returns
    the replacement made."""
    from approvals.services import approval_decide
    from inspections.services import draws as services

    approval = services.draw_replace_request(
        actor=requester, selection=selection, out=out, reason=reason
    )
    _, result = approval_decide(actor=approver, request=approval, approve=True)
    return result["replacement"]
