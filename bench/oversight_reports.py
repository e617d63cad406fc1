"""p95 of the summary and report pages (issue 8: ≤ 500 ms with 10^6 enterprises and 10^5
inspection records), through the whole Django stack as the 纪检派驻组 user.

Data (idempotent, PostgreSQL only, inserted in SQL; marked by task numbers ``BENCH-RPT-``):
``TASKS`` tasks of one plan in two sections, each with a completed draw; ``VISITS`` visits
(one per selection) spread over the tasks with every status, one result each with a result
category (a fifth with a problem), a publication record for every approved visit (a tenth
unpublished, a tenth late), follow-ups for the problem ones, a few lead transfers and
non-cooperation cases. Enterprises come from ``bench.oversight_pages.ensure_enterprises``.
The rows are inserted past the services, so their precomputed report figures
(``oversight.models.VisitFigures``) are then filled by ``visit_figures_refresh`` in one pass, as
the data migration does.

The pages keep computed figures under a data fingerprint (``oversight.reports.CACHE_SECONDS``):
measured warm (repeat views, the usual case) and cold (the cache cleared before every request:
the first view after a change).

The baseline is the naive way: the same figures computed task by task (one set of queries per
task), in the same run on the same data.

``python -m bench.oversight_reports 10000`` runs it alone (against DATABASE_URL).
"""

from __future__ import annotations

import datetime as dt
import sys
import time

REPEAT = 10
TARGET_SECONDS = 0.5
TASKS = 40
VISITS = 100_000
PREFIX = "BENCH-RPT-"


def _world():
    from accounts.models import Section
    from enterprises.models import CheckItem
    from inspections.models import Plan

    sections = [
        Section.objects.get_or_create(code=f"bench-rpt-{n}", defaults={"name": f"基准报告股{n}"})[0]
        for n in (1, 2)
    ]
    plan = Plan.objects.get_or_create(
        number="BENCH-RPT-PLAN",
        defaults={"year": 2026, "name": "基准年度抽查计划", "lead_section": sections[0]},
    )[0]
    item = CheckItem.objects.get_or_create(
        code="BENCH-RPT-1",
        defaults={
            "name": "基准报告检查事项",
            "legal_basis": "基准",
            "section": sections[0],
            "methods": ["onsite"],
        },
    )[0]
    return sections, plan, item


def _bench_visits():
    from inspections.models import Visit

    return Visit.objects.filter(notice_number__startswith=PREFIX).values("pk")


def _ensure_figures() -> None:
    from django.db import connection, transaction

    from oversight.figures import visit_figures_refresh
    from oversight.models import VisitFigures

    if not VisitFigures.objects.filter(visit_id__in=_bench_visits()).exists():
        with transaction.atomic():
            visit_figures_refresh(visit_ids=_bench_visits())
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE oversight_visitfigures")


def _ensure_trades() -> None:
    """Every enterprise of a real register has a trade: link the bench enterprises that have
    none to a general trade (one INSERT ... SELECT; nothing to do on later runs), so the trade
    breakdown of a report meets 10^6 trade links, not only the draws' few thousand."""
    from django.db import connection, transaction

    from bench.oversight_pages import BENCH_TRADE
    from enterprises.models import Enterprise, Trade
    from oversight.figures import visit_figures_sync_register

    section = Trade.objects.get(code=BENCH_TRADE).section
    general, _ = Trade.objects.get_or_create(
        code="bench-general", defaults={"name": "基准一般工业", "section": section}
    )
    links = Enterprise.trades.through._meta.db_table
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {links} (enterprise_id, trade_id)"
            f" SELECT e.id, %s FROM {Enterprise._meta.db_table} e WHERE NOT EXISTS"
            f" (SELECT 1 FROM {links} x WHERE x.enterprise_id = e.id)",
            [general.pk],
        )
        if cursor.rowcount:
            visit_figures_sync_register(enterprise_ids=None)
    if cursor.rowcount:
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {links}")


