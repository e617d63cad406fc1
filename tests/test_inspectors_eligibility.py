"""The eligibility selector the inspector draw calls: edge days, status, recusal, capacity,
qualification, and the query count of the prefetching context."""

from datetime import date

import pytest
from django.test.utils import override_settings

from enterprises.models import CheckItem, Enterprise, ProfessionalQualification, Township, Trade
from inspectors.models import Agency, Certificate, Expert, Inspector, Recusal, StatusPeriod
from inspectors.selectors import (
    EligibilityContext,
    agency_eligibility,
    expert_eligibility,
    inspector_eligibility,
)

START, END = date(2026, 12, 1), date(2026, 12, 5)


@pytest.fixture
def trade(section):
    return Trade.objects.create(code="oil", name="成品油零售", section=section)


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
def enterprise(db):
    township = Township.objects.create(code="410481001", name="垭口街道")
    return Enterprise.objects.create(
        uscc="91350200776049653A",
        name="舞钢市华兴加油站",
        legal_representative="王建军",
        township=township,
    )


@pytest.fixture
def make_inspector(section, trade):
    counter = {"n": 0}

    def make(*, expires=date(2027, 6, 30), issued=date(2024, 1, 1), with_trade=True, **fields):
        counter["n"] += 1
        inspector = Inspector.objects.create(
            staff_number=fields.pop("staff_number", f"WG{counter['n']:03d}"),
            name=fields.pop("name", f"检查员{counter['n']}"),
            section=section,
            **fields,
        )
        if expires:
            Certificate.objects.create(
                inspector=inspector,
                number=f"豫41{counter['n']:06d}",
                issued_on=issued,
                expires_on=expires,
            )
        if with_trade:
            inspector.trades.add(trade)
        return inspector

    return make


def result_for(inspector, **kwargs):
    kwargs.setdefault("start", START)
    kwargs.setdefault("end", END)
    (result,) = inspector_eligibility(inspectors=[inspector], **kwargs)
    assert result.inspector == inspector
    return result


# --- Certificates: valid through expiry, inclusive ------------------------------------------
@pytest.mark.parametrize(
    ("expires", "eligible", "reason"),
    [
        (date(2026, 12, 4), False, "执法证于2026-12-04到期，未覆盖检查期"),  # day before end
        (date(2026, 12, 5), True, None),  # on the last day of the window
        (date(2026, 12, 6), True, None),  # the day after
        (date(2026, 11, 30), False, "执法证已于2026-11-30到期"),  # before the window
    ],
)
def test_certificate_edge_days(make_inspector, item, enterprise, expires, eligible, reason):
    inspector = make_inspector(expires=expires)
    result = result_for(inspector, check_items=[item], enterprise=enterprise)
    assert result.eligible is eligible
    assert result.reasons == ([reason] if reason else [])


def test_certificate_issued_after_window_start(make_inspector, item, enterprise):
    inspector = make_inspector(issued=date(2026, 12, 2))
    result = result_for(inspector, check_items=[item], enterprise=enterprise)
    assert result.reasons == ["执法证自2026-12-02起有效，未覆盖检查期"]


def test_no_certificate(make_inspector, item, enterprise):
    result = result_for(make_inspector(expires=None), check_items=[item], enterprise=enterprise)
    assert result.reasons == ["无执法证"]


def test_renewed_certificate_covers(make_inspector, item, enterprise):
    inspector = make_inspector(expires=date(2026, 12, 3))
    Certificate.objects.create(
        inspector=inspector,
        number="豫41999999",
        issued_on=date(2026, 11, 20),
        expires_on=date(2031, 11, 19),
    )
    assert result_for(inspector, check_items=[item], enterprise=enterprise).eligible


def test_revoked_certificate(make_inspector, item, enterprise):
    inspector = make_inspector()
    Certificate.objects.filter(inspector=inspector).update(revoked_on=date(2026, 12, 3))
    result = result_for(inspector, check_items=[item], enterprise=enterprise)
    assert result.reasons == ["执法证于2026-12-03收回，未覆盖检查期"]


