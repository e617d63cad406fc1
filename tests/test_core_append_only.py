"""Every append-only model refuses change and deletion at the queryset level too (a bulk
``update()`` or ``delete()`` would otherwise skip the instance guard)."""

import pytest
from django.apps import apps

from core.append_only import AppendOnlyError, AppendOnlyModel, AppendOnlyQuerySet

APPEND_ONLY_MODELS = sorted(
    (model for model in apps.get_models() if issubclass(model, AppendOnlyModel)),
    key=lambda model: model._meta.label,
)
GUARDED_BY_QUERYSET = sorted(
    (
        model
        for model in apps.get_models()
        if isinstance(model._default_manager.all(), AppendOnlyQuerySet)
    ),
    key=lambda model: model._meta.label,
)


def test_the_records_that_must_never_change_are_all_guarded():
    labels = {model._meta.label for model in GUARDED_BY_QUERYSET}
    expected = {
        "audit.AuditEvent",
        "core.StoredFile",
        "inspections.Draw",
        "inspections.DrawWitness",
        "inspections.DrawSelection",
        "inspections.DrawTeamMember",
        "inspections.DrawReplacement",
        "inspections.JointVisit",
        "inspections.VisitEvidence",
        "inspections.VisitReview",
        "inspections.VisitArchive",
        "inspections.VisitArchiveDocument",
    }
    assert expected <= labels


@pytest.mark.django_db
@pytest.mark.parametrize("model", GUARDED_BY_QUERYSET, ids=lambda m: m._meta.label)
def test_queryset_update_and_delete_are_refused(model):
    with pytest.raises(AppendOnlyError) as update:
        model.objects.all().update(pk=1)
    assert "不能修改" in str(update.value)
    with pytest.raises(AppendOnlyError) as delete:
        model.objects.all().delete()
    assert "不能删除" in str(delete.value)


@pytest.mark.parametrize("model", APPEND_ONLY_MODELS, ids=lambda m: m._meta.label)
def test_an_existing_instance_cannot_be_saved_or_deleted(model):
    instance = model()
    instance._state.adding = False  # as if loaded from the database
    with pytest.raises(AppendOnlyError):
        instance.save()
    with pytest.raises(AppendOnlyError):
        instance.delete()
