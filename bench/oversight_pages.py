"""p95 of every oversight page (issue 8: ≤ 500 ms with 10^6 enterprises and 10^5 inspection
records), each requested through the whole Django stack (middleware, view, template, the
view's own audit event) as the 纪检派驻组 user.

``PAGES`` is the list of pages measured; other oversight modules append their own entries
(``PAGES.append(("label", "oversight:url_name", {query}))``) or import and extend it.

Data (idempotent, in the ``wugang_bench_oversight`` database):
- ``size`` enterprises (bulk-created, valid USCCs);
- ``INSPECTION_RECORDS`` publication records spread over 60 check-end days
  (``bench.disclosure_data.ensure_records``, shared with the disclosure benchmarks);
- ``INSPECTION_RECORDS`` audit events of inspection records (draft saves, submissions, returns,
  approvals, and a few edits after approval) over ``VISITS`` record ids and the last 300 days;
- ``DRAWS`` real draws (``draw_commit`` + ``draw_perform``) over a population of
  ``DRAW_POPULATION`` enterprises, so the draws page re-verifies a full page of real draws.

``python -m bench.oversight_pages 10000`` runs it alone (against DATABASE_URL); normally
``make bench BENCH_ARGS="--only oversight_pages --sizes 10000 --no-load"``.
"""

from __future__ import annotations

import datetime as dt
import statistics
import sys
import time

REPEAT = 20
TARGET_SECONDS = 0.5
INSPECTION_RECORDS = 100_000
VISITS = 20_000
DRAWS = 20
DRAW_POPULATION = 5_000
BENCH_TRADE = "bench-oversight"
USCC_PREFIX = "914104"

# (label, url name, query) — append yours.
# Pages that keep their figures in the cache under the data fingerprint: measured cold too.
COLD_PAGES = ("oversight:review_deadlines",)
PAGES: list[tuple[str, str, dict]] = [
    ("抽取核验（首页 20 次抽取，逐一重新核验）", "oversight:review_draws", {}),
    ("抽取核验（已作废）", "oversight:review_draws", {"status": "voided"}),
    ("记录修改与更正", "oversight:review_records", {}),
    ("公示期限（逾期/即将到期、按股室、按人员、按月）", "oversight:review_deadlines", {}),
    ("公平性：检查人员分配（重放全部抽取、卡方检验）", "oversight:fairness_inspectors", {}),
    ("公平性：企业被抽查频次与年内重复", "oversight:fairness_enterprises", {}),
    ("公平性：分等级抽查比例", "oversight:fairness_rates", {}),
    # Summaries and reports (bench/oversight_reports.py measures them on 10^5 visits too).
    ("抽查工作统计（全年，按股室/任务）", "oversight:report_index", {"from": "2026-01-01"}),
    ("抽查工作统计导出 xlsx", "oversight:report_index", {"from": "2026-01-01", "format": "xlsx"}),
]


def p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20)[18] if len(samples) >= 2 else samples[0]


# ------------------------------------------------------------------------------------- data
def _township():
    from enterprises.models import Township

    return Township.objects.get_or_create(code="bench", defaults={"name": "基准乡镇"})[0]


def ensure_enterprises(size: int) -> None:
    from enterprises.models import Enterprise
    from enterprises.uscc import uscc_make

    have = Enterprise.objects.filter(uscc__startswith=USCC_PREFIX + "0").count()
    if have >= size:
        return
    township = _township()
    batch = []
    for i in range(have, size):
        batch.append(
            Enterprise(
                uscc=uscc_make(f"{USCC_PREFIX}0{i:010d}"),
                name=f"舞钢市基准监督企业{i}",
                township=township,
                legal_representative=f"法人{i % 997}",
            )
        )
        if len(batch) == 10_000:
            Enterprise.objects.bulk_create(batch, batch_size=5_000)
            batch = []
    if batch:
        Enterprise.objects.bulk_create(batch, batch_size=5_000)


