"""oversight.figures: the precomputed report figures (VisitFigures) never disagree with the
source tables. Every service that changes what the figures count is driven for real (draw →
visits, joint visit, draft, submit, return, approve with its publication records, archive,
follow-ups, transfers, non-cooperation, publication), and after each step the report read from
the precomputed rows must equal the same figures computed from the sources
(oversight.reports_reference, the former query-based computation)."""

import datetime
from dataclasses import asdict

import pytest
from django.core.management import CommandError, call_command

from disclosure import services as publication
from disclosure.models import PublicationRecord
from enterprises.models import CheckItem
from inspections.models import DrawSelection, FollowUp
from inspections.services import draws as draw_services
from inspections.services import visits as services
from oversight import reports
from oversight import reports_reference as reference
from oversight.figures import visit_figures_refresh
from oversight.models import VisitFigures
from tests.reports_fixtures import (
    complete_draw,
)
from tests.visits_fixtures import TODAY, fill_onsite, jpeg_bytes

pytestmark = pytest.mark.usefixtures("visits_today")


def figures_of(task_ids):
    return {pk: asdict(f) for pk, f in reports.task_figures(task_ids).items()}


def assert_in_step(task_ids):
    """The report from the precomputed rows equals the reference computed from the sources."""
    assert figures_of(task_ids) == {
        pk: asdict(f) for pk, f in reference.reference_task_figures(task_ids).items()
    }
    assert reports.category_mix(task_ids) == reference.reference_category_mix(task_ids)
    assert reports.problems_by(task_ids) == reference.reference_problems_by(task_ids)


@pytest.fixture
def joint(
    lead, make_task, make_enterprises, make_inspector, roster, inspector_users, section, trade
):
    """Two tasks drew the same enterprise; the second's selection is merged into one joint
    visit covering both tasks (the joint-visit merge of the draws)."""
    make_enterprises({"D": 1})
    make_inspector(professional_qualifications=["hazchem"])
    item2 = CheckItem.objects.create(
        code="GX-002",
        name="危险化学品检查",
        legal_basis="条例",
        section=section,
        required_qualification="hazchem",
    )
    item2.trades.add(trade)
    first = complete_draw(make_task(same_item_once_per_year=False), lead)
    second = complete_draw(
        make_task(items=[item2], same_item_once_per_year=False), lead, dice="6" * 20
    )
    draw_services.joint_visit_merge(actor=lead, selection=DrawSelection.objects.get(draw=second))
    return first, second


