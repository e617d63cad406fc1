"""Every write checks the object's scope, not only the role (issue 21 item 3): for each service
that changes one object, its owner succeeds, a user of the same role in another section is
refused, and an outsider is refused — the role matrix of tests/permissions.py, per object.

Who is who (sections from tests/conftest.py): the draw fixtures' tasks, and so their visits, are
led by the lead section (政策法规股, ``lead_section``); the publication fixtures' records belong
to ``section`` (市场运行股); ``other_section`` (商贸服务股) owns none of them."""

import io
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.roles import Role
from approvals.models import ApprovalRequest
from approvals.services import approval_decide
from disclosure import services as disclosure
from disclosure.models import ExportBatch
from enterprises import services as enterprises
from enterprises.demo import seed_reference
from enterprises.models import Enterprise, ImportBatch
from inspections.models import Visit, VisitEvidence
from inspections.services import plans as plans
from inspections.services import visits as visits
from inspectors.services import roster_upload_store
from tests.disclosure_publication_fixtures import D
from tests.test_enterprises_import_batches import big_xlsx
from tests.test_inspectors_import import row as roster_row
from tests.test_inspectors_import import xlsx as roster_xlsx
from tests.visits_fixtures import fill_onsite, recorders


@pytest.fixture
def people(users, make_user, lead_section, section, other_section, head):
    """The actors by scope; ``users`` (conftest) puts section roles in ``section``."""
    return {
        "staff of the lead section": make_user(Role.SECTION_STAFF, section=lead_section),
        "staff of section": users[Role.SECTION_STAFF],
        "staff of other section": make_user(Role.SECTION_STAFF, section=other_section),
        "head of the lead section": head,
        "head of section": users[Role.SECTION_HEAD],
        "head of other section": make_user(Role.SECTION_HEAD, section=other_section),
        "lead section": users[Role.LEAD_SECTION],
        "inspector not on the team": users[Role.INSPECTOR],
        "discipline": users[Role.DISCIPLINE],
        "system admin": users[Role.SYSTEM_ADMIN],
    }


# --- the objects ------------------------------------------------------------------------------


def approved_visit(request, people):
    request.getfixturevalue("visits_today")
    visit = request.getfixturevalue("visit")
    actor = recorders(visit, request.getfixturevalue("inspector_users"))[0]
    visit = fill_onsite(visit, actor)
    visit, _ = visits.visit_submit(actor=actor, visit=visit, version=visit.version)
    return visits.visit_approve(
        actor=people["head of the lead section"], visit=visit, version=visit.version, archive=False
    )


def submitted_visit(request, people):
    request.getfixturevalue("visits_today")
    visit = request.getfixturevalue("visit")
    actor = recorders(visit, request.getfixturevalue("inspector_users"))[0]
    visit = fill_onsite(visit, actor)
    visit, _ = visits.visit_submit(actor=actor, visit=visit, version=visit.version)
    return visit


def archived_visit(request, people):
    visit = approved_visit(request, people)
    return visits.visit_archive(actor=people["head of the lead section"], visit=visit)


def pdf_bytes() -> bytes:
    from pypdf import PdfWriter

    writer, buffer = PdfWriter(), io.BytesIO()
    writer.add_blank_page(width=595, height=842)
    writer.write(buffer)
    return buffer.getvalue()


def completed_draw(request, people):
    request.getfixturevalue("visits_today")
    return request.getfixturevalue("draw")


def task(request, people):
    return request.getfixturevalue("make_task")()


def published_record(request, people):
    record = request.getfixturevalue("make_record")(result="未发现问题")
    record.published_version = record.current_version
    record.first_published_on = record.published_on = D(2026, 10, 30)
    record.status = record.Status.PUBLISHED
    record.save()
    return record


def proposed_correction(request, people):
    record = published_record(request, people)
    return disclosure.correction_propose(
        actor=request.getfixturevalue("inspector_user"),
        record=record,
        result_text="发现问题待后续处理（未按规定公示应当公示的信息）",
        reason="录入时选错结果",
    )