def ensure_data(size: int) -> None:
    from django.db import connection, transaction

    from accounts.roles import Role
    from bench.oversight_pages import _lead_and_world, ensure_enterprises
    from inspections.models import Draw, Task
    from oversight.figures import visit_figures_refresh

    ensure_enterprises(max(size, VISITS))
    _ensure_trades()
    _, users, _ = _lead_and_world()
    lead = users[Role.LEAD_SECTION]
    sections, plan, item = _world()
    if Task.objects.filter(number__startswith=PREFIX).count() >= TASKS:
        _ensure_figures()  # data made before the precomputed figures existed
        return
    t0 = time.perf_counter()
    with transaction.atomic():
        tasks = []
        for n in range(1, TASKS + 1):
            task = Task.objects.create(
                plan=plan,
                year=2026,
                seq=8000 + n,
                number=f"{PREFIX}{n}",
                name=f"基准报告任务{n}",
                lead_section=sections[n % 2],
                window_start=dt.date(2026, 3, 1),
                window_end=dt.date(2026, 11, 30),
                methods=["onsite"],
            )
            task.check_items.set([item])
            tasks.append(task)
        Draw.objects.bulk_create(
            [
                Draw(
                    task=task,
                    status=Draw.Status.COMPLETED,
                    operator=lead,
                    draw_date=dt.date(2026, 3, 1),
                    window_start=task.window_start,
                    window_end=task.window_end,
                    rounding="ceil",
                    inspectors_per_enterprise=2,
                    manifest=b"",
                    manifest_sha256="0" * 64,
                    population_count=size,
                    inspectors_manifest=b"",
                    inspectors_sha256="0" * 64,
                    experts_manifest=b"",
                    experts_sha256="0" * 64,
                    secret="0" * 64,
                    secret_sha256="0" * 64,
                    seed_string="bench",
                )
                for task in tasks
            ]
        )
        params = {
            "visits": VISITS,
            "tasks": TASKS,
            "prefix": PREFIX + "%",
            "lead": lead.pk,
            "item": item.pk,
            "uscc": "9141040%",
        }
        sql = [
            # one selection per visit: enterprise g of the bench register, task g % TASKS
            """
            CREATE TEMP TABLE bench_rpt AS
            SELECT g, e.id AS enterprise_id, t.id AS task_id, t.lead_section_id AS section_id,
                   d.id AS draw_id,
                   (ARRAY['scheduled','in_progress','submitted','returned','approved',
                          'approved','approved','approved','archived','archived'])[1 + g %% 10]
                     AS status
            FROM generate_series(1, %(visits)s) g
            JOIN (SELECT id, row_number() OVER (ORDER BY id) AS rn
                  FROM enterprises_enterprise WHERE uscc LIKE %(uscc)s) e ON e.rn = g
            JOIN (SELECT id, lead_section_id, row_number() OVER (ORDER BY id) - 1 AS k
                  FROM inspections_task WHERE number LIKE %(prefix)s) t ON t.k = g %% %(tasks)s
            JOIN inspections_draw d ON d.task_id = t.id
            """,
            """
            INSERT INTO inspections_drawselection (draw_id, enterprise_id, uscc, tier, ticket,
                "order")
            SELECT draw_id, enterprise_id, '', (ARRAY['A','B','C','D'])[1 + g %% 4],
                   md5(g::text), g FROM bench_rpt
            """,
            """
            INSERT INTO inspections_visit (enterprise_id, task_id, section_id, status,
                window_start, window_end, notice_seq, notice_year, notice_number, notice_date,
                check_end, place, summary, signer_name, signer_role, signing_form,
                unsigned_reason, witness_name, witness_detail, version, created_at, updated_at)
            SELECT enterprise_id, task_id, section_id, status, '2026-03-01', '2026-11-30',
                   500000 + g, 2026, 'BENCH-RPT-' || g, '2026-03-01', '2026-06-01',
                   '', '', '', '', '', '', '', '', 1, now(), now()
            FROM bench_rpt
            """,
            """
            CREATE TEMP TABLE bench_rpt_v AS
            SELECT b.*, v.id AS visit_id FROM bench_rpt b
            JOIN inspections_visit v ON v.notice_number = 'BENCH-RPT-' || b.g
            """,
            """
            INSERT INTO inspections_visit_tasks (visit_id, task_id)
            SELECT visit_id, task_id FROM bench_rpt_v
            """,
            """
            INSERT INTO inspections_visitselection (visit_id, selection_id)
            SELECT b.visit_id, s.id FROM bench_rpt_v b
            JOIN inspections_drawselection s ON s.draw_id = b.draw_id
                 AND s.enterprise_id = b.enterprise_id
            """,
            """
            INSERT INTO inspections_visititemresult (visit_id, check_item_id, "order", method,
                checked, finding)
            SELECT visit_id, %(item)s, 1, 'onsite', '', '' FROM bench_rpt_v
            WHERE status NOT IN ('scheduled')
            """,
            """
            INSERT INTO inspections_visititemresult_categories (visititemresult_id,
                resultcategory_id)
            SELECT r.id, (SELECT id FROM inspections_resultcategory
                          WHERE code = CASE WHEN r.visit_id %% 5 = 0 THEN 'corrected'
                                            ELSE 'no_problem' END)
            FROM inspections_visititemresult r JOIN bench_rpt_v b ON b.visit_id = r.visit_id
            """,
            """
            INSERT INTO inspections_followup (visit_id, measure, detail, outcome, closed,
                closed_on, created_by_id, created_at)
            SELECT visit_id, 'order_correction', '', '', g %% 3 <> 0,
                   CASE WHEN g %% 3 <> 0 THEN DATE '2026-07-01' END, %(lead)s, now()
            FROM bench_rpt_v WHERE visit_id %% 5 = 0 AND status IN ('approved', 'archived')
            """,
            """
            INSERT INTO inspections_leadtransfer (visit_id, department, content, receipt,
                status, sent_on, created_by_id, created_at)
            SELECT visit_id, '基准部门', '基准线索', '', 'sent', '2026-07-01', %(lead)s, now()
            FROM bench_rpt_v WHERE g %% 50 = 0
            """,
            """
            INSERT INTO inspections_noncooperation (visit_id, "case", occurred_on, description,
                recorded_by_id, recorded_at)
            SELECT visit_id, 'refused_entry', '2026-06-01', '基准', %(lead)s, now()
            FROM bench_rpt_v WHERE g %% 97 = 0
            """,
            """
            INSERT INTO disclosure_publicationrecord (visit_id, result_id, task_id,
                enterprise_id, section_id, plan_number, plan_name, task_number, task_name,
                task_kind, uscc, enterprise_name, check_item, check_end, deadline, status,
                first_published_on, published_on, rejection_error, alert, created_at)
            SELECT b.visit_id, 900000000 + b.g, b.task_id, b.enterprise_id, b.section_id, '',
                   '', '', '', 'directed', '', '', '基准', '2026-06-01', '2026-06-29',
                   CASE WHEN b.g %% 10 = 4 THEN 'pending' ELSE 'published' END,
                   CASE WHEN b.g %% 10 = 4 THEN NULL
                        WHEN b.g %% 10 = 5 THEN DATE '2026-07-03' ELSE DATE '2026-06-20' END,
                   CASE WHEN b.g %% 10 = 4 THEN NULL ELSE DATE '2026-06-20' END,
                   '', '', now()
            FROM bench_rpt_v b WHERE b.status IN ('approved', 'archived')
            """,
            "DROP TABLE bench_rpt_v",
            "DROP TABLE bench_rpt",
            "ANALYZE",
        ]
        with connection.cursor() as cursor:
            for statement in sql:
                cursor.execute(statement, params)
        # The rows above bypass the services: fill their figures as the data migration does.
        visit_figures_refresh(visit_ids=_bench_visits())
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE oversight_visitfigures")
    print(f"   report data ready in {time.perf_counter() - t0:.1f} s", flush=True)


