"""Visit pages: role access for every view (each role + anonymous), the recording page and its
autosave (htmx), conflicts shown without losing input, double submit, the signature canvas
endpoint, uploads, review, transfers, follow-up and the archive list."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from accounts.roles import BUSINESS_READERS, Role
from inspections.models import FollowUp, LeadTransfer, Visit, VisitEvidence
from inspections.services import visits as services
from tests.permissions import assert_role_access
from tests.visits_fixtures import (
    category,
    fill_onsite,
    jpeg_bytes,
    png_bytes,
    recorders,
)

pytestmark = pytest.mark.usefixtures("visits_today")

READERS = set(BUSINESS_READERS)


def client_of(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def team_client(visit, inspector_users):
    return client_of(recorders(visit, inspector_users)[0])


# ------------------------------------------------------------------------------- permissions
@pytest.mark.parametrize("name", ["inspections:visit_list", "inspections:visit_categories"])
def test_lists_are_for_business_readers(users, name):
    assert_role_access(users, reverse(name), READERS)


def test_today_is_for_inspectors_review_queue_for_heads(users):
    assert_role_access(users, reverse("inspections:visit_today"), {Role.INSPECTOR})
    assert_role_access(users, reverse("inspections:visit_review_queue"), {Role.SECTION_HEAD})


def test_detail_and_task_pages_are_readable_by_readers(users, visit):
    assert_role_access(users, reverse("inspections:visit_detail", args=[visit.pk]), READERS)
    assert_role_access(users, reverse("inspections:task_visits", args=[visit.task_id]), READERS)


def test_pdfs_are_readable_by_readers(users, visit):
    assert_role_access(users, reverse("inspections:visit_pdf", args=[visit.pk, "notice"]), READERS)


def test_task_visit_creation_is_for_business_sections(users, draw):
    url = reverse("inspections:task_visits_create", args=[draw.task_id])
    # The generic 业务股室 and 股室负责人 users sit in another section than the task's (the lead
    # section): allowed by role, refused by the task's scope (403; tests/test_object_scope.py
    # has the same roles in the task's own section succeeding).
    assert_role_access(users, url, {Role.LEAD_SECTION}, method="post")
    assert Visit.objects.count() == 1  # created once, whoever asked again


def test_recording_views_need_the_inspector_role(users, visit):
    for name in (
        "visit_record",
        "visit_autosave",
        "visit_start",
        "visit_submit",
        "visit_signature",
        "visit_signed_page",
        "visit_evidence",
        "visit_non_cooperation",
    ):
        url = reverse(f"inspections:{name}", args=[visit.pk])
        method = "get" if name == "visit_record" else "post"
        # The generic 执法检查人员 user is not on this visit's team: allowed by role, refused by
        # the team check (403 too) — so nobody but the team gets past.
        assert_role_access(users, url, set(), method=method)


def test_review_is_for_section_heads_and_writes_by_case_workers(users, visit, section):
    Visit.objects.filter(pk=visit.pk).update(section=section)  # the users' own section
    assert_role_access(
        users,
        reverse("inspections:visit_review", args=[visit.pk]),
        {Role.SECTION_HEAD},
        method="post",
        ok_statuses=(302,),
    )
    assert_role_access(
        users,
        reverse("inspections:visit_archive", args=[visit.pk]),
        {Role.SECTION_HEAD, Role.SECTION_STAFF},
        method="post",
        ok_statuses=(302,),
    )
    for name in ("visit_transfer_create", "visit_follow_up_add", "visit_archive_add"):
        assert_role_access(
            users,
            reverse(f"inspections:{name}", args=[visit.pk]),
            {Role.INSPECTOR, Role.SECTION_STAFF, Role.SECTION_HEAD},
            method="post",
            ok_statuses=(302,),
        )
    assert_role_access(
        users,
        reverse("inspections:visit_category_update", args=[category("closed").pk]),
        {Role.SYSTEM_ADMIN},
        method="post",
        data={"label": "已关闭停业或正在组织清算"},
    )


def test_team_member_gets_the_record_page_others_do_not(visit, team_client, users):
    url = reverse("inspections:visit_record", args=[visit.pk])
    assert team_client.get(url).status_code == 200
    assert client_of(users[Role.INSPECTOR]).get(url).status_code == 403


# ------------------------------------------------------------------------- recording + autosave
def form_data(response) -> dict:
    """The recording form's current values as a browser would post them."""
    form = response.context["form"]
    data = {}
    for name in form.fields:
        value = form[name].value()
        if value in (None, False):
            continue
        if isinstance(value, list):
            data[name] = [str(v) for v in value]
        elif value is True:
            data[name] = "on"
        else:
            data[name] = str(value)
    return data


def test_today_lists_the_inspectors_visit(visit, team_client):
    response = team_client.get(reverse("inspections:visit_today"))
    assert visit.enterprise.name in response.content.decode()


