"""Recusal by enterprise group (集团): declared, ended, never deleted, audited; honoured by the
eligibility selector and by the draw's frozen pool; a declaration ended before the draw does
not apply; one made after the draw goes through the post-draw replacement."""

import datetime
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse

from accounts.roles import Role
from audit.models import AuditEvent
from enterprises.models import Enterprise
from inspections.drawing import verify as engine
from inspections.models import TaskRateOverride
from inspections.selectors import draws as draw_selectors
from inspections.services import draws as draw_services
from inspectors import services
from inspectors.models import Expert, Recusal
from inspectors.selectors import (
    EligibilityContext,
    RecusalTargets,
    expert_eligibility,
    inspector_eligibility,
)
from tests.draws_fixtures import DICE, WINDOW, WITNESSES, replace_approved, void_approved

GROUP = "河南豫中石油销售集团有限公司"
OTHER = "平顶山中原汽车贸易集团有限公司"
TODAY = datetime.datetime(2026, 11, 26, 10, 0, tzinfo=datetime.UTC)
START, END = WINDOW


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(TODAY, tick=False):
        yield


@pytest.fixture
def admin(users):
    return users[Role.SYSTEM_ADMIN]


@pytest.fixture
def grouped(make_enterprises):
    """Eight D-tier enterprises (all selected by a draw): 0–3 in GROUP, 4 in OTHER, 5–7 none."""
    rows = make_enterprises({"D": 8})
    for e in rows[:4]:
        e.group_name = GROUP
    rows[4].group_name = OTHER
    Enterprise.objects.bulk_update(rows, ["group_name"])
    return rows


def declare(actor, *, day=datetime.date(2026, 11, 1), **target):
    owner = {k: target.pop(k) for k in ("inspector", "expert", "agency") if k in target}
    return services.recusal_declare(
        actor=actor,
        recusal=Recusal(**owner, **target, reason="former_employment", declared_on=day),
    )


def every_enterprise(task):
    """The task draws every enterprise (rate 100 %), so each group member gets a team."""
    TaskRateOverride.objects.create(task=task, tier="D", rate=Decimal("1"), legal_basis="测试")
    return task


def complete(task, actor):
    draw = draw_services.draw_commit(actor=actor, task=task)
    return draw_services.draw_perform(
        actor=actor, draw=draw, witnesses=WITNESSES, dice_kind="d6", dice=DICE
    )


def pool_of(draw) -> dict:
    return {r["staff_number"]: r for r in engine.parse_inspectors(bytes(draw.inspectors_manifest))}


def usccs(rows) -> frozenset:
    return frozenset(e.uscc for e in rows)


# --- declaring, ending, never deleting ---------------------------------------------------------
def test_declare_group_normalised_audited_and_shown(admin, make_inspector, grouped):
    inspector = make_inspector()
    recusal = declare(admin, inspector=inspector, group=f"  {GROUP}\u3000")
    assert recusal.group == GROUP and recusal.scope == "group"
    assert recusal.target_text() == f"集团“{GROUP}”全部企业"
    event = AuditEvent.objects.get(event_type="recusal.declared")
    assert event.detail["after"]["group"] == GROUP
    assert event.detail["after"]["enterprise_id"] is None
    assert event.detail["inspector"] == inspector.pk


def test_exactly_one_target_of_three(admin, make_inspector, grouped):
    inspector = make_inspector()
    for target in (
        {"group": GROUP, "enterprise": grouped[0]},
        {"group": GROUP, "legal_representative": "法人1"},
        {"group": "  "},
    ):
        with pytest.raises(ValidationError):
            declare(admin, inspector=inspector, **target)
    assert not Recusal.objects.exists()
    assert not AuditEvent.objects.filter(event_type="recusal.declared").exists()
    # the database refuses it too, whatever path writes the row
    with pytest.raises(IntegrityError), transaction.atomic():
        Recusal.objects.create(
            inspector=inspector,
            enterprise=grouped[0],
            group=GROUP,
            reason="kinship",
            declared_on=datetime.date(2026, 1, 1),
            approved_by=admin,
        )