# --- Status periods ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("start", "end", "eligible"),
    [
        (date(2026, 11, 25), date(2026, 11, 30), True),  # ends the day before the window
        (date(2026, 11, 25), date(2026, 12, 1), False),  # ends on the first day
        (date(2026, 12, 3), date(2026, 12, 3), False),  # one day inside
        (date(2026, 12, 5), date(2026, 12, 9), False),  # starts on the last day
        (date(2026, 12, 6), date(2026, 12, 9), True),  # starts the day after
    ],
)
def test_leave_overlapping_any_day(make_inspector, item, enterprise, start, end, eligible):
    inspector = make_inspector()
    StatusPeriod.objects.create(inspector=inspector, status="leave", start=start, end=end)
    result = result_for(inspector, check_items=[item], enterprise=enterprise)
    assert result.eligible is eligible
    if not eligible:
        assert result.reasons == [f"休假 {start:%Y-%m-%d}至{end:%Y-%m-%d}"]


@pytest.mark.parametrize(
    ("status", "label"), [("suspended", "停职"), ("transferred", "调离"), ("retired", "退休")]
)
def test_open_ended_status(make_inspector, item, enterprise, status, label):
    inspector = make_inspector()
    StatusPeriod.objects.create(inspector=inspector, status=status, start=date(2026, 6, 1))
    result = result_for(inspector, check_items=[item], enterprise=enterprise)
    assert not result.eligible
    assert result.reasons == [f"{label} 2026-06-01起"]


def test_suspension_lifted_before_window(make_inspector, item, enterprise):
    inspector = make_inspector()
    StatusPeriod.objects.create(
        inspector=inspector, status="suspended", start=date(2026, 6, 1), end=date(2026, 11, 30)
    )
    assert result_for(inspector, check_items=[item], enterprise=enterprise).eligible


# --- Recusal ------------------------------------------------------------------------------------
def test_recusal_direct(make_inspector, item, enterprise, users):
    inspector, other = make_inspector(), make_inspector()
    Recusal.objects.create(
        inspector=inspector,
        enterprise=enterprise,
        reason="kinship",
        declared_on=date(2026, 3, 1),
        approved_by=users["系统管理员"],
    )
    results = inspector_eligibility(
        start=START,
        end=END,
        check_items=[item],
        enterprise=enterprise,
        inspectors=[inspector, other],
    )
    assert [r.eligible for r in results] == [False, True]
    assert results[0].reasons == ["已申报回避（亲属关系：舞钢市华兴加油站）"]


def test_recusal_via_legal_representative(make_inspector, item, enterprise, users):
    inspector = make_inspector()
    Recusal.objects.create(
        inspector=inspector,
        legal_representative="王建军",
        reason="interest",
        declared_on=date(2026, 3, 1),
        approved_by=users["系统管理员"],
    )
    result = result_for(inspector, check_items=[item], enterprise=enterprise)
    assert result.reasons == ["已申报回避（利害关系：法定代表人“王建军”名下全部企业）"]
    other = Enterprise.objects.create(
        uscc="91440101MA5CJQ4N59",
        name="舞钢市顺达商贸有限公司",
        legal_representative="李四",
        township=enterprise.township,
    )
    assert result_for(inspector, check_items=[item], enterprise=other).eligible


@pytest.mark.parametrize(("ended_on", "eligible"), [(START, True), (date(2026, 12, 2), False)])
def test_ended_recusal(make_inspector, item, enterprise, users, ended_on, eligible):
    inspector = make_inspector()
    Recusal.objects.create(
        inspector=inspector,
        enterprise=enterprise,
        reason="former_employment",
        declared_on=date(2026, 3, 1),
        approved_by=users["系统管理员"],
        ended_on=ended_on,
        end_reason="已离职满三年",
    )
    assert result_for(inspector, check_items=[item], enterprise=enterprise).eligible is eligible


