"""Background draws: the perform step of a large draw (above
``services.draws.DRAW_BACKGROUND_MIN_POPULATION`` enterprises) and the commit step of a large
register (above ``services.draws.DRAW_COMMIT_BACKGROUND_MIN_REGISTER``, estimated) run here,
with their progress in the cache for the pages' status fragments. Registered through
``inspections/tasks/__init__.py`` (Celery's autodiscovery). The task names stay those of the
module they were first written in, so messages queued before an upgrade still run
(docs/decisions.md, decision 102)."""

from celery import shared_task

from ..services.draws import DrawError, draw_commit_run, draw_perform_run


@shared_task(name="inspections.tasks_draws.draw_perform_background")
def draw_perform_background(draw_id: int) -> str:
    """Perform the draw from the witnesses' inputs recorded on it. Takes the draw id; safe to
    run twice (a completed, voided or failed draw is left alone). A shortfall is recorded as
    ``draw.perform_failed`` by the service, as for a draw performed in the request."""
    try:
        draw = draw_perform_run(draw_id=draw_id)
    except DrawError:
        return "failed"
    return draw.status


@shared_task(name="inspections.tasks_draws.draw_commit_background")
def draw_commit_background(task_id: int, actor_id: int) -> str:
    """Freeze the task's list (``draw_commit``) for the pending ``draw.commit_requested``.
    Takes ids; safe to run twice (with no pending request it changes nothing, and the service
    never makes a second live draw). A refusal is recorded as ``draw.commit_failed``."""
    try:
        draw = draw_commit_run(task_id=task_id, actor_id=actor_id)
    except DrawError:
        return "failed"
    return draw.status if draw is not None else "none"