def test_group_recusal_ended_with_before_after_never_deleted(admin, make_inspector, grouped):
    recusal = declare(admin, inspector=make_inspector(), group=GROUP)
    services.recusal_end(
        actor=admin, recusal=recusal, ended_on=datetime.date(2026, 11, 20), reason="已离职三年"
    )
    event = AuditEvent.objects.get(event_type="recusal.ended")
    assert event.detail["before"]["ended_on"] is None
    assert event.detail["after"]["ended_on"] == "2026-11-20"
    assert event.detail["after"]["group"] == GROUP and event.reason == "已离职三年"
    recusal.refresh_from_db()
    with pytest.raises(ValidationError, match="不能删除"):
        recusal.delete()
    with pytest.raises(ValidationError, match="不能删除"):
        Recusal.objects.filter(pk=recusal.pk).delete()
    assert Recusal.objects.filter(pk=recusal.pk, ended_on=datetime.date(2026, 11, 20)).exists()


# --- eligibility -------------------------------------------------------------------------------
def test_eligibility_excludes_every_enterprise_of_the_group_only(
    admin, make_inspector, grouped, item
):
    recused, free = make_inspector(), make_inspector()
    declare(admin, inspector=recused, group=GROUP)
    context = EligibilityContext(start=START, end=END, check_items=[item])
    for enterprise in grouped:
        by_id = {r.inspector.pk: r for r in context.evaluate(enterprise, [item])}
        in_group = enterprise.group_name == GROUP
        assert by_id[recused.pk].eligible is not in_group, enterprise.name
        assert by_id[free.pk].eligible
        if in_group:
            assert by_id[recused.pk].reasons == [f"已申报回避（曾任职：集团“{GROUP}”全部企业）"]
    # the one-shot selector agrees, and an object without a group (the draw's probe) is fine
    (result,) = inspector_eligibility(
        start=START, end=END, check_items=[item], enterprise=grouped[1], inspectors=[recused]
    )
    assert not result.eligible
    assert context.evaluate(draw_selectors.NO_ENTERPRISE, [item])[0].eligible


@pytest.mark.parametrize(
    ("ended_on", "applies"),
    [(START - datetime.timedelta(days=1), False), (START, False), (START.replace(day=2), True)],
)
def test_ended_group_recusal_applies_until_the_window_start(
    admin, make_inspector, grouped, item, ended_on, applies
):
    inspector = make_inspector()
    recusal = declare(admin, inspector=inspector, group=GROUP)
    services.recusal_end(actor=admin, recusal=recusal, ended_on=ended_on, reason="关系解除")
    (result,) = inspector_eligibility(
        start=START, end=END, check_items=[item], enterprise=grouped[0], inspectors=[inspector]
    )
    assert result.eligible is not applies


def test_experts_follow_the_same_group_rule(admin, grouped):
    expert = Expert.objects.create(
        code="ZJ001",
        name="高峰",
        organisation="河南城建学院",
        field="成品油",
        valid_from=datetime.date(2026, 1, 1),
    )
    declare(admin, expert=expert, group=GROUP)
    for enterprise, eligible in ((grouped[0], False), (grouped[4], True), (grouped[7], True)):
        (result,) = expert_eligibility(start=START, end=END, enterprise=enterprise)
        assert result.eligible is eligible


def test_recusal_targets_resolve_groups_in_one_query(
    admin, make_inspector, grouped, django_assert_num_queries
):
    a, b = make_inspector(), make_inspector()
    declare(admin, inspector=a, group=GROUP)
    declare(admin, inspector=b, group=OTHER)
    declare(admin, inspector=b, enterprise=grouped[6])
    context = EligibilityContext(start=START, end=END)
    ids = {e.uscc: e.pk for e in grouped[1:]}  # grouped[0] is not in this population
    with django_assert_num_queries(1):
        targets = RecusalTargets(ids=ids, legal_reps={}, people=context.inspectors)
    by_pk = {i.pk: i for i in context.inspectors}
    assert targets.usccs(by_pk[a.pk]) == set(usccs(grouped[1:4]))
    assert targets.usccs(by_pk[b.pk]) == {grouped[4].uscc, grouped[6].uscc}


