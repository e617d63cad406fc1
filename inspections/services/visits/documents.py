"""The visits' file purposes (evidence, signatures, archive, batch PDFs) with their read rules,
registered on import, and batch printing in the background.
"""

from __future__ import annotations

import hashlib
import json

from django.db import transaction
from django.urls import reverse

from audit.services import audit_record
from core.models import Notification, StoredFile
from core.services import notification_send
from core.uploads import AUDIO_KINDS, file_store, register_file_purpose

from ...selectors import visits as selectors

# --- file purposes (registered when the app is ready: inspections/apps.py) -----------------------


def _can_read_visit_file(user, stored) -> bool:
    return selectors.can_read_file(user, stored)


register_file_purpose(
    "visit_evidence",
    kinds={"jpeg", "png", "pdf", *AUDIO_KINDS},
    can_read=_can_read_visit_file,
)
register_file_purpose(
    "visit_signature", kinds={"png"}, can_read=_can_read_visit_file, max_bytes=2 * 1024 * 1024
)
register_file_purpose("visit_archive", kinds={"pdf"}, can_read=_can_read_visit_file)


def batch_pdf_store(*, actor, task, kinds, filled: bool = True):
    """Batch printing in the background: render every chosen document of the task's visits as
    one PDF, store it and tell the requester where to download it (safe to run twice: the
    notification is sent once per content)."""
    visits = list(selectors.visit_list(task_id=task.pk))
    # What is printed (the visits at their versions, the documents, blank or filled): the same
    # request run twice renders and notifies once.
    signature = hashlib.sha256(
        json.dumps([[v.pk, v.version] for v in visits] + [list(kinds), filled]).encode()
    ).hexdigest()[:24]
    key = f"visit-batch-{task.pk}-{signature}"
    done = Notification.objects.filter(recipient=actor, key=key).first()
    if done is not None:
        return StoredFile.objects.get(pk=done.link.rstrip("/").rsplit("/", 1)[-1])
    pdf = selectors.visits_pdf(visits, tuple(kinds), filled=filled)
    name = f"检查文书-{task.number}{'-空白' if not filled else ''}.pdf"
    with transaction.atomic():
        stored = file_store(upload=(name, pdf), purpose="visit_batch", actor=actor)
        audit_record(
            event_type="visit.batch_pdf",
            actor=actor,
            obj=task,
            detail={
                "after": {
                    "visits": len(visits),
                    "kinds": list(kinds),
                    "filled": filled,
                    "file": str(stored.pk),
                    "sha256": stored.sha256,
                }
            },
        )
        notification_send(
            recipient=actor,
            key=key,
            title=f"批量打印文件已生成：{task.number}",
            body=f"{len(visits)} 户企业的检查文书，共 {stored.size // 1024} KB。",
            link=reverse("core:file_download", args=[stored.pk]),
        )
    return stored


def _can_read_batch(user, stored) -> bool:
    return selectors.can_read(user)


register_file_purpose("visit_batch", kinds={"pdf"}, can_read=_can_read_batch)
