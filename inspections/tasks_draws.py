"""Background draws: the perform step of a large draw (above
``services.draws.DRAW_BACKGROUND_MIN_POPULATION`` enterprises) runs here, with its progress in
the cache for the draw page's status fragment. Registered through ``inspections/tasks.py``
(Celery's autodiscovery)."""

from celery import shared_task


@shared_task
def draw_perform_background(draw_id: int) -> str:
    """Perform the draw from the witnesses' inputs recorded on it. Takes the draw id; safe to
    run twice (a completed, voided or failed draw is left alone). A shortfall is recorded as
    ``draw.perform_failed`` by the service, as for a draw performed in the request."""
    from .services.draws import DrawError, draw_perform_run

    try:
        draw = draw_perform_run(draw_id=draw_id)
    except DrawError:
        return "failed"
    return draw.status
