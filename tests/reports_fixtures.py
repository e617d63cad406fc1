"""A hand-built task for the report tests (tests/test_oversight_reports*.py).

Task T1 (政策法规股): five enterprises in tiers A, B, C, D, D; a first draw voided, the second
selects one per tier = 4 (D: ⌈2 × 20%⌉ = 1). Visits v1..v4 by tier A, B, C, D:

| visit | status    | results (categories)          | publication records              | follow-ups                      | other |
|-------|-----------|-------------------------------|----------------------------------|---------------------------------|-------|
| v1 A  | approved  | 发现问题已责令改正            | two, both published, one late    | 责令改正 closed, 抄告 open      | transfer sent; 2nd trade 危化 |
| v2 B  | archived  | 未发现问题                    | one, on time                     | 无需后续处置                    | township 尚店镇 |
| v3 C  | approved  | 待后续处理（未按规定公示）    | one, unpublished, deadline past  | 责令改正 closed                 | transfer draft |
| v4 D  | submitted | 不配合检查情节严重            | —                                | —                               | non-cooperation refused entry |

Task T2 (市场运行股) in the same plan: no draw, nothing else.

Expected, by hand: population 5, due 4, voided draws 1, checked 4, approved 3, published 2 (v1,
v2), on time 1 (v2), completion 2/4 = 50.0%, on-time rate 1/2 = 50.0%, records 4, records
published 3, overdue unpublished records 1 (v3), problems 2 (v1, v3), follow-up visits 2 (v1, v3),
closed 1 (v3), closure 50.0%, transfers 2 (sent 1, draft 1), non-cooperation 1 (refused entry).
Category mix (approved only): 发现问题已责令改正 1, 未发现问题 1, 发现问题待后续处理 1, its
sub-reason 1. By tier: A 1/1, B 1/0, C 1/1. By township: 垭口街道 2/2, 尚店镇 1/0. By trade:
成品油零售 3/2, 危险化学品经营 1/1.
"""

import datetime

import pytest

from accounts.roles import Role
from disclosure.models import PublicationRecord
from disclosure.services import publication_record_create
from enterprises.models import Township, Trade
from inspections.models import (
    FollowUp,
    LeadTransfer,
    NonCooperation,
    ResultCategory,
    Task,
    Visit,
)
from inspections.services import visits as visit_services
from oversight.figures import visit_figures_refresh
from tests.draws_fixtures import void_approved
from tests.visits_fixtures import (
    complete_draw,
)

TODAY = datetime.date(2026, 12, 3)
D = datetime.date


def _categories(visit, *codes):
    chosen = list(ResultCategory.objects.filter(code__in=codes))
    for result in visit.results.all():
        result.categories.set(chosen)


def _record(visit, n, *, published=None, deadline):
    record = publication_record_create(
        result_id=visit.pk * 100 + n,
        visit_id=visit.pk,
        task=visit.task,
        enterprise=visit.enterprise,
        check_item=f"检查事项{n}",
        check_end=D(2026, 11, 2),
        result_text="未发现问题",
        section=visit.section,
    )
    PublicationRecord.objects.filter(pk=record.pk).update(
        deadline=deadline,
        first_published_on=published,
        published_on=published,
        status="published" if published else "pending",
    )
    return record


@pytest.fixture
def report_data(
    plan, lead, lead2, make_task, make_enterprises, roster, inspector_users, section, users
):
    make_enterprises({"A": 1, "B": 1, "C": 1, "D": 2})
    t1 = make_task(name="成品油零售专项抽查")
    Task.objects.filter(pk=t1.pk).update(plan=plan, adhoc_reason="")
    t1.refresh_from_db()
    first = complete_draw(t1, lead)
    void_approved(requester=lead, draw=first, reason="骰子录入错误", approver=lead2)
    draw = complete_draw(t1, lead, dice="62626151534343212166")
    visits = visit_services.visits_create_for_draw(actor=lead, draw=draw)
    visits = sorted(visits, key=lambda v: v.visit_selections.get().selection.tier)
    v1, v2, v3, v4 = visits
    for visit, status in zip(
        visits, ("approved", "archived", "approved", "submitted"), strict=True
    ):
        Visit.objects.filter(pk=visit.pk).update(status=status)
    _categories(v1, "corrected")
    _categories(v2, "no_problem")
    _categories(v3, "pending", "pending_unpublished")
    _categories(v4, "non_cooperation")

    # Publication: v1 both published (one late), v2 on time, v3 unpublished and overdue.
    _record(v1, 1, published=D(2026, 11, 20), deadline=D(2026, 11, 30))
    _record(v1, 2, published=D(2026, 12, 2), deadline=D(2026, 11, 30))
    _record(v2, 1, published=D(2026, 11, 30), deadline=D(2026, 11, 30))
    _record(v3, 1, published=None, deadline=D(2026, 12, 1))

    actor = lead
    FollowUp.objects.create(
        visit=v1, measure="order_correction", closed=True, closed_on=TODAY, created_by=actor
    )
    FollowUp.objects.create(visit=v1, measure="notify_other", closed=False, created_by=actor)
    FollowUp.objects.create(
        visit=v2, measure="none", closed=True, closed_on=TODAY, created_by=actor
    )
    FollowUp.objects.create(
        visit=v3, measure="order_correction", closed=True, closed_on=TODAY, created_by=actor
    )
    LeadTransfer.objects.create(
        visit=v1,
        department="市应急管理局",
        content="疑似无证储存",
        status="sent",
        sent_on=TODAY,
        created_by=actor,
    )
    LeadTransfer.objects.create(
        visit=v3, department="市市场监管局", content="价格问题", created_by=actor
    )
    NonCooperation.objects.create(
        visit=v4, case="refused_entry", occurred_on=TODAY, description="拒绝入内", recorded_by=actor
    )
    shangdian = Township.objects.create(code="shangdian", name="尚店镇", order=20)
    v2.enterprise.township = shangdian
    v2.enterprise.save(update_fields=["township"])
    hazchem = Trade.objects.create(code="hazchem", name="危险化学品经营")
    v1.enterprise.trades.add(hazchem)

    t2 = Task.objects.create(
        plan=plan,
        year=2026,
        seq=50,
        number="舞工信商抽〔2026〕50号",
        name="商贸流通专项抽查",
        lead_section=section,
        window_start=D(2026, 11, 1),
        window_end=D(2026, 12, 31),
        methods=["onsite"],
    )
    # The data above is written directly, past the services: bring the figures in step.
    visit_figures_refresh(visit_ids=[v.pk for v in visits])
    return {"t1": t1, "t2": t2, "visits": visits, "draw": draw, "plan": plan}


@pytest.fixture
def own_head(make_user, lead_section):
    """The section head of 政策法规股, which leads T1."""
    return make_user(Role.SECTION_HEAD, section=lead_section, username="head_fagui")
