"""The draw services: commit → seed → perform, eligibility edges, immutability, void with a
second person, post-draw recusal, frequency rules, joint visits, concurrency."""

import datetime
import threading

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection

from accounts.roles import Role
from approvals.services import approval_decide
from audit.models import AuditEvent
from enterprises.models import Enterprise
from inspections.drawing import verify as engine
from inspections.models import Draw, DrawReplacement, DrawSelection, ImmutableError
from inspections.selectors import draws as selectors
from inspections.services import draws as services
from inspectors.models import Recusal, StatusPeriod
from tests.draws_fixtures import DICE, WITNESSES

TODAY = datetime.datetime(2026, 11, 26, 10, 0, tzinfo=datetime.UTC)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(TODAY, tick=False):
        yield


@pytest.fixture
def role_groups(transactional_db):
    """A flush by an earlier transactional test removes the data migrations' rows: the groups
    of accounts.0002_roles and the default rates of inspections.0001."""
    from decimal import Decimal

    from django.contrib.auth.models import Group

    from inspections.models import SamplingRate

    for role in Role:
        Group.objects.get_or_create(name=role)
    for tier, rate in (("A", "0.01"), ("B", "0.03"), ("C", "0.10"), ("D", "0.20")):
        SamplingRate.objects.get_or_create(
            tier=tier,
            defaults={
                "rate": Decimal(rate),
                "effective_from": datetime.date(2025, 4, 1),
                "basis": "实施细则第八条",
            },
        )


def complete(task, actor, dice=DICE):
    draw = services.draw_commit(actor=actor, task=task)
    return services.draw_perform(
        actor=actor, draw=draw, witnesses=WITNESSES, dice_kind="d6", dice=dice
    )


# ------------------------------------------------------------------------------------ commit
def test_commit_freezes_population_and_pool_before_any_randomness(
    lead, make_task, make_enterprises, roster
):
    enterprises = make_enterprises({"A": 5, "B": 3, "C": 2, "D": 1})
    gone = enterprises[0]
    gone.status = Enterprise.Status.DEREGISTERED
    gone.save()
    task = make_task()
    draw = services.draw_commit(actor=lead, task=task)
    assert draw.status == Draw.Status.COMMITTED
    assert draw.seed_string == "" and draw.document is None
    header, rows = engine.parse_manifest(bytes(draw.manifest))
    assert header == ["uscc", "tier"]
    assert [r["uscc"] for r in rows] == sorted(e.uscc for e in enterprises[1:])
    assert draw.manifest_sha256 == engine.sha256_hex(bytes(draw.manifest))
    assert draw.tiers["A"] == {"population": 4, "rate": "0.01", "count": 1}
    assert draw.tiers["D"]["count"] == 1
    assert draw.excluded == [
        {"uscc": gone.uscc, "name": gone.name, "reason": "注销：已不属于监管对象"}
    ]
    pool = engine.parse_inspectors(bytes(draw.inspectors_manifest))
    assert [p["staff_number"] for p in pool] == [i.staff_number for i in roster]
    assert all(p["pool"] == "" for p in pool)
    assert draw.secret_sha256 == engine.sha256_hex(draw.secret.encode())
    event = AuditEvent.objects.get(event_type="draw.committed")
    assert event.detail["population_sha256"] == draw.manifest_sha256
    assert draw.secret not in str(event.detail)


def test_only_lead_section_may_draw(users, make_task, make_enterprises, roster):
    make_enterprises({"A": 2})
    task = make_task()
    for role in (Role.SECTION_STAFF, Role.SECTION_HEAD, Role.INSPECTOR, Role.SYSTEM_ADMIN):
        with pytest.raises(PermissionDenied):
            services.draw_commit(actor=users[role], task=task)
    assert not Draw.objects.exists()


