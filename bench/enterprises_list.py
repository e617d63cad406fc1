"""The register list: keyset pagination vs Django's stock Paginator on the same data.

``python -m bench.enterprises_list [sizes…]``. Fills the register to each size from the
generated file (``bench.enterprises_data``) when needed, then measures p95 over ``REPEAT``
runs of: page 1 with a trade filter; a page 1,000 deep unfiltered; a 2-character name search
(ours only: the stock Paginator has no equivalent beyond COUNT + OFFSET). Both sides fetch
the same 50 rows of the same queryset; the stock side also does its COUNT(*) and OFFSET.
The full page (view + template) p95 of ours is reported as well."""

import statistics
import sys
import tempfile
import time
from pathlib import Path

from bench import enterprises_setup  # noqa: F401 - configures Django

REPEAT = 30
PAGE = 50


def p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20)[18] if len(samples) >= 2 else samples[0]


def timed(fn, repeat=REPEAT) -> float:
    fn()  # warm-up
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return p95(samples)


def ensure_size(size: int) -> None:
    from bench.enterprises_data import write_register
    from bench.enterprises_import import _reset
    from enterprises.demo import seed_reference
    from enterprises.models import Enterprise
    from enterprises.services import import_apply

    seed_reference()
    if Enterprise.objects.count() == size:
        return
    _reset()
    path = write_register(size, Path(tempfile.gettempdir()) / f"wugang-register-{size}.xlsx")
    import_apply(actor=None, kind="enterprises", source=path)
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


def run(sizes=(10_000, 100_000)) -> list[dict]:
    rows = []
    for size in sizes:
        rows += _one_size(size)
    return rows


def _one_size(size: int) -> list[dict]:
    from django.core.paginator import Paginator
    from django.db import connection
    from django.test import Client
    from django.urls import reverse
    from django.utils import timezone

    from accounts.models import User
    from accounts.roles import Role
    from bench.common import row
    from enterprises.models import Trade
    from enterprises.selectors import enterprise_search, keyset_page

    rows = []
    today = timezone.localdate()
    ensure_size(size)
    trade = Trade.objects.get(code="refined_oil")
    filtered = enterprise_search(params={"trade": trade.pk}, on=today)
    everything = enterprise_search(params={}, on=today)
    deep = min(1000, size // PAGE)
    cursor = everything.values_list("uscc", flat=True)[(deep - 1) * PAGE - 1]

    cases = {
        "page 1, trade filter": (
            lambda: keyset_page(filtered, size=PAGE),
            lambda: list(Paginator(filtered, PAGE).page(1).object_list),
        ),
        f"page {deep}, unfiltered": (
            lambda: keyset_page(everything, after=cursor, size=PAGE),
            lambda: list(Paginator(everything, PAGE).page(deep).object_list),
        ),
    }
    for name, (ours_fn, stock_fn) in cases.items():
        ours, stock = timed(ours_fn), timed(stock_fn)
        rows.append(
            row(
                name=f"list {name} ({size:,} enterprises), p95",
                baseline="stock Paginator (COUNT + OFFSET)",
                baseline_seconds=stock,
                ours_seconds=ours,
                # The issue sets the target at 10^6; smaller sizes show the trend, unjudged.
                target=10 if size >= 1_000_000 else "≥ 10× at 10^6",
                notes=f"{connection.vendor}; keyset on uscc, the same 50 rows",
            )
        )
    search = enterprise_search(params={"q": "恒通"}, on=today)
    ours = timed(lambda: keyset_page(search, size=PAGE))
    rows.append(
        row(
            name=f"list 2-character name search ({size:,}), p95",
            baseline="—",
            baseline_seconds=None,
            ours_seconds=ours,
            target="< 0.2 s",
            met=ours < 0.2,
            notes=f"{connection.vendor}; a rare term (PostgreSQL: bigram GIN index; SQLite: LIKE scan)",
        )
    )
    from django.conf import settings
    from django.contrib.auth.models import Group

    user, _ = User.objects.get_or_create(username="bench-reader", defaults={"full_name": "基准"})
    user.groups.add(Group.objects.get(name=Role.INSPECTOR))
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    client = Client()
    client.force_login(user)
    url = reverse("enterprises:list")
    ours = timed(lambda: client.get(url, {"after": cursor}), repeat=15)
    rows.append(
        row(
            name=f"list page view, {deep} pages deep ({size:,}), p95",
            baseline="—",
            baseline_seconds=None,
            ours_seconds=ours,
            target="constant queries per page (tested)",
            met=True,
            notes=f"{connection.vendor}; whole request: view, tiers of the page, template",
        )
    )
    return rows


if __name__ == "__main__":
    for result in run([int(s) for s in sys.argv[1:]] or [10_000, 100_000]):
        print(result)