def naive_figures(task_ids) -> None:
    """The baseline: each task's figures with their own queries (what a first version does)."""
    from disclosure.models import PublicationRecord
    from inspections.models import DrawSelection, Visit

    for pk in task_ids:
        DrawSelection.objects.filter(draw__task_id=pk, draw__status="completed").count()
        visits = Visit.objects.filter(tasks__id=pk)
        visits.filter(status__in=["submitted", "returned", "approved", "archived"]).count()
        visits.filter(status__in=["approved", "archived"]).count()
        records = list(
            PublicationRecord.objects.filter(task_id=pk).values_list(
                "visit_id", "first_published_on", "deadline"
            )
        )
        by_visit: dict[int, list] = {}
        for visit_id, published, deadline in records:
            by_visit.setdefault(visit_id, []).append((published, deadline))
        sum(all(p for p, _d in rows) for rows in by_visit.values())


def measure(client, url, params, *, cold: bool = False) -> tuple[float, int]:
    """p95 of ``REPEAT`` requests; ``cold``: the computed figures are thrown away before each
    (what the first view after a change costs)."""
    from django.core.cache import cache

    from bench.oversight_pages import p95

    status = client.get(url, params).status_code
    samples = []
    for _ in range(REPEAT):
        if cold:
            cache.clear()
        start = time.perf_counter()
        client.get(url, params)
        samples.append(time.perf_counter() - start)
    return p95(samples), status


