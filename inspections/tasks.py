"""The inspections app's Celery tasks, found by ``app.autodiscover_tasks()`` (which imports
``<app>.tasks``): the background draw and the visits' batch printing."""

from .tasks_draws import draw_commit_background, draw_perform_background  # noqa: F401
from .tasks_visits import visits_batch_pdf  # noqa: F401
