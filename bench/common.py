"""What every benchmark module shares: the bench database, timing, result rows, the machine
description and the report in docs/performance.md.

A benchmark module is ``bench/<name>.py`` with::

    def run(sizes: list[int]) -> list[dict]:
        ...
        return [bench.common.row(name=..., baseline=..., baseline_seconds=..., ours_seconds=...,
                                 target=..., notes=...)]

``sizes`` are enterprise counts (10^4, 10^5, 10^6 by default; ``--quick`` uses 10^3, 10^4).
The baseline is measured in the same run on the same data (the naive way: one query per row,
Python-side filtering, …), never copied from elsewhere.
"""

from __future__ import annotations

import os
import platform
import re
import statistics
import time
from collections.abc import Callable
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
BASE_DIR = BENCH_DIR.parent
RESULTS_DIR = BENCH_DIR / "results"  # gitignored: raw results of every run (JSON, CSV)
REPORT = BASE_DIR / "docs" / "performance.md"
REPORT_START = "<!-- bench:start (written by `make bench`; edit outside these markers) -->"
REPORT_END = "<!-- bench:end -->"
LOAD_START = "<!-- load:start (written by `make bench`) -->"
LOAD_END = "<!-- load:end -->"

DEFAULT_SIZES = [10**4, 10**5, 10**6]
QUICK_SIZES = [10**3, 10**4]
BENCH_DATABASE_URL = os.environ.get(
    "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/wugang_bench"
)
# The load test has its own database: it seeds every app's demo data (plans, draws, recusals…),
# which benchmark modules that reset the register must not trip over, and vice versa.
BENCH_LOAD_DATABASE_URL = os.environ.get(
    "BENCH_LOAD_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/wugang_bench_load"
)
BENCH_REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/6")
# Not a secret: the bench database is local, throw-away and never served beyond loopback.
BENCH_SECRET_KEY = "bench-only-not-a-secret-" + "x" * 40
BENCH_FIELD_KEY = "YmVuY2gtb25seS1maWVsZC1rZXktMzItYnl0ZXMhISE="  # 32 bytes, urlsafe b64

ROW_FIELDS = [
    "name",
    "baseline",
    "baseline_seconds",
    "ours_seconds",
    "ratio",
    "target",
    "met",
    "notes",
]


# --- Environment ---------------------------------------------------------------------------
def bench_environ(database_url: str = BENCH_DATABASE_URL) -> dict[str, str]:
    """The environment of the bench process and of the servers it starts (gunicorn)."""
    return {
        "DJANGO_SETTINGS_MODULE": "config.settings.base",
        "DEBUG": "false",
        "SECRET_KEY": BENCH_SECRET_KEY,
        "FIELD_ENCRYPTION_KEY": os.environ.get("FIELD_ENCRYPTION_KEY", BENCH_FIELD_KEY),
        "DATABASE_URL": database_url,
        "REDIS_URL": BENCH_REDIS_URL,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "CONN_MAX_AGE": "60",
        "LOG_LEVEL": "WARNING",
        "VAR_DIR": str(RESULTS_DIR / "var"),
    }


def ensure_database(*, fresh: bool = False, url: str = BENCH_DATABASE_URL) -> None:
    """Create (or with ``fresh`` drop and re-create) a PostgreSQL bench database."""
    import psycopg
    from psycopg import sql

    dbname = url.rsplit("/", 1)[1].split("?")[0]
    admin_url = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [dbname]).fetchone()
        if exists and fresh:
            conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(dbname)))
            exists = None
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(dbname)))


def setup_django(*, fresh: bool = False) -> None:
    """Set Django up in this process against the (empty) base bench database; each module
    family and the load test then switch to their own database (``switch_database``)."""
    os.environ.update(bench_environ())
    (RESULTS_DIR / "var").mkdir(parents=True, exist_ok=True)
    ensure_database(fresh=fresh)
    import django

    django.setup()


