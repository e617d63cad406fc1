"""An enterprise's group (所属集团): stored normalised, edited through the form with an audit
event (before → after), shown on the detail page, filtered on the list (keyset, constant
queries), exported by column key."""

import io

import openpyxl
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.roles import Role
from audit.models import AuditEvent
from enterprises.exports import enterprise_rows, export_columns
from enterprises.group_columns import GROUP_COLUMNS
from enterprises.importers import ENTERPRISE_COLUMNS
from enterprises.models import Enterprise, Township, Trade, group_name_normalise
from enterprises.selectors import enterprise_groups, enterprise_search
from enterprises.uscc import uscc_make

from .permissions import assert_role_access
from .test_enterprises_factories import code, make_enterprises

READERS = {
    Role.LEAD_SECTION,
    Role.SECTION_STAFF,
    Role.INSPECTOR,
    Role.SECTION_HEAD,
    Role.DISCIPLINE,
    Role.SYSTEM_ADMIN,
}
GROUP = "河南豫中石油销售集团有限公司"
GROUP_USCC = uscc_make("91410400MA40GRP01")
OTHER = "平顶山中原汽车贸易集团有限公司"


@pytest.fixture
def register(db):
    rows = make_enterprises(6)
    for e in rows[:3]:
        Enterprise.objects.filter(pk=e.pk).update(group_name=GROUP, group_uscc=GROUP_USCC)
    Enterprise.objects.filter(pk=rows[3].pk).update(group_name=OTHER)
    return rows


def form_data(enterprise, **changes):
    data = {
        "uscc": enterprise.uscc,
        "name": enterprise.name,
        "township": Township.objects.first().pk,
        "trades": [Trade.objects.get(code="refined_oil").pk],
        "enterprise_type": "company",
        "status": "active",
    }
    data.update(changes)
    return data


def test_group_name_normalise_collapses_whitespace_like_the_import():
    assert group_name_normalise("  河南豫中\u3000石油  集团\n") == "河南豫中 石油 集团"
    assert group_name_normalise(None) == ""


def test_edit_sets_group_with_audit_before_after(client_for, users, register):
    one = register[5]
    client = client_for(Role.SECTION_STAFF)
    page = client.get(reverse("enterprises:edit", args=[one.pk])).content.decode()
    # the names in use are offered (exact-name matching)
    assert f'<option value="{GROUP}">' in page and 'list="enterprise-groups"' in page
    response = client.post(
        reverse("enterprises:edit", args=[one.pk]),
        form_data(one, group_name=f"  {GROUP} ", group_uscc=GROUP_USCC.lower()),
    )
    assert response.status_code == 302
    one.refresh_from_db()
    assert (one.group_name, one.group_uscc) == (GROUP, GROUP_USCC)
    event = AuditEvent.objects.filter(event_type="enterprise.update").latest("seq")
    assert event.detail["changes"]["group_name"] == ["", GROUP]
    assert event.detail["changes"]["group_uscc"] == ["", GROUP_USCC]
    # leaving the group is an audited change too
    response = client.post(
        reverse("enterprises:edit", args=[one.pk]), form_data(one, group_name="", group_uscc="")
    )
    assert response.status_code == 302
    event = AuditEvent.objects.filter(event_type="enterprise.update").latest("seq")
    assert event.detail["changes"]["group_name"] == [GROUP, ""]


def test_edit_refuses_bad_group_code_and_code_without_name(client_for, users, register):
    one = register[5]
    client = client_for(Role.LEAD_SECTION)
    response = client.post(
        reverse("enterprises:edit", args=[one.pk]),
        form_data(one, group_name=GROUP, group_uscc="91410400MA40GRPI1X"),
    )
    assert response.status_code == 200 and "非法字符" in response.content.decode()
    response = client.post(
        reverse("enterprises:edit", args=[one.pk]), form_data(one, group_uscc=GROUP_USCC)
    )
    assert response.status_code == 200 and "须填写所属集团名称" in response.content.decode()
    one.refresh_from_db()
    assert one.group_name == "" and one.group_uscc == ""


def test_detail_shows_group_with_a_link_to_the_filtered_list(client_for, users, register):
    html = client_for(Role.DISCIPLINE).get(reverse("enterprises:detail", args=[register[0].pk]))
    body = html.content.decode()
    assert GROUP in body and GROUP_USCC in body
    assert "?group=" in body


