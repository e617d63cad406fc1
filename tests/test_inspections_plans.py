"""Plans, tasks, sampling rates and the task population: the rules of art. 6(1), 7 and 8."""

import datetime
import hashlib
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction

from audit.models import AuditEvent
from enterprises.models import CheckItem, Licence, RiskAssessment
from inspections import selectors
from inspections.models import Plan, PlanAmendment, SamplingRate, Task, TaskRateOverride
from inspections.services import plans as services
from inspections.services.plans import task_tier_counts
from tests.plans_fixtures import make_enterprise, make_task, task_kwargs
from tests.test_core_uploads import pdf_bytes

RECEIPT = pdf_bytes()

D = Decimal
DAY = datetime.date(2026, 11, 26)


# --- The count rule ------------------------------------------------------------------------------


class TestTierCounts:
    def test_exact_decimal_100_times_007_is_7(self):
        # In binary floating point 100 * 0.07 = 7.000000000000001 and ceil gives 8.
        assert task_tier_counts(
            populations={"B": 100}, rates={"B": D("0.07")}, rounding="ceil"
        ) == {"B": 7}

    @pytest.mark.parametrize(
        ("population", "rate", "expected"),
        [
            (1, "0.01", 1),  # a tiny tier is still inspected once
            (99, "0.01", 1),
            (100, "0.01", 1),
            (101, "0.01", 2),
            (33, "0.03", 1),
            (34, "0.03", 2),
            (10, "0.10", 1),
            (11, "0.10", 2),
            (5, "0.20", 1),
            (6, "0.20", 2),
            (1000, "0.20", 200),
            (7, "1", 7),
        ],
    )
    def test_ceil(self, population, rate, expected):
        counts = task_tier_counts(
            populations={"A": population}, rates={"A": D(rate)}, rounding="ceil"
        )
        assert counts == {"A": expected}

    def test_empty_tier_draws_none_and_needs_no_rate(self):
        assert task_tier_counts(populations={"A": 0, "D": 3}, rates={"D": D("0.2")}) == {
            "A": 0,
            "D": 1,
        }

    @pytest.mark.parametrize(
        ("population", "rate", "expected"),
        [(50, "0.01", 1), (49, "0.01", 0), (150, "0.01", 2), (149, "0.01", 1), (25, "0.10", 3)],
    )
    def test_half_up(self, population, rate, expected):
        counts = task_tier_counts(
            populations={"A": population}, rates={"A": D(rate)}, rounding="half_up"
        )
        assert counts == {"A": expected}

    def test_all_four_default_tiers(self):
        counts = task_tier_counts(
            populations={"A": 250, "B": 120, "C": 31, "D": 4},
            rates={"A": D("0.01"), "B": D("0.03"), "C": D("0.10"), "D": D("0.20")},
        )
        assert counts == {"A": 3, "B": 4, "C": 4, "D": 1}

    def test_floats_refused(self):
        with pytest.raises(TypeError):
            task_tier_counts(populations={"A": 10}, rates={"A": 0.1})

    def test_missing_rate_for_populated_tier(self):
        with pytest.raises(ValueError, match="no sampling rate"):
            task_tier_counts(populations={"C": 3}, rates={})

    @pytest.mark.parametrize("rate", ["0", "1.01", "-0.1"])
    def test_rate_out_of_range(self, rate):
        with pytest.raises(ValueError):
            task_tier_counts(populations={"A": 3}, rates={"A": D(rate)})

    def test_unknown_rounding(self):
        with pytest.raises(ValueError):
            task_tier_counts(populations={"A": 3}, rates={"A": D("0.1")}, rounding="floor")

    def test_rule_text_is_shown(self):
        assert "⌈N × 比例⌉" in services.rounding_rule_text("ceil")
        assert "四舍五入" in services.rounding_rule_text("half_up")


# --- Fixtures (the register and the helpers: tests/plans_fixtures.py) --------------------------


@pytest.fixture
def plan(users, lead_section):
    return services.plan_create(
        actor=users["牵头股室"],
        year=2026,
        number="舞工信商〔2026〕12号",
        name="2026年度双随机抽查计划",
        scope="全局监管企业",
    )


# --- Plans ---------------------------------------------------------------------------------------