def _lead_and_world():
    from django.contrib.auth.models import Group

    from accounts.models import Section, User
    from accounts.roles import Role
    from enterprises.models import CheckItem, Trade
    from inspectors.models import Certificate, Inspector

    lead_section, _ = Section.objects.get_or_create(
        code="bench-ov-lead", defaults={"name": "基准牵头股（监督）", "is_lead": True}
    )
    section, _ = Section.objects.get_or_create(
        code="bench-ov", defaults={"name": "基准业务股（监督）"}
    )
    users = {}
    for role, name in (
        (Role.LEAD_SECTION, "bench_ov_lead"),
        (Role.DISCIPLINE, "bench_ov_discipline"),
    ):
        user, created = User.objects.get_or_create(
            username=name,
            defaults={"full_name": name, "section": lead_section, "must_change_password": False},
        )
        if created:
            user.groups.add(Group.objects.get_or_create(name=role)[0])
        users[role] = user
    trade, _ = Trade.objects.get_or_create(
        code=BENCH_TRADE, defaults={"name": "基准监督行业", "section": section}
    )
    item, created = CheckItem.objects.get_or_create(
        code="BENCH-OV-1",
        defaults={
            "name": "基准监督检查事项",
            "legal_basis": "基准",
            "section": section,
            "methods": ["onsite"],
        },
    )
    if created:
        item.trades.add(trade)
    for n in range(1, 9):
        inspector, created = Inspector.objects.get_or_create(
            staff_number=f"BOV{n:03d}", defaults={"name": f"基准检查员{n}", "section": section}
        )
        if created:
            Certificate.objects.create(
                inspector=inspector,
                number=f"豫BOV{n:06d}",
                issued_on=dt.date(2024, 1, 1),
                expires_on=dt.date(2030, 1, 1),
            )
            inspector.trades.add(trade)
    # A bench year holds far more checks than the per-inspector caps allow.
    Inspector.objects.filter(staff_number__startswith="BOV").update(
        max_checks_per_task=30_000, max_checks_per_year=30_000
    )
    return lead_section, users, item


def ensure_draws() -> None:
    """``DRAWS`` completed draws over ``DRAW_POPULATION`` rated enterprises of one trade."""
    from django.db import transaction

    from accounts.roles import Role
    from enterprises.models import Enterprise, RiskAssessment
    from inspections.models import Draw, Task
    from inspections.services import draws as services

    lead_section, users, item = _lead_and_world()
    lead = users[Role.LEAD_SECTION]
    have = Draw.objects.filter(
        task__number__startswith="BENCH-OV-", status=Draw.Status.COMPLETED
    ).count()
    if have >= DRAWS:
        return
    population = list(
        Enterprise.objects.filter(uscc__startswith=USCC_PREFIX + "0").order_by("pk")[
            :DRAW_POPULATION
        ]
    )
    through = Enterprise.trades.through
    from enterprises.models import Trade

    trade = Trade.objects.get(code=BENCH_TRADE)
    with transaction.atomic():
        done = set(
            through.objects.filter(trade=trade, enterprise__in=population).values_list(
                "enterprise_id", flat=True
            )
        )
        through.objects.bulk_create(
            [through(enterprise_id=e.pk, trade_id=trade.pk) for e in population if e.pk not in done]
        )
        rated = set(
            RiskAssessment.objects.filter(enterprise__in=population).values_list(
                "enterprise_id", flat=True
            )
        )
        RiskAssessment.objects.bulk_create(
            [
                RiskAssessment(
                    enterprise=e,
                    tier="ABCD"[i % 4],
                    effective_date=dt.date(2026, 1, 1),
                    source="基准",
                )
                for i, e in enumerate(population)
                if e.pk not in rated
            ]
        )
    from inspections.selectors.draws import live_draw

    for n in range(1, DRAWS + 1):
        task, created = Task.objects.get_or_create(
            number=f"BENCH-OV-{n}",
            defaults={
                "adhoc_reason": "基准测试",
                "year": 2026,
                "seq": 9000 + n,
                "name": f"基准监督任务{n}",
                "lead_section": lead_section,
                "window_start": dt.date(2026, 12, 1),
                "window_end": dt.date(2026, 12, 31),
                "methods": ["onsite"],
                "same_item_once_per_year": False,
            },
        )
        if created:
            task.check_items.set([item])
        draw = live_draw(task)
        if draw is None:
            draw = services.draw_commit(actor=lead, task=task)
        if draw.status == Draw.Status.COMMITTED:
            services.draw_perform(
                actor=lead,
                draw=draw,
                witnesses=["基准见证甲", "基准见证乙"],
                dice_kind="d10",
                dice=f"{n:04d}" + "1234567890123456",
            )


