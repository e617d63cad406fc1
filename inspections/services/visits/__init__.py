"""Visits (docs/visits.md): creation from a completed draw, recording, the on-site rules (art. 10),
serious non-cooperation (art. 12), lead transfers (art. 11), follow-up (art. 16), review and the
archive (art. 13). Every function is keyword-only, atomic and writes its audit event.

One module per concern: ``recording`` (creation, the record, signatures, evidence,
non-cooperation), ``review`` (submit, return, approve, archive), ``follow_up`` (lead transfers,
follow-ups, result categories), ``documents`` (file purposes, batch printing); ``common`` holds
the errors and the locking and notification helpers. The names other code relies on
(docs/contracts.md) are importable from here.

State machine (``Visit.Status``)::

    scheduled 待检查 → in_progress 检查中 → submitted 待审核 → approved 已审核 → archived 已归档
                                 ↑                 │
                                 └── returned 退回 ←┘ (with a reason)

Record edits carry the ``version`` the editor loaded; a stale version raises ``VisitConflict``
(nothing is written, the editor keeps the input on screen).
"""

from .common import VisitConflict, VisitError
from .documents import batch_pdf_store
from .follow_up import (
    follow_up_add,
    follow_up_close,
    result_category_update,
    transfer_create,
    transfer_update,
)
from .recording import (
    RECORD_FIELDS,
    evidence_add,
    non_cooperation_record,
    visit_reschedule,
    visit_save_draft,
    visit_signature_capture,
    visit_signed_page_upload,
    visit_start,
    visits_create_for_draw,
)
from .review import (
    archive_document_add,
    onsite_problems,
    submit_problems,
    visit_approve,
    visit_archive,
    visit_return,
    visit_submit,
)

__all__ = [
    "RECORD_FIELDS",
    "VisitConflict",
    "VisitError",
    "archive_document_add",
    "batch_pdf_store",
    "evidence_add",
    "follow_up_add",
    "follow_up_close",
    "non_cooperation_record",
    "onsite_problems",
    "result_category_update",
    "submit_problems",
    "transfer_create",
    "transfer_update",
    "visit_approve",
    "visit_archive",
    "visit_reschedule",
    "visit_return",
    "visit_save_draft",
    "visit_signature_capture",
    "visit_signed_page_upload",
    "visit_start",
    "visit_submit",
    "visits_create_for_draw",
]