class TestPlanLifecycle:
    def test_create_records_lead_section_and_audit(self, plan, lead_section):
        assert plan.status == Plan.Status.DRAFT
        assert plan.lead_section == lead_section
        assert AuditEvent.objects.filter(event_type="plan.create", object_id=str(plan.pk)).exists()

    def test_draft_update_is_not_an_amendment(self, plan, users):
        services.plan_update(actor=users["牵头股室"], plan=plan, name="新名称")
        plan.refresh_from_db()
        assert plan.name == "新名称"
        assert not PlanAmendment.objects.exists()
        assert AuditEvent.objects.filter(event_type="plan.update").exists()

    def test_filing_needs_a_task(self, plan, users):
        with pytest.raises(ValidationError, match="还没有抽查任务"):
            services.plan_file(
                actor=users["牵头股室"],
                plan=plan,
                filed_on=DAY,
                filing_number="平工信备〔2026〕3号",
            )

    @time_machine.travel("2026-03-01 10:00 +0800")
    def test_file_freezes_and_amendment_needs_reason(self, plan, users, register, section):
        make_task(users, register, section, plan)
        document = SimpleUploadedFile("回执.pdf", RECEIPT, "application/pdf")
        services.plan_file(
            actor=users["牵头股室"],
            plan=plan,
            filed_on=datetime.date(2026, 2, 28),
            filing_number="平工信备〔2026〕3号",
            filing_authority="平顶山市工业和信息化局",
            document=document,
        )
        plan.refresh_from_db()
        assert plan.status == Plan.Status.FILED and plan.is_frozen
        assert plan.filing_file.sha256 == hashlib.sha256(RECEIPT).hexdigest()
        assert (
            plan.filing_file.purpose == "plan_filing"
            and plan.filing_file.original_name == "回执.pdf"
        )
        event = AuditEvent.objects.get(event_type="plan.file")
        assert event.detail["filing_number"] == "平工信备〔2026〕3号"

        with pytest.raises(ValidationError, match="变更理由"):
            services.plan_update(actor=users["牵头股室"], plan=plan, scope="改了范围")
        plan.refresh_from_db()
        assert plan.scope == "全局监管企业"  # rolled back

        services.plan_update(
            actor=users["牵头股室"], plan=plan, scope="改了范围", reason="上级要求扩大范围"
        )
        amendment = PlanAmendment.objects.get()
        assert amendment.reason == "上级要求扩大范围"
        assert amendment.changes == {"scope": ["全局监管企业", "改了范围"]}
        assert AuditEvent.objects.filter(event_type="plan.amend").exists()

    def test_filing_document_must_be_pdf(self, plan, users, register, section):
        make_task(users, register, section, plan)
        fake = SimpleUploadedFile("x.pdf", b"<html>not a pdf", "application/pdf")
        with pytest.raises(ValidationError, match="不是允许的类型"):
            services.plan_file(
                actor=users["牵头股室"],
                plan=plan,
                filed_on=datetime.date(2026, 1, 5),
                filing_number="X",
                document=fake,
            )

    def test_filing_in_the_future_refused(self, plan, users, register, section):
        make_task(users, register, section, plan)
        with (
            time_machine.travel("2026-03-01 10:00 +0800"),
            pytest.raises(ValidationError, match="晚于今天"),
        ):
            services.plan_file(
                actor=users["牵头股室"],
                plan=plan,
                filed_on=datetime.date(2026, 3, 2),
                filing_number="X",
            )

    def test_state_machine(self, plan, users, register, section):
        lead = users["牵头股室"]
        with pytest.raises(ValidationError):
            services.plan_start(actor=lead, plan=plan)  # a draft cannot start
        make_task(users, register, section, plan)
        services.plan_file(
            actor=lead, plan=plan, filed_on=datetime.date(2026, 1, 5), filing_number="X"
        )
        with pytest.raises(ValidationError):
            services.plan_file(
                actor=lead, plan=plan, filed_on=datetime.date(2026, 1, 5), filing_number="Y"
            )
        with pytest.raises(ValidationError):
            services.plan_complete(actor=lead, plan=plan)  # filed → completed skips a state
        services.plan_start(actor=lead, plan=plan)
        services.plan_complete(actor=lead, plan=plan)
        plan.refresh_from_db()
        assert plan.status == Plan.Status.COMPLETED
        with pytest.raises(ValidationError, match="已完成"):
            services.plan_update(actor=lead, plan=plan, name="x", reason="y")

    def test_filed_without_filing_number_refused_by_database(self, plan):
        with pytest.raises(IntegrityError), transaction.atomic():
            Plan.objects.filter(pk=plan.pk).update(status="filed")


