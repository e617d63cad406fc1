"""Publication services (art. 6(6), 15, 17), docs/disclosure.md. One module per concern:
``records`` (records, deadlines and the daily scan), ``batches`` (export batches and the
platform's feedback), ``corrections`` (corrections and objections). The names other code relies
on (docs/contracts.md) are importable from here.
"""

from .batches import (
    EXPORT_PURPOSE,
    FEEDBACK_PURPOSE,
    SEND_ROLES,
    SYNC_BUILD_MAX_ROWS,
    batch_build,
    batch_create,
    batch_mark_published,
    batch_rows,
    batch_start,
    exportable_records,
    feedback_import,
    on_time_rate,
    register_purposes,
)
from .corrections import (
    APPROVE_ROLES,
    CORRECTION_KIND,
    OBJECTION_ROLES,
    PROPOSE_ROLES,
    RECHECK_ROLES,
    correction_propose,
    objection_recheck,
    objection_record,
)
from .records import (
    REMINDER_WORKING_DAYS,
    SCAN_ROLES,
    alert_for,
    deadline_scan,
    publication_create_for_visit,
    publication_deadlines_refresh,
    publication_record_create,
    publication_sweep_missing,
)

__all__ = [
    "APPROVE_ROLES",
    "CORRECTION_KIND",
    "EXPORT_PURPOSE",
    "FEEDBACK_PURPOSE",
    "OBJECTION_ROLES",
    "PROPOSE_ROLES",
    "RECHECK_ROLES",
    "REMINDER_WORKING_DAYS",
    "SCAN_ROLES",
    "SEND_ROLES",
    "SYNC_BUILD_MAX_ROWS",
    "alert_for",
    "batch_build",
    "batch_create",
    "batch_mark_published",
    "batch_rows",
    "batch_start",
    "correction_propose",
    "deadline_scan",
    "exportable_records",
    "feedback_import",
    "objection_recheck",
    "objection_record",
    "on_time_rate",
    "publication_create_for_visit",
    "publication_deadlines_refresh",
    "publication_record_create",
    "publication_sweep_missing",
    "register_purposes",
]
