"""Fixtures for the visit tests (imported by tests/test_visits_*.py): a completed draw over a
small population, inspectors with login accounts, and a visit made from it."""

import datetime
import io

import pytest
import time_machine
from django.contrib.auth.models import Group

from accounts.roles import Role
from inspections.models import ResultCategory, Visit
from inspections.services import draws as draw_services
from inspections.services import visits as services
from tests.draws_fixtures import DICE, WITNESSES

NOW = datetime.datetime(2026, 12, 3, 2, 0, tzinfo=datetime.UTC)  # 10:00 in Wugang
TODAY = datetime.date(2026, 12, 3)


@pytest.fixture
def visits_today():
    """Today is Thursday 2026-12-03, 10:00 in Wugang (the visit modules use it for every test:
    ``pytestmark = pytest.mark.usefixtures("visits_today")``)."""
    with time_machine.travel(NOW, tick=False):
        yield


def png_bytes(colour=(0, 0, 0)) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (40, 20), colour).save(buffer, format="PNG")
    return buffer.getvalue()


def jpeg_bytes() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 120, 40)).save(buffer, format="JPEG")
    return buffer.getvalue()


def category(code: str) -> ResultCategory:
    return ResultCategory.objects.get(code=code)


def complete_draw(task, actor, dice=DICE):
    draw = draw_services.draw_commit(actor=actor, task=task)
    return draw_services.draw_perform(
        actor=actor, draw=draw, witnesses=WITNESSES, dice_kind="d6", dice=dice
    )


@pytest.fixture
def inspector_users(roster, make_user, section):
    """Every roster inspector gets a login with the 执法检查人员 role."""
    out = {}
    for inspector in roster:
        user = make_user(
            Role.INSPECTOR,
            section=section,
            username=f"insp_{inspector.staff_number}",
            full_name=inspector.name,
        )
        inspector.user = user
        inspector.save(update_fields=["user"])
        out[inspector.pk] = user
    return out


@pytest.fixture
def head(make_user, lead_section):
    """The section head of the tasks' section (tasks are led by the lead section in the
    draw fixtures)."""
    return make_user(Role.SECTION_HEAD, section=lead_section, username="head_lead")


@pytest.fixture
def draw(lead, make_task, make_enterprises, roster, inspector_users):
    make_enterprises({"D": 1})
    return complete_draw(make_task(), lead)


@pytest.fixture
def visit(draw, lead):
    (visit,) = services.visits_create_for_draw(actor=lead, draw=draw)
    return visit


def recorders(visit, inspector_users):
    return [inspector_users[m.inspector_id] for m in visit.members.order_by("position")]


def fill_onsite(
    visit: Visit,
    actor,
    *,
    signing_form="unsigned",
    categories=("no_problem",),
    present=2,
    **extra_fields,
):
    """Record a complete on-site check in one draft save; returns the visit."""
    members = {}
    for index, m in enumerate(visit.members.order_by("position")):
        cert = m.inspector.certificates.first()
        members[m.pk] = {"present": index < present, "certificate_number": cert.number}
    results = {
        r.pk: {
            "method": "onsite",
            "checked": "查看经营许可证、进货台账和公示信息",
            "finding": "经营资格合法有效",
            "categories": [category(c).pk for c in categories],
        }
        for r in visit.results.all()
    }
    fields = {
        "check_start": TODAY,
        "check_end": TODAY,
        "place": "舞钢市垭口街道建设路1号",
        "signing_form": signing_form,
        "unsigned_reason": "法定代表人外出，现场负责人拒绝签字"
        if signing_form == "unsigned"
        else "",
        "witness_name": "李社区" if signing_form == "unsigned" else "",
        "witness_detail": "垭口街道建设路社区工作人员" if signing_form == "unsigned" else "",
        **extra_fields,
    }
    visit, _ = services.visit_save_draft(
        actor=actor,
        visit=visit,
        version=visit.version,
        fields=fields,
        members=members,
        results=results,
    )
    return visit


def groups_exist():
    return Group.objects.filter(name=Role.INSPECTOR).exists()
