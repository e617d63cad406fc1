"""The discipline group's audit views (oversight/views/review.py): draws re-verified on view,
edits after submission/approval, returns, corrections, objections, publication deadlines,
the red-flags panel, role access, xlsx exports and the audit events of viewing and exporting."""

import datetime
import io
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.roles import Role
from audit.models import AuditEvent
from audit.services import audit_record
from inspections.models import Draw, VisitReview
from inspections.selectors.draws import draw_verification
from inspections.services import draws as draw_services
from inspections.services import visits as services
from oversight.selectors import review as selectors_review
from tests.draws_fixtures import replace_approved, void_approved
from tests.permissions import assert_role_access
from tests.visits_fixtures import (
    fill_onsite,
    recorders,
)

pytestmark = pytest.mark.usefixtures("visits_today")

DRAWS = reverse("oversight:review_draws")
RECORDS = reverse("oversight:review_records")
DEADLINES = reverse("oversight:review_deadlines")
PAGES = [DRAWS, RECORDS, DEADLINES]
ALLOWED = {Role.DISCIPLINE, Role.AUDIT_ADMIN}


def tamper(sql: str, params) -> None:
    """Change a draw behind the application's back, as someone with database rights would:
    the model and queryset refuse it, and so do the triggers — which such a person switches off
    (PostgreSQL: the table's owner disables them; SQLite: drop the trigger for the statement)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # ALTER refuses pending FK checks
            table = re.search(r"UPDATE\s+(\w+)", sql, re.IGNORECASE)[1]
            cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
            cursor.execute(sql, params)
            cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        else:
            cursor.execute(
                "SELECT sql FROM sqlite_master WHERE type='trigger' "
                "AND name='inspections_draw_completed_only_void'"
            )
            (create,) = cursor.fetchone()
            cursor.execute("DROP TRIGGER inspections_draw_completed_only_void")
            cursor.execute(sql, params)
            cursor.execute(create)


def xlsx_rows(response) -> list[tuple]:
    from openpyxl import load_workbook

    assert response.status_code == 200
    assert response["Content-Type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    workbook = load_workbook(io.BytesIO(response.content), read_only=True)
    return [tuple(row) for row in workbook.worksheets[0].iter_rows(values_only=True)]


def row_html(response, draw) -> str:
    html = response.content.decode()
    start = html.index(f'id="draw-{draw.pk}"')
    return html[start : html.index("</tr>", start)]


# ------------------------------------------------------------------------------------ access
@pytest.mark.parametrize("url", PAGES)
def test_only_the_discipline_group_and_the_audit_admin_see_the_pages(users, url):
    assert_role_access(users, url, ALLOWED, ok_statuses=(200,))


@pytest.mark.parametrize("url", PAGES)
def test_every_post_is_refused(client_for, url):
    # The read-only middleware answers the discipline group before the view does.
    assert client_for(Role.DISCIPLINE).post(url, {}).status_code == 403
    # The pages take no writes at all.
    assert client_for(Role.AUDIT_ADMIN).post(url, {}).status_code == 405


def test_the_nav_group_links_the_pages_and_the_security_overview(client_for):
    html = client_for(Role.DISCIPLINE).get(DRAWS).content.decode()
    for name in ("oversight:review_draws", "oversight:review_records", "audit:security_overview"):
        assert f'href="{reverse(name)}"' in html
    assert "抽取核验" in html and "公示期限监督" in html


# ------------------------------------------------------------------------------------- draws
def test_a_verified_draw_is_green_and_red_once_its_manifest_is_altered_in_the_database(
    draw, client_for
):
    client = client_for(Role.DISCIPLINE)
    response = client.get(DRAWS)
    row = row_html(response, draw)
    assert "verify-ok" in row and "verify-bad" not in row
    assert draw.manifest_sha256 in row
    assert "王见证" in row and "李见证" in row  # the witnesses
    assert reverse("inspections:draw_evidence", args=[draw.pk]) in row

    manifest = bytes(Draw.objects.get(pk=draw.pk).manifest)
    forged = manifest.replace(b",D", b",A", 1)  # one enterprise moved to another tier
    assert forged != manifest
    with pytest.raises(Exception):  # noqa: B017 - the application refuses it…
        Draw.objects.filter(pk=draw.pk).update(manifest=forged)
    tamper("UPDATE inspections_draw SET manifest = %s WHERE id = %s", [forged, draw.pk])
    assert bytes(Draw.objects.get(pk=draw.pk).manifest) == forged

    response = client.get(DRAWS)
    row = row_html(response, draw)
    assert "verify-bad" in row and "verify-ok" not in row
    # The failure is recorded once (not at every reload) and raised on the dashboard.
    client.get(DRAWS)
    failures = AuditEvent.objects.filter(event_type=selectors_review.VERIFICATION_FAILED)
    assert list(failures.values_list("object_id", flat=True)) == [str(draw.pk)]
    dashboard = client.get(reverse("core:dashboard")).content.decode()
    start = dashboard.index('id="flag-failing-draws"')
    assert 'tag-bad">1<' in dashboard[start : dashboard.index("</li>", start)]
    failing = client.get(DRAWS, {"status": "failing", "from": "2000-01-01"})
    assert f'id="draw-{draw.pk}"' in failing.content.decode()


def test_an_altered_seed_string_is_red_too(draw, client_for):
    tamper(
        "UPDATE inspections_draw SET seed_string = %s WHERE id = %s",
        [draw.seed_string.replace("dice=d6:3", "dice=d6:4"), draw.pk],
    )
    row = row_html(client_for(Role.AUDIT_ADMIN).get(DRAWS), draw)
    assert "verify-bad" in row
    # The audit admin reads the verification, not the business records behind it.
    assert reverse("inspections:draw_evidence", args=[draw.pk]) not in row


def test_voided_draws_show_reason_and_approver(
    lead, lead2, make_task, make_enterprises, roster, client_for
):
    make_enterprises({"D": 2})
    draw = draw_services.draw_commit(actor=lead, task=make_task())
    void_approved(
        requester=lead, draw=draw, reason="名单导入有误，重新冻结", approver=lead2,
    )  # fmt: skip
    client = client_for(Role.DISCIPLINE)
    row = row_html(client.get(DRAWS, {"status": "voided"}), draw)
    assert "名单导入有误，重新冻结" in row and lead2.display_name in row
    assert "verify-" not in row  # never performed: nothing to verify, not red
    assert f'id="draw-{draw.pk}"' not in client.get(DRAWS, {"status": "completed"}).content.decode()
    flags = selectors_review.red_flags(days=30)
    assert flags.voided_draws == 1 and flags.failing_draws == 0
    # Scoped by section: the task's lead section shows it, another section does not.
    from accounts.models import Section

    other = Section.objects.create(code="other", name="其他股")
    lead_section = draw.task.lead_section
    assert (
        f'id="draw-{draw.pk}"' in client.get(DRAWS, {"section": lead_section.pk}).content.decode()
    )
    assert f'id="draw-{draw.pk}"' not in client.get(DRAWS, {"section": other.pk}).content.decode()
    assert f'id="draw-{draw.pk}"' in client.get(DRAWS, {"task": draw.task_id}).content.decode()


def test_replacements_and_joint_visits_are_listed(
    lead, head, make_task, make_enterprises, roster, inspector_users, client_for
):
    (enterprise,) = make_enterprises({"D": 1})
    first = draw_services.draw_perform(
        actor=lead,
        draw=draw_services.draw_commit(
            actor=lead, task=make_task(same_item_once_per_year=False)
        ),
        witnesses=["甲", "乙"], dice_kind="d6", dice="1" * 20,
    )  # fmt: skip
    second = draw_services.draw_perform(
        actor=lead,
        draw=draw_services.draw_commit(actor=lead, task=make_task(name="第二个任务", same_item_once_per_year=False)),
        witnesses=["丙", "丁"], dice_kind="d6", dice="2" * 20,
    )  # fmt: skip
    selection = first.selections.get()
    out = selection.members.order_by("position").first().inspector
    replacement = replace_approved(
        requester=lead, selection=selection, out=out, reason="与企业负责人系近亲属", approver=head
    )
    draw_services.joint_visit_merge(actor=lead, selection=second.selections.get())
    response = client_for(Role.DISCIPLINE).get(DRAWS)
    html = response.content.decode()
    replacements = html[html.index('id="replacements"') : html.index('id="joint-visits"')]
    assert "与企业负责人系近亲属" in replacements
    assert out.staff_number in replacements and replacement.into.staff_number in replacements
    assert head.display_name in replacements
    joint = html[html.index('id="joint-visits"') :]
    assert enterprise.name in joint
    assert first.task.number in joint and second.task.number in joint
    # Both draws still verify (the replacement is replayed by the verifier).
    assert "verify-bad" not in html and html.count("verify-ok") == 2
    rows = xlsx_rows(client_for(Role.DISCIPLINE).get(DRAWS, {"format": "xlsx", "table": "joint"}))
    assert rows[1][0] == enterprise.uscc and len(rows) == 2


def _draws(n, *, lead, make_task, start):
    for i in range(n):
        draw_services.draw_perform(
            actor=lead,
            draw=draw_services.draw_commit(actor=lead, task=make_task()),
            witnesses=["甲", "乙"],
            dice_kind="d6",
            dice=str(start + i) * 20,
        )


def test_the_page_verifies_only_its_draws_with_no_per_draw_listing_queries(
    lead, make_task, make_enterprises, roster, client_for, monkeypatch, settings
):
    settings.OVERSIGHT_VERIFY_MEMO = False  # every view recomputes every draw of the page
    make_enterprises({"D": 5})
    client = client_for(Role.DISCIPLINE)
    client.get(DRAWS)  # session, user, groups warmed
    _draws(2, lead=lead, make_task=make_task, start=1)
    with CaptureQueriesContext(connection) as two:
        client.get(DRAWS)
    per_draw = []
    for d in Draw.objects.all():
        d = Draw.objects.get(pk=d.pk)
        with CaptureQueriesContext(connection) as one:
            draw_verification(d)
        per_draw.append(len(one))
    assert len(set(per_draw)) == 1  # the verification costs the same for every draw
    _draws(3, lead=lead, make_task=make_task, start=3)
    with CaptureQueriesContext(connection) as five:
        client.get(DRAWS)
    # Listing (witnesses, counts, operator, task …) adds no query per draw: only the
    # verification of each extra draw does.
    assert len(five) - len(two) == 3 * per_draw[0]

    monkeypatch.setattr(selectors_review, "PAGE_SIZE", 2)
    with CaptureQueriesContext(connection) as paged:
        response = client.get(DRAWS)
    assert response.content.decode().count("verify-ok") == 2  # only the page is verified
    assert len(paged) == len(two)
    older = response.context["next_before"]
    assert older is not None
    second_page = client.get(DRAWS, {"before": older}).content.decode()
    assert second_page.count("verify-ok") == 2


@pytest.mark.postgres
def test_the_verification_memo_holds_only_for_identical_stored_inputs(
    draw, client_for, monkeypatch
):
    from django.core.cache import cache

    calls = []
    real = selectors_review.draw_verification

    def counting(d):
        calls.append(d.pk)
        return real(d)

    monkeypatch.setattr(selectors_review, "draw_verification", counting)
    cache.delete(selectors_review._memo_key(draw.pk))
    client = client_for(Role.DISCIPLINE)
    assert "verify-ok" in row_html(client.get(DRAWS), draw) and calls == [draw.pk]
    with CaptureQueriesContext(connection) as warm:
        assert "verify-ok" in row_html(client.get(DRAWS), draw)
    assert calls == [draw.pk]  # the same stored inputs: the signed memo answers
    assert not any("inspections_drawteammember" in q["sql"] and "position" in q["sql"]
                   for q in warm.captured_queries)  # fmt: skip

    # A forged memo (not signed with the server's key) is ignored.
    cache.set(selectors_review._memo_key(draw.pk), '{"problems": []}')
    client.get(DRAWS)
    assert calls == [draw.pk, draw.pk]

    # Any change of the stored rows — here one team member's staff number — re-verifies: red.
    tamper(
        "UPDATE inspections_drawteammember SET staff_number = 'WG999' WHERE id = "
        "(SELECT m.id FROM inspections_drawteammember m JOIN inspections_drawselection s "
        "ON s.id = m.selection_id WHERE s.draw_id = %s ORDER BY m.id LIMIT 1)",
        [draw.pk],
    )
    assert "verify-bad" in row_html(client.get(DRAWS), draw)
    assert calls == [draw.pk] * 3


def test_draws_export_opens_with_the_verification_and_is_audited(draw, client_for, users):
    response = client_for(Role.DISCIPLINE).get(DRAWS, {"format": "xlsx"})
    rows = xlsx_rows(response)
    assert rows[0][0] == "抽取编号" and len(rows) == 2
    assert rows[1][0] == draw.pk and rows[1][9] == draw.manifest_sha256
    assert rows[1][13] == "核验通过"
    event = AuditEvent.objects.filter(event_type="oversight.export").get()
    assert event.actor == users[Role.DISCIPLINE] and event.object_id == "review_draws"
    assert event.detail["rows"] == 1
    assert not AuditEvent.objects.filter(event_type="oversight.view").exists()


# ----------------------------------------------------------------------------------- records
def test_edits_after_submission_and_after_approval(visit, inspector_users, head, client_for):
    actor = recorders(visit, inspector_users)[0]
    visit = fill_onsite(visit, actor)  # before the first submission: not listed
    visit, _ = services.visit_submit(actor=actor, visit=visit, version=visit.version)
    visit = services.visit_return(
        actor=head, visit=visit, version=visit.version, reason="核查情况过于简略，请补充台账"
    )
    visit, _ = services.visit_save_draft(
        actor=actor, visit=visit, version=visit.version, fields={"summary": "补充：核查了进货台账"}
    )
    visit, _ = services.visit_submit(actor=actor, visit=visit, version=visit.version)
    visit = services.visit_approve(actor=head, visit=visit, version=visit.version, archive=False)
    # No screen edits an approved record; the log can still hold such an event (a repair script,
    # a future feature): the discipline group must see it.
    audit_record(
        event_type="visit.draft_saved",
        actor=head,
        obj=visit,
        detail={"before": {"summary": "补充：核查了进货台账"}, "after": {"summary": "改过"}},
    )
    client = client_for(Role.DISCIPLINE)
    response = client.get(RECORDS)
    edits = response.context["edits"]
    assert [(e["stage"], e["event"].actor_name) for e in edits] == [
        ("审核通过后", head.display_name),
        ("提交后（退回修改）", actor.display_name),
    ]
    assert edits[1]["before"] == {"summary": ""}
    assert edits[1]["after"] == {"summary": "补充：核查了进货台账"}
    html = response.content.decode()
    returns = html[html.index('id="returns"') : html.index('id="corrections"')]
    assert "核查情况过于简略，请补充台账" in returns and head.display_name in returns
    assert VisitReview.objects.filter(decision="return").count() == 1
    assert selectors_review.red_flags(days=30).edits_after_approval == 1

    rows = xlsx_rows(client.get(RECORDS, {"format": "xlsx", "table": "edits"}))
    assert [r[2] for r in rows[1:]] == ["审核通过后", "提交后（退回修改）"]
    assert '"summary": "改过"' in rows[1][8]
    # Scoped to another section: nothing.
    from accounts.models import Section

    other = Section.objects.create(code="other", name="其他股")
    assert client.get(RECORDS, {"section": other.pk}).context["edits"] == []
    assert len(client.get(RECORDS, {"section": visit.section_id}).context["edits"]) == 2
    assert len(client.get(RECORDS, {"task": visit.task_id}).context["edits"]) == 2


def test_corrections_and_objections_are_listed(db, client_for, users, section, lead_section):
    from disclosure.models import Objection, PublicationVersion

    record = _record(section=section, lead_section=lead_section, number=1)
    PublicationVersion.objects.create(
        record=record,
        number=2,
        status=PublicationVersion.Status.PROPOSED,
        result_text="发现问题，已责令整改",
        is_correction=True,
        reason="录入时选错结果类别",
        created_by=users[Role.INSPECTOR],
    )
    Objection.objects.create(
        record=record,
        received_on=datetime.date(2026, 12, 1),
        content="企业认为检查结果与事实不符",
        recorded_by=users[Role.SECTION_STAFF],
    )
    response = client_for(Role.AUDIT_ADMIN).get(RECORDS)
    html = response.content.decode()
    corrections = html[html.index('id="corrections"') : html.index('id="objections"')]
    assert "录入时选错结果类别" in corrections and "发现问题，已责令整改" in corrections
    assert "企业认为检查结果与事实不符" in html[html.index('id="objections"') :]
    rows = xlsx_rows(
        client_for(Role.AUDIT_ADMIN).get(RECORDS, {"format": "xlsx", "table": "objections"})
    )
    assert rows[1][4] == "企业认为检查结果与事实不符"


# --------------------------------------------------------------------------------- deadlines
_records_made = iter(range(1, 10_000))


def _record(*, section, lead_section, number, deadline=None, published=None, inspectors=()):
    """A publication record with a chosen deadline and first publication date."""
    from disclosure.models import PublicationRecord
    from enterprises.models import Enterprise
    from inspections.models import Plan, Task
    from tests.disclosure_publication_fixtures import uscc

    plan, _ = Plan.objects.get_or_create(
        year=2026, number="WGJH-2026-09", defaults={"name": "计划", "lead_section": lead_section}
    )
    task, _ = Task.objects.get_or_create(
        number="舞工信商抽〔2026〕99号",
        defaults={
            "plan": plan,
            "year": 2026,
            "seq": 99,
            "name": "测试任务",
            "kind": "non_directed",
            "lead_section": lead_section,
            "window_start": datetime.date(2026, 1, 1),
            "window_end": datetime.date(2026, 12, 31),
            "methods": ["onsite"],
        },
    )
    n = next(_records_made)
    from enterprises.models import Township

    township, _ = Township.objects.get_or_create(code="yakou", defaults={"name": "垭口街道"})
    enterprise = Enterprise.objects.create(
        uscc=uscc(500 + n), name=f"测试企业{number}", township=township
    )
    deadline = deadline or datetime.date(2026, 12, 31)
    record = PublicationRecord.objects.create(
        visit_id=n,
        result_id=n,
        task=task,
        enterprise=enterprise,
        section=section,
        task_number=task.number,
        task_name=task.name,
        task_kind="non_directed",
        uscc=enterprise.uscc,
        enterprise_name=enterprise.name,
        check_item="检查事项",
        check_end=deadline - datetime.timedelta(days=28),
        deadline=deadline,
        first_published_on=published,
        published_on=published,
        status="published" if published else "pending",
    )
    record.inspectors.set(inspectors)
    return record


@pytest.fixture
def deadline_world(db, section, other_section, lead_section, make_user):
    """Today is Thursday 2026-12-03 (frozen by visits_fixtures). The 6th working day after it is
    Friday 2026-12-11, so deadlines 12-03 … 12-10 are "due soon" (≤ 5 working days left)."""
    a = make_user(Role.INSPECTOR, section=section, username="insp_a", full_name="检查员甲")
    b = make_user(Role.INSPECTOR, section=section, username="insp_b", full_name="检查员乙")
    D = datetime.date
    made = {}
    for key, sec, deadline, published, people in (
        ("r1", section, D(2026, 11, 20), None, [a]),  # overdue
        ("r2", other_section, D(2026, 11, 30), None, [a, b]),  # overdue
        ("r3", section, D(2026, 12, 3), None, [b]),  # due today → due soon
        ("r4", section, D(2026, 12, 10), None, [a]),  # due soon (5 working days left)
        ("r5", section, D(2026, 12, 11), None, [a]),  # 6 working days left: not yet
        ("r6", section, D(2026, 11, 15), D(2026, 11, 10), [a]),  # on time, November
        ("r7", section, D(2026, 11, 16), D(2026, 11, 18), [b]),  # late, November
        ("r8", other_section, D(2026, 10, 20), D(2026, 10, 20), [b]),  # on time, October
        ("r9", section, D(2026, 12, 20), D(2026, 12, 1), [a]),  # on time, December
    ):
        made[key] = _record(
            section=sec,
            lead_section=lead_section,
            number=key,
            deadline=deadline,
            published=published,
            inspectors=people,
        )
    return {"a": a, "b": b, "records": made}


def test_overdue_and_due_soon_by_section_and_inspector(deadline_world, client_for, section):
    response = client_for(Role.DISCIPLINE).get(DEADLINES)
    figures = response.context["figures"]
    assert figures.today == datetime.date(2026, 12, 3)
    assert figures.soon_limit == datetime.date(2026, 12, 11)
    assert (figures.overdue, figures.due_soon) == (2, 2)
    assert [(r["section__name"], r["overdue"], r["due_soon"]) for r in figures.by_section] == [
        ("市场运行股", 1, 2),
        ("商贸服务股", 1, 0),
    ]
    assert [(r["user__full_name"], r["overdue"], r["due_soon"]) for r in figures.by_inspector] == [
        ("检查员甲", 2, 1),
        ("检查员乙", 1, 1),
    ]
    listed = [r.enterprise_name for r in response.context["records"]]
    assert listed == ["测试企业r1", "测试企业r2", "测试企业r3", "测试企业r4"]
    scoped = client_for(Role.DISCIPLINE).get(DEADLINES, {"section": section.pk}).context["figures"]
    assert (scoped.overdue, scoped.due_soon) == (1, 2)


def test_open_records_are_paged_by_the_figures_count(deadline_world, client_for, monkeypatch):
    from oversight.views import review as views_review

    monkeypatch.setattr(views_review, "OPEN_RECORDS_PER_PAGE", 3)
    client = client_for(Role.DISCIPLINE)
    first = client.get(DEADLINES, {"from": "2026-01-01"})
    second = client.get(DEADLINES, {"from": "2026-01-01", "page": "2"})
    assert [r.enterprise_name for r in first.context["records"]] == [
        "测试企业r1",
        "测试企业r2",
        "测试企业r3",
    ]
    assert [r.enterprise_name for r in second.context["records"]] == ["测试企业r4"]
    html = first.content.decode()
    assert "第 1 / 2 页" in html and "?from=2026-01-01&amp;page=2#open-records" in html


def test_due_soon_agrees_with_the_daily_scans_alert_levels(deadline_world):
    from disclosure.services import alert_for
    from workdays.calendar import WorkingCalendar

    today = datetime.date(2026, 12, 3)
    soon = {r.pk for r in selectors_review.open_publications(_all_scope(), which="soon")}
    for record in deadline_world["records"].values():
        if record.first_published_on is None and record.deadline >= today:
            level, _ = alert_for(record.deadline, today, WorkingCalendar())
            assert (record.pk in soon) == (level in ("reminder", "due_today")), record


def _all_scope():
    from oversight.filters import Scope

    return Scope(
        start=datetime.date(2000, 1, 1), end=datetime.date(2026, 12, 3), section=None, task=None
    )


def test_on_time_rate_per_month(deadline_world, client_for):
    figures = client_for(Role.DISCIPLINE).get(DEADLINES).context["figures"]
    assert [
        (
            r["month"].strftime("%Y-%m"),
            r["decided"],
            r["on_time"],
            r["late_published"],
            r["overdue_open"],
            r["rate"],
        )
        for r in figures.monthly
    ] == [
        ("2026-10", 1, 1, 0, 0, 100.0),
        ("2026-11", 4, 1, 1, 2, 25.0),
        ("2026-12", 1, 1, 0, 0, 100.0),
    ]


def test_deadline_exports_and_view_events(deadline_world, client_for, users):
    client = client_for(Role.AUDIT_ADMIN)
    client.get(DEADLINES, {"from": "2026-01-01", "to": "2026-12-03"})
    view = AuditEvent.objects.filter(event_type="oversight.view").get()
    assert view.object_id == "review_deadlines" and view.actor == users[Role.AUDIT_ADMIN]
    assert view.detail["from"] == "2026-01-01" and view.detail["to"] == "2026-12-03"
    rows = xlsx_rows(client.get(DEADLINES, {"format": "xlsx", "table": "monthly"}))
    assert rows[0][0] == "期限所在月份"
    assert rows[2] == ("2026-11", 4, 1, 1, 2, 25)
    rows = xlsx_rows(client.get(DEADLINES, {"format": "xlsx"}))
    assert [r[1] for r in rows[1:]] == ["测试企业r1", "测试企业r2", "测试企业r3", "测试企业r4"]
    assert rows[1][8] == "已逾期" and rows[3][8] == "即将到期"
    exports = AuditEvent.objects.filter(event_type="oversight.export").order_by("seq")
    assert [(e.object_id, e.detail["rows"]) for e in exports] == [
        ("review_deadlines.monthly", 3),
        ("review_deadlines.open", 4),
    ]


def test_red_flags_panel_counts_and_links(deadline_world, client_for):
    html = client_for(Role.DISCIPLINE).get(reverse("core:dashboard")).content.decode()
    start = html.index('id="flag-overdue"')
    item = html[start : html.index("</li>", start)]
    assert 'tag-bad">2<' in item  # r1, r2
    assert reverse("oversight:review_deadlines") in item
    assert 'id="red-flags"' not in client_for(Role.AUDIT_ADMIN).get("/").content.decode()
    assert 'id="red-flags"' not in client_for(Role.LEAD_SECTION).get("/").content.decode()


# ---------------------------------------------------------------------------------- security
def test_audit_admin_verifies_the_chain_from_the_security_screen_and_discipline_sees_it(
    client_for,
):
    url = reverse("audit:security_overview")
    admin = client_for(Role.AUDIT_ADMIN)
    assert f'action="{reverse("audit:chain_verify")}"' in admin.get(url).content.decode()
    discipline = client_for(Role.DISCIPLINE)
    assert 'id="chain-verify"' not in discipline.get(url).content.decode()
    assert discipline.post(reverse("audit:chain_verify")).status_code == 403
    assert admin.post(reverse("audit:chain_verify")).status_code == 302
    html = discipline.get(url).content.decode()
    assert "tag-ok" in html and "完整" in html


def test_deadline_figures_are_kept_until_the_next_recorded_change(deadline_world):
    """The three groupings are cached under the data fingerprint: a second view runs none of
    them; a change the services record (an audit event with it) makes them count again."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from audit.services import audit_record

    scope = _all_scope()
    before = selectors_review.deadline_figures(scope)
    with CaptureQueriesContext(connection) as queries:
        assert selectors_review.deadline_figures(scope) == before
    # only the fingerprint's look-up (a MAX(id)), none of the groupings
    assert not [q for q in queries if "GROUP BY" in q["sql"]]

    record = next(r for r in deadline_world["records"].values() if r.first_published_on is None)
    record.first_published_on = datetime.date(2026, 12, 3)
    record.save(update_fields=["first_published_on"])
    audit_record(event_type="publication.published", actor=None, obj=record, detail={})
    after = selectors_review.deadline_figures(scope)
    assert after.overdue + after.due_soon == before.overdue + before.due_soon - 1
