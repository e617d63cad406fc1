"""Background imports of big files (progress shown by polling ``import_status``)."""

from celery import shared_task

from .services import import_batch_apply, import_batch_preview, import_files_prune


@shared_task
def import_batch_run(batch_id: int, stage: str) -> None:
    """``stage`` is "preview" or "apply". Safe to run twice: a finished batch is left alone."""
    if stage == "preview":
        import_batch_preview(batch_id=batch_id)
    else:
        import_batch_apply(batch_id=batch_id)


@shared_task
def import_files_remove_abandoned() -> int:
    """Daily: the files of import batches never confirmed, past their age, are deleted."""
    return import_files_prune()
