"""The draw pages: permissions of every view, and the whole flow a lead-section user walks
through (start → hashes → witnesses and dice → result → certificate PDF → evidence zip →
verify.py OK), void and recusal asked here and approved by a second person in their own
session, the public list."""

import datetime
import io
import subprocess
import sys
import zipfile

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from accounts.roles import Role
from approvals.models import ApprovalRequest
from approvals.selectors import approvals_to_decide
from inspections.drawing import evidence
from inspections.models import Draw, DrawSelection
from inspections.services import draws as services
from tests.draws_fixtures import DICE, WITNESSES, void_approved
from tests.permissions import assert_role_access

TODAY = datetime.datetime(2026, 11, 26, 10, 0, tzinfo=datetime.UTC)
READERS = {
    Role.LEAD_SECTION,
    Role.SECTION_STAFF,
    Role.INSPECTOR,
    Role.SECTION_HEAD,
    Role.DISCIPLINE,
    Role.SYSTEM_ADMIN,
}
EVIDENCE = {Role.LEAD_SECTION, Role.DISCIPLINE}


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(TODAY, tick=False):
        yield


@pytest.fixture
def task(make_task, make_enterprises, roster):
    make_enterprises({"A": 30, "B": 10, "C": 4, "D": 3})
    return make_task()


@pytest.fixture
def completed(task, lead):
    draw = services.draw_commit(actor=lead, task=task)
    return services.draw_perform(
        actor=lead, draw=draw, witnesses=WITNESSES, dice_kind="d6", dice=DICE
    )


def test_read_permissions(users, completed):
    assert_role_access(users, reverse("inspections:draw_list"), READERS)
    assert_role_access(users, reverse("inspections:draw_detail", args=[completed.pk]), READERS)
    assert_role_access(users, reverse("inspections:draw_task", args=[completed.task_id]), READERS)
    assert_role_access(users, reverse("inspections:draw_evidence", args=[completed.pk]), EVIDENCE)


def test_certificate_permissions_and_pdf(users, completed, client_for):
    assert_role_access(
        users, reverse("inspections:draw_certificate", args=[completed.pk]), EVIDENCE
    )
    from pypdf import PdfReader

    response = client_for(Role.DISCIPLINE).get(
        reverse("inspections:draw_certificate", args=[completed.pk])
    )
    assert response["Content-Type"] == "application/pdf"
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    assert "抽取结果确认单" in text
    assert completed.manifest_sha256[:16] in text.replace("\n", "")
    assert "王见证" in text and "签字" in text


@pytest.mark.parametrize(
    "name", ["draw_commit", "draw_perform", "draw_void", "draw_replace", "draw_joint_visit"]
)
def test_write_permissions_lead_only(users, completed, name):
    selection = DrawSelection.objects.filter(draw=completed).first()
    args = {
        "draw_commit": [completed.task_id],
        "draw_replace": [completed.pk, selection.pk],
        "draw_joint_visit": [completed.pk, selection.pk],
    }.get(name, [completed.pk])
    assert_role_access(
        users,
        reverse(f"inspections:{name}", args=args),
        {Role.LEAD_SECTION},
        method="post",
        ok_statuses=(200, 302, 400),
    )