def family_database_url(module_name: str) -> str:
    """Modules of one app (``enterprises_import``, ``enterprises_list``…) share a database —
    they may reuse each other's generated data; different apps never share one, so one app's
    reset cannot trip over another app's rows (``wugang_bench_enterprises``, …)."""
    family = module_name.split("_", 1)[0]
    return f"{BENCH_DATABASE_URL}_{family}"


def switch_database(url: str, *, fresh: bool = False) -> None:
    """Point this (already set-up) process at another bench database and migrate it."""
    from django.core.management import call_command
    from django.db import connections

    ensure_database(fresh=fresh, url=url)
    conn = connections["default"]
    conn.close()
    conn.settings_dict["NAME"] = url.rsplit("/", 1)[1].split("?")[0]
    os.environ["DATABASE_URL"] = url
    call_command("migrate", interactive=False, verbosity=0)


# --- Timing --------------------------------------------------------------------------------
def timed(fn: Callable[[], object], *, repeat: int = 3, setup: Callable[[], object] | None = None):
    """Median wall-clock seconds of ``fn()`` over ``repeat`` runs (``setup`` runs untimed
    before each)."""
    times = []
    for _ in range(repeat):
        if setup is not None:
            setup()
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


@contextmanager
def stopwatch():
    """``with stopwatch() as t: ...`` then ``t.seconds``."""

    class _T:
        seconds = 0.0

    t = _T()
    start = time.perf_counter()
    try:
        yield t
    finally:
        t.seconds = time.perf_counter() - start


def row(
    *,
    name: str,
    baseline: str,
    baseline_seconds: float | None,
    ours_seconds: float,
    target: str | float,
    met: bool | None = None,
    notes: str = "",
) -> dict:
    """One result. ``ratio`` = baseline / ours (how many times faster ours is). A numeric
    ``target`` is a minimum ratio; for an absolute target (e.g. "< 2 s") pass ``met``."""
    ratio = (
        round(baseline_seconds / ours_seconds, 2)
        if baseline_seconds is not None and ours_seconds > 0
        else None
    )
    if met is None and isinstance(target, int | float) and ratio is not None:
        met = ratio >= target
    return {
        "name": name,
        "baseline": baseline,
        "baseline_seconds": None if baseline_seconds is None else round(baseline_seconds, 4),
        "ours_seconds": round(ours_seconds, 4),
        "ratio": ratio,
        "target": f"≥ {target}×" if isinstance(target, int | float) else target,
        "met": met,
        "notes": notes,
    }


def check_row(result: dict) -> dict:
    """A row as the report needs it. ``name`` and ``ours_seconds`` are required; other missing
    fields are filled (ratio computed when both times are there) and the gap is noted, so a
    module that returns a partial row still shows up in the table."""
    missing = [f for f in ("name", "ours_seconds") if f not in result]
    if missing:
        raise ValueError(f"benchmark row lacks {missing}: {result}")
    row_ = dict(result)
    absent = [f for f in ROW_FIELDS if f not in row_]
    row_.setdefault("baseline", "—")
    row_.setdefault("baseline_seconds", None)
    if "ratio" not in row_:
        b, o = row_["baseline_seconds"], row_["ours_seconds"]
        row_["ratio"] = round(b / o, 2) if b is not None and o else None
    row_.setdefault("target", "—")
    row_.setdefault("met", None)
    row_.setdefault("notes", "")
    if absent:
        row_["notes"] = (row_["notes"] + f" (row lacked: {', '.join(absent)})").strip()
    return {f: row_[f] for f in ROW_FIELDS}


def _status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"/proc/self/status has no {field}")