# --- Tasks ---------------------------------------------------------------------------------------


class TestTasks:
    def test_numbers_in_bureau_style(self, users, register, section, plan):
        first = make_task(users, register, section, plan)
        second = make_task(users, register, section, plan, name="第二个任务")
        assert first.number == "舞工信商抽〔2026〕1号"
        assert second.number == "舞工信商抽〔2026〕2号"

    def test_adhoc_task_needs_reason(self, users, register, section):
        with pytest.raises(ValidationError):
            make_task(users, register, section, None)
        task = make_task(users, register, section, None, adhoc_reason="群众投诉举报")
        assert task.is_adhoc and task.year == 2026

    def test_at_least_two_inspectors(self, users, register, section, plan):
        with pytest.raises(ValidationError):
            make_task(users, register, section, plan, inspectors_per_enterprise=1)

    def test_window_order_and_plan_year(self, users, register, section, plan):
        with pytest.raises(ValidationError):
            make_task(users, register, section, plan, window_end=datetime.date(2026, 4, 1))
        with pytest.raises(ValidationError, match="计划年度"):
            make_task(
                users,
                register,
                section,
                plan,
                window_start=datetime.date(2027, 1, 5),
                window_end=datetime.date(2027, 2, 1),
            )

    def test_needs_an_item(self, users, register, section, plan):
        with pytest.raises(ValidationError, match="检查事项"):
            services.task_create(
                actor=users["牵头股室"],
                plan=plan,
                m2m={"check_items": []},
                **task_kwargs(register, section),
            )

    def test_task_in_filed_plan_is_an_amendment(self, users, register, section, plan):
        task = make_task(users, register, section, plan)
        services.plan_file(
            actor=users["牵头股室"],
            plan=plan,
            filed_on=datetime.date(2026, 1, 5),
            filing_number="X",
        )
        with pytest.raises(ValidationError, match="变更理由"):
            services.task_update(actor=users["牵头股室"], task=task, name="改名")
        task = services.task_update(
            actor=users["牵头股室"], task=task, name="改名", reason="名称不规范"
        )
        amendment = PlanAmendment.objects.get(task=task)
        assert amendment.changes["name"] == ["成品油零售企业抽查", "改名"]
        with pytest.raises(ValidationError, match="变更理由"):
            make_task(users, register, section, plan, name="新增任务")
        added = services.task_create(
            actor=users["牵头股室"],
            plan=plan,
            reason="上级交办新增",
            m2m={"check_items": [register["recycle"]]},
            **task_kwargs(register, section),
        )
        assert PlanAmendment.objects.filter(
            task=added, changes__task_added__1=added.number
        ).exists()
        with pytest.raises(ValidationError, match="不能删除"):
            services.task_delete(actor=users["牵头股室"], task=task)

    def test_delete_draft_task(self, users, register, section, plan):
        task = make_task(users, register, section, plan)
        services.task_delete(actor=users["牵头股室"], task=task)
        assert not Task.objects.exists()
        assert AuditEvent.objects.filter(event_type="task.delete").exists()

    def test_scheme_update_is_audited(self, users, register, section, plan):
        task = make_task(users, register, section, plan)
        services.task_scheme_update(
            actor=users["业务股室"],
            task=task,
            methods=["onsite", "written"],
            content="核查经营资格",
            schedule="5月上旬实地核查",
        )
        task.refresh_from_db()
        assert task.methods == ["onsite", "written"]
        event = AuditEvent.objects.get(event_type="task.scheme_update")
        assert event.detail["changes"]["schedule"] == ["", "5月上旬实地核查"]


# --- Population ----------------------------------------------------------------------------------