# --- the draw ----------------------------------------------------------------------------------
def test_draw_never_puts_a_group_recused_inspector_on_a_team_of_the_group(
    lead, admin, make_task, make_inspector, grouped
):
    roster = [make_inspector() for _ in range(4)]
    recused = roster[0]
    declare(admin, inspector=recused, group=GROUP)
    draw = complete(every_enterprise(make_task()), lead)
    # the frozen pool names exactly the group's enterprises (the engine skips those)
    assert pool_of(draw)[recused.staff_number]["recusals"] == usccs(grouped[:4])
    teams = {t["selection"].uscc: t for t in draw_selectors.draw_teams(draw)}
    assert set(teams) == {e.uscc for e in grouped}  # tier D: every enterprise selected
    for enterprise in grouped[:4]:
        team = teams[enterprise.uscc]
        assert recused not in team["current"]
        ranking = next(t for t in draw.document["teams"] if t["uscc"] == enterprise.uscc)
        members = [m.staff_number for m in team["current"]]
        if ranking["ranking"].index(recused.staff_number) < max(
            ranking["ranking"].index(s) for s in members
        ):
            assert {"staff_number": recused.staff_number, "reason": "recused", "label": "回避"} in (
                team["skips"]
            )
    assert draw_selectors.draw_verification(draw) == []


def test_draw_ignores_a_group_recusal_ended_before_it(
    lead, admin, make_task, make_inspector, grouped
):
    roster = [make_inspector() for _ in range(3)]
    ended = declare(admin, inspector=roster[0], group=GROUP)
    services.recusal_end(actor=admin, recusal=ended, ended_on=START, reason="已解除")
    still = declare(admin, inspector=roster[1], group=OTHER)
    services.recusal_end(
        actor=admin, recusal=still, ended_on=START.replace(day=5), reason="检查期中解除"
    )
    draw = complete(every_enterprise(make_task()), lead)
    pool = pool_of(draw)
    assert pool[roster[0].staff_number]["recusals"] == frozenset()
    assert pool[roster[1].staff_number]["recusals"] == frozenset({grouped[4].uscc})


def test_group_recusal_declared_after_the_draw_goes_through_replacement(
    lead, lead2, admin, make_task, make_inspector, grouped
):
    roster = [make_inspector() for _ in range(5)]
    draw = complete(every_enterprise(make_task()), lead)
    teams = {t["selection"].uscc: t for t in draw_selectors.draw_teams(draw)}
    team = teams[grouped[0].uscc]
    out = team["current"][0]
    assert out in roster
    declare(admin, inspector=out, group=GROUP, day=datetime.date(2026, 11, 26))
    # the draw is frozen: the declaration changes nothing in it, it still verifies
    assert pool_of(draw)[out.staff_number]["recusals"] == frozenset()
    before = {t["selection"].uscc: t for t in draw_selectors.draw_teams(draw)}
    assert out in before[grouped[0].uscc]["current"]
    assert draw_selectors.draw_verification(draw) == []
    # the post-draw recusal path replaces the member, with the next eligible in the ranking
    replacement = replace_approved(
        requester=lead,
        selection=team["selection"],
        out=out,
        reason=f"抽取后申报回避：曾在{GROUP}任职",
        approver=lead2,
    )
    assert replacement.into != out
    current = {t["selection"].uscc: t for t in draw_selectors.draw_teams(draw)}
    assert out not in current[grouped[0].uscc]["current"]
    assert replacement.into in current[grouped[0].uscc]["current"]
    assert draw_selectors.draw_verification(draw) == []
    # a new draw (after voiding) would honour it
    void_approved(
        requester=lead,
        draw=draw,
        reason="重新抽取",
        approver=lead2,
    )
    again = draw_services.draw_commit(actor=lead, task=draw.task)
    assert pool_of(again)[out.staff_number]["recusals"] == usccs(grouped[:4])


