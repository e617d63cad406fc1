"""Fixtures and helpers of the plan and task tests: a small register (townships, trades, two
check items) and the helpers that add enterprises and tasks to it. A plugin of tests/conftest.py
(``pytest_plugins``); the helpers are imported by name."""

import datetime

import pytest

from enterprises.models import CheckItem, Enterprise, Licence, RiskAssessment, Township, Trade
from inspections.services import plans as services


@pytest.fixture
def register(db, section):
    towns = {
        code: Township.objects.create(code=code, name=name)
        for code, name in [("yakou", "垭口街道"), ("bataizhen", "八台镇")]
    }
    trades = {
        code: Trade.objects.create(code=code, name=name, section=section)
        for code, name in [
            ("fuel", "成品油零售"),
            ("recycle", "再生资源回收"),
            ("card", "单用途预付卡"),
        ]
    }
    fuel_item = CheckItem.objects.create(
        code="GX-01",
        name="成品油零售经营资格检查",
        legal_basis="《成品油市场管理办法》",
        section=section,
        methods=["onsite"],
        licence_types=["成品油零售经营批准证书"],
    )
    fuel_item.trades.set([trades["fuel"]])
    recycle_item = CheckItem.objects.create(
        code="GX-02",
        name="再生资源回收经营者备案检查",
        legal_basis="《再生资源回收管理办法》",
        section=section,
        methods=["onsite", "written"],
    )
    recycle_item.trades.set([trades["recycle"]])
    return {"towns": towns, "trades": trades, "fuel": fuel_item, "recycle": recycle_item}


_counter = {"n": 0}


def make_enterprise(
    register,
    *,
    trade="fuel",
    town="yakou",
    status="active",
    tier="B",
    licence=True,
    enterprise_type="company",
    scale="small",
):
    _counter["n"] += 1
    uscc = f"91410481MA{_counter['n']:08d}"
    enterprise = Enterprise.objects.create(
        uscc=uscc,
        name=f"舞钢市测试企业{_counter['n']}",
        township=register["towns"][town],
        status=status,
        enterprise_type=enterprise_type,
        scale=scale,
    )
    enterprise.trades.set([register["trades"][trade]])
    if licence and trade == "fuel":
        Licence.objects.create(
            enterprise=enterprise, licence_type="成品油零售经营批准证书", number=f"L{uscc}"
        )
    if tier:
        RiskAssessment.objects.create(
            enterprise=enterprise,
            tier=tier,
            effective_date=datetime.date(2026, 1, 1),
            source="测试",
        )
    return enterprise


def task_kwargs(register, section, **overrides):
    fields = {
        "name": "成品油零售企业抽查",
        "kind": "non_directed",
        "lead_section": section,
        "window_start": datetime.date(2026, 5, 1),
        "window_end": datetime.date(2026, 6, 30),
        "methods": ["onsite"],
    }
    fields.update(overrides)
    return fields


def make_task(users, register, section, plan, *, items=None, m2m=None, **overrides):
    relations = {"check_items": items or [register["fuel"]]}
    relations.update(m2m or {})
    return services.task_create(
        actor=users["牵头股室"],
        plan=plan,
        m2m=relations,
        **task_kwargs(register, section, **overrides),
    )
