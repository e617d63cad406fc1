"""Section scoping of the publication screens (谁检查、谁录入、谁公示): inspectors see their own
visits' records, section staff and heads their section's; the lead section, the discipline
group and the system admin see all. Another section's object answers 404; lists stay bounded."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.roles import Role
from approvals.models import ApprovalRequest
from disclosure import selectors as sel
from disclosure import services as svc
from disclosure.models import ExportBatch, Objection, PublicationRecord, PublicationVersion
from tests.disclosure_publication_fixtures import D, frozen

Status = PublicationRecord.Status


@pytest.fixture
def world(users, make_user, make_record, section, other_section, inspector_user):
    """Section A (``section``: the users fixture's staff, head and inspector sit there) and
    section B with its own staff, head and inspector; one record in each."""
    people = {
        "staff_a": users[Role.SECTION_STAFF],
        "head_a": users[Role.SECTION_HEAD],
        "insp_a": inspector_user,  # checked record A
        "insp_a2": users[Role.INSPECTOR],  # same section, did not check record A
        "staff_b": make_user(Role.SECTION_STAFF, section=other_section, username="staff_b"),
        "head_b": make_user(Role.SECTION_HEAD, section=other_section, username="head_b"),
        "insp_b": make_user(Role.INSPECTOR, section=other_section, username="insp_b"),
        "lead": users[Role.LEAD_SECTION],
        "discipline": users[Role.DISCIPLINE],
        "sysadmin": users[Role.SYSTEM_ADMIN],
        "secadmin": users[Role.SECURITY_ADMIN],
    }
    rec_a = make_record(
        section=section, inspectors=[inspector_user], enterprise=None, check_end=D(2026, 10, 3)
    )
    rec_b = make_record(
        section=other_section, inspectors=[people["insp_b"]], check_end=D(2026, 10, 3)
    )
    return {"p": people, "a": rec_a, "b": rec_b}


def client(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


SEES_A = {"staff_a", "head_a", "insp_a", "lead", "discipline", "sysadmin"}
SEES_B = {"staff_b", "head_b", "insp_b", "lead", "discipline", "sysadmin"}
READERS = SEES_A | SEES_B | {"insp_a2"}


# --- the scope itself ---------------------------------------------------------------------------


def test_scope_per_role(world):
    p, a, b = world["p"], world["a"], world["b"]
    for name in READERS:
        seen = set(sel.records_for(p[name]).values_list("pk", flat=True))
        expected = ({a.pk} if name in SEES_A else set()) | ({b.pk} if name in SEES_B else set())
        assert seen == expected, name


def test_a_user_with_two_roles_sees_the_union(world, make_user, section, other_section):
    a, b = world["a"], world["b"]
    both = make_user(Role.SECTION_STAFF, Role.INSPECTOR, section=section, username="both")
    b.inspectors.add(both)  # checked a visit of the other section (a joint task)
    assert set(sel.records_for(both).values_list("pk", flat=True)) == {a.pk, b.pk}


def test_section_staff_without_a_section_see_nothing(world, make_user):
    loose = make_user(Role.SECTION_STAFF, username="loose")
    assert not sel.records_for(loose).exists()


# --- lists --------------------------------------------------------------------------------------


def test_record_list_shows_only_the_scope(world):
    p, a, b = world["p"], world["a"], world["b"]
    url = reverse("disclosure:publication_list")
    for name in READERS:
        body = client(p[name]).get(url).content.decode()
        assert (a.enterprise_name in body) == (name in SEES_A), name
        assert (b.enterprise_name in body) == (name in SEES_B), name
    lead = client(p["lead"]).get(url).content.decode()
    staff = client(p["staff_a"]).get(url).content.decode()
    assert "待报送（2）" in lead and "全部股室的公示记录" in lead
    assert "待报送（1）" in staff and "本股室（市场运行股）的公示记录" in staff
    assert "本人参加检查的公示记录" in client(p["insp_a"]).get(url).content.decode()


def test_filtered_lists_are_scoped_too(world):
    p, a, b = world["p"], world["a"], world["b"]
    with frozen(D(2026, 11, 10)):
        svc.deadline_scan()
    url = reverse("disclosure:publication_list") + "?f=overdue"
    head_b = client(p["head_b"]).get(url).content.decode()
    assert b.enterprise_name in head_b and a.enterprise_name not in head_b
    assert "已逾期（1）" in head_b
    discipline = client(p["discipline"]).get(url).content.decode()
    assert a.enterprise_name in discipline and b.enterprise_name in discipline
    search = client(p["staff_b"]).get(reverse("disclosure:publication_list"), {"q": a.uscc})
    assert a.enterprise_name not in search.content.decode()


def test_list_queries_are_bounded(world, make_record, section, monkeypatch):
    """The same number of queries for 2 and 27 records, filter counts capped, no page total."""
    lead = client(world["p"]["lead"])
    url = reverse("disclosure:publication_list")
    lead.get(url)  # warm the per-process caches (calendar, content types)
    with CaptureQueriesContext(connection) as few:
        lead.get(url)
    for _ in range(25):
        make_record(section=section)
    with CaptureQueriesContext(connection) as many:
        response = lead.get(url)
    assert len(many) == len(few)
    assert "待报送（27）" in response.content.decode()
    # Counting stops at the cap: at most cap + 1 rows are read per filter.
    monkeypatch.setattr("core.paging.capped_count.__defaults__", (10,))
    body = lead.get(url).content.decode()
    assert "待报送（10+）" in body


def test_pages_without_a_total(world, make_record, section):
    for _ in range(50):
        make_record(section=section)
    staff = client(world["p"]["staff_a"])
    first = staff.get(reverse("disclosure:publication_list")).content.decode()
    assert "第 1 页" in first and "page=2" in first
    second = staff.get(reverse("disclosure:publication_list") + "?page=2").content.decode()
    assert "第 2 页" in second and "page=1" in second and "page=3" not in second
    bad = staff.get(reverse("disclosure:publication_list") + "?page=abc")
    assert bad.status_code == 200


# --- direct object URLs -------------------------------------------------------------------------


def test_record_detail_owner_other_section_and_outsider(world):
    p, a, b = world["p"], world["a"], world["b"]
    for record, sees in ((a, SEES_A), (b, SEES_B)):
        url = reverse("disclosure:publication_detail", args=[record.pk])
        for name in READERS:
            expected = 200 if name in sees else 404
            assert client(p[name]).get(url).status_code == expected, (name, record)
        assert client(p["secadmin"]).get(url).status_code == 403  # no business role
        anonymous = Client().get(url)
        assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]


def test_correction_of_another_sections_record_is_404(world):
    p, a = world["p"], world["a"]
    url = reverse("disclosure:correction_propose", args=[a.pk])
    data = {"result_text": "发现问题已责令整改", "reason": "录入错误"}
    assert client(p["staff_b"]).post(url, data).status_code == 404
    assert client(p["insp_a2"]).post(url, data).status_code == 404  # did not check it
    assert not PublicationVersion.objects.filter(record=a, number=2).exists()
    assert client(p["secadmin"]).post(url, data).status_code == 403
    assert client(p["insp_a"]).post(url, data).status_code == 302
    assert not PublicationVersion.objects.filter(record=a, number=2).exists()  # asked only
    approval = ApprovalRequest.objects.get(kind="disclosure.correction", object_id=str(a.pk))
    decide = reverse("approvals:decide", args=[approval.pk])
    # another section's head neither sees nor decides it
    assert (
        client(p["head_b"]).get(reverse("approvals:detail", args=[approval.pk])).status_code == 403
    )
    assert client(p["head_b"]).post(decide, {"decision": "approve"}).status_code == 403
    assert not PublicationVersion.objects.filter(record=a, number=2).exists()
    assert client(p["head_a"]).post(decide, {"decision": "approve"}).status_code == 302
    version = PublicationVersion.objects.get(record=a, number=2)
    assert (
        version.status == PublicationVersion.Status.APPROVED and version.approved_by == p["head_a"]
    )


def test_objections_of_another_section_are_404(world):
    p, a = world["p"], world["a"]
    a.published_version = a.current_version
    a.save()
    url = reverse("disclosure:objection_create", args=[a.pk])
    data = {"received_on": "2026-11-20", "content": "企业对结果有异议"}
    assert client(p["staff_b"]).post(url, data).status_code == 404
    assert not Objection.objects.exists()
    assert client(p["staff_a"]).post(url, data).status_code == 302
    objection = Objection.objects.get()
    recheck = reverse("disclosure:objection_recheck", args=[objection.pk])
    data = {"recheck_on": "2026-11-25", "conclusion": "维持"}
    assert client(p["head_b"]).post(recheck, data).status_code == 404
    assert client(p["insp_b"]).post(recheck, data).status_code == 404
    assert client(p["head_a"]).post(recheck, data).status_code == 302
    objection.refresh_from_db()
    assert objection.recheck_by == p["head_a"]


# --- batches ------------------------------------------------------------------------------------


def test_section_staff_send_their_own_section_only(world):
    p, a, b = world["p"], world["a"], world["b"]
    response = client(p["staff_a"]).post(reverse("disclosure:batch_create"), {"since": ""})
    batch = ExportBatch.objects.get()
    assert response.status_code == 302
    assert list(batch.items.values_list("record_id", flat=True)) == [a.pk]
    a.refresh_from_db()
    b.refresh_from_db()
    assert (a.status, b.status) == (Status.SENT, Status.PENDING)
    detail = reverse("disclosure:batch_detail", args=[batch.pk])
    for name in READERS:
        expected = 200 if name in SEES_A else 404
        assert client(p[name]).get(detail).status_code == expected, name
    for view in ("batch_progress", "batch_feedback", "batch_published"):
        url = reverse(f"disclosure:{view}", args=[batch.pk])
        method = "get" if view == "batch_progress" else "post"
        assert getattr(client(p["staff_b"]), method)(url).status_code == 404, view
        assert getattr(client(p["secadmin"]), method)(url).status_code == 403, view
    listing = client(p["staff_b"]).get(reverse("disclosure:batch_list")).content.decode()
    assert batch.number not in listing
    own = client(p["staff_a"]).get(reverse("disclosure:batch_list")).content.decode()
    assert batch.number in own and "新建本股室（市场运行股）批次（待报送 0 条）" in own
    published = client(p["staff_a"]).post(
        reverse("disclosure:batch_published", args=[batch.pk]), {"published_on": "2026-10-20"}
    )
    assert published.status_code == 302
    a.refresh_from_db()
    assert a.status == Status.PUBLISHED


def test_a_bureau_wide_batch_shows_each_section_its_rows_and_only_the_lead_acts_on_it(world):
    p, a, b = world["p"], world["a"], world["b"]
    client(p["lead"]).post(reverse("disclosure:batch_create"), {"since": ""})
    batch = ExportBatch.objects.get()
    assert batch.row_count == 2
    detail = reverse("disclosure:batch_detail", args=[batch.pk])
    staff = client(p["staff_a"]).get(detail).content.decode()
    assert a.enterprise_name in staff and b.enterprise_name not in staff
    assert "下载 xlsx" not in staff and "导入反馈" not in staff
    assert "本批次包含其他股室的记录" in staff
    progress = client(p["staff_a"]).get(reverse("disclosure:batch_progress", args=[batch.pk]))
    assert "下载 xlsx" not in progress.content.decode()
    lead = client(p["lead"]).get(detail).content.decode()
    assert a.enterprise_name in lead and b.enterprise_name in lead and "下载 xlsx" in lead
    url = reverse("disclosure:batch_published", args=[batch.pk])
    assert client(p["staff_a"]).post(url, {"published_on": "2026-10-20"}).status_code == 403
    a.refresh_from_db()
    assert a.status == Status.SENT
    assert client(p["lead"]).post(url, {"published_on": "2026-10-20"}).status_code == 302
    a.refresh_from_db()
    b.refresh_from_db()
    assert a.status == b.status == Status.PUBLISHED


def test_a_batch_file_downloads_only_for_those_who_see_every_row(world):
    from disclosure import services as svc

    p = world["p"]
    own = svc.batch_create(actor=p["staff_a"], section=p["staff_a"].section)
    svc.batch_start(own)
    own.refresh_from_db()
    url = reverse("core:file_download", args=[own.xlsx_file_id])
    assert client(p["staff_a"]).get(url).status_code == 200
    assert client(p["staff_b"]).get(url).status_code == 403  # another section's file
    assert client(p["lead"]).get(url).status_code == 200

    whole = svc.batch_create(actor=p["lead"])  # the rest: section B's record
    svc.batch_start(whole)
    whole.refresh_from_db()
    url = reverse("core:file_download", args=[whole.xlsx_file_id])
    assert client(p["staff_b"]).get(url).status_code == 200
    assert client(p["staff_a"]).get(url).status_code == 403


def test_the_dashboard_counts_exactly_the_records_the_list_shows(world):
    import re

    PublicationRecord.objects.update(alert=PublicationRecord.Alert.OVERDUE)
    p = world["p"]

    def overdue_count(name):
        html = client(p[name]).get(reverse("core:dashboard")).content.decode()
        return int(re.search(r'\?f=overdue">[^<]+</a>：<strong[^>]*>(\d+)<', html).group(1))

    expected = {"staff_a": 1, "insp_a": 1, "insp_a2": 0, "staff_b": 1, "lead": 2}
    assert {name: overdue_count(name) for name in expected} == expected