def objection(request, people):
    record = published_record(request, people)
    return disclosure.objection_record(
        actor=people["staff of section"],
        record=record,
        received_on=D(2026, 11, 18),
        content="企业称已于检查前完成年报公示",
    )


def built_batch(request, people):
    request.getfixturevalue("make_record")(result="未发现问题")
    batch = disclosure.batch_create(actor=people["staff of section"])
    return disclosure.batch_build(batch_id=batch.pk)


def import_batch(request, people):
    seed_reference()
    batch = enterprises.import_batch_create(
        actor=people["staff of section"],
        kind="enterprises",
        upload=SimpleUploadedFile("名录.xlsx", big_xlsx(3)),
    )
    enterprises.import_batch_preview(batch_id=batch.pk)
    return ImportBatch.objects.get(pk=batch.pk)


# --- the table --------------------------------------------------------------------------------


@dataclass
class Case:
    make: Callable  # (request, people) → the object
    act: Callable  # (actor, object) → None; raises PermissionDenied when refused
    owner: str
    same_role_elsewhere: tuple[str, ...]
    outsiders: tuple[str, ...]
    changed: Callable  # (object) → bool: the owner's change happened (and nobody's before)


CASES = {
    # The probe: any 业务股室 member archived any visit.
    "visit_archive": Case(
        make=approved_visit,
        act=lambda actor, visit: visits.visit_archive(actor=actor, visit=visit),
        owner="staff of the lead section",
        same_role_elsewhere=("staff of section", "staff of other section"),
        outsiders=("lead section", "inspector not on the team", "discipline"),
        changed=lambda visit: Visit.objects.get(pk=visit.pk).status == Visit.Status.ARCHIVED,
    ),
    # The probe: any 股室负责人 generated another section's task visits.
    "archive_document_add": Case(
        make=archived_visit,
        act=lambda actor, visit: visits.archive_document_add(
            actor=actor,
            visit=visit,
            upload=("处罚决定书.pdf", pdf_bytes()),
            title="行政处罚决定书（舞工信商罚〔2026〕3号）",
        ),
        owner="staff of the lead section",
        same_role_elsewhere=("staff of section", "staff of other section"),
        outsiders=("lead section", "inspector not on the team", "discipline"),
        changed=lambda visit: VisitEvidence.objects.filter(visit=visit, kind="penalty").exists(),
    ),
    "visits_create_for_draw": Case(
        make=completed_draw,
        act=lambda actor, draw: visits.visits_create_for_draw(actor=actor, draw=draw),
        owner="head of the lead section",
        same_role_elsewhere=("head of section", "head of other section", "staff of section"),
        outsiders=("inspector not on the team", "discipline", "system admin"),
        changed=lambda draw: Visit.objects.filter(task=draw.task).exists(),
    ),
    "visit_return": Case(
        make=submitted_visit,
        act=lambda actor, visit: visits.visit_return(
            actor=actor, visit=visit, version=visit.version, reason="请补充台账核查情况"
        ),
        owner="head of the lead section",
        same_role_elsewhere=("head of section", "head of other section"),
        outsiders=("staff of the lead section", "lead section", "discipline"),
        changed=lambda visit: Visit.objects.get(pk=visit.pk).status == Visit.Status.RETURNED,
    ),
    "transfer_create": Case(
        make=submitted_visit,
        act=lambda actor, visit: visits.transfer_create(
            actor=actor, visit=visit, department="舞钢市市场监督管理局", content="疑似无证经营"
        ),
        owner="staff of the lead section",
        same_role_elsewhere=("staff of section", "staff of other section"),
        outsiders=("inspector not on the team", "discipline"),
        changed=lambda visit: visit.transfers.exists(),
    ),
    "task_scheme_update": Case(
        make=task,
        act=lambda actor, task: plans.task_scheme_update(
            actor=actor, task=task, methods=["onsite"], content="核查经营许可", schedule="十二月"
        ),
        owner="staff of the lead section",
        same_role_elsewhere=("staff of section", "staff of other section"),
        outsiders=("head of the lead section", "inspector not on the team", "discipline"),
        changed=lambda task: type(task).objects.get(pk=task.pk).content == "核查经营许可",
    ),
    "correction_propose": Case(
        make=published_record,
        act=lambda actor, record: disclosure.correction_propose(
            actor=actor, record=record, result_text="发现问题已责令整改", reason="选错结果"
        ),
        owner="staff of section",
        same_role_elsewhere=("staff of other section", "staff of the lead section"),
        outsiders=("inspector not on the team", "discipline"),
        # The proposal is an approvals request; nothing changes on the record until approved.
        changed=lambda record: ApprovalRequest.objects.filter(object_id=str(record.pk)).exists(),
    ),
    "correction_approval": Case(
        make=proposed_correction,
        act=lambda actor, request: approval_decide(actor=actor, request=request, approve=True),
        owner="head of section",
        same_role_elsewhere=("head of other section", "head of the lead section"),
        outsiders=("staff of section", "discipline"),
        changed=lambda request: (
            ApprovalRequest.objects.get(pk=request.pk).state == ApprovalRequest.State.APPROVED
        ),
    ),
    "objection_record": Case(
        make=published_record,
        act=lambda actor, record: disclosure.objection_record(
            actor=actor, record=record, received_on=D(2026, 11, 18), content="企业称已完成年报"
        ),
        owner="staff of section",
        same_role_elsewhere=("staff of other section", "staff of the lead section"),
        outsiders=("inspector not on the team", "discipline"),
        changed=lambda record: record.objections.exists(),
    ),
    "objection_recheck": Case(
        make=objection,
        act=lambda actor, objection: disclosure.objection_recheck(
            actor=actor, objection=objection, recheck_on=D(2026, 11, 20), conclusion="维持原结果"
        ),
        owner="head of section",
        same_role_elsewhere=("head of other section", "head of the lead section"),
        outsiders=("inspector not on the team", "discipline"),
        changed=lambda objection: (
            type(objection).objects.get(pk=objection.pk).status == type(objection).Status.RECHECKED
        ),
    ),
    "batch_mark_published": Case(
        make=built_batch,
        act=lambda actor, batch: disclosure.batch_mark_published(
            actor=actor, batch=batch, published_on=timezone.localdate()
        ),
        owner="staff of section",
        same_role_elsewhere=("staff of other section", "staff of the lead section"),
        outsiders=("head of section", "discipline"),
        changed=lambda batch: batch.items.filter(outcome="accepted").exists(),
    ),
    "batch_create": Case(
        make=lambda request, people: request.getfixturevalue("make_record")(result="未发现问题"),
        act=lambda actor, record: disclosure.batch_create(actor=actor, section=record.section),
        owner="staff of section",
        same_role_elsewhere=("staff of other section", "staff of the lead section"),
        outsiders=("head of section", "discipline"),
        changed=lambda record: ExportBatch.objects.exists(),
    ),
    "check_item_save": Case(
        make=lambda request, people: request.getfixturevalue("item"),
        act=lambda actor, item: enterprises.check_item_save(
            actor=actor, data={"name": "成品油零售经营资格和台账检查"}, trades=[], item=item
        ),
        owner="staff of section",
        same_role_elsewhere=("staff of other section", "staff of the lead section"),
        outsiders=("head of section", "inspector not on the team", "discipline"),
        changed=lambda item: type(item).objects.get(pk=item.pk).version == 2,
    ),
    # The probe: any editor confirmed another user's import batch.
    "import_batch_apply": Case(
        make=import_batch,
        act=lambda actor, batch: enterprises.import_batch_apply(batch_id=batch.pk, actor=actor),
        owner="staff of section",
        same_role_elsewhere=("staff of other section", "staff of the lead section", "lead section"),
        outsiders=("discipline", "system admin"),
        changed=lambda batch: Enterprise.objects.exists(),
    ),
}