def test_list_filter_by_group_exact_name_keyset_constant_queries(client_for, users, register):
    url = reverse("enterprises:list")
    assert_role_access(users, f"{url}?group={GROUP}", READERS)
    client = client_for(Role.INSPECTOR)
    response = client.get(url, {"group": GROUP})
    rows = response.context["rows"]
    assert [e.uscc for e in rows] == sorted(code(i) for i in range(3))
    assert GROUP in response.content.decode()
    # the exact (normalised) name, not a substring: "集团" alone matches nobody
    assert list(client.get(url, {"group": "集团"}).context["rows"]) == []
    assert [e.uscc for e in client.get(url, {"group": f" {OTHER} "}).context["rows"]] == [code(3)]
    # queries do not grow with the number of group members
    with CaptureQueriesContext(connection) as small:
        client.get(url, {"group": OTHER})
    with CaptureQueriesContext(connection) as big:
        client.get(url, {"group": GROUP})
    assert len(small) == len(big)


def test_selectors_group_search_and_distinct_names(register):
    import datetime as dt

    found = enterprise_search(params={"group": GROUP}, on=dt.date(2026, 11, 26))
    assert set(found.values_list("pk", flat=True)) == {e.pk for e in register[:3]}
    assert enterprise_groups() == sorted([GROUP, OTHER])


def test_export_rows_carry_group_by_column_key(register):
    columns = [*ENTERPRISE_COLUMNS, *GROUP_COLUMNS]
    headers = [c.header for c in columns]
    rows = {r[0]: r for r in enterprise_rows(Enterprise.objects.all(), columns)}
    group_at, code_at = headers.index("所属集团"), headers.index("集团统一社会信用代码")
    assert rows[code(0)][group_at] == GROUP and rows[code(0)][code_at] == GROUP_USCC
    assert rows[code(3)][group_at] == OTHER and rows[code(3)][code_at] == ""
    assert rows[code(5)][group_at] == ""
    # the other columns did not move
    default = {r[0]: r for r in enterprise_rows(Enterprise.objects.all())}
    width = len(ENTERPRISE_COLUMNS)
    assert all(rows[k][:width] == default[k][:width] for k in rows)


def test_export_headers_follow_the_import_template(client_for, users, register):
    """The export re-imports: its headers are the import's. The group columns are there as
    soon as the import lists them (see docs/enterprises.md, 所属集团)."""
    response = client_for(Role.SECTION_HEAD).get(reverse("enterprises:export"), {"group": GROUP})
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    headers = [c.value for c in sheet[1]]
    assert headers == [c.header for c in export_columns()]
    data = list(sheet.iter_rows(min_row=2, values_only=True))
    assert sorted(r[0] for r in data) == sorted(code(i) for i in range(3))  # filter applied
    if "所属集团" in headers:
        assert {r[headers.index("所属集团")] for r in data} == {GROUP}


@pytest.mark.postgres
def test_insert_naming_only_the_older_columns_stores_empty_group(register):
    """The import's PostgreSQL COPY names the columns it knows; the group columns get their
    database default ''."""
    township = Township.objects.first()
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {Enterprise._meta.db_table} (uscc, name, township_id, "
            "uscc_override_reason, legal_representative, contact_person, contact_phone, "
            "registered_address, business_address, enterprise_type, scale, status, remarks, "
            "created_at, updated_at) VALUES (%s, %s, %s, '', '', '', '', '', '', 'company', '', "
            "'active', '', now(), now())",
            [code(99), "舞钢市直插有限公司", township.pk],
        )
    assert Enterprise.objects.get(uscc=code(99)).group_name == ""


@pytest.mark.django_db
def test_demo_has_two_groups_and_a_group_recusal(settings):
    from cryptography.fernet import Fernet

    from accounts import demo as accounts_demo
    from enterprises import demo as enterprises_demo
    from inspectors import demo as inspectors_demo
    from inspectors.models import Recusal

    if not getattr(settings, "FIELD_ENCRYPTION_KEY", ""):
        settings.FIELD_ENCRYPTION_KEY = Fernet.generate_key().decode()
    for module in (accounts_demo, enterprises_demo, inspectors_demo):
        module.seed(stdout=io.StringIO())
    for name, group_uscc in enterprises_demo.DEMO_GROUPS.values():
        members = Enterprise.objects.filter(group_name=name)
        assert members.count() == 5
        assert set(members.values_list("group_uscc", flat=True)) == {group_uscc}
    recusal = Recusal.objects.get(group=enterprises_demo.DEMO_GROUPS["car_sales"][0])
    assert recusal.inspector.staff_number == "WG005" and recusal.ended_on is None