def peak_memory(fn: Callable[[], object]) -> int:
    """Bytes of memory ``fn()`` adds at its peak: the whole process (Python objects *and* C
    buffers — lxml, openpyxl's XML writer, psycopg, calamine — which ``tracemalloc`` does not
    see), measured in a forked child so that memory the parent already holds, or freed and
    cached from an earlier run, does not count (the child first returns the parent's freed
    heap to the system with ``malloc_trim``, so it cannot hide an allocation). The child resets its high-water mark
    (``/proc/self/clear_refs`` 5, Linux ≥ 4.0), runs ``fn`` on its own database connection and
    reports VmHWM − VmRSS-at-start."""
    from django.db import connections

    connections.close_all()  # the child must not share the parent's sockets
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child
        status = 1
        try:
            os.close(read_end)
            import ctypes
            import gc

            # Memory the parent freed but kept (malloc's free lists, empty arenas) would be
            # reused without growing the RSS: hand it back to the system first.
            gc.collect()
            ctypes.CDLL("libc.so.6").malloc_trim(0)
            Path("/proc/self/clear_refs").write_text("5")
            start = _status_kib("VmRSS")
            fn()
            peak = _status_kib("VmHWM")
            os.write(write_end, str((peak - start) * 1024).encode())
            status = 0
        except BaseException:
            import traceback

            traceback.print_exc()
        finally:
            connections.close_all()
            os._exit(status)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as reader:
        data = reader.read()
    _, status = os.waitpid(pid, 0)
    if status != 0 or not data:
        raise RuntimeError("the memory-measuring child process failed")
    return int(data)


# --- Machine and report --------------------------------------------------------------------
def machine_info() -> dict[str, str]:
    cpu = platform.processor() or platform.machine()
    try:
        text = Path("/proc/cpuinfo").read_text()
        match = re.search(r"^model name\s*:\s*(.+)$", text, re.M)
        cpu = match.group(1).strip() if match else cpu
    except OSError:
        pass
    ram = ""
    try:
        kb = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))
        ram = f"{kb / 1024 / 1024:.1f} GiB"
    except (OSError, AttributeError):
        pass
    info = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": cpu,
        "cores": str(os.cpu_count()),
        "ram": ram,
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
    }
    try:
        import django
        from django.db import connection

        info["django"] = django.get_version()
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            info["postgresql"] = cursor.fetchone()[0]
    except Exception as exc:  # the report still says what the machine is
        info["postgresql"] = f"unknown ({exc.__class__.__name__})"
    return info


def _fmt_seconds(value) -> str:
    if value is None:
        return "—"
    return f"{value * 1000:.1f} ms" if value < 1 else f"{value:.2f} s"


def results_table(rows: list[dict]) -> str:
    lines = [
        "| Benchmark | Baseline | Baseline time | Ours | Ratio | Target | Met | Notes |",
        "|---|---|---:|---:|---:|---|:-:|---|",
    ]
    for r in rows:
        met = {True: "✅", False: "❌", None: "—"}[r["met"]]
        ratio = "—" if r["ratio"] is None else f"{r['ratio']}×"
        lines.append(
            f"| {r['name']} | {r['baseline']} | {_fmt_seconds(r['baseline_seconds'])} | "
            f"{_fmt_seconds(r['ours_seconds'])} | {ratio} | {r['target']} | {met} | "
            f"{r['notes']} |"
        )
    return "\n".join(lines)


def machine_block(info: dict[str, str], extra: str = "") -> str:
    return (
        f"Run {info['date']} on {info['cpu']}, {info['cores']} cores, {info['ram']} RAM; "
        f"{info['os']}; Python {info['python']}, Django {info.get('django', '?')}, "
        f"PostgreSQL {info.get('postgresql', '?')}.{extra}"
    )


def replace_between(text: str, start: str, end: str, body: str) -> str:
    block = f"{start}\n{body.rstrip()}\n{end}"
    if start in text and end in text:
        return text[: text.index(start)] + block + text[text.index(end) + len(end) :]
    return text.rstrip() + "\n\n" + block + "\n"


def write_report_section(start: str, end: str, body: str, path: Path = REPORT) -> None:
    text = path.read_text(encoding="utf-8") if path.exists() else "# Performance\n"
    path.write_text(replace_between(text, start, end, body), encoding="utf-8")