def test_autosave_saves_and_returns_new_version(visit, team_client):
    page = team_client.get(reverse("inspections:visit_record", args=[visit.pk]))
    data = form_data(page)
    data["place"] = "舞钢市垭口街道建设路1号"
    response = team_client.post(
        reverse("inspections:visit_autosave", args=[visit.pk]), data, HTTP_HX_REQUEST="true"
    )
    body = response.content.decode()
    assert response.status_code == 200 and "草稿已自动保存" in body
    assert 'id="visit-version" value="2"' in body and 'hx-swap-oob="true"' in body
    visit.refresh_from_db()
    assert visit.place == "舞钢市垭口街道建设路1号" and visit.status == Visit.Status.IN_PROGRESS


def test_a_check_end_before_its_start_is_refused_by_the_form(visit, team_client):
    page = team_client.get(reverse("inspections:visit_record", args=[visit.pk]))
    data = form_data(page)
    data["check_start"], data["check_end"], data["place"] = "2026-12-03", "2026-12-02", "新地址"
    response = team_client.post(
        reverse("inspections:visit_autosave", args=[visit.pk]), data, HTTP_HX_REQUEST="true"
    )
    body = response.content.decode()
    assert "检查结束日期：检查结束日期不能早于开始日期。" in body
    visit.refresh_from_db()
    assert visit.place != "新地址" and visit.version == 1  # nothing written


def _autosave_every_30_seconds(client, url, data, start, minutes):
    """The page's timer: the same form posted every 30 s from ``start`` for ``minutes``;
    returns the first answer that is not a saved status (the login redirect), or None."""
    import datetime

    import time_machine

    for step in range(1, minutes * 2 + 1):
        with time_machine.travel(start + datetime.timedelta(seconds=30 * step), tick=False):
            response = client.post(url, data, HTTP_HX_REQUEST="true")
        if response.status_code != 200:
            return step * 30, response
    return None, None


def test_empty_autosaves_do_not_keep_an_idle_session_alive(visit, team_client):
    """The probe left the recording page open: its 30-second autosave kept the session alive
    forever. An autosave with nothing new is not activity now (behaviour changed on purpose:
    before issue 21 every autosave extended the session), so the page is logged out 30 minutes
    after the user's last action, and the logout is audited as idle."""
    from audit.models import AuditEvent
    from tests.visits_fixtures import NOW

    url = reverse("inspections:visit_autosave", args=[visit.pk])
    page = team_client.get(reverse("inspections:visit_record", args=[visit.pk]))
    data = form_data(page)
    seconds, response = _autosave_every_30_seconds(team_client, url, data, NOW, 40)
    # The first autosave after opening the page is the first send of this form (activity);
    # every later one is the same form: the session ends 30 minutes after that first one.
    assert seconds == 30 + 30 * 60
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert "_auth_user_id" not in team_client.session
    assert AuditEvent.objects.filter(event_type="auth.logout", reason="空闲超时").count() == 1


def test_an_autosave_with_edits_is_activity(visit, team_client):
    import datetime

    import time_machine

    from tests.visits_fixtures import NOW

    url = reverse("inspections:visit_autosave", args=[visit.pk])
    data = form_data(team_client.get(reverse("inspections:visit_record", args=[visit.pk])))
    edited = {**data, "place": "舞钢市垭口街道建设路1号"}
    twenty = NOW + datetime.timedelta(minutes=20)
    with time_machine.travel(twenty, tick=False):
        response = team_client.post(url, edited, HTTP_HX_REQUEST="true")
        assert "草稿已自动保存" in response.content.decode()
        assert response["X-Idle-Remaining"] == "1800"
    # The same edited form resent by the timer is not new: 30 minutes after the edit it ends.
    seconds, response = _autosave_every_30_seconds(team_client, url, edited, twenty, 40)
    assert seconds == 30 * 60 and response.status_code == 302


def test_conflict_is_reported_and_input_kept(visit, inspector_users):
    first, second = (client_of(u) for u in recorders(visit, inspector_users)[:2])
    url = reverse("inspections:visit_record", args=[visit.pk])
    page_a, page_b = first.get(url), second.get(url)
    data_a, data_b = form_data(page_a), form_data(page_b)
    data_a["summary"] = "甲：核查了进货台账"
    data_b["summary"] = "乙：核查了油品质量检测报告"
    assert first.post(url, data_a).status_code == 302
    response = second.post(url, data_b)
    assert response.status_code == 409
    body = response.content.decode()
    assert "修改" in body and "没有保存" in body
    assert "乙：核查了油品质量检测报告" in body  # the second person's input is still on screen
    autosave = second.post(reverse("inspections:visit_autosave", args=[visit.pk]), data_b)
    assert "保存冲突" in autosave.content.decode()
    visit.refresh_from_db()
    assert visit.summary == "甲：核查了进货台账"