class TestPopulation:
    def test_non_directed_scope_from_item_trades_or_licences(self, users, register, section, plan):
        inside = make_enterprise(register)
        no_licence = make_enterprise(register, licence=False)  # unlicensed: still checked
        other_trade = make_enterprise(register, trade="recycle")
        licensed_elsewhere = make_enterprise(register, trade="card")
        Licence.objects.create(
            enterprise=licensed_elsewhere, licence_type="成品油零售经营批准证书", number="L-X"
        )
        task = make_task(users, register, section, plan)
        population = set(selectors.task_population(task=task))
        assert population == {inside, no_licence, licensed_elsewhere}
        assert other_trade not in population

    def test_joint_task_is_union_of_items(self, users, register, section, plan):
        fuel = make_enterprise(register)
        recycle = make_enterprise(register, trade="recycle")
        make_enterprise(register, trade="card")
        task = make_task(
            users, register, section, plan, items=[register["fuel"], register["recycle"]]
        )
        assert set(selectors.task_population(task=task)) == {fuel, recycle}

    def test_item_without_trades_covers_everyone(self, users, register, section, plan):
        general = CheckItem.objects.create(
            code="GX-99", name="企业公示信息检查", legal_basis="条例", section=section
        )
        everyone = [make_enterprise(register, trade=t) for t in ("fuel", "recycle", "card")]
        task = make_task(users, register, section, plan, items=[general])
        assert set(selectors.task_population(task=task)) == set(everyone)

    def test_suspended_enterprises_stay_in_the_population(self, users, register, section, plan):
        active = make_enterprise(register)
        closed = make_enterprise(register, status="suspended")
        task = make_task(users, register, section, plan)
        assert set(selectors.task_population(task=task)) == {active, closed}
        assert selectors.task_population_excluded(task=task) == []

    @pytest.mark.parametrize("status", ["deregistered", "revoked", "cancelled", "moved_out"])
    def test_only_registered_enterprises_are_supervised(
        self, users, register, section, plan, status
    ):
        active = make_enterprise(register)
        gone = make_enterprise(register, status=status)
        task = make_task(users, register, section, plan)
        assert list(selectors.task_population(task=task)) == [active]
        excluded = selectors.task_population_excluded(task=task)
        assert [(x.enterprise, x.code) for x in excluded] == [(gone, f"status:{status}")]
        assert excluded[0].reason == selectors.EXCLUSION_REASONS[status]

    def test_directed_filters(self, users, register, section, plan):
        a = make_enterprise(register, town="yakou", scale="small", enterprise_type="company")
        b = make_enterprise(register, town="bataizhen", scale="small", enterprise_type="company")
        c = make_enterprise(register, town="yakou", scale="large", enterprise_type="individual")
        task = make_task(
            users,
            register,
            section,
            plan,
            kind="directed",
            m2m={"townships": [register["towns"]["yakou"]]},
        )
        assert set(selectors.task_population(task=task)) == {a, c}
        task = services.task_update(actor=users["牵头股室"], task=task, scales=["small"])
        assert list(selectors.task_population(task=task)) == [a]
        task = services.task_update(
            actor=users["牵头股室"], task=task, scales=[], enterprise_types=["individual"]
        )
        assert list(selectors.task_population(task=task)) == [c]
        task = services.task_update(
            actor=users["牵头股室"],
            task=task,
            enterprise_types=[],
            m2m={"townships": [register["towns"]["bataizhen"]]},
        )
        assert list(selectors.task_population(task=task)) == [b]

    def test_directed_filter_on_trade_and_licence(self, users, register, section, plan):
        fuel = make_enterprise(register)
        recycle = make_enterprise(register, trade="recycle")
        task = make_task(
            users,
            register,
            section,
            plan,
            kind="directed",
            items=[register["fuel"], register["recycle"]],
            m2m={"trades": [register["trades"]["recycle"]]},
        )
        assert list(selectors.task_population(task=task)) == [recycle]
        task = services.task_update(
            actor=users["牵头股室"],
            task=task,
            licence_types=["成品油零售经营批准证书"],
            m2m={"trades": []},
        )
        assert list(selectors.task_population(task=task)) == [fuel]

    def test_non_directed_ignores_filters(self, users, register, section, plan):
        a = make_enterprise(register, town="yakou")
        b = make_enterprise(register, town="bataizhen")
        task = make_task(
            users,
            register,
            section,
            plan,
            kind="non_directed",
            m2m={"townships": [register["towns"]["yakou"]]},
        )
        assert set(selectors.task_population(task=task)) == {a, b}

    def test_tier_of_the_day_and_unrated(self, users, register, section, plan):
        e1 = make_enterprise(register, tier="A")
        make_enterprise(register, tier="D")
        make_enterprise(register, tier=None)
        RiskAssessment.objects.create(
            enterprise=e1, tier="C", effective_date=datetime.date(2026, 7, 1), source="年度评定"
        )
        task = make_task(users, register, section, plan)
        before = selectors.task_population_summary(task=task, day=datetime.date(2026, 6, 30))
        assert before.by_tier == {"A": 1, "B": 0, "C": 0, "D": 1}
        assert before.unrated == 1 and before.blocked_by_unrated and before.total == 3
        after = selectors.task_population_summary(task=task, day=datetime.date(2026, 7, 1))
        assert after.by_tier == {"A": 0, "B": 0, "C": 1, "D": 1}
        task = services.task_update(actor=users["牵头股室"], task=task, unrated_tier="D")
        counted = selectors.task_population_summary(task=task, day=datetime.date(2026, 7, 1))
        assert counted.by_tier["D"] == 2 and not counted.blocked_by_unrated and counted.total == 3
        assert len(selectors.task_population_unrated(task=task, day=DAY)) == 1


