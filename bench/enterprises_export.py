"""Export of the register: ours (streaming write-only xlsx) vs django-import-export.

``python -m bench.enterprises_export [sizes…]``: time and peak Python memory (tracemalloc,
measured in a separate run from the timing) for the whole register of each size."""

import io
import sys
import time
import tracemalloc

from bench import enterprises_setup  # noqa: F401 - configures Django


def ours():
    from enterprises.exports import enterprise_export
    from enterprises.models import Enterprise

    enterprise_export(Enterprise.objects.all(), io.BytesIO())


def baseline():
    from bench.enterprises_import import baseline_resource

    dataset = baseline_resource().export()
    dataset.export("xlsx")


def measure(fn) -> tuple[float, int]:
    start = time.perf_counter()
    fn()
    elapsed = time.perf_counter() - start
    tracemalloc.start()
    fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return elapsed, peak


def run(sizes=(10_000, 100_000)) -> list[dict]:
    from django.db import connection

    from bench.common import row
    from bench.enterprises_list import ensure_size

    rows = []
    for size in sizes:
        ensure_size(size)
        base_t, base_m = measure(baseline)
        ours_t, ours_m = measure(ours)
        rows.append(
            row(
                name=f"enterprise export, {size:,} rows",
                baseline="django-import-export Resource.export() + xlsx",
                baseline_seconds=base_t,
                ours_seconds=ours_t,
                target=3,
                met=base_t / ours_t >= 3 and ours_m * 5 <= base_m,
                notes=f"{connection.vendor}; peak Python memory {ours_m / 2**20:.0f} MB vs "
                f"{base_m / 2**20:.0f} MB ({base_m / max(ours_m, 1):.1f}× less; target ≥ 5×)",
            )
        )
    return rows


if __name__ == "__main__":
    for result in run([int(s) for s in sys.argv[1:]] or [10_000, 100_000]):
        print(result)
