"""oversight/dashboard.py: the completion chart for the lead section and section heads, the
inspector's open visits, the section head's review queue, the lead section's tasks to draw."""

import xml.etree.ElementTree as ET

import pytest
from django.test import RequestFactory

from accounts.roles import Role
from inspections.models import Visit
from oversight import dashboard

pytestmark = pytest.mark.usefixtures("visits_today")


def panels_for(user) -> dict:
    request = RequestFactory().get("/")
    request.user = user
    return {panel.template.rsplit("/", 1)[-1]: panel for panel in dashboard.panels(request)}


def test_lead_section_sees_completion_by_section(report_data, users, lead_section, section):
    panels = panels_for(users[Role.LEAD_SECTION])
    panel = panels["report_dash_completion.html"]
    assert panel.context["year"] == 2026
    totals = panel.context["totals"]
    assert (totals.due, totals.published, totals.completion_text) == (4, 2, "50.0%")
    root = ET.fromstring(str(panel.context["chart"]))
    labels = {"".join(t.itertext()) for t in root.iter("{http://www.w3.org/2000/svg}text")}
    assert {lead_section.name, section.name} <= labels


def test_section_head_sees_own_section_only(report_data, users, own_head):
    other = panels_for(users[Role.SECTION_HEAD])["report_dash_completion.html"]
    assert other.context["totals"].due == 0  # 市场运行股 leads T2 only, which has no draw
    own = panels_for(own_head)["report_dash_completion.html"]
    assert own.context["totals"].due == 4
    assert report_data["t1"].number in str(own.context["chart"])
    assert report_data["t2"].number not in str(own.context["chart"])


def test_other_roles_get_no_completion_panel(report_data, users):
    for role in (Role.DISCIPLINE, Role.INSPECTOR, Role.SYSTEM_ADMIN, Role.AUDIT_ADMIN):
        assert "report_dash_completion.html" not in panels_for(users[role]), role


def test_inspector_sees_own_open_visits(report_data, inspector_users):
    v4 = report_data["visits"][3]
    Visit.objects.filter(pk=v4.pk).update(status=Visit.Status.RETURNED)
    member = v4.members.order_by("position").first()
    panel = panels_for(inspector_users[member.inspector_id])["report_dash_inspector.html"]
    assert [v.pk for v in panel.context["visits"]] == [v4.pk]


def test_section_head_sees_review_queue(report_data, own_head, users):
    v4 = report_data["visits"][3]  # submitted, in 政策法规股
    panel = panels_for(own_head)["report_dash_reviews.html"]
    assert [v.pk for v in panel.context["visits"]] == [v4.pk]
    assert panel.context["count"] == 1
    assert "report_dash_reviews.html" not in panels_for(users[Role.SECTION_HEAD])


def test_lead_sees_tasks_without_a_draw(report_data, users, make_task):
    undrawn = make_task(name="未抽取的任务")
    panel = panels_for(users[Role.LEAD_SECTION])["report_dash_draws.html"]
    assert undrawn in panel.context["undrawn"]
    assert report_data["t1"] not in panel.context["undrawn"]  # drawn
    assert report_data["t2"] not in panel.context["undrawn"]  # its plan is still a draft
    assert "report_dash_draws.html" not in panels_for(users[Role.DISCIPLINE])


def test_dashboard_page_renders_the_panels(report_data, client_for):
    html = client_for(Role.LEAD_SECTION).get("/").content.decode()
    assert "2026年抽查完成情况" in html
    assert "<svg" in html
    assert "style=" not in html