def test_exclusive_result_refused_in_the_page(visit, team_client):
    url = reverse("inspections:visit_record", args=[visit.pk])
    data = form_data(team_client.get(url))
    result = visit.results.get()
    data[f"r{result.pk}_cats"] = [str(category("no_problem").pk), str(category("corrected").pk)]
    response = team_client.post(url, data)
    assert response.status_code == 200
    assert "不能与其他检查结果同时选择" in response.content.decode()


def test_submit_twice_by_double_click_one_submission(visit, inspector_users, team_client):
    from audit.models import AuditEvent

    visit = fill_onsite(visit, recorders(visit, inspector_users)[0])
    url = reverse("inspections:visit_submit", args=[visit.pk])
    team_client.post(url, {"version": visit.version})
    response = team_client.post(url, {"version": visit.version}, follow=True)
    assert "无需重复提交" in response.content.decode()
    assert AuditEvent.objects.filter(event_type="visit.submit").count() == 1
    # read-only to its author now
    record = team_client.get(reverse("inspections:visit_record", args=[visit.pk]))
    assert record.status_code == 302


def test_signature_canvas_png_is_stored(visit, team_client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    url = reverse("inspections:visit_signature", args=[visit.pk])
    response = team_client.post(
        url,
        {
            "version": visit.version,
            "signature": SimpleUploadedFile("signature.png", png_bytes(), "image/png"),
        },
    )
    assert response.status_code == 200
    payload = response.json()
    assert payload["version"] == 2
    visit.refresh_from_db()
    assert visit.signature is not None and visit.signing_form == "signature"
    assert team_client.get(payload["url"]).status_code == 200
    stale = team_client.post(
        url, {"version": 1, "signature": SimpleUploadedFile("s.png", png_bytes(), "image/png")}
    )
    assert stale.status_code == 409


def test_photo_upload_and_download_permission(visit, team_client, users):
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = team_client.post(
        reverse("inspections:visit_evidence", args=[visit.pk]),
        {
            "kind": "photo",
            "description": "加油机铭牌",
            "file": SimpleUploadedFile("p.jpg", jpeg_bytes(), "image/jpeg"),
        },
    )
    assert response.status_code == 302
    evidence = VisitEvidence.objects.get(visit=visit)
    url = reverse("core:file_download", args=[evidence.file_id])
    assert client_of(users[Role.DISCIPLINE]).get(url).status_code == 200
    assert client_of(users[Role.AUDIT_ADMIN]).get(url).status_code == 403


def test_review_return_and_approve_through_the_page(visit, inspector_users, head):
    visit = fill_onsite(visit, recorders(visit, inspector_users)[0])
    visit, _ = services.visit_submit(
        actor=recorders(visit, inspector_users)[0], visit=visit, version=visit.version
    )
    client = client_of(head)
    url = reverse("inspections:visit_review", args=[visit.pk])
    response = client.post(
        url, {"version": visit.version, "decision": "return", "reason": ""}, follow=True
    )
    assert "退回必须写明理由" in response.content.decode()
    client.post(url, {"version": visit.version, "decision": "return", "reason": "请补充照片"})
    visit.refresh_from_db()
    assert visit.status == Visit.Status.RETURNED
    inspector = recorders(visit, inspector_users)[0]
    assert inspector.notifications.filter(title__contains="退回").exists()


def test_transfer_and_follow_up_pages(visit, inspector_users, team_client):
    visit = fill_onsite(visit, recorders(visit, inspector_users)[0])
    team_client.post(
        reverse("inspections:visit_transfer_create", args=[visit.pk]),
        {"department": "舞钢市市场监督管理局", "content": "疑似无照经营", "sent_on": "2026-12-03"},
    )
    assert LeadTransfer.objects.get(visit=visit).status == "sent"
    team_client.post(
        reverse("inspections:visit_follow_up_add", args=[visit.pk]), {"measures": ["none"]}
    )
    assert FollowUp.objects.get(visit=visit).closed
    detail = team_client.get(reverse("inspections:visit_detail", args=[visit.pk]))
    body = detail.content.decode()
    assert "舞钢市市场监督管理局" in body and "无需后续处置" in body


def test_task_page_and_batch_pdf(visit, users):
    client = client_of(users[Role.SECTION_STAFF])
    page = client.get(reverse("inspections:task_visits", args=[visit.task_id]))
    assert visit.notice_number in page.content.decode()
    response = client.get(reverse("inspections:task_visits_pdf", args=[visit.task_id]) + "?blank=1")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"


def test_no_inline_script_or_style_on_the_record_page(visit, team_client):
    body = team_client.get(reverse("inspections:visit_record", args=[visit.pk])).content.decode()
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", body)
    assert 'style="' not in body
    assert "js/visits.js" in body and 'hx-trigger="change delay:500ms' in body
