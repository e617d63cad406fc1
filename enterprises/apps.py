from celery.schedules import crontab
from django.apps import AppConfig


class EnterprisesConfig(AppConfig):
    name = "enterprises"
    verbose_name = "检查对象名录库"
    beat_schedule = {
        # daily, 03:20 Asia/Shanghai: files of import batches never confirmed, past their age
        "enterprises-import-files-prune": {
            "task": "enterprises.tasks.import_files_remove_abandoned",
            "schedule": crontab(hour=3, minute=20),
        },
    }
