"""Tier history and the tier-of-the-day selectors (set-based, constant query count)."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from audit.models import AuditEvent
from enterprises.models import Enterprise, RiskAssessment
from enterprises.selectors import population_with_tiers, tier_of_day
from enterprises.services import risk_assessment_add

from .test_enterprises_factories import make_enterprises


@pytest.fixture
def three(db, section):
    return make_enterprises(3)


def test_tier_of_day_is_latest_effective_on_or_before(users, three):
    a, b, c = three
    actor = users["业务股室"]
    risk_assessment_add(
        actor=actor, enterprise=a, tier="A", effective_date=dt.date(2025, 1, 1), source="股室评定"
    )
    risk_assessment_add(
        actor=actor, enterprise=a, tier="D", effective_date=dt.date(2026, 3, 1), source="国家推送"
    )
    risk_assessment_add(
        actor=actor, enterprise=a, tier="C", effective_date=dt.date(2026, 3, 1), source="更正"
    )
    risk_assessment_add(
        actor=actor, enterprise=b, tier="B", effective_date=dt.date(2026, 6, 1), source="股室评定"
    )
    on = dt.date(2026, 3, 1)
    assert tier_of_day(on=on, enterprise_ids=[a.pk, b.pk, c.pk]) == {
        a.pk: "C",
        b.pk: None,
        c.pk: None,
    }
    assert tier_of_day(on=dt.date(2026, 2, 28), queryset=Enterprise.objects.all())[a.pk] == "A"
    assert tier_of_day(on=dt.date(2024, 12, 31), enterprise_ids=[a.pk]) == {a.pk: None}
    assert tier_of_day(on=dt.date(2026, 6, 1), enterprise_ids=[b.pk]) == {b.pk: "B"}
    assert AuditEvent.objects.filter(event_type="enterprise.tier_add").count() == 4


def test_population_with_tiers_one_query(three):
    for i, e in enumerate(three):
        RiskAssessment.objects.create(
            enterprise=e, tier="ABC"[i], effective_date=dt.date(2026, 1, 1), source="x"
        )
    with CaptureQueriesContext(connection) as ctx:
        rows = dict(
            population_with_tiers(queryset=Enterprise.objects.all(), on=dt.date(2026, 1, 2))
        )
    assert len(ctx.captured_queries) == 1
    assert rows == {three[0].uscc: "A", three[1].uscc: "B", three[2].uscc: "C"}
