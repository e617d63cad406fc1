"""The printed documents (检查通知书, 企业执法检查登记表, 实地核查记录表) and batch printing:
the text extracted with pypdf has the Chinese strings, every font is embedded, the document
number and the official date are there; blank forms print without results."""

import io

import pytest
from pypdf import PdfReader

from inspections.selectors import visits as selectors
from inspections.services import visits as services
from tests.visits_fixtures import (
    complete_draw,
    fill_onsite,
    recorders,
)

pytestmark = pytest.mark.usefixtures("visits_today")


def text_of(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    return "\n".join(page.extract_text() for page in reader.pages)


def embedded_fonts(pdf: bytes) -> set[str]:
    names = set()
    for page in PdfReader(io.BytesIO(pdf)).pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            descriptor = font["/DescendantFonts"][0].get_object()["/FontDescriptor"].get_object()
            assert any(key.startswith("/FontFile") for key in descriptor), font["/BaseFont"]
            assert "/ToUnicode" in font
            names.add(str(font["/BaseFont"]))
    return names


def squash(text: str) -> str:
    return "".join(text.split())


def test_notice_has_number_date_items_warning_and_embedded_fonts(visit):
    pdf = selectors.visit_pdf(visit, ("notice",))
    text = squash(text_of(pdf))
    for expected in (
        "舞钢市工业信息化和商务局",
        "检查通知书",
        "舞工信商检通〔2026〕1号",
        visit.enterprise.name,
        visit.task.number,
        "成品油零售经营资格检查",
        "需准备的材料",
        "不予配合情节严重",
        "国家企业信用信息公示系统（河南）",
        "二〇二六年十二月三日",
        "（印章）",
    ):
        assert expected in text, expected
    fonts = embedded_fonts(pdf)
    assert any("CJK" in name for name in fonts)


def test_blank_registration_form_has_the_five_columns_and_no_results(visit):
    text = squash(text_of(selectors.visit_pdf(visit, ("form",), filled=False)))
    for column in (
        "企业执法检查登记表",
        "检查项目",
        "检查内容",
        "检查方式",
        "检查要点",
        "检查结果",
    ):
        assert column in text
    assert "未发现问题" not in text


def test_filled_form_and_onsite_record_after_recording(visit, inspector_users):
    actor = recorders(visit, inspector_users)[0]
    visit = fill_onsite(visit, actor, signing_form="unsigned")
    pdf = selectors.visit_pdf(visit, ("form", "onsite"))
    text = squash(text_of(pdf))
    members = list(visit.members.order_by("position"))[:2]
    for expected in (
        "未发现问题",
        "实地核查",
        "实地核查记录表",
        "法定代表人外出，现场负责人拒绝签字",
        "李社区",
        "未签",
        "舞钢市垭口街道建设路1号",
        *(m.certificate_number for m in members),
        *(m.inspector.name for m in members),
    ):
        assert squash(expected) in text, expected
    assert len(PdfReader(io.BytesIO(pdf)).pages) >= 2


def test_batch_printing_of_a_task_is_one_pdf(
    lead, make_task, make_enterprises, roster, inspector_users
):
    make_enterprises({"D": 6})
    draw = complete_draw(make_task(), lead)
    visits = services.visits_create_for_draw(actor=lead, draw=draw)
    assert len(visits) == 2
    pdf = selectors.visits_pdf(visits, ("notice", "form"), filled=False)
    text = squash(text_of(pdf))
    for v in visits:
        assert v.enterprise.name in text and v.notice_number in text
    assert text.count("检查通知书") >= 2 and text.count("企业执法检查登记表") >= 2
    assert len(PdfReader(io.BytesIO(pdf)).pages) >= 4


@pytest.mark.parametrize("kind", ["notice", "form", "onsite", "all"])
def test_pdf_view_serves_each_document(visit, users, kind):
    from django.test import Client
    from django.urls import reverse

    from accounts.roles import Role

    client = Client()
    client.force_login(users[Role.DISCIPLINE])
    response = client.get(reverse("inspections:visit_pdf", args=[visit.pk, kind]))
    assert response.status_code == 200 and response.content.startswith(b"%PDF-")


def test_big_batch_goes_to_the_worker_and_the_task_notifies(visit, users, monkeypatch):
    from django.test import Client
    from django.urls import reverse

    from accounts.roles import Role
    from core.models import StoredFile
    from inspections.tasks import visits as tasks_visits
    from inspections.views import visits as views

    calls = []
    monkeypatch.setattr(views, "BATCH_SYNC_LIMIT", 0)
    monkeypatch.setattr(tasks_visits.visits_batch_pdf, "delay", lambda *a: calls.append(a))
    staff = users[Role.SECTION_STAFF]
    client = Client()
    client.force_login(staff)
    response = client.get(reverse("inspections:task_visits_pdf", args=[visit.task_id]), follow=True)
    assert "正在后台生成" in response.content.decode()
    assert calls == [(visit.task_id, ["notice", "form", "onsite"], True, staff.pk)]
    file_id = tasks_visits.visits_batch_pdf(*calls[0])
    assert tasks_visits.visits_batch_pdf(*calls[0]) == file_id  # twice: one file, one notice
    notice = staff.notifications.get()
    assert notice.link == reverse("core:file_download", args=[file_id])
    stored = StoredFile.objects.get(pk=file_id)
    assert "检查通知书" in squash(text_of(open_stored(stored)))
    assert client.get(notice.link).status_code == 200


def open_stored(stored) -> bytes:
    from core.uploads import file_open

    with file_open(stored) as handle:
        return handle.read()
