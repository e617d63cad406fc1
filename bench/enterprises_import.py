"""Import of a register: ours (preview/confirm path) vs django-import-export's defaults.

``python -m bench.enterprises_import [sizes…]`` (default 10000 100000). Each size: the same
generated xlsx file is imported into an empty register by django-import-export (a plain
ModelResource: default settings) and by ``enterprises.services.import_apply``; then the
unchanged file is imported again (must write nothing). Baseline sizes above
``BASELINE_MAX`` are extrapolated from a 10^4-row run (noted in the row)."""

import os
import sys
import tempfile
import time
from pathlib import Path

from bench import enterprises_setup  # noqa: F401 - configures Django

# Largest size at which the baseline is run in full (env BENCH_ENTERPRISES_BASELINE_MAX);
# above it the baseline is scaled from the largest measured size, and the row says so.
BASELINE_MAX = int(os.environ.get("BENCH_ENTERPRISES_BASELINE_MAX", "100000"))


def _reset():
    """Empty the register (the bench database's own: ``wugang_bench_enterprises``, where
    nothing else refers to the enterprises). PostgreSQL: TRUNCATE … CASCADE — the ORM's
    cascade collector and even a plain DELETE check every referencing table row by row
    (minutes at 10^6)."""
    from django.db import connection

    from enterprises.models import Enterprise, Licence, RiskAssessment

    if connection.vendor != "postgresql":
        Licence.objects.all().delete()
        RiskAssessment.objects.all().delete()
        Enterprise.trades.through.objects.all().delete()
        Enterprise.objects.all().delete()
        return
    tables = [
        m._meta.db_table for m in (Licence, RiskAssessment, Enterprise.trades.through, Enterprise)
    ]
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {', '.join(tables)} CASCADE")
        if connection.get_autocommit():
            for table in tables:
                cursor.execute(f"VACUUM ANALYZE {table}")


def baseline_resource():
    from import_export import fields, resources, widgets

    from enterprises.models import Enterprise, Township, Trade

    class EnterpriseResource(resources.ModelResource):
        uscc = fields.Field(attribute="uscc", column_name="统一社会信用代码")
        name = fields.Field(attribute="name", column_name="企业名称")
        legal_representative = fields.Field(
            attribute="legal_representative", column_name="法定代表人"
        )
        contact_person = fields.Field(attribute="contact_person", column_name="联系人")
        contact_phone = fields.Field(attribute="contact_phone", column_name="联系电话")
        registered_address = fields.Field(attribute="registered_address", column_name="注册地址")
        business_address = fields.Field(attribute="business_address", column_name="经营地址")
        township = fields.Field(
            attribute="township",
            column_name="乡镇/街道",
            widget=widgets.ForeignKeyWidget(Township, "name"),
        )
        trades = fields.Field(
            attribute="trades",
            column_name="监管行业",
            widget=widgets.ManyToManyWidget(Trade, "、", "name"),
        )

        class Meta:
            model = Enterprise
            import_id_fields = ("uscc",)
            fields = (
                "uscc",
                "name",
                "legal_representative",
                "contact_person",
                "contact_phone",
                "registered_address",
                "business_address",
                "township",
                "trades",
            )

    return EnterpriseResource()


def run_baseline(path: Path) -> float:
    import tablib

    from core.spreadsheets import open_table
    from enterprises.importers import ENTERPRISE_COLUMNS

    start = time.perf_counter()
    # django-import-export reads xlsx via tablib/openpyxl; keep its own reader for fairness.
    dataset = tablib.Dataset().load(path.read_bytes(), format="xlsx")
    result = baseline_resource().import_data(dataset, dry_run=False)
    elapsed = time.perf_counter() - start
    assert not result.has_errors(), result.row_errors()[:3]
    del open_table, ENTERPRISE_COLUMNS
    return elapsed


def run_ours(path: Path) -> tuple[float, dict]:
    """The confirm step (and the command line ``import_enterprises``): one streamed pass that
    validates and writes, all or nothing."""
    from enterprises.services import import_apply

    start = time.perf_counter()
    _, written = import_apply(actor=None, kind="enterprises", source=path, filename=path.name)
    return time.perf_counter() - start, written


def run_preview_only(path: Path) -> float:
    """The preview step of the browser flow (the Celery task): the same streamed pass without
    writing (bounded memory)."""
    from core.spreadsheets import stream_preview
    from enterprises.importers import EnterpriseImporter

    start = time.perf_counter()
    preview = stream_preview(EnterpriseImporter(), path, filename=path.name)
    assert preview.ok, preview.errors[:3]
    return time.perf_counter() - start


def _register_state() -> tuple:
    from django.db.models import Count, Max

    from audit.models import AuditEvent
    from enterprises.models import Enterprise

    state = Enterprise.objects.aggregate(n=Count("id"), stamp=Max("updated_at"))
    return (
        state["n"],
        state["stamp"],
        Enterprise.trades.through.objects.count(),
        AuditEvent.objects.count(),
    )


def run(sizes=(10_000, 100_000)) -> list[dict]:
    from django.db import connection

    from bench.common import row
    from bench.enterprises_data import write_register
    from enterprises.demo import seed_reference

    seed_reference()
    rows = []
    folder = Path(tempfile.gettempdir())
    per_row = None
    for size in sizes:
        path = write_register(size, folder / f"wugang-register-{size}.xlsx")
        note = connection.vendor
        if size <= BASELINE_MAX:
            _reset()
            baseline = run_baseline(path)
            per_row = baseline / size
        else:
            baseline = (per_row or 1 / 460) * size
            note += (
                f"; baseline scaled from its run at {int(BASELINE_MAX):,} rows"
                if per_row
                else "; baseline assumed 460 rows/s (not run)"
            )
        _reset()
        preview = run_preview_only(path)
        ours, written = run_ours(path)
        assert written["created"] == size, written
        before = _register_state()
        again, written_again = run_ours(path)
        assert written_again == {"created": 0, "updated": 0}, written_again
        assert _register_state() == before, "the unchanged file wrote something"
        rows.append(
            row(
                name=f"enterprise import, {size:,} new rows, preview + confirm (browser path)",
                baseline="django-import-export ModelResource, default settings",
                baseline_seconds=baseline,
                ours_seconds=preview + ours,
                target=5,
                notes=f"{note}; preview {preview:.1f} s + confirm {ours:.1f} s; "
                f"baseline {size / baseline:,.0f} rows/s",
            )
        )
        rows.append(
            row(
                name=f"enterprise import, {size:,} new rows, large-file path (one pass: "
                "command line / confirm)",
                baseline="django-import-export ModelResource, default settings",
                baseline_seconds=baseline,
                ours_seconds=ours,
                target=30,
                notes=f"{note}; {size / ours:,.0f} rows/s; re-import of the unchanged file "
                f"{again:.1f} s: 0 rows written, updated_at, trades and audit log untouched "
                "(checked)",
            )
        )
        print(rows[-2], rows[-1], sep="\n", flush=True)  # progress of a long run
        if size >= 1_000_000:
            rows.append(
                row(
                    name=f"enterprise import, {size:,} rows within 75 s",
                    baseline="—",
                    baseline_seconds=None,
                    ours_seconds=ours,
                    target="< 75 s",
                    met=ours < 75,
                    notes=f"{note}; large-file path, one pass",
                )
            )
    return rows


if __name__ == "__main__":
    sizes = [int(s) for s in sys.argv[1:]] or [10_000, 100_000]
    run(sizes)