def ensure_visit_events() -> None:
    """``INSPECTION_RECORDS`` audit events of ``VISITS`` inspection records, inserted in SQL
    (the chain hashes are filler: this database is never chain-verified)."""
    from django.db import connection

    from audit.models import AuditEvent

    have = AuditEvent.objects.filter(object_type="inspections.visit", actor_name="bench").count()
    if have >= INSPECTION_RECORDS:
        return
    # five events per record: save, submit, return-edit (every 3rd), approve, rare late edit
    with connection.cursor() as cursor:
        cursor.execute("SELECT coalesce(max(seq), 0) FROM audit_auditevent")
        (base,) = cursor.fetchone()
        cursor.execute(
            """
            INSERT INTO audit_auditevent (seq, occurred_at, actor_name, actor_roles, source_ip,
                event_type, object_type, object_id, outcome, reason, detail, prev_hash, hash)
            SELECT %(base)s + g,
                   now() - make_interval(days => 300) + make_interval(secs => g * 250),
                   'bench', '执法检查人员', '127.0.0.1',
                   (ARRAY['visit.draft_saved','visit.submit','visit.draft_saved',
                          'visit.approve','visit.draft_saved'])[1 + (g %% 5)],
                   'inspections.visit', ((g / 5) %% %(visits)s + 1)::text, 'success', '',
                   '{"before": {"summary": ""}, "after": {"summary": "基准"}}'::jsonb,
                   md5(g::text) || md5((g + 1)::text),
                   encode(sha256(('bench-ov-' || g)::bytea), 'hex')
            FROM generate_series(%(start)s, %(stop)s) AS g
            """,
            {"base": base, "visits": VISITS, "start": have + 1, "stop": INSPECTION_RECORDS},
        )
        cursor.execute("ANALYZE audit_auditevent")


def ensure_data(size: int) -> None:
    from django.db import connection

    from bench.disclosure_data import ensure_records

    t0 = time.perf_counter()
    ensure_enterprises(size)
    ensure_records(INSPECTION_RECORDS)
    ensure_visit_events()
    ensure_draws()
    with connection.cursor() as cursor:
        # VACUUM too: a freshly loaded table's first scans would otherwise set hint bits and
        # check visibility row by row, which autovacuum spares a production database.
        cursor.execute("VACUUM ANALYZE")
    print(f"   data ready in {time.perf_counter() - t0:.1f} s", flush=True)


# --------------------------------------------------------------------------------- measuring
def measure(url: str, params: dict, client, *, cold: bool = False) -> tuple[float, int]:
    """p95 of ``REPEAT`` requests; ``cold``: the cache is cleared before each (what the first
    view after a change costs, for the pages that keep their figures in the cache)."""
    from django.core.cache import cache

    response = client.get(url, params)
    status = response.status_code
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
    from bench.common import row
    from enterprises.models import Enterprise

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    rows = []
    for size in sizes:
        ensure_data(size)
        _, users, _ = _lead_and_world()
        client = Client()
        client.force_login(users[Role.DISCIPLINE])
        # The data only ever grows (ensure_*): say how many enterprises are really there, which
        # is more than ``size`` after an earlier run at a larger size.
        present = Enterprise.objects.filter(uscc__startswith=USCC_PREFIX + "0").count()
        cold = [
            (label + "，缓存清空（变更后首次查看）", name, params, True)
            for label, name, params in PAGES
            if name in COLD_PAGES
        ]
        for label, url_name, params, *flags in [*PAGES, *cold]:
            seconds, status = measure(reverse(url_name), params, client, cold=bool(flags))
            rows.append(
                row(
                    name=f"oversight: {label} ({present:,} enterprises), p95",
                    baseline="—",
                    baseline_seconds=None,
                    ours_seconds=seconds,
                    target=f"≤ {TARGET_SECONDS} s",
                    met=status == 200 and seconds <= TARGET_SECONDS,
                    notes=(
                        f"{connection.vendor}; HTTP {status}; {REPEAT} requests; "
                        f"{INSPECTION_RECORDS:,} publication records and visit audit events, "
                        f"{DRAWS} draws of {DRAW_POPULATION:,}"
                    ),
                )
            )
    return rows


if __name__ == "__main__":
    from bench import enterprises_setup  # noqa: F401 - configures Django

    for result in run([int(s) for s in sys.argv[1:]] or [10_000]):
        print(result)
