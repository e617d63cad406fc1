"""Background batch printing of a task's documents (imported by InspectionsConfig.ready(), so the
worker registers it; ``tasks.py`` is left to the other parts of the app)."""

from celery import shared_task


@shared_task
def visits_batch_pdf(task_id: int, kinds: list[str], filled: bool, user_id: int) -> str:
    """Render, store and notify. Safe to run twice (one notification per content)."""
    from accounts.models import User

    from .models import Task
    from .services.visits import batch_pdf_store

    stored = batch_pdf_store(
        actor=User.objects.get(pk=user_id),
        task=Task.objects.get(pk=task_id),
        kinds=kinds,
        filled=filled,
    )
    return str(stored.pk)
