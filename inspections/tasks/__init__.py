"""The inspections app's Celery tasks, found by ``app.autodiscover_tasks()`` (which imports
``<app>.tasks``): the background draw (``draws``) and the visits' batch printing (``visits``)."""

from .draws import draw_commit_background, draw_perform_background
from .visits import visits_batch_pdf

__all__ = ["draw_commit_background", "draw_perform_background", "visits_batch_pdf"]