# --- Rates ---------------------------------------------------------------------------------------


class TestRates:
    def test_defaults_from_art_8(self, db):
        rates = selectors.sampling_rates_on(DAY)
        assert {t: r.rate for t, r in rates.items()} == {
            "A": D("0.0100"),
            "B": D("0.0300"),
            "C": D("0.1000"),
            "D": D("0.2000"),
        }
        assert "第八条" in rates["A"].basis

    def test_new_rate_keeps_history(self, users):
        services.sampling_rate_set(
            actor=users["牵头股室"],
            tier="B",
            rate=D("0.05"),
            effective_from=datetime.date(2026, 7, 1),
            basis="局务会决定",
        )
        assert selectors.sampling_rates_on(datetime.date(2026, 6, 30))["B"].rate == D("0.03")
        assert selectors.sampling_rates_on(datetime.date(2026, 7, 1))["B"].rate == D("0.05")
        assert SamplingRate.objects.filter(tier="B").count() == 2
        event = AuditEvent.objects.get(event_type="sampling_rate.set")
        assert event.detail["before"] == "0.0300" and event.detail["after"] == "0.05"

    def test_rate_needs_basis_and_range(self, users):
        with pytest.raises(ValidationError):
            services.sampling_rate_set(
                actor=users["牵头股室"], tier="B", rate=D("0.05"), effective_from=DAY, basis=" "
            )
        with pytest.raises(ValidationError):
            services.sampling_rate_set(
                actor=users["牵头股室"], tier="B", rate=D("1.5"), effective_from=DAY, basis="x"
            )

    def test_override_needs_legal_basis(self, users, register, section, plan):
        task = make_task(users, register, section, plan)
        with pytest.raises(ValidationError, match="依据"):
            services.task_rate_override_set(
                actor=users["牵头股室"], task=task, tier="D", rate=D("0.5"), legal_basis=""
            )
        with pytest.raises(IntegrityError), transaction.atomic():
            TaskRateOverride.objects.create(task=task, tier="D", rate=D("0.5"), legal_basis="")

    def test_override_replaces_default_for_the_task(self, users, register, section, plan):
        task = make_task(users, register, section, plan)
        services.task_rate_override_set(
            actor=users["牵头股室"],
            task=task,
            tier="D",
            rate=D("0.5"),
            legal_basis="《成品油市场管理办法》第X条",
        )
        rates = selectors.task_rates(task=task, day=DAY)
        assert rates["D"].rate == D("0.5") and rates["D"].source == "override"
        assert rates["A"].rate == D("0.01") and rates["A"].source == "default"
        services.task_rate_override_remove(actor=users["牵头股室"], task=task, tier="D")
        assert selectors.task_rates(task=task, day=DAY)["D"].source == "default"
        kinds = set(AuditEvent.objects.values_list("event_type", flat=True))
        assert {"task.rate_override_set", "task.rate_override_remove"} <= kinds

    def test_override_in_filed_plan_is_an_amendment(self, users, register, section, plan):
        task = make_task(users, register, section, plan)
        services.plan_file(
            actor=users["牵头股室"],
            plan=plan,
            filed_on=datetime.date(2026, 1, 5),
            filing_number="X",
        )
        services.task_rate_override_set(
            actor=users["牵头股室"], task=task, tier="C", rate=D("0.15"), legal_basis="某规章第5条"
        )
        amendment = PlanAmendment.objects.get(task=task)
        assert amendment.reason == "某规章第5条"
        assert amendment.changes["rate_C"][1] == {"rate": "0.15", "legal_basis": "某规章第5条"}


