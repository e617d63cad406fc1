"""Demo: the bureau's filed 2026 plan with four tasks (directed, non-directed, a joint task and
one added after filing as a recorded amendment)."""

import datetime as dt
from decimal import Decimal
from typing import Any

from accounts.models import Section, User
from enterprises.models import CheckItem, Township

from ..models import Plan
from ..services import plans as services

PLAN_NUMBER = "舞工信商〔2026〕8号"

SCOPE = (
    "本局监管的成品油零售、单用途商业预付卡、汽车销售、二手车交易市场、拍卖等行业经营主体。\n"
    "按风险等级抽取：A类（低风险）1%、B类（中风险）3%、C类（中高风险）10%、D类（高风险）20%；"
    "法律法规规章有特别规定的，按规定执行。"
)

# name, item codes, kind, lead section, cooperating, window, methods, filters, extra
TASKS: list[dict[str, Any]] = [
    {
        "name": "2026年成品油零售经营企业“双随机、一公开”抽查",
        "items": ["WG-SW-001"],
        "kind": "non_directed",
        "lead": "shichang",
        "cooperating": ["fagui"],
        "window": (dt.date(2026, 4, 1), dt.date(2026, 5, 29)),
        "methods": ["onsite", "written"],
        "schedule": "4月上旬完成抽取；4月中旬至5月中旬实地核查；5月29日前录入并公示检查结果。",
    },
    {
        "name": "2026年城区单用途商业预付卡发卡企业定向抽查",
        "items": ["WG-SW-002"],
        "kind": "directed",
        "lead": "shangmao",
        "cooperating": [],
        "window": (dt.date(2026, 6, 1), dt.date(2026, 7, 31)),
        "methods": ["written", "online", "onsite"],
        "townships": ["垭口街道", "寺坡街道", "朱兰街道", "院岭街道", "矿建街道"],
        "schedule": "6月发放书面检查通知并开展网络监测；7月对重点企业实地核查。",
    },
    {
        "name": "2026年汽车销售和二手车交易市场联合抽查",
        "items": ["WG-SW-008", "WG-SW-005"],
        "kind": "non_directed",
        "lead": "shangmao",
        "cooperating": ["shichang"],
        "window": (dt.date(2026, 9, 1), dt.date(2026, 10, 30)),
        "methods": ["onsite"],
        "inspectors": 3,
        "schedule": "一次抽查、全面体检：同一企业涉及两个事项的合并一次检查。",
    },
]

AMENDED_TASK = {
    "name": "2026年拍卖企业定向抽查",
    "items": ["WG-SW-006"],
    "kind": "directed",
    "lead": "shangmao",
    "cooperating": [],
    "window": (dt.date(2026, 11, 2), dt.date(2026, 12, 18)),
    "methods": ["onsite", "written"],
    "enterprise_types": ["company"],
    "schedule": "11月完成抽取和实地核查，12月18日前公示。",
}


def _create(task: dict, *, plan, lead, sections, reason: str = ""):
    items = list(CheckItem.objects.filter(code__in=task["items"]))
    if not items:
        return None
    townships = list(Township.objects.filter(name__in=task.get("townships", [])))
    return services.task_create(
        actor=lead,
        plan=plan,
        reason=reason,
        m2m={
            "check_items": items,
            "townships": townships,
            "cooperating_sections": [sections[c] for c in task["cooperating"] if c in sections],
        },
        name=task["name"],
        kind=task["kind"],
        lead_section=sections.get(task["lead"]) or plan.lead_section,
        window_start=task["window"][0],
        window_end=task["window"][1],
        methods=task["methods"],
        schedule=task.get("schedule", ""),
        enterprise_types=task.get("enterprise_types", []),
        inspectors_per_enterprise=task.get("inspectors", 2),
    )


def seed(*, stdout) -> bool:
    """The plan and its tasks; False when the demo accounts or check items are missing (then
    nothing that builds on the plan is seeded either)."""
    lead = User.objects.filter(username="lead").first()
    if lead is None or not CheckItem.objects.exists():
        stdout.write("  缺少演示账户或检查事项，跳过抽查计划")
        return False
    if Plan.objects.filter(number=PLAN_NUMBER).exists():
        stdout.write("  抽查计划已存在，跳过")
    else:
        sections = {s.code: s for s in Section.objects.all()}
        plan = services.plan_create(
            actor=lead,
            year=2026,
            number=PLAN_NUMBER,
            name="舞钢市工业信息化和商务局2026年度“双随机、一公开”抽查计划",
            scope=SCOPE,
            remarks="各股室按任务分工组织实施，检查结果自检查结束之日起20个工作日内公示。",
        )
        tasks = [_create(t, plan=plan, lead=lead, sections=sections) for t in TASKS]
        services.plan_file(
            actor=lead,
            plan=plan,
            filed_on=dt.date(2026, 2, 27),
            filing_number="平工信备〔2026〕5号",
            filing_authority="平顶山市工业和信息化局",
        )
        # A special rate with its legal basis, recorded as an amendment of the filed plan.
        fuel = tasks[0]
        if fuel is not None:
            services.task_rate_override_set(
                actor=lead,
                task=fuel,
                tier="D",
                rate=Decimal("0.5000"),
                legal_basis="（演示数据）成品油市场专项整治方案对高风险加油站提高抽查比例的规定",
                reason="根据成品油市场专项整治要求，提高D类企业抽查比例",
            )
        _create(
            AMENDED_TASK,
            plan=plan,
            lead=lead,
            sections=sections,
            reason="根据市政府办公室通知，增加拍卖领域抽查任务",
        )
        stdout.write(f"  抽查计划 1 个（已备案），任务 {plan.tasks.count()} 个")
    return True
