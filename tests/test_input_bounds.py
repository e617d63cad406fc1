"""Bounds everywhere (issue 21 item 9): free text has a length limit, typed dates lie within
2000..2100 (objections not before publication), names stay on one line, and a visit's PDF
with the longest allowed text, unbroken, renders in bounded time."""

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from accounts.roles import Role
from core.bounds import NOTE_TEXT, REPORT_TEXT, single_line
from disclosure import services as disclosure_services
from enterprises.models import Enterprise, Township, Trade
from enterprises.services import enterprise_save, import_apply
from inspections.forms.visits import FollowUpForm, TransferForm
from inspections.selectors import visits as visit_selectors
from inspections.services import plans as plan_services
from inspections.services import visits as services
from tests.disclosure_publication_fixtures import D, frozen
from tests.pdf_text import text_of
from tests.visits_fixtures import TODAY, fill_onsite, recorders

from .test_enterprises_import import row as register_row
from .test_enterprises_import import xlsx as register_xlsx


@pytest.fixture(autouse=True)
def _chinese():
    """The messages are asserted in Chinese, whatever language an earlier test left active."""
    with translation.override("zh-hans"):
        yield


FAR = dt.date(9999, 12, 31)
ANCIENT = dt.date(1, 1, 1)


def messages_of(exc) -> str:
    return " ".join(exc.value.messages)


# --- forms ---------------------------------------------------------------------------------


def test_transfer_form_refuses_long_content_and_implausible_dates():
    form = TransferForm(
        data={"department": "市场监管局", "content": "x" * (NOTE_TEXT + 1), "sent_on": "9999-12-31"}
    )
    assert not form.is_valid()
    assert "2000" in form.errors["content"][0] and "确保" in form.errors["content"][0]
    assert "2100-12-31" in form.errors["sent_on"][0]


def test_follow_up_form_refuses_a_due_date_in_year_1():
    form = FollowUpForm(
        data={"measures": ["order_correction"], "detail": "限期整改", "due_on": "0001-01-01"}
    )
    assert not form.is_valid()
    assert "2000-01-01" in form.errors["due_on"][0]


def test_single_line_folds_breaks_and_controls():
    assert single_line("舞钢市\r\n某某\t有限公司\u2028") == "舞钢市 某某 有限公司"


# --- services --------------------------------------------------------------------------------


@pytest.mark.usefixtures("visits_today")
def test_a_400000_character_summary_is_refused_naming_the_field(visit, inspector_users):
    actor = recorders(visit, inspector_users)[0]
    with pytest.raises(ValidationError) as exc:
        services.visit_save_draft(
            actor=actor, visit=visit, version=visit.version, fields={"summary": "查" * 400_000}
        )
    assert "核查情况" in messages_of(exc) and f"{REPORT_TEXT}" in messages_of(exc)
    visit.refresh_from_db()
    assert visit.summary == ""


@pytest.mark.usefixtures("visits_today")
def test_a_draft_check_date_in_9999_is_refused_naming_the_field(visit, inspector_users):
    actor = recorders(visit, inspector_users)[0]
    with pytest.raises(ValidationError) as exc:
        services.visit_save_draft(
            actor=actor, visit=visit, version=visit.version, fields={"check_end": FAR}
        )
    assert "检查结束日期" in messages_of(exc) and "2100-12-31" in messages_of(exc)


@pytest.mark.usefixtures("visits_today")
def test_item_findings_are_bounded(visit, inspector_users):
    actor = recorders(visit, inspector_users)[0]
    result = visit.results.first()
    with pytest.raises(ValidationError) as exc:
        services.visit_save_draft(
            actor=actor,
            visit=visit,
            version=visit.version,
            results={result.pk: {"finding": "x" * (NOTE_TEXT + 1)}},
        )
    assert "检查发现" in messages_of(exc)


@pytest.mark.usefixtures("visits_today")
def test_transfer_and_follow_up_dates_are_bounded(visit, inspector_users):
    actor = recorders(visit, inspector_users)[0]
    with pytest.raises(ValidationError) as exc:
        services.transfer_create(
            actor=actor, visit=visit, department="市场监管局", content="线索", sent_on=ANCIENT
        )
    assert "移送日期" in messages_of(exc)
    transfer = services.transfer_create(
        actor=actor, visit=visit, department="市场\n监管局", content="线索", sent_on=TODAY
    )
    assert transfer.department == "市场 监管局"  # a name stays on one line
    with pytest.raises(ValidationError) as exc:
        services.transfer_update(
            actor=actor, transfer=transfer, status="replied", receipt="已回复", replied_on=FAR
        )
    assert "回复日期" in messages_of(exc)
    visit = fill_onsite(visit, actor)
    with pytest.raises(ValidationError) as exc:
        services.follow_up_add(actor=actor, visit=visit, measures=["order_correction"], due_on=FAR)
    assert "期限" in messages_of(exc) and "2100-12-31" in messages_of(exc)