def test_amendment_reads_in_words(users, register, section, plan):
    task = make_task(users, register, section, plan)
    services.plan_file(
        actor=users["牵头股室"], plan=plan, filed_on=datetime.date(2026, 1, 5), filing_number="X"
    )
    services.task_update(
        actor=users["牵头股室"],
        task=task,
        reason="补充检查方式",
        methods=["onsite", "written"],
        kind="directed",
        m2m={"townships": [register["towns"]["yakou"]]},
    )
    rows = dict(
        (what, (before, after)) for what, before, after in PlanAmendment.objects.get().change_rows()
    )
    assert rows["检查方式"] == ("实地核查", "实地核查、书面检查")
    assert rows["抽查类型"] == ("不定向", "定向")
    assert rows["乡镇/街道"] == ("—", "垭口街道")


def test_demo_seed_makes_a_filed_plan_with_tasks(db):
    import io

    from accounts import demo as accounts_demo
    from enterprises import demo as enterprises_demo
    from inspections import demo
    from inspectors import demo as inspectors_demo

    out = io.StringIO()
    accounts_demo.seed(stdout=out)
    enterprises_demo.seed(stdout=out)
    inspectors_demo.seed(stdout=out)  # the draws' demo (if present) needs the roster
    demo.seed(stdout=out)
    plan = Plan.objects.get(number=demo.plans.PLAN_NUMBER)
    assert plan.status == Plan.Status.FILED and plan.filing_number
    tasks = list(plan.tasks.order_by("seq"))
    assert [t.number for t in tasks] == [f"舞工信商抽〔2026〕{n}号" for n in range(1, 5)]
    assert {t.kind for t in tasks} == {"directed", "non_directed"}
    assert any(t.check_items.count() > 1 for t in tasks)  # a joint task
    assert plan.amendments.count() == 2  # a special rate and a task added after filing
    for task in tasks:
        assert selectors.task_population(task=task).exists(), task.name
    demo.seed(stdout=out)  # idempotent
    assert Plan.objects.count() == 1


def test_directed_task_needs_a_filter_in_the_service(users, register, section, plan):
    with pytest.raises(ValidationError, match="筛选条件"):
        make_task(users, register, section, plan, kind="directed")
    task = make_task(users, register, section, plan, kind="directed", scales=["small"])
    with pytest.raises(ValidationError, match="筛选条件"):
        services.task_update(actor=users["牵头股室"], task=task, scales=[])
    task.refresh_from_db()
    assert task.scales == ["small"]


def test_drawn_task_freezes_who_and_how_many(users, register, section, plan, monkeypatch):
    task = make_task(users, register, section, plan)
    monkeypatch.setattr(services, "task_has_draws", lambda t: True)
    lead = users["牵头股室"]
    for change in (
        {"rounding": "half_up"},
        {"inspectors_per_enterprise": 3},
        {"window_end": datetime.date(2026, 7, 31)},
        {"kind": "directed", "scales": ["small"]},
        {"m2m": {"check_items": [register["recycle"]]}},
    ):
        with pytest.raises(ValidationError, match="已抽取"):
            services.task_update(actor=lead, task=task, **change)
    with pytest.raises(ValidationError, match="已抽取"):
        services.task_rate_override_set(
            actor=lead, task=task, tier="A", rate=D("0.5"), legal_basis="某法"
        )
    with pytest.raises(ValidationError, match="已抽取"):
        services.task_delete(actor=lead, task=task)
    # The scheme's wording and the name may still be corrected.
    task = services.task_update(actor=lead, task=task, name="更正后的名称")
    assert task.name == "更正后的名称"
    task.refresh_from_db()
    assert task.rounding == "ceil" and task.inspectors_per_enterprise == 2