# --- the screens -------------------------------------------------------------------------------
def test_admin_declares_group_recusal_in_the_form(client_for, users, make_inspector, grouped):
    inspector = make_inspector()
    client = client_for(Role.SYSTEM_ADMIN)
    url = reverse("inspectors:recusal_add", args=[inspector.pk])
    page = client.get(url).content.decode()
    assert f'<option value="{GROUP}">' in page and 'list="recusal-groups"' in page
    base = {"reason": "kinship", "declared_on": "2026-11-26"}
    response = client.post(url, {**base, "group": "不存在的集团"})
    assert response.status_code == 200 and "请核对集团名称" in response.content.decode()
    response = client.post(url, {**base, "group": GROUP, "legal_representative": "法人1"})
    assert response.status_code == 200 and "三选一" in response.content.decode()
    assert not Recusal.objects.exists()
    response = client.post(url, {**base, "group": f" {GROUP} "})
    assert response.status_code == 302
    recusal = Recusal.objects.get()
    assert recusal.group == GROUP and recusal.enterprise is None
    listing = client_for(Role.DISCIPLINE).get(reverse("inspectors:recusal_list")).content.decode()
    assert f"集团“{GROUP}”全部企业" in listing
    response = client.post(
        reverse("inspectors:recusal_end", args=[recusal.pk]),
        {"ended_on": "2026-11-30", "end_reason": "关系解除"},
    )
    assert response.status_code == 302
    assert Recusal.objects.get().ended_on == datetime.date(2026, 11, 30)


def test_only_admin_declares(users, make_inspector, grouped):
    from tests.permissions import assert_role_access

    inspector = make_inspector()
    url = reverse("inspectors:recusal_add", args=[inspector.pk])
    data = {"group": GROUP, "reason": "kinship", "declared_on": "2026-11-26"}
    assert_role_access(users, url, {Role.SYSTEM_ADMIN}, method="post", data=data)
    assert Recusal.objects.filter(group=GROUP).count() == 1


class _Rollback(Exception):
    pass


def test_a_replacement_recused_after_the_draw_leaves_at_once_through_a_second_replacement(
    lead, lead2, admin, make_task, make_inspector, grouped
):
    roster = [make_inspector() for _ in range(6)]
    draw = complete(every_enterprise(make_task()), lead)
    team = {t["selection"].uscc: t for t in draw_selectors.draw_teams(draw)}[grouped[0].uscc]
    out = team["current"][0]
    assert out in roster

    def replace():
        return replace_approved(
            requester=lead, selection=team["selection"], out=out, reason="事后回避", approver=lead2
        )

    # Who the ranking would bring in (tried and rolled back) ...
    try:
        with transaction.atomic():
            candidate = replace().into
            raise _Rollback
    except _Rollback:
        pass
    # ... has since declared a recusal for this enterprise.
    declare(admin, inspector=candidate, enterprise=grouped[0], day=datetime.date(2026, 11, 26))

    first = replace()
    assert first.into == candidate
    second = first.selection.replacements.exclude(pk=first.pk).get()
    assert second.out == candidate and second.into not in (out, candidate)
    assert "替补人员已申报回避" in second.reason and second.approver == lead2
    current = {t["selection"].uscc: t for t in draw_selectors.draw_teams(draw)}
    members = current[grouped[0].uscc]["current"]
    assert second.into in members and candidate not in members and out not in members
    # Both replacements are recorded and the draw still re-verifies from its evidence.
    assert draw_selectors.draw_verification(draw) == []
    assert AuditEvent.objects.filter(event_type="draw.replacement").count() == 2
