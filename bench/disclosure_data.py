"""Bench data for the publication benchmarks: ``ensure_records(n)`` makes n open publication
records (idempotent: marked by visit_id 0 and result ids from RESULT_BASE), spread over check
end dates so that a realistic share is near or past its deadline on "today", each with one
inspector, in a section with staff and a head."""

from __future__ import annotations

import datetime as dt

RESULT_BASE = 9_000_000_000
TODAY = dt.date(2026, 11, 10)


def _fixtures():
    from django.contrib.auth.models import Group

    from accounts.models import Section, User
    from accounts.roles import Role
    from enterprises.models import Enterprise, Township
    from inspections.models import Task

    lead, _ = Section.objects.get_or_create(
        code="bench-lead", defaults={"name": "基准牵头股", "is_lead": False}
    )
    section, _ = Section.objects.get_or_create(code="bench-pub", defaults={"name": "基准公示股"})
    users = []
    for role, name in (
        (Role.INSPECTOR, "bench_insp"),
        (Role.SECTION_STAFF, "bench_staff"),
        (Role.SECTION_HEAD, "bench_head"),
    ):
        user, created = User.objects.get_or_create(
            username=name, defaults={"full_name": name, "section": section}
        )
        if created:
            user.groups.add(Group.objects.get_or_create(name=role)[0])
        users.append(user)
    task = Task.objects.filter(number="BENCH-PUB-1").first()
    if task is None:
        task = Task.objects.create(
            adhoc_reason="基准测试",
            year=2026,
            seq=9999,
            number="BENCH-PUB-1",
            name="基准公示任务",
            lead_section=lead,
            window_start=dt.date(2026, 1, 1),
            window_end=dt.date(2026, 12, 31),
            methods=["onsite"],
        )
    enterprise = Enterprise.objects.first()
    if enterprise is None:
        township, _ = Township.objects.get_or_create(code="bench", defaults={"name": "基准乡镇"})
        enterprise = Enterprise.objects.create(
            uscc="91410481MA00000001", name="基准企业", township=township
        )
    return section, users[0], task, enterprise


def ensure_records(n: int) -> None:
    from django.db import connection, transaction

    from disclosure.models import PublicationRecord, PublicationVersion
    from workdays.calendar import WorkingCalendar

    have = PublicationRecord.objects.filter(result_id__gte=RESULT_BASE).count()
    if have >= n:
        return
    section, inspector, task, enterprise = _fixtures()
    calendar = WorkingCalendar()
    ends = [TODAY - dt.timedelta(days=d) for d in range(0, 60)]
    deadlines = calendar.deadlines(ends, 20)
    revision = calendar.revision_id(2026)
    with transaction.atomic():
        for start in range(have, n, 10_000):
            batch = []
            for i in range(start, min(n, start + 10_000)):
                end = ends[i % len(ends)]
                batch.append(
                    PublicationRecord(
                        visit_id=0,
                        result_id=RESULT_BASE + i,
                        task=task,
                        enterprise=enterprise,
                        section=section,
                        plan_number="WGJH-2026-01",
                        plan_name="2026年度双随机抽查计划",
                        task_number=task.number,
                        task_name=task.name,
                        task_kind="non_directed",
                        uscc=f"91410481{i:09d}X"[:18],
                        enterprise_name=f"舞钢市基准企业{i}",
                        check_item="成品油零售经营资格检查",
                        check_end=end,
                        deadline=deadlines[end],
                        calendar_revision_id=revision,
                    )
                )
            created = PublicationRecord.objects.bulk_create(batch, batch_size=5000)
            PublicationVersion.objects.bulk_create(
                [
                    PublicationVersion(
                        record_id=r.pk,
                        number=1,
                        result_text="发现问题待后续处理（未按规定公示应当公示的信息）"
                        if r.pk % 3 == 0
                        else "未发现问题",
                    )
                    for r in created
                ],
                batch_size=5000,
            )
            PublicationRecord.inspectors.through.objects.bulk_create(
                [
                    PublicationRecord.inspectors.through(
                        publicationrecord_id=r.pk, user_id=inspector.pk
                    )
                    for r in created
                ],
                batch_size=5000,
            )
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE disclosure_publicationrecord SET current_version_id = v.id "
                "FROM disclosure_publicationversion v WHERE v.record_id = "
                "disclosure_publicationrecord.id AND disclosure_publicationrecord.current_version_id"
                " IS NULL"
            )


def bench_records():
    from disclosure.models import PublicationRecord

    return PublicationRecord.objects.filter(result_id__gte=RESULT_BASE)
