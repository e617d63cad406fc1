"""The public selected list (抽取名单, /inspections/draws/<id>/public/): the names frozen with the
draw, and an honest verification line (issue 21 item 11)."""

from types import SimpleNamespace

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from enterprises.models import Enterprise
from inspections.models import DrawPopulationNames, DrawSelection, ImmutableError
from inspections.selectors import draws as selectors
from inspections.services import draws as draw_services
from tests.visits_fixtures import complete_draw

pytestmark = pytest.mark.usefixtures("visits_today")


@pytest.fixture
def completed(lead, make_task, make_enterprises, roster):
    make_enterprises({"A": 6, "C": 2, "D": 2})
    return complete_draw(make_task(), lead)


def public_page(draw) -> str:
    response = Client().get(reverse("inspections:draw_public", args=[draw.pk]))
    assert response.status_code == 200
    return response.content.decode()


def test_a_rename_after_the_draw_keeps_the_frozen_name_on_the_public_list(completed):
    selection = DrawSelection.objects.filter(draw=completed).select_related("enterprise").first()
    frozen = selection.enterprise.name
    Enterprise.objects.filter(pk=selection.enterprise_id).update(name="舞钢市改名后的企业")

    body = public_page(completed)
    assert frozen in body and "舞钢市改名后的企业" not in body
    assert "企业名称为抽取时（名单冻结时）的名称" in body
    assert "已验证" in body and "验证失败" not in body


def test_the_names_are_written_once_at_the_freeze_for_the_whole_population(completed):
    names = selectors.frozen_names(completed)
    assert len(names) == completed.population_count
    assert names == dict(Enterprise.objects.filter(uscc__in=names).values_list("uscc", "name"))
    row = DrawPopulationNames.objects.get(draw=completed)
    with pytest.raises(ImmutableError):
        row.save()


def test_an_older_draw_without_frozen_names_shows_current_names_labelled(
    lead, make_task, make_enterprises, roster, monkeypatch
):
    # A draw frozen before the names were kept: nothing is written at its freeze.
    monkeypatch.setattr(
        draw_services,
        "DrawPopulationNames",
        SimpleNamespace(objects=SimpleNamespace(create=lambda **fields: None)),
    )
    make_enterprises({"A": 6, "D": 2})
    draw = complete_draw(make_task(), lead)
    selection = DrawSelection.objects.filter(draw=draw).first()
    Enterprise.objects.filter(pk=selection.enterprise_id).update(name="舞钢市现名企业")

    body = public_page(draw)
    assert "舞钢市现名企业" in body
    assert "企业名称（当前）" in body and "可能与抽取时不同" in body


def test_a_tampered_selection_shows_verification_failed(completed):
    # An attacker with DDL rights drops the guard and rewrites a ticket (rolled back with the
    # test), as tests/test_draws_commands.py does for verify_draw.
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "DROP TRIGGER inspections_drawselection_append_only ON inspections_drawselection"
            )
        else:
            cursor.execute("DROP TRIGGER inspections_drawselection_no_update")
        cursor.execute(
            "UPDATE inspections_drawselection SET ticket = %s WHERE draw_id = %s",
            ["f" * 64, completed.pk],
        )

    body = public_page(completed)
    assert "验证失败" in body and "已验证" not in body


def test_the_verification_and_the_frozen_list_are_cached_per_draw(completed, monkeypatch):
    runs, loads = [], []
    verify, names = selectors.draw_verification, selectors.frozen_names
    monkeypatch.setattr(selectors, "draw_verification", lambda d: runs.append(d.pk) or verify(d))
    monkeypatch.setattr(selectors, "frozen_names", lambda d: loads.append(d.pk) or names(d))

    for _ in range(3):
        assert "已验证" in public_page(completed)
    assert runs == [completed.pk] and loads == [completed.pk]


def test_the_verification_line_and_the_names_note_are_translated(completed):
    client = Client()
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    body = client.get(reverse("inspections:draw_public", args=[completed.pk])).content.decode()
    assert "Verified" in body and "everything matches" in body
    assert "Enterprise name (at the draw)" in body