def test_the_whole_flow_in_the_browser(users, client_for, task, lead2, tmp_path):
    client = client_for(Role.LEAD_SECTION)
    page = client.get(reverse("inspections:draw_task", args=[task.pk]))
    assert "开始抽取" in page.content.decode()
    response = client.post(reverse("inspections:draw_commit", args=[task.pk]))
    draw = Draw.objects.get(task=task)
    assert response["Location"] == reverse("inspections:draw_detail", args=[draw.pk])
    page = client.get(response["Location"]).content.decode()
    # the hashes are shown before any randomness; the secret is not
    assert draw.manifest_sha256 in page and draw.inspectors_sha256 in page
    assert draw.secret_sha256 in page and draw.secret not in page
    assert "现场摇号" in page
    # discipline sees the hashes but no seed form
    discipline = client_for(Role.DISCIPLINE).get(response["Location"]).content.decode()
    assert draw.manifest_sha256 in discipline and 'name="dice"' not in discipline
    # bad dice: the form comes back with the reason
    bad = client.post(
        reverse("inspections:draw_perform", args=[draw.pk]),
        {"witness_1": "王见证", "witness_2": "李见证", "dice_kind": "d6", "dice": "1234"},
    )
    assert bad.status_code == 400 and "至少 20" in bad.content.decode()
    done = client.post(
        reverse("inspections:draw_perform", args=[draw.pk]),
        {
            "witness_1": "王见证",
            "witness_1_org": "企业代表",
            "witness_2": "李见证",
            "witness_2_org": "纪检派驻组",
            "dice_kind": "d6",
            "dice": "31415 26531 23456 26153",
        },
    )
    assert done.status_code == 302
    draw.refresh_from_db()
    assert draw.status == Draw.Status.COMPLETED and draw.dice == DICE
    page = client.get(done["Location"]).content.decode()
    assert "核验通过" in page and draw.seed_string in page and draw.secret in page
    first = DrawSelection.objects.filter(draw=draw).order_by("order").first()
    assert first.enterprise.name in page
    # discipline group: verification recomputed on view
    assert "核验通过" in client_for(Role.DISCIPLINE).get(done["Location"]).content.decode()
    # the evidence package verifies with a bare Python
    zip_response = client.get(reverse("inspections:draw_evidence", args=[draw.pk]))
    assert zip_response["Content-Type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(zip_response.content)) as archive:
        archive.extractall(tmp_path)
    run = subprocess.run(
        [sys.executable, "-I", "verify.py"],
        cwd=tmp_path / f"draw-{draw.pk}",
        capture_output=True,
        text=True,
        check=False,
    )
    assert (run.returncode, run.stdout.strip()) == (0, "OK")
    # the public list: names and codes, no tiers, no login
    public = Client().get(reverse("inspections:draw_public", args=[draw.pk]))
    assert public.status_code == 200
    body = public.content.decode()
    assert first.uscc in body and first.ticket not in body and "风险" not in body
    # post-draw recusal through the page: asked here, approved by lead2 in their own session
    team_member = first.members.first().inspector
    replace_url = reverse("inspections:draw_replace", args=[draw.pk, first.pk])
    assert client.get(replace_url).status_code == 200
    response = client.post(replace_url, {"out": team_member.pk, "reason": "亲属关系"})
    approval = ApprovalRequest.objects.get(kind=services.REPLACE_KIND)
    assert response["Location"] == reverse("approvals:detail", args=[approval.pk])
    assert not first.replacements.exists()
    assert "回避替补申请待审批" in client.get(done["Location"]).content.decode()
    second = Client()
    second.force_login(lead2)
    second.post(reverse("approvals:decide", args=[approval.pk]), {"decision": "approve"})
    assert first.replacements.get().out == team_member
    # void: asked here, no password field anywhere, approved by lead2 in their own session
    page = client.get(done["Location"]).content.decode()
    assert "approver_password" not in page and 'type="password"' not in page
    void_url = reverse("inspections:draw_void", args=[draw.pk])
    response = client.post(void_url, {"reason": "测试作废", "approver": lead2.pk})
    approval = ApprovalRequest.objects.get(kind=services.VOID_KIND)
    assert response["Location"] == reverse("approvals:detail", args=[approval.pk])
    draw.refresh_from_db()
    assert draw.status == Draw.Status.COMPLETED
    assert "作废申请待审批" in client.get(done["Location"]).content.decode()
    assert approval in approvals_to_decide(lead2)
    second.post(reverse("approvals:decide", args=[approval.pk]), {"decision": "approve"})
    draw.refresh_from_db()
    assert draw.status == Draw.Status.VOIDED and draw.void_approver == lead2
    assert Client().get(reverse("inspections:draw_public", args=[draw.pk])).status_code == 404
    listing = client_for(Role.DISCIPLINE).get(reverse("inspections:draw_list")).content.decode()
    assert "已作废" in listing
    # the task page offers a new draw again
    assert (
        "开始抽取" in client.get(reverse("inspections:draw_task", args=[task.pk])).content.decode()
    )


def test_public_list_only_when_the_task_publishes(completed):
    task = completed.task
    task.publish_selected_list = False
    task.save()
    assert Client().get(reverse("inspections:draw_public", args=[completed.pk])).status_code == 404


def test_evidence_zip_matches_engine_source(client_for, completed):
    data = (
        client_for(Role.LEAD_SECTION)
        .get(reverse("inspections:draw_evidence", args=[completed.pk]))
        .content
    )
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = sorted(n.split("/")[-1] for n in archive.namelist())
        assert archive.read(f"draw-{completed.pk}/verify.py") == evidence.VERIFY_SOURCE.read_bytes()
    assert names == [
        "README.txt",
        "draw.json",
        "experts.csv",
        "inspectors.csv",
        "joint_visits.json",
        "manifest.csv",
        "verify.py",
    ]
    assert evidence.verify_zip(io.BytesIO(data)) == []


def test_replace_page_refuses_a_voided_draw(client_for, completed, lead2):
    void_approved(
        requester=completed.operator,
        draw=completed,
        reason="测试",
        approver=lead2,
    )
    selection = DrawSelection.objects.filter(draw=completed).first()
    response = client_for(Role.LEAD_SECTION).get(
        reverse("inspections:draw_replace", args=[completed.pk, selection.pk])
    )
    assert response.status_code == 302
    assert not selection.replacements.exists()
