"""Export of the register: ours (streaming write-only xlsx) vs django-import-export.

``python -m bench.enterprises_export [sizes…]``: time (median of ``REPEAT`` runs) and peak
memory of the whole register of each size. Memory is the process's peak resident memory added
by one export, measured in a forked child (``bench.common.peak_memory``: Python objects and C
buffers alike — tracemalloc alone misses lxml's and openpyxl's buffers), for both sides the
same way. Targets: ≥ 3× faster and ≤ 1/5 of the baseline's memory."""

import os
import sys

from bench import enterprises_setup  # noqa: F401 - configures Django

REPEAT = int(os.environ.get("BENCH_EXPORT_REPEAT", "1"))


def ours():
    from django.core.files.temp import NamedTemporaryFile

    from enterprises.exports import enterprise_export
    from enterprises.models import Enterprise

    # To a file, as the view does (a spooled temporary file) and the baseline's bytes are
    # discarded; writing into a BytesIO would count the finished file as working memory.
    with NamedTemporaryFile(suffix=".xlsx") as target:
        enterprise_export(Enterprise.objects.all(), target)


def baseline():
    from bench.enterprises_import import baseline_resource

    dataset = baseline_resource().export()
    dataset.export("xlsx")


def run(sizes=(10_000, 100_000)) -> list[dict]:
    from django.db import connection

    from bench.common import peak_memory, row, timed
    from bench.enterprises_list import ensure_size

    rows = []
    for size in sizes:
        if size > 100_000:
            continue  # the target is 10^5; the baseline at 10^6 takes hours
        ensure_size(size)
        # Memory first (forked children), then time (in this process).
        base_m = peak_memory(baseline)
        ours_m = peak_memory(ours)
        base_t = timed(baseline, repeat=REPEAT)
        ours_t = timed(ours, repeat=REPEAT)
        ratio_m = base_m / max(ours_m, 1)
        rows.append(
            row(
                name=f"enterprise export, {size:,} rows",
                baseline="django-import-export Resource.export() + xlsx",
                baseline_seconds=base_t,
                ours_seconds=ours_t,
                # The issue sets the target at 10^5; 10^4 shows the trend, unjudged (a few MB
                # of peak memory is the measurement's floor there).
                target="≥ 3× faster, ≤ 1/5 memory" + ("" if size >= 100_000 else " at 10^5"),
                met=(base_t / ours_t >= 3 and ratio_m >= 5) if size >= 100_000 else None,
                notes=f"{connection.vendor}; peak memory added (RSS, forked child): ours "
                f"{ours_m / 2**20:.0f} MB, baseline {base_m / 2**20:.0f} MB "
                f"(ours uses {ratio_m:.1f}× less; target ≥ 5×)",
            )
        )
        print(rows[-1], flush=True)
    return rows


if __name__ == "__main__":
    for result in run([int(s) for s in sys.argv[1:]] or [10_000, 100_000]):
        print(result)
