"""Export of a 10^5-row batch to the platform's xlsx: ours (``XlsxExporter``, streaming
write-only through ``core.spreadsheets.write_xlsx``) vs django-import-export's xlsx export of
the same rows and columns (a ModelResource over the batch items). Targets: ≥ 3× faster and
≤ 1/5 of the peak Python memory (tracemalloc, measured in a separate run from the timing)."""

import io
import time
import tracemalloc

from bench import enterprises_setup  # noqa: F401 - configures Django
from bench.common import row


def _batch(n: int):
    from bench.disclosure_data import bench_records
    from disclosure.models import ExportBatch, ExportBatchItem

    number = f"BENCH-{n}"
    batch = ExportBatch.objects.filter(number=number).first()
    if batch is not None:
        return batch
    batch = ExportBatch.objects.create(number=number, row_count=n)
    ids = list(bench_records().order_by("id").values_list("id", "current_version_id")[:n])
    ExportBatchItem.objects.bulk_create(
        [
            ExportBatchItem(batch=batch, record_id=r, version_id=v, row=i)
            for i, (r, v) in enumerate(ids, 2)
        ],
        batch_size=5000,
    )
    return batch


def baseline_resource():
    from import_export import fields, resources

    from disclosure.exports import INSPECTING_BODY
    from disclosure.models import ExportBatchItem

    class BatchItemResource(resources.ModelResource):
        plan_number = fields.Field(attribute="record__plan_number", column_name="抽查计划编号")
        plan_name = fields.Field(attribute="record__plan_name", column_name="抽查计划名称")
        task_number = fields.Field(attribute="record__task_number", column_name="抽查任务编号")
        task_name = fields.Field(attribute="record__task_name", column_name="抽查任务名称")
        check_type = fields.Field(column_name="抽查类型")
        body = fields.Field(column_name="抽查机关")
        completion_date = fields.Field(attribute="record__check_end", column_name="抽查完成日期")
        uscc = fields.Field(attribute="record__uscc", column_name="统一社会信用代码")
        enterprise_name = fields.Field(attribute="record__enterprise_name", column_name="企业名称")
        check_item = fields.Field(attribute="record__check_item", column_name="检查事项")
        result = fields.Field(attribute="version__result_text", column_name="检查结果")
        remarks = fields.Field(column_name="备注")

        class Meta:
            model = ExportBatchItem
            fields = (
                "plan_number",
                "plan_name",
                "task_number",
                "task_name",
                "check_type",
                "body",
                "completion_date",
                "uscc",
                "enterprise_name",
                "check_item",
                "result",
                "remarks",
            )

        def dehydrate_check_type(self, item):
            return "定向" if item.record.task_kind == "directed" else "不定向"

        def dehydrate_body(self, item):
            return INSPECTING_BODY

        def dehydrate_remarks(self, item):
            return f"更正：{item.version.reason}" if item.version.is_correction else ""

    return BatchItemResource()


def measure(fn) -> tuple[float, int]:
    start = time.perf_counter()
    fn()
    elapsed = time.perf_counter() - start
    tracemalloc.start()
    fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return elapsed, peak


def run(sizes) -> list[dict]:
    from bench.disclosure_data import ensure_records
    from disclosure.exports import XlsxExporter
    from disclosure.services import batch_rows

    rows = []
    for n in sorted({min(s, 100_000) for s in sizes}):
        ensure_records(n)
        batch = _batch(n)

        def ours(batch=batch):
            XlsxExporter().write(io.BytesIO(), batch_rows(batch))

        def baseline(batch=batch):
            qs = batch.items.select_related("record", "version").order_by("row")
            baseline_resource().export(queryset=qs).export("xlsx")

        base_t, base_m = measure(baseline)
        ours_t, ours_m = measure(ours)
        ratio = base_t / ours_t
        memory_ok = ours_m * 5 <= base_m
        rows.append(
            row(
                name=f"platform export (xlsx), {n:,} rows",
                baseline="django-import-export ModelResource → xlsx",
                baseline_seconds=base_t,
                ours_seconds=ours_t,
                target="≥ 3× faster, ≤ 1/5 memory",
                met=ratio >= 3 and memory_ok,
                notes=f"peak memory {ours_m / 2**20:.0f} MB vs {base_m / 2**20:.0f} MB "
                f"({base_m / max(ours_m, 1):.0f}× less)",
            )
        )
    return rows


if __name__ == "__main__":
    import sys

    for r in run([int(s) for s in sys.argv[1:]] or [100_000]):
        print(r)