@pytest.mark.parametrize("name", CASES)
def test_the_owner_succeeds_and_others_are_refused(name, request, people):
    case = CASES[name]
    obj = case.make(request, people)
    for who in (*case.same_role_elsewhere, *case.outsiders):
        with pytest.raises(PermissionDenied):
            case.act(people[who], obj)
        assert not case.changed(obj), f"{name}: {who} was refused but the object changed"
    case.act(people[case.owner], obj)
    assert case.changed(obj), f"{name}: the owner ({case.owner}) did not change it"


# --- the same through the pages (404: another's object is not revealed) -----------------------


def client_of(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_an_import_batch_opens_and_confirms_only_for_its_uploader(request, people):
    batch = import_batch(request, people)
    preview = reverse("enterprises:import_preview", args=[batch.pk])
    confirm = reverse("enterprises:import_confirm", args=[batch.pk])
    for who in ("staff of other section", "staff of the lead section", "lead section"):
        client = client_of(people[who])
        assert client.get(preview).status_code == 404
        assert client.post(confirm).status_code == 404
        start = client.get(reverse("enterprises:import_start", args=["enterprises"]))
        assert batch.filename not in start.content.decode()  # not even listed
    assert Client().get(preview).status_code == 302  # anonymous: to the login page
    assert not Enterprise.objects.exists()
    owner = client_of(people["staff of section"])
    assert owner.get(preview).status_code == 200
    assert owner.post(confirm).status_code == 302
    assert ImportBatch.objects.get(pk=batch.pk).status == ImportBatch.Status.APPLIED


def test_a_roster_file_is_confirmed_only_by_the_administrator_who_uploaded_it(people, make_user):
    uploader = people["system admin"]
    batch = roster_upload_store(
        actor=uploader, upload=SimpleUploadedFile("名录.xlsx", roster_xlsx([roster_row()]))
    )
    url = reverse("inspectors:import_confirm")
    other_admin = make_user(Role.SYSTEM_ADMIN, section=None)
    assert client_of(other_admin).post(url, {"file_id": str(batch.pk)}).status_code == 404
    batch.refresh_from_db()
    assert batch.status == batch.Status.PREVIEWED  # untouched by the other administrator
    # The uploader gets past the lookup (without the reference data its rows are refused with a
    # message: the import itself is tests/test_inspectors_import.py's).
    response = client_of(uploader).post(url, {"file_id": str(batch.pk), "sha256": batch.sha256})
    assert response.status_code == 302


def test_a_check_item_is_edited_only_by_its_sections_staff_or_the_lead_section(people, item):
    edit = reverse("enterprises:check_item_edit", args=[item.pk])
    detail = reverse("enterprises:check_item_detail", args=[item.pk])
    for who in ("staff of other section", "staff of the lead section"):
        client = client_of(people[who])
        assert client.get(edit).status_code == 403
        assert edit not in client.get(detail).content.decode()  # no edit button either
    for who in ("staff of section", "lead section"):
        client = client_of(people[who])
        assert client.get(edit).status_code == 200
        assert edit in client.get(detail).content.decode()
    assert Client().get(edit).status_code == 302  # anonymous: to the login page


def test_the_archive_button_and_post_are_for_the_visits_own_section(request, people):
    visit = approved_visit(request, people)
    detail = reverse("inspections:visit_detail", args=[visit.pk])
    archive = reverse("inspections:visit_archive", args=[visit.pk])
    for who in ("staff of section", "staff of other section"):
        client = client_of(people[who])
        assert archive not in client.get(detail).content.decode()
        assert client.post(archive).status_code == 403
    assert Client().post(archive).status_code == 302  # anonymous: to the login page
    owner = client_of(people["staff of the lead section"])
    assert archive in owner.get(detail).content.decode()
    assert owner.post(archive).status_code == 302
    assert Visit.objects.get(pk=visit.pk).status == Visit.Status.ARCHIVED
