"""No input gives a 500 (issue 21 item 7): the one parser of query parameters, the probe's
malformed requests, and simultaneous import confirmations (one success, clear messages)."""

import datetime as dt
import threading
import uuid

import pytest
from django.contrib.messages import get_messages
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.http import QueryDict
from django.test import Client
from django.urls import reverse
from django.utils.datastructures import MultiValueDict

from accounts.roles import Role
from core.params import param_choice, param_date, param_int, param_text, param_uuid
from enterprises import services as enterprise_services
from enterprises.models import CheckItem, Enterprise, ImportBatch, Trade
from inspectors import services as inspector_services
from inspectors.models import Inspector

from .test_enterprises_import_batches import big_xlsx
from .test_inspectors_import import row as roster_row
from .test_inspectors_import import xlsx as roster_xlsx


def _q(**values) -> QueryDict:
    query = QueryDict(mutable=True)
    query.update(MultiValueDict({k: [v] for k, v in values.items()}))
    return query


def test_param_int_takes_ascii_digits_only():
    assert "²".isdigit()  # why isdigit() was not enough: int("²") raises
    assert param_int(_q(year="²"), "year") is None
    assert param_int(_q(year="١٢"), "year") is None  # Arabic-Indic digits: int() accepts them
    assert param_int(_q(year=" 2026 "), "year") == 2026
    assert param_int(_q(year="-1"), "year") is None
    assert param_int(_q(year=str(2**63)), "year") is None  # beyond a bigint
    assert param_int(_q(year="2026"), "year", maximum=2100) == 2026
    assert param_int(_q(year="3000"), "year", default=7, maximum=2100) == 7
    assert param_int(_q(), "year", default=3) == 3


def test_param_date_keeps_to_2000_through_2100():
    assert param_date(_q(to="2026-12-07"), "to") == dt.date(2026, 12, 7)
    assert param_date(_q(to="0001-01-01"), "to") is None
    assert param_date(_q(to="9999-12-31"), "to") is None
    assert param_date(_q(to="2026-02-30"), "to") is None
    assert param_date(_q(to="２０２６-01-01"), "to") is None
    assert param_date(_q(to="20261207"), "to") is None


def test_param_text_refuses_nul_strips_and_caps():
    assert param_text(_q(q="\x00"), "q") == ""
    assert param_text(_q(q="a\x00b"), "q") == ""
    assert param_text(_q(q="  钢  "), "q") == "钢"
    assert param_text(_q(q="x" * 5000), "q") == "x" * 100
    assert param_text(_q(q="x" * 50), "q", max_length=10) == "x" * 10


def test_param_choice_and_uuid():
    assert param_choice(_q(status="open"), "status", ["open", "closed"]) == "open"
    assert param_choice(_q(status="\x00"), "status", ["open"]) == ""
    value = uuid.uuid4()
    assert param_uuid(_q(file_id=str(value)), "file_id") == value
    assert param_uuid(_q(file_id="not-a-uuid"), "file_id") is None


def test_roster_confirm_with_a_malformed_file_id_is_404_not_500(client_for):
    client = client_for(Role.SYSTEM_ADMIN)
    response = client.post(reverse("inspectors:import_confirm"), {"file_id": "not-a-uuid"})
    assert response.status_code == 404


def test_a_huge_calendar_year_is_404_not_500(client_for):
    response = client_for(Role.SECTION_STAFF).get("/calendar/9223372036854775815/")
    assert response.status_code == 404


@pytest.mark.django_db
def test_a_batch_already_applied_is_not_applied_again(users):
    batch = ImportBatch.objects.create(
        kind="enterprises",
        filename="x.xlsx",
        stored_path="/nonexistent.xlsx",
        sha256="0" * 64,
        size=1,
        created_by=users[Role.SECTION_STAFF],
        status=ImportBatch.Status.APPLIED,
    )
    assert enterprise_services.import_batch_apply(batch_id=batch.pk) is False


def _race(count, work):
    barrier = threading.Barrier(count)
    results = []

    def run(i):
        try:
            barrier.wait()
            results.append(work(i))
        except Exception as exc:  # a 500 or a database error must show in the result
            results.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_four_simultaneous_confirmations_of_one_batch_one_success(users, other_section):
    """The probe's four sessions confirming one batch at once: two answered 500 (UniqueViolation).
    Now one imports, the others are told another confirmation is under way or done."""
    from enterprises.demo import seed_reference

    seed_reference()
    staff = users[Role.SECTION_STAFF]
    uploader = Client()
    uploader.force_login(staff)
    uploader.post(
        reverse("enterprises:import_start", args=["enterprises"]),
        {"file": SimpleUploadedFile("名录.xlsx", big_xlsx(400))},
    )
    batch = ImportBatch.objects.get()
    assert batch.status == ImportBatch.Status.PREVIEWED
    clients = []
    for _ in range(4):
        client = Client(raise_request_exception=False)
        client.force_login(staff)
        clients.append(client)

    def confirm(i):
        response = clients[i].post(reverse("enterprises:import_confirm", args=[batch.pk]))
        assert response.status_code == 302, response.status_code
        return [str(m) for m in get_messages(response.wsgi_request)]

    results = _race(4, confirm)
    assert all(isinstance(r, list) for r in results), results
    texts = [" ".join(r) for r in results]
    assert sum("导入完成" in t for t in texts) == 1, texts
    assert all(("导入完成" in t) or ("已处理" in t) or ("另一次确认" in t) for t in texts), texts
    assert Enterprise.objects.count() == 400
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.APPLIED


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_simultaneous_roster_imports_write_once_and_say_why(users, section):
    trade = Trade.objects.create(code="oil", name="成品油零售", section=section)
    CheckItem.objects.create(
        code="GX-001", name="成品油零售经营资格检查", legal_basis="x", section=section
    )
    assert trade.pk
    data = roster_xlsx([roster_row(**{"登录账户": ""})])
    admin = users[Role.SYSTEM_ADMIN]

    def run(_i):
        import io

        try:
            _preview, written = inspector_services.inspector_import(
                actor=admin, source=io.BytesIO(data), filename="roster.xlsx"
            )
        except ValidationError as exc:
            return " ".join(exc.messages)
        return written

    results = _race(4, run)
    assert not [r for r in results if isinstance(r, Exception)], results
    assert sum(isinstance(r, dict) and r["created"] == 1 for r in results) == 1, results
    for r in results:
        assert isinstance(r, dict) or "另一次导入同时写入了相同的人员" in r
    assert Inspector.objects.count() == 1