def test_unrated_enterprises_block_the_draw_by_name(
    lead, make_task, make_enterprises, roster, township, trade
):
    make_enterprises({"A": 2})
    unrated = Enterprise.objects.create(
        uscc="91350200776049653A", name="无评级企业", township=township
    )
    unrated.trades.add(trade)
    task = make_task()
    with pytest.raises(services.DrawError, match="无评级企业"):
        services.draw_commit(actor=lead, task=task)
    task.unrated_tier = "D"
    task.save()
    draw = services.draw_commit(actor=lead, task=task)
    assert draw.tiers["D"]["population"] == 1


def test_second_live_draw_refused(lead, make_task, make_enterprises, roster):
    make_enterprises({"A": 2})
    task = make_task()
    services.draw_commit(actor=lead, task=task)
    with pytest.raises(services.DrawError, match="已有"):
        services.draw_commit(actor=lead, task=task)


# ----------------------------------------------------------------------------------- perform
def test_perform_selects_exact_counts_teams_and_verifies(lead, make_task, make_enterprises, roster):
    make_enterprises({"A": 120, "B": 40, "C": 11, "D": 6})
    task = make_task(inspectors_per_enterprise=3)
    draw = complete(task, lead)
    assert draw.status == Draw.Status.COMPLETED
    counts = {t: i["count"] for t, i in draw.tiers.items()}
    assert counts == {"A": 2, "B": 2, "C": 2, "D": 2}
    selections = list(DrawSelection.objects.filter(draw=draw))
    assert sorted(s.tier for s in selections) == ["A", "A", "B", "B", "C", "C", "D", "D"]
    teams = selectors.draw_teams(draw)
    assert all(len(t["current"]) == 3 for t in teams)
    assert selectors.draw_verification(draw) == []
    assert draw.seed_string.startswith(f"WGDRAW-1|draw={draw.pk}|population=")
    assert draw.witnesses.count() == 2
    assert AuditEvent.objects.filter(event_type="draw.completed", object_id=str(draw.pk)).exists()
    with pytest.raises(services.DrawError, match="已完成"):
        services.draw_perform(actor=lead, draw=draw, witnesses=WITNESSES, dice_kind="d6", dice=DICE)


@pytest.mark.parametrize(
    ("witnesses", "kind", "dice", "message"),
    [
        (["王见证"], "d6", DICE, "两名"),
        (["王见证", "王见证"], "d6", DICE, "两名"),
        (WITNESSES, "d6", "1234561234", "至少 20"),
        (WITNESSES, "d6", "12345678901234567890", "1–6"),
    ],
)
def test_seed_rules(lead, make_task, make_enterprises, roster, witnesses, kind, dice, message):
    make_enterprises({"A": 2})
    draw = services.draw_commit(actor=lead, task=make_task())
    with pytest.raises(services.DrawError, match=message):
        services.draw_perform(actor=lead, draw=draw, witnesses=witnesses, dice_kind=kind, dice=dice)
    draw.refresh_from_db()
    assert draw.status == Draw.Status.COMMITTED


def test_too_few_eligible_stops_naming_enterprise_and_shortfall(
    lead, make_task, make_enterprises, make_inspector
):
    (enterprise,) = make_enterprises({"D": 1})
    ok = make_inspector()
    on_leave = make_inspector()
    StatusPeriod.objects.create(
        inspector=on_leave,
        status=StatusPeriod.Status.LEAVE,
        start=datetime.date(2026, 11, 30),
        end=datetime.date(2026, 12, 31),
    )
    task = make_task()
    draw = services.draw_commit(actor=lead, task=task)
    pool = {p["staff_number"]: p for p in engine.parse_inspectors(bytes(draw.inspectors_manifest))}
    assert pool[ok.staff_number]["pool"] == ""
    assert pool[on_leave.staff_number]["pool"] != ""
    with pytest.raises(services.DrawError) as info:
        services.draw_perform(actor=lead, draw=draw, witnesses=WITNESSES, dice_kind="d6", dice=DICE)
    assert enterprise.uscc in str(info.value) and "缺 1 名" in str(info.value)
    assert not DrawSelection.objects.exists()
    failed = AuditEvent.objects.get(event_type="draw.perform_failed")
    assert failed.detail["dice"] == DICE
    # no second try with other dice on the same commitment
    with pytest.raises(services.DrawError, match="作废"):
        services.draw_perform(
            actor=lead, draw=draw, witnesses=WITNESSES, dice_kind="d6", dice="6" * 20
        )