def run(sizes: list[int]) -> list[dict]:
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.urls import reverse

    from accounts.roles import Role
    from bench.common import row, timed
    from bench.oversight_pages import USCC_PREFIX, _lead_and_world
    from enterprises.models import Enterprise
    from inspections.models import Plan, Task
    from oversight import reports

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    rows = []
    for size in sizes:
        ensure_data(size)
        _, users, _ = _lead_and_world()
        client = Client()
        client.force_login(users[Role.DISCIPLINE])
        # The data only grows: the label says how many enterprises are really there.
        size = Enterprise.objects.filter(uscc__startswith=USCC_PREFIX + "0").count()
        tasks = Task.objects.filter(number__startswith=PREFIX)
        task = tasks.order_by("seq").first()
        plan = Plan.objects.get(number="BENCH-RPT-PLAN")
        ids = list(tasks.values_list("pk", flat=True))
        baseline = timed(lambda ids=ids: naive_figures(ids), repeat=3)
        ours = timed(lambda ids=ids: reports.task_figures(ids), repeat=3)
        note = f"{connection.vendor}; {VISITS:,} visits and their records over {TASKS} tasks"
        rows.append(
            row(
                name=f"reports: figures of {TASKS} tasks ({size:,} enterprises)",
                baseline="task by task, publication counted in Python",
                baseline_seconds=baseline,
                ours_seconds=ours,
                target=1,
                notes=note,
            )
        )
        year = {"from": "2026-01-01", "to": "2026-12-31"}
        pages = [
            ("抽查工作统计（全年，按股室/任务）", reverse("oversight:report_index"), year),
            ("任务完成情况报告", reverse("oversight:report_task", args=[task.pk]), {}),
            ("年度抽查工作总结", reverse("oversight:report_plan", args=[plan.pk]), {}),
            (
                "年度抽查工作总结 xlsx",
                reverse("oversight:report_plan", args=[plan.pk]),
                {"format": "xlsx"},
            ),
        ]
        for (label, url, params), cold in [(page, False) for page in pages] + [
            (pages[0], True),
            (pages[2], True),
        ]:
            seconds, status = measure(client, url, params, cold=cold)
            state = "cold: figures recomputed" if cold else "figures cached"
            rows.append(
                row(
                    name=f"reports: {label}, {state} ({size:,} enterprises), p95",
                    baseline="—",
                    baseline_seconds=None,
                    ours_seconds=seconds,
                    target=f"≤ {TARGET_SECONDS} s",
                    met=status == 200 and seconds <= TARGET_SECONDS,
                    notes=f"HTTP {status}; {REPEAT} requests; {note}",
                )
            )
    return rows


if __name__ == "__main__":
    from bench import enterprises_setup  # noqa: F401 - configures Django

    for result in run([int(s) for s in sys.argv[1:]] or [10_000]):
        print(result)
