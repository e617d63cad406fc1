"""Corrections still waiting under the old state machine (a ``proposed`` version) become
approval requests of kind ``disclosure.correction`` (decision 240): the request keeps the text,
the reason, the proposer and the time; the proposed version row goes (it was never current nor
exported), so the approval creates the version as for a new request. A proposal without a
proposer cannot be asked for by anyone and is left for the section to propose again."""

from datetime import timedelta

from django.conf import settings
from django.db import migrations
from django.utils import timezone

KIND = "disclosure.correction"


def forwards(apps, schema_editor):
    Version = apps.get_model("disclosure", "PublicationVersion")
    Request = apps.get_model("approvals", "ApprovalRequest")
    Group = apps.get_model("auth", "Group")
    heads = list(Group.objects.filter(name="股室负责人"))
    now = timezone.now()
    for version in Version.objects.filter(
        status="proposed", created_by__isnull=False
    ).select_related("record", "record__current_version"):
        record = version.record
        current = record.current_version
        request = Request.objects.create(
            kind=KIND,
            object_type="disclosure.publicationrecord",
            object_id=str(record.pk),
            object_label=f"公示记录 #{record.pk}（任务 {record.task_number}）"[:200],
            payload={
                "result_text": version.result_text,
                "base": current.pk if current else None,
                "objection": version.objection_id,
                "summary": f"{record.enterprise_name}（{record.uscc}）{record.check_item}：检查结果由"
                f"“{current.result_text if current else ''}”更正为“{version.result_text}”",
                # The address as it is at this migration (a later rename must not break it).
                "link": f"/disclosure/publications/{record.pk}/",
            },
            reason=version.reason,
            requested_by_id=version.created_by_id,
            requested_at=version.created_at,
            expires_at=now + timedelta(days=settings.APPROVAL_REQUEST_DAYS),
        )
        request.approver_roles.set(heads)
        version.delete()


class Migration(migrations.Migration):
    dependencies = [
        ("disclosure", "0007_calendar_moved_to_workdays"),
        ("approvals", "0001_initial"),
        ("accounts", "0002_roles"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
