"""Two-person rule of the publication, run by the ``approvals`` app (core.extensions.ApprovalKind):
a correction (更正, art. 17) is asked by an inspector, the section staff or a head and approved
by a head of the record's section other than the proposer, in their own session; only the
approval creates the new version."""

from core.extensions import ApprovalKind, load_by_pk

from .models import PublicationRecord
from .services import corrections as services


def _describe_record(record: PublicationRecord) -> str:
    # Neutral on purpose: the list of requests does not name another section's enterprise.
    return f"公示记录 #{record.pk}（任务 {record.task_number}）"


APPROVAL_KINDS = [
    ApprovalKind(
        code=services.CORRECTION_KIND,
        label="公示结果更正",
        object_type="disclosure.publicationrecord",
        load=load_by_pk(PublicationRecord.objects.select_related("current_version")),
        check_request=services.correction_check_request,
        check_payload=services.correction_check_payload,
        approver_roles=services.correction_approver_roles,
        check_decider=services.correction_check_decider,
        check_viewer=services.correction_check_viewer,
        perform=services.correction_perform,
        describe=_describe_record,
    ),
]