# --- Capacity -----------------------------------------------------------------------------------
@override_settings(INSPECTOR_MAX_CHECKS_PER_TASK=5, INSPECTOR_MAX_CHECKS_PER_YEAR=50)
def test_capacity_defaults_and_overrides(make_inspector, item, enterprise):
    a, b, c = make_inspector(), make_inspector(), make_inspector(max_checks_per_year=60)
    load = {a.pk: (5, 10), b.pk: (4, 50), c.pk: (0, 50)}
    results = inspector_eligibility(
        start=START,
        end=END,
        check_items=[item],
        enterprise=enterprise,
        load=load,
        inspectors=[a, b, c],
    )
    assert results[0].reasons == ["本任务检查户数已达上限（5户）"]
    assert results[1].reasons == ["本年度检查次数已达上限（50次）"]
    assert results[2].eligible  # own limit 60 > 50


def test_capacity_just_below_limit(make_inspector, item, enterprise, settings):
    inspector = make_inspector()
    load = {
        inspector.pk: (
            settings.INSPECTOR_MAX_CHECKS_PER_TASK - 1,
            settings.INSPECTOR_MAX_CHECKS_PER_YEAR - 1,
        )
    }
    assert result_for(inspector, check_items=[item], enterprise=enterprise, load=load).eligible


# --- Qualification ------------------------------------------------------------------------------
def test_qualification_by_item_or_trade(make_inspector, item, enterprise, section):
    via_trade = make_inspector()
    via_item = make_inspector(with_trade=False)
    via_item.check_items.add(item)
    neither = make_inspector(with_trade=False)
    other_item = CheckItem.objects.create(
        code="GX-002",
        name="单用途预付卡备案检查",
        legal_basis="《单用途商业预付卡管理办法》",
        section=section,
    )
    results = inspector_eligibility(
        start=START,
        end=END,
        check_items=[item, other_item],
        enterprise=enterprise,
        inspectors=[via_trade, via_item, neither],
    )
    assert results[0].reasons == ["无检查事项“GX-002 单用途预付卡备案检查”的检查资格"]
    assert results[1].reasons == ["无检查事项“GX-002 单用途预付卡备案检查”的检查资格"]
    assert len(results[2].reasons) == 2
    single = inspector_eligibility(
        start=START,
        end=END,
        check_items=[item],
        enterprise=enterprise,
        inspectors=[via_trade, via_item, neither],
    )
    assert [r.eligible for r in single] == [True, True, False]


def test_professional_qualifications_returned_not_refused(make_inspector, item, enterprise):
    item.required_qualification = ProfessionalQualification.REFINED_OIL
    item.save()
    holder = make_inspector(professional_qualifications=["refined_oil", "hazchem"])
    plain = make_inspector()
    results = inspector_eligibility(
        start=START, end=END, check_items=[item], enterprise=enterprise, inspectors=[holder, plain]
    )
    assert [r.eligible for r in results] == [True, True]
    assert results[0].qualifications == {"refined_oil", "hazchem"}
    assert results[1].qualifications == set()


def test_several_reasons_together(make_inspector, item, enterprise, users):
    inspector = make_inspector(expires=date(2026, 12, 2))
    StatusPeriod.objects.create(
        inspector=inspector, status="leave", start=date(2026, 12, 4), end=date(2026, 12, 8)
    )
    Recusal.objects.create(
        inspector=inspector,
        enterprise=enterprise,
        reason="kinship",
        declared_on=date(2026, 1, 5),
        approved_by=users["系统管理员"],
    )
    result = result_for(
        inspector, check_items=[item], enterprise=enterprise, load={inspector.pk: (0, 999)}
    )
    assert result.reasons == [
        "休假 2026-12-04至2026-12-08",
        "执法证于2026-12-02到期，未覆盖检查期",
        "本年度检查次数已达上限（120次）",
        "已申报回避（亲属关系：舞钢市华兴加油站）",
    ]


def test_order_by_staff_number_and_window_check(make_inspector, item, enterprise):
    make_inspector(staff_number="WG200")
    make_inspector(staff_number="WG100")
    results = inspector_eligibility(start=START, end=END, check_items=[item], enterprise=enterprise)
    assert [r.inspector.staff_number for r in results] == ["WG100", "WG200"]
    with pytest.raises(ValueError, match="晚于"):
        inspector_eligibility(start=END, end=START, check_items=[item], enterprise=enterprise)