def test_recusal_and_qualification_in_the_frozen_pool(
    lead, make_task, make_enterprises, make_inspector, item
):
    enterprises = make_enterprises({"D": 1})
    item.required_qualification = "refined_oil"
    item.save()
    plain = [make_inspector() for _ in range(3)]
    qualified = make_inspector(professional_qualifications=["refined_oil"])
    recused = make_inspector(professional_qualifications=["refined_oil"])
    Recusal.objects.create(
        inspector=recused,
        enterprise=enterprises[0],
        reason="kinship",
        declared_on=datetime.date(2026, 1, 5),
        approved_by=lead,
    )
    draw = complete(make_task(), lead)
    (team,) = selectors.draw_teams(draw)
    staff = [i.staff_number for i in team["current"]]
    assert qualified.staff_number in staff and recused.staff_number not in staff
    assert len(staff) == 2 and set(staff) - {qualified.staff_number} <= {
        p.staff_number for p in plain
    }
    pool = {p["staff_number"]: p for p in engine.parse_inspectors(bytes(draw.inspectors_manifest))}
    assert pool[recused.staff_number]["recusals"] == frozenset({enterprises[0].uscc})
    ranking = draw.document["teams"][0]["ranking"]
    last = max(ranking.index(s) for s in staff)
    if ranking.index(recused.staff_number) < last:
        assert {"staff_number": recused.staff_number, "reason": "recused", "label": "回避"} in (
            team["skips"]
        )
    assert selectors.draw_verification(draw) == []


# ---------------------------------------------------------------------------- immutability
def test_completed_draw_cannot_be_edited_or_deleted(lead, make_task, make_enterprises, roster):
    make_enterprises({"A": 3, "B": 2})
    draw = complete(make_task(), lead)
    draw.dice = "1" * 20
    with pytest.raises(ImmutableError):
        draw.save()
    draw.refresh_from_db()
    with pytest.raises(ImmutableError):
        draw.delete()
    with pytest.raises(ImmutableError):
        Draw.objects.filter(pk=draw.pk).update(seed_string="x")
    with pytest.raises(ImmutableError):
        Draw.objects.filter(pk=draw.pk).delete()
    selection = DrawSelection.objects.filter(draw=draw).first()
    selection.tier = "D"
    with pytest.raises(ImmutableError):
        selection.save()
    with pytest.raises(ImmutableError):
        DrawSelection.objects.filter(draw=draw).delete()
    assert selectors.draw_verification(draw) == []