def test_a_default_rate_effective_in_year_1_is_refused(users):
    with pytest.raises(ValidationError) as exc:
        plan_services.sampling_rate_set(
            actor=users[Role.LEAD_SECTION],
            tier="A",
            rate=Decimal("0.05"),
            effective_from=ANCIENT,
            basis="测试",
        )
    assert "生效日期" in messages_of(exc)


def test_an_objection_received_before_publication_is_refused(make_record, users):
    record = make_record()
    record.published_version = record.current_version
    record.first_published_on = record.published_on = D(2026, 10, 30)
    record.save()
    with frozen(D(2026, 11, 20)):
        with pytest.raises(ValidationError) as exc:
            disclosure_services.objection_record(
                actor=users[Role.SECTION_STAFF],
                record=record,
                received_on=D(2026, 10, 1),
                content="异议",
            )
        assert "不能早于公示日期" in messages_of(exc)
        with pytest.raises(ValidationError) as exc:
            disclosure_services.objection_record(
                actor=users[Role.SECTION_STAFF],
                record=record,
                received_on=D(2026, 11, 18),
                content="异" * (REPORT_TEXT + 1),
            )
        assert "异议内容" in messages_of(exc)


@pytest.mark.django_db
def test_an_enterprise_name_with_line_breaks_is_stored_on_one_line(users):
    from enterprises.demo import seed_reference

    seed_reference()
    enterprise = enterprise_save(
        actor=users[Role.LEAD_SECTION],
        data={
            "uscc": "91410481MA44ABCD1X",
            "uscc_override_reason": "测试",
            "name": "舞钢市\n换行\r\n商贸有限公司",
            "township": Township.objects.first(),
        },
        trades=Trade.objects.none(),
    )
    assert enterprise.name == "舞钢市 换行 商贸有限公司"


def test_an_imported_name_with_line_breaks_is_stored_on_one_line(db, section, lead_section):
    from enterprises.demo import seed_reference

    seed_reference()
    data = register_xlsx([register_row(1, **{"企业名称": "舞钢市\n导入\n有限公司"})])
    import_apply(actor=None, kind="enterprises", source=io.BytesIO(data), filename="t.xlsx")
    assert Enterprise.objects.get().name == "舞钢市 导入 有限公司"


# --- PDFs ----------------------------------------------------------------------------------


@pytest.mark.usefixtures("visits_today")
def test_the_visit_pdf_with_the_longest_allowed_unbroken_text_renders_whole(visit, inspector_users):
    """The longest allowed unbroken text renders, wrapped inside the page, nothing cut off. (Its
    time — 57 s before the fixed table layout, a few seconds now — is a benchmark's to measure,
    not a unit test's: docs/decisions.md 234.)"""
    actor = recorders(visit, inspector_users)[0]
    visit = fill_onsite(visit, actor)
    long_results = {
        r.pk: {"checked": "A" * NOTE_TEXT, "finding": "查" * NOTE_TEXT} for r in visit.results.all()
    }
    visit, _ = services.visit_save_draft(
        actor=actor,
        visit=visit,
        version=visit.version,
        fields={"summary": "W" * REPORT_TEXT},
        results=long_results,
    )
    pdf = visit_selectors.visit_pdf(visit, ("form", "onsite"))
    text = text_of(pdf)
    assert text.count("W") == REPORT_TEXT  # wrapped over lines and pages, every character there
    assert text.count("查") >= NOTE_TEXT * visit.results.count()


@pytest.mark.usefixtures("visits_today")
def test_the_recording_page_refuses_a_400000_character_summary_naming_the_field(
    visit, inspector_users
):
    from django.test import Client
    from django.urls import reverse

    client = Client()
    client.force_login(recorders(visit, inspector_users)[0])
    page = client.get(reverse("inspections:visit_record", args=[visit.pk]))
    form = page.context["form"]
    data = {"version": str(form["version"].value()), "summary": "查" * 400_000}
    response = client.post(
        reverse("inspections:visit_autosave", args=[visit.pk]), data, HTTP_HX_REQUEST="true"
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "核查情况（总体）" in body and "5000" in body
    visit.refresh_from_db()
    assert visit.summary == ""


@pytest.mark.django_db
def test_model_forms_bound_their_dates_too():
    from enterprises.forms import RiskAssessmentForm

    form = RiskAssessmentForm(
        data={"tier": "A", "effective_date": "9999-12-31", "source": "测试", "reason": ""}
    )
    assert not form.is_valid()
    assert "2100-12-31" in form.errors["effective_date"][0]


@pytest.mark.django_db
def test_an_inspectors_name_typed_with_a_line_break_is_kept_on_one_line():
    from inspectors.forms import InspectorForm

    form = InspectorForm(data={"staff_number": "WG009", "name": "张\r\n伟"})
    form.is_valid()  # other required fields are missing; the name is cleaned on its own
    assert form.cleaned_data["name"] == "张 伟"
