"""How a service hands work to the Celery worker: it names the task.

Tasks sit above services (a task takes ids, fetches and calls a service), so a service that
queues follow-up work looks the task up by its registered name instead of importing the tasks
module — as a URLconf names views by string — and the import graph keeps no cycle
(docs/architecture.md, "Layers"). The task object is the registered one: eager mode and tests
that patch ``<task>.delay`` behave as with a direct import.
"""

from typing import Any

from celery import Task, current_app


def task_named(name: str) -> "Task[Any, Any]":
    """The registered Celery task called ``name``."""
    if name not in current_app.tasks:
        # A web process imports an app's tasks module only when something uses it.
        current_app.loader.import_default_modules()
    return current_app.tasks[name]
