"""The working-day calendar moved from ``disclosure`` to ``workdays`` (docs/decisions.md, decision 100):
an existing database migrates without copying a row, the audit events written under the old
name stay in every history, and the old addresses lead to the new pages."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.urls import reverse

from accounts.roles import Role
from audit.models import AuditEvent
from audit.selectors import audit_events_for_object
from audit.services import audit_record
from workdays.demo import DEMO_2027
from workdays.models import CalendarDay, CalendarYear
from workdays.services import calendar_draft_create

MAIN_LEAF = ("disclosure", "0006_publication_deadline_indexes")


@pytest.mark.django_db(transaction=True)
def test_a_database_made_before_the_move_keeps_its_calendar_rows():
    executor = MigrationExecutor(connection)
    leaves = executor.loader.graph.leaf_nodes()
    # Back to the state before the move (only the two state-only migrations are unapplied).
    executor.migrate([MAIN_LEAF, ("workdays", None)])
    old_apps = MigrationExecutor(connection).loader.project_state([MAIN_LEAF]).apps
    OldYear = old_apps.get_model("disclosure", "CalendarYear")
    draft = OldYear.objects.create(year=2030, revision=1, status="draft", notice_title="旧草稿")
    days_before = old_apps.get_model("disclosure", "CalendarDay").objects.count()
    assert days_before > 8000  # the seeded 2004–2026 calendar

    executor = MigrationExecutor(connection)
    executor.migrate(leaves)
    moved = CalendarYear.objects.get(pk=draft.pk)
    assert (moved.year, moved.notice_title, moved.status) == (2030, "旧草稿", "draft")
    assert CalendarDay.objects.count() == days_before
    assert CalendarYear._meta.db_table == "disclosure_calendaryear"
    # The publication record's foreign key still points at the same table.
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(
            cursor, "disclosure_publicationrecord"
        )
    targets = {c["foreign_key"][0] for c in constraints.values() if c["foreign_key"]}
    assert "disclosure_calendaryear" in targets
    assert executor.loader.detect_conflicts() == {}


@pytest.mark.django_db
def test_histories_read_the_events_written_under_the_old_name(users, client_for):
    draft = calendar_draft_create(
        actor=users[Role.SYSTEM_ADMIN],
        year=2027,
        notice_title="国务院办公厅关于2027年部分节假日安排的通知",
        notice_number="",
        arrangement=DEMO_2027,
    )
    new_event = AuditEvent.objects.get(event_type="calendar_year.created")
    assert new_event.object_type == "workdays.calendaryear"
    # An event as the app wrote it before the move (its hash covers the old name).
    old_event = audit_record(
        event_type="calendar_year.updated",
        actor=users[Role.SYSTEM_ADMIN],
        object_type="disclosure.calendaryear",
        object_id=draft.pk,
    )
    other = audit_record(
        event_type="calendar_year.updated",
        actor=users[Role.SYSTEM_ADMIN],
        object_type="disclosure.calendaryear",
        object_id=draft.pk + 1000,
    )

    history = list(audit_events_for_object(obj=draft))
    assert [e.pk for e in history] == [old_event.pk, new_event.pk]

    reader = client_for(Role.AUDIT_ADMIN)
    for name in ("workdays.calendaryear", "disclosure.calendaryear"):
        page = reader.get(reverse("audit:event_list"), {"object_type": name, "object_id": draft.pk})
        seqs = page.context["events"]
        assert [e.seq for e in seqs] == [old_event.seq, new_event.seq], name
    everything = reader.get(reverse("audit:event_list"), {"object_type": "disclosure.calendaryear"})
    assert other.seq in [e.seq for e in everything.context["events"]]
    assert new_event.seq in [e.seq for e in everything.context["events"]]


@pytest.mark.django_db
def test_the_old_calendar_addresses_lead_to_the_new_pages(client_for):
    client = client_for(Role.INSPECTOR)
    response = client.get("/disclosure/calendar/2026/?x=1")
    assert response.status_code == 301
    assert response["Location"] == reverse("workdays:calendar_year", args=[2026]) + "?x=1"
    assert client.get("/disclosure/calendar/")["Location"] == reverse("workdays:calendar_index")
    assert client.get(response["Location"]).status_code == 200
    assert reverse("workdays:calendar_index") == "/calendar/"


def test_the_calendar_is_read_through_workdays_only():
    # disclosure keeps publication only: no calendar module is left behind.
    import importlib.util

    for name in ("disclosure.calendar", "disclosure.signals", "disclosure.seed_data"):
        assert importlib.util.find_spec(name) is None, name