# ------------------------------------------------------------------------------------- void
def test_void_needs_reason_and_a_second_lead_member(
    lead, lead2, users, make_task, make_enterprises, roster
):
    make_enterprises({"A": 3})
    task = make_task()
    draw = complete(task, lead)
    with pytest.raises(ValidationError, match="理由"):
        services.draw_void_request(actor=lead, draw=draw, reason=" ")
    with pytest.raises(PermissionDenied, match="牵头股室"):
        services.draw_void_request(actor=users[Role.SECTION_HEAD], draw=draw, reason="名单有误")
    with pytest.raises(ValidationError, match="另一"):
        services.draw_void_request(actor=lead, draw=draw, reason="名单有误", approver=lead)
    with pytest.raises(ValidationError, match="牵头股室"):
        services.draw_void_request(
            actor=lead, draw=draw, reason="名单有误", approver=users[Role.SECTION_HEAD]
        )
    approval = services.draw_void_request(actor=lead, draw=draw, reason="名单有误")
    draw.refresh_from_db()
    assert draw.status == Draw.Status.COMPLETED  # asking changes nothing
    # the requester (here the operator too) and another role cannot approve
    for who in (lead, users[Role.SECTION_HEAD], users[Role.DISCIPLINE]):
        with pytest.raises(PermissionDenied):
            approval_decide(actor=who, request=approval, approve=True)
    approval_decide(actor=lead2, request=approval, approve=True)
    draw.refresh_from_db()
    assert draw.status == Draw.Status.VOIDED and draw.void_approver == lead2
    assert draw.voided_by == lead and draw.void_reason == "名单有误"
    assert draw in selectors.draws_for_discipline()
    assert selectors.draw_verification(draw) == []  # still verifiable
    # a new draw needs a new seed
    again = services.draw_commit(actor=lead, task=task)
    assert again.attempt == 2 and again.secret != draw.secret
    with pytest.raises(services.DrawError, match="新的骰子"):
        services.draw_perform(
            actor=lead, draw=again, witnesses=WITNESSES, dice_kind="d6", dice=DICE
        )
    services.draw_perform(
        actor=lead, draw=again, witnesses=WITNESSES, dice_kind="d10", dice="0987654321" * 2
    )
    voided = AuditEvent.objects.get(event_type="draw.voided", reason="名单有误")
    assert voided.actor == lead2 and voided.detail["approval"] == approval.pk
    assert voided.detail["requested_by"] == lead.username


def test_the_operator_cannot_approve_a_void_another_member_asked(
    lead, lead2, make_user, lead_section, make_task, make_enterprises, roster
):
    make_enterprises({"A": 3})
    draw = complete(make_task(), lead)  # lead operated the draw
    third = make_user(Role.LEAD_SECTION, section=lead_section, username="lead_three")
    with pytest.raises(ValidationError, match="操作人以外"):
        services.draw_void_request(actor=lead2, draw=draw, reason="名单有误", approver=lead)
    approval = services.draw_void_request(actor=lead2, draw=draw, reason="名单有误")
    with pytest.raises(PermissionDenied, match="操作人以外"):
        approval_decide(actor=lead, request=approval, approve=True)
    approval_decide(actor=third, request=approval, approve=True)
    draw.refresh_from_db()
    assert draw.voided_by == lead2 and draw.void_approver == third


# ------------------------------------------------------------------------- post-draw recusal
def test_post_draw_recusal_takes_the_next_ranked(
    lead, lead2, users, make_task, make_enterprises, roster
):
    make_enterprises({"D": 1})
    draw = complete(make_task(), lead)
    (team,) = selectors.draw_teams(draw)
    ranking = draw.document["teams"][0]["ranking"]
    out = team["current"][0]
    expected = next(s for s in ranking if s not in [i.staff_number for i in team["current"]])
    with pytest.raises(ValidationError, match="另一"):
        services.draw_replace_request(
            actor=lead, selection=team["selection"], out=out, reason="亲属", approver=lead
        )
    approval = services.draw_replace_request(
        actor=lead, selection=team["selection"], out=out, reason="与企业负责人系亲属"
    )
    assert not DrawReplacement.objects.exists()  # asking changes nothing
    for who in (lead, users[Role.SECTION_STAFF], users[Role.DISCIPLINE]):
        with pytest.raises(PermissionDenied):
            approval_decide(actor=who, request=approval, approve=True)
    _, result = approval_decide(actor=users[Role.SECTION_HEAD], request=approval, approve=True)
    rep = result["replacement"]
    assert rep.into.staff_number == expected
    assert rep.made_by == lead and rep.approver == users[Role.SECTION_HEAD]
    (team,) = selectors.draw_teams(draw)
    assert out not in team["current"] and rep.into in team["current"]
    assert [m.staff_number for m in team["drawn"]] == draw.document["teams"][0]["drawn"]
    document = selectors.draw_document(draw)
    assert document["replacements"][0]["in"] == expected
    assert selectors.draw_verification(draw) == []
    assert DrawReplacement.objects.count() == 1
    event = AuditEvent.objects.get(event_type="draw.replacement")
    assert event.detail["approval"] == approval.pk and event.detail["requested_by"] == lead.username


