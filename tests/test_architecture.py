"""How the apps fit together (docs/architecture.md): periodic jobs come from the apps that own
them, and a service queues a task by name."""

import sys
import types

import pytest
from django.apps import AppConfig
from django.conf import settings

from config.celery_app import app, beat_schedule


def test_each_app_declares_its_own_beat_entries():
    schedule = app.conf.beat_schedule
    assert {key: entry["task"] for key, entry in schedule.items()} == {
        "core-notification-email-sweep": "core.tasks.notification_email_sweep",
        "inspectors-certificate-expiry": "inspectors.tasks.certificate_expiry_notify",
        "disclosure-deadline-scan": "disclosure.tasks.deadline_scan",
        "oversight-draws-verify-all": "oversight.tasks.draws_verify_all",
        "accounts-login-throttle-prune": "accounts.tasks.login_throttle_prune",
        "audit-checkpoint": "audit.tasks.audit_checkpoint",
        "enterprises-import-files-prune": "enterprises.tasks.import_files_remove_abandoned",
    }
    assert schedule["oversight-draws-verify-all"]["schedule"].hour == {2}
    assert schedule == beat_schedule(settings.INSTALLED_APPS)
    # No hard-coded block in the settings any more.
    assert not hasattr(settings, "CELERY_BEAT_SCHEDULE")
    from core.background import task_named

    for entry in schedule.values():  # every entry names a registered task
        assert task_named(entry["task"]).name == entry["task"]


def test_two_apps_declaring_one_beat_entry_is_an_error(monkeypatch):
    entry = {"task": "x.tasks.job", "schedule": 60}
    for name in ("app_one", "app_two"):
        module = types.ModuleType(f"{name}.apps")
        config = type("Config", (AppConfig,), {"name": name, "beat_schedule": {"job": entry}})
        module.Config = config
        monkeypatch.setitem(sys.modules, name, types.ModuleType(name))
        monkeypatch.setitem(sys.modules, f"{name}.apps", module)
    assert beat_schedule(["app_one"]) == {"job": entry}
    with pytest.raises(ValueError, match="declared twice"):
        beat_schedule(["app_one", "app_two"])


def test_a_service_finds_a_task_by_its_name():
    from core.background import task_named
    from disclosure import tasks

    assert (
        task_named("disclosure.tasks.export_batch_build")
        is app.tasks["disclosure.tasks.export_batch_build"]
    )
    assert task_named("disclosure.tasks.export_batch_build").run is tasks.export_batch_build.run