def test_every_service_keeps_the_figures_in_step(
    joint,
    lead,
    head,
    inspector_users,
    django_capture_on_commit_callbacks,
):
    first, second = joint
    ids = [first.task_id, second.task_id]
    assert_in_step(ids)

    # Draw → visits: one joint visit for both tasks.
    (joint_visit,) = services.visits_create_for_draw(actor=lead, draw=first)
    assert VisitFigures.objects.filter(visit=joint_visit).count() == 2
    assert_in_step(ids)

    # Draft with a problem, non-cooperation with evidence, submit, return, submit again.
    actor = next(
        inspector_users[m.inspector_id]
        for m in joint_visit.members.order_by("position")
        if m.inspector_id in inspector_users
    )
    joint_visit = fill_onsite(joint_visit, actor, categories=("non_cooperation",))
    assert_in_step(ids)
    case = services.non_cooperation_record(
        actor=actor,
        visit=joint_visit,
        case="refused_entry",
        occurred_on=TODAY,
        description="企业负责人锁闭大门，拒绝检查人员进入经营场所",
    )
    services.evidence_add(
        actor=actor,
        visit=joint_visit,
        upload=("门口.jpg", jpeg_bytes()),
        kind="non_cooperation",
        non_cooperation=case,
        description="锁闭的大门",
    )
    assert_in_step(ids)
    joint_visit.refresh_from_db()
    joint_visit, _ = services.visit_submit(
        actor=actor, visit=joint_visit, version=joint_visit.version
    )
    assert_in_step(ids)
    joint_visit = services.visit_return(
        actor=head, visit=joint_visit, version=joint_visit.version, reason="补充证据"
    )
    assert_in_step(ids)
    joint_visit, _ = services.visit_submit(
        actor=actor, visit=joint_visit, version=joint_visit.version
    )

    # Approve (and archive): the publication records are made on commit, for each task.
    with django_capture_on_commit_callbacks(execute=True):
        joint_visit = services.visit_approve(
            actor=head, visit=joint_visit, version=joint_visit.version, opinion="同意"
        )
    assert PublicationRecord.objects.filter(visit_id=joint_visit.pk).count() == 2
    assert_in_step(ids)
    figures = figures_of(ids)
    assert figures[first.task_id]["approved"] == figures[second.task_id]["approved"] == 1
    assert figures[first.task_id]["problems"] == 1
    assert figures[first.task_id]["non_cooperation"] == 1

    # Follow-ups: an open one, then closed; a transfer.
    (follow_up,) = services.follow_up_add(
        actor=actor,
        visit=joint_visit,
        measures=["order_correction"],
        due_on=TODAY + datetime.timedelta(days=10),
    )
    assert_in_step(ids)
    assert figures_of(ids)[first.task_id]["follow_up_closed"] == 0
    services.follow_up_close(actor=actor, follow_up=follow_up, outcome="已整改")
    assert_in_step(ids)
    assert figures_of(ids)[first.task_id]["follow_up_closed"] == 1
    services.transfer_create(
        actor=actor, visit=joint_visit, department="市应急管理局", content="疑似无证储存"
    )
    assert_in_step(ids)

    # Publication: sent in a batch, then published (late: after the deadline).
    batch = publication.batch_create(actor=lead)
    assert batch is not None
    publication.batch_mark_published(actor=lead, batch=batch, published_on=TODAY)
    assert_in_step(ids)
    assert figures_of(ids)[first.task_id]["published"] == 1


def test_a_change_past_the_services_is_caught_by_the_check(report_data, capsys):
    """The safety net: a write that bypasses the services leaves the rows stale; the nightly
    check reports the difference (and exits non-zero), ``--repair`` rewrites the rows."""
    v1 = report_data["visits"][0]
    FollowUp.objects.filter(visit=v1, closed=False).update(closed=True, closed_on=TODAY)
    with pytest.raises(CommandError, match="disagree"):
        call_command("oversight_figures_check")
    assert "follow_up_closed" in capsys.readouterr().out
    call_command("oversight_figures_check", "--repair")
    call_command("oversight_figures_check")  # no exit: in step again
    assert_in_step([report_data["t1"].pk])


def test_refresh_writes_one_row_per_visit_and_task(report_data):
    t1, t2 = report_data["t1"], report_data["t2"]
    v1, v2, v3, v4 = report_data["visits"]
    v2.tasks.add(t2)
    assert visit_figures_refresh(visit_ids=[v2.pk]) == 2
    rows = {
        (row.task_id, row.visit_id): row
        for row in VisitFigures.objects.filter(visit__in=report_data["visits"])
    }
    assert set(rows) == {(t1.pk, v.pk) for v in (v1, v2, v3, v4)} | {(t2.pk, v2.pk)}
    row = rows[(t1.pk, v1.pk)]
    assert (row.approved, row.problem, row.follow_up, row.follow_up_closed) == (
        True,
        True,
        True,
        False,
    )
    assert (row.records, row.records_unpublished, row.records_late, row.transfers) == (2, 0, 1, 1)
    assert rows[(t1.pk, v4.pk)].checked and not rows[(t1.pk, v4.pk)].approved
    assert rows[(t1.pk, v4.pk)].non_cooperation == 1
    assert rows[(t2.pk, v2.pk)].records == 0  # its records are T1's
    assert visit_figures_refresh(visit_ids=[]) == 0
    # Every visit at once (the data migration): the same rows.
    before = sorted(VisitFigures.objects.values_list(*_columns()))
    visit_figures_refresh(visit_ids=None)
    assert sorted(VisitFigures.objects.values_list(*_columns())) == before
    assert_in_step([t1.pk, t2.pk])


def _columns():
    return [f.attname for f in VisitFigures._meta.concrete_fields if f.attname != "id"]


def _townships(task_ids):
    return {b.label: (b.count, b.extra) for b in reports.problems_by(task_ids)["townships"]}