# ------------------------------------------------------------------------- frequency / load
def test_same_item_once_a_year_and_load_across_tasks(lead, make_task, make_enterprises, roster):
    make_enterprises({"D": 10})
    first = complete(make_task(), lead)
    chosen = set(DrawSelection.objects.filter(draw=first).values_list("uscc", flat=True))
    second = services.draw_commit(actor=lead, task=make_task())
    _, rows = engine.parse_manifest(bytes(second.manifest))
    assert chosen.isdisjoint(r["uscc"] for r in rows)
    assert {e["uscc"] for e in second.excluded} == chosen
    load = selectors.inspector_load(task=second.task, year=2026)
    assert sum(year for _, year in load.values()) == 2 * len(chosen)


# -------------------------------------------------------------------------------- joint visit
def test_joint_visit_keeps_earliest_team_and_adds_qualified(
    lead, make_task, make_enterprises, make_inspector, section, trade
):
    from enterprises.models import CheckItem

    (enterprise,) = make_enterprises({"D": 1})
    for _ in range(4):
        make_inspector()
    hazchem = make_inspector(professional_qualifications=["hazchem"])
    item2 = CheckItem.objects.create(
        code="GX-002",
        name="危险化学品检查",
        legal_basis="条例",
        section=section,
        required_qualification="hazchem",
    )
    item2.trades.add(trade)
    task1 = make_task(same_item_once_per_year=False)
    first = complete(task1, lead)
    task2 = make_task(items=[item2], same_item_once_per_year=False)
    second = complete(task2, lead, dice="6" * 20)
    selection = DrawSelection.objects.get(draw=second)
    visit = services.joint_visit_merge(actor=lead, selection=selection)
    base_team = selectors.draw_document(first)["teams"][0]["inspectors"]
    assert visit.team[: len(base_team)] == base_team
    if hazchem.staff_number in base_team:
        assert visit.added == [] and visit.team == base_team
    else:
        assert visit.added == [
            {"task": task2.number, "qualification": "hazchem", "staff_number": hazchem.staff_number}
        ]
    assert visit.missing == []
    assert visit.enterprise == enterprise
    assert AuditEvent.objects.filter(event_type="draw.joint_visit").exists()


# ------------------------------------------------------------------------------- concurrency
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_people_drawing_at_once_exactly_one_draw(
    role_groups, lead, lead2, make_task, make_enterprises, roster
):
    make_enterprises({"A": 5})
    task = make_task()
    barrier = threading.Barrier(2)
    results = []

    def run(actor):
        try:
            barrier.wait()
            results.append(services.draw_commit(actor=actor, task=task))
        except services.DrawError as exc:
            results.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(u,)) for u in (lead, lead2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(isinstance(r, Draw) for r in results) == 1
    assert sum(isinstance(r, services.DrawError) for r in results) == 1
    assert Draw.objects.filter(task=task).count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_people_rolling_the_same_draw_at_once_one_result(
    role_groups, lead, lead2, make_task, make_enterprises, roster
):
    make_enterprises({"A": 5, "D": 2})
    draw = services.draw_commit(actor=lead, task=make_task())
    barrier = threading.Barrier(2)
    results = []

    def run(actor, dice):
        try:
            barrier.wait()
            results.append(
                services.draw_perform(
                    actor=actor, draw=draw, witnesses=WITNESSES, dice_kind="d6", dice=dice
                )
            )
        except services.DrawError as exc:
            results.append(exc)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=run, args=(lead, DICE)),
        threading.Thread(target=run, args=(lead2, "6" * 20)),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(isinstance(r, Draw) for r in results) == 1
    draw.refresh_from_db()
    assert draw.status == Draw.Status.COMPLETED
    assert DrawSelection.objects.filter(draw=draw).count() == 2  # A: ⌈5×1%⌉, D: ⌈2×20%⌉
    assert AuditEvent.objects.filter(event_type="draw.completed").count() == 1
