"""The demo visits: every state is there, made through the services (with audit events)."""

import io

import pytest

from inspections.models import Visit


@pytest.mark.django_db
def test_demo_has_a_visit_in_every_state(settings):
    from cryptography.fernet import Fernet

    from accounts import demo as accounts_demo
    from audit.models import AuditEvent
    from enterprises import demo as enterprises_demo
    from inspections import demo as inspections_demo
    from inspections.demo import visits as demo_visits
    from inspectors import demo as inspectors_demo

    if not getattr(settings, "FIELD_ENCRYPTION_KEY", ""):
        settings.FIELD_ENCRYPTION_KEY = Fernet.generate_key().decode()
    for module in (accounts_demo, enterprises_demo, inspectors_demo, inspections_demo):
        module.seed(stdout=io.StringIO())
    out = io.StringIO()
    demo_visits.seed(stdout=out)
    states = set(Visit.objects.values_list("status", flat=True))
    assert states == set(Visit.Status.values), out.getvalue()
    archived = Visit.objects.get(status=Visit.Status.ARCHIVED)
    assert archived.archive.documents.count() >= 5  # three documents and the photos
    assert archived.reviews.filter(decision="return").exists()
    assert Visit.objects.get(status=Visit.Status.SUBMITTED).non_cooperations.exists()
    assert AuditEvent.objects.filter(event_type="visit.archive").count() == 1
    demo_visits.seed(stdout=out)  # a second run changes nothing
    assert "已存在" in out.getvalue()