def test_an_edited_township_moves_the_visit_in_the_report(report_data, lead):
    """The township is copied into the figures: an edit of the enterprise through the
    register's service moves its approved visit to the new township at once."""
    from enterprises.models import Township
    from enterprises.services import enterprise_save

    t1 = report_data["t1"].pk
    v1 = report_data["visits"][0]
    enterprise = v1.enterprise
    before = _townships([t1])
    old = enterprise.township.name if enterprise.township else "未登记"
    moved = Township.objects.create(code="batai", name="八台镇", order=9)
    data = {
        f.name: getattr(enterprise, f.attname)
        for f in enterprise._meta.concrete_fields
        if f.name not in ("id", "township")
    }
    data["township"] = moved
    enterprise_save(actor=lead, data=data, trades=enterprise.trades.all(), enterprise=enterprise)

    after = _townships([t1])
    assert after["八台镇"][0] == 1
    assert after.get(old, (0, 0))[0] == before[old][0] - 1
    assert_in_step([t1])


def test_an_imported_township_moves_the_visit_in_the_report(report_data):
    """The same through an import that updates existing enterprises (one set-based sync)."""
    import io

    import openpyxl

    from enterprises.exports import enterprise_export
    from enterprises.models import Township
    from enterprises.services import import_apply

    t1 = report_data["t1"].pk
    enterprise = report_data["visits"][0].enterprise
    Township.objects.create(code="batai", name="八台镇", order=9)
    exported = io.BytesIO()
    enterprise_export(type(enterprise).objects.filter(pk=enterprise.pk), exported)
    book = openpyxl.load_workbook(io.BytesIO(exported.getvalue()))
    sheet = book.active
    column = [c.value for c in sheet[1]].index("乡镇/街道") + 1
    sheet.cell(row=2, column=column, value="八台镇")
    changed = io.BytesIO()
    book.save(changed)

    _, written = import_apply(
        actor=None, kind="enterprises", source=changed.getvalue(), filename="t.xlsx"
    )
    assert written["updated"] == 1
    assert _townships([t1])["八台镇"][0] == 1
    assert_in_step([t1])


def test_a_joint_visit_counts_once_where_a_report_spans_its_tasks(report_data):
    """Its rows carry the joint flag; the breakdowns and the result mix count it once over
    both tasks, and once in each task's own report."""
    t1, t2 = report_data["t1"], report_data["t2"]
    v1 = report_data["visits"][0]
    v1.tasks.add(t2)
    visit_figures_refresh(visit_ids=[v1.pk])
    assert set(VisitFigures.objects.filter(visit=v1).values_list("joint", flat=True)) == {True}
    both = [t1.pk, t2.pk]
    assert_in_step(both)
    alone = sum(b.count for b in reports.problems_by([t1.pk])["townships"])
    assert sum(b.count for b in reports.problems_by(both)["townships"]) == alone
    assert reports.category_mix(both) == reports.category_mix([t1.pk])
    assert [b.count for b in reports.category_mix([t2.pk])] == [
        b.count for b in reference.reference_category_mix([t2.pk])
    ]


def test_edited_trades_move_the_visit_in_the_report(report_data, lead, section):
    """The trades are copied into VisitTradeFigures: an enterprise given a second trade counts
    under both at once, and under neither of its former ones when they are taken away."""
    from enterprises.models import Trade
    from enterprises.services import enterprise_save

    t1 = report_data["t1"].pk
    enterprise = report_data["visits"][0].enterprise
    salt = Trade.objects.create(code="salt", name="食盐批发", section=section)
    data = {
        f.name: getattr(enterprise, f.attname)
        for f in enterprise._meta.concrete_fields
        if f.name not in ("id", "township")
    }
    data["township"] = enterprise.township

    def trades():
        return {b.label: b.count for b in reports.problems_by([t1])["trades"]}

    enterprise_save(
        actor=lead, data=data, trades=[*enterprise.trades.all(), salt], enterprise=enterprise
    )
    assert trades()["食盐批发"] == 1
    assert_in_step([t1])
    enterprise_save(actor=lead, data=data, trades=[salt], enterprise=enterprise)
    assert trades()["食盐批发"] == 1
    assert_in_step([t1])