# --- The prefetching context: a fixed number of queries, none per enterprise ----------------
def test_context_query_count(make_inspector, item, enterprise, users, django_assert_num_queries):
    for n in range(30):
        inspector = make_inspector()
        if n % 3 == 0:
            StatusPeriod.objects.create(
                inspector=inspector, status="leave", start=date(2026, 12, 2), end=date(2026, 12, 3)
            )
        if n % 5 == 0:
            Recusal.objects.create(
                inspector=inspector,
                enterprise=enterprise,
                reason="kinship",
                declared_on=date(2026, 1, 1),
                approved_by=users["系统管理员"],
            )
    enterprises = [enterprise] + [
        Enterprise.objects.create(
            uscc=f"9141048100000{n:04d}X"[:18],
            name=f"企业{n}",
            township=enterprise.township,
            legal_representative=f"法人{n}",
        )
        for n in range(40)
    ]
    with django_assert_num_queries(7):
        context = EligibilityContext(start=START, end=END, check_items=[item])
    with django_assert_num_queries(0):
        all_results = [context.evaluate(e, [item]) for e in enterprises]
    assert len(all_results) == 41 and all(len(r) == 30 for r in all_results)
    assert sum(r.eligible for r in all_results[0]) == 30 - 10 - 4  # leave 10, recusal 6 (2 overlap)
    assert sum(r.eligible for r in all_results[1]) == 20
    # The same answers as the one-shot selector.
    single = inspector_eligibility(start=START, end=END, check_items=[item], enterprise=enterprise)
    assert [(r.inspector.pk, r.reasons) for r in single] == [
        (r.inspector.pk, r.reasons) for r in all_results[0]
    ]


# --- Experts and agencies -------------------------------------------------------------------------
def test_expert_and_agency_eligibility(item, enterprise, users):
    item.required_qualification = ProfessionalQualification.REFINED_OIL
    item.save()
    Expert.objects.create(
        code="ZJ002",
        name="刘长河",
        organisation="平顶山市特种设备检验所",
        field="成品油安全",
        professional_qualifications=["refined_oil"],
        valid_from=date(2025, 1, 1),
    )
    Expert.objects.create(
        code="ZJ001",
        name="高峰",
        organisation="河南城建学院",
        field="成品油安全",
        professional_qualifications=["refined_oil"],
        valid_from=date(2025, 1, 1),
        valid_until=date(2026, 12, 4),
    )
    Expert.objects.create(
        code="ZJ003",
        name="孟凡",
        organisation="舞钢市应急管理局",
        field="危化品",
        professional_qualifications=["hazchem"],
        valid_from=date(2025, 1, 1),
    )
    recused = Expert.objects.create(
        code="ZJ004",
        name="杜娟",
        organisation="平顶山学院",
        field="成品油安全",
        professional_qualifications=["refined_oil"],
        valid_from=date(2025, 1, 1),
    )
    Recusal.objects.create(
        expert=recused,
        legal_representative="王建军",
        reason="kinship",
        declared_on=date(2026, 2, 1),
        approved_by=users["系统管理员"],
    )
    results = expert_eligibility(start=START, end=END, enterprise=enterprise, check_items=[item])
    assert [(r.member.code, r.eligible) for r in results] == [
        ("ZJ001", False),
        ("ZJ002", True),
        ("ZJ003", False),
        ("ZJ004", False),
    ]
    assert results[0].reasons == ["入库有效期至2026-12-04，未覆盖检查期"]
    assert results[2].reasons == ["不具备所需专业资质：成品油安全"]
    assert results[3].reasons[0].startswith("已申报回避")
    agency = Agency.objects.create(
        code="JG001",
        name="河南安信检测技术有限公司",
        uscc="91440101MA5CJQ4N59",
        field="成品油",
        professional_qualifications=["refined_oil"],
        contract_start=date(2026, 1, 1),
        contract_end=date(2026, 12, 31),
    )
    (a,) = agency_eligibility(start=START, end=END, enterprise=enterprise, check_items=[item])
    assert a.member == agency and a.eligible
    (a,) = agency_eligibility(start=date(2026, 12, 30), end=date(2027, 1, 2), enterprise=enterprise)
    assert a.reasons == ["委托合同期至2026-12-31，未覆盖检查期"]
