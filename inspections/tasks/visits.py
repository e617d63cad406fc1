"""Background batch printing of a task's documents. The task name stays that of the module it was
first written in (docs/decisions.md, decision 102)."""

from celery import shared_task

from accounts.models import User

from ..models import Task
from ..services.visits import batch_pdf_store


@shared_task(name="inspections.tasks_visits.visits_batch_pdf")
def visits_batch_pdf(task_id: int, kinds: list[str], filled: bool, user_id: int) -> str:
    """Render, store and notify. Safe to run twice (one notification per content)."""
    stored = batch_pdf_store(
        actor=User.objects.get(pk=user_id),
        task=Task.objects.get(pk=task_id),
        kinds=kinds,
        filled=filled,
    )
    return str(stored.pk)
