"""``python -m bench`` (``make bench``): run every benchmark against its baseline on a PostgreSQL
bench database, then the load test, and write the tables into docs/performance.md.

    make bench                                 # 10^4, 10^5, 10^6 enterprises; 5-minute load test
    make bench BENCH_ARGS="--quick"            # 10^3, 10^4; 30-second load test
    make bench BENCH_ARGS="--only audit --no-load"
    make bench BENCH_ARGS="--load-only --quick"
    make bench BENCH_ARGS="--list"

Never part of CI. Exit status: 0 when every benchmark ran (a target not met is reported, not
an error), 1 when a benchmark module raised, 2 on a usage error.
"""

from __future__ import annotations

import argparse
import importlib
import json
import pkgutil
import re
import sys
import traceback

from . import common

NOT_BENCHMARKS = {"common", "__main__", "load"}


def discover() -> list[str]:
    """The modules of bench/ that define ``run(sizes)`` (helpers such as data generators do
    not, and are skipped). Read, not imported: importing may set Django up."""
    names = []
    for info in pkgutil.iter_modules([str(common.BENCH_DIR)]):
        if info.name in NOT_BENCHMARKS or info.name.startswith("_") or info.ispkg:
            continue
        source = (common.BENCH_DIR / f"{info.name}.py").read_text(encoding="utf-8")
        if re.search(r"^def run\(", source, re.M):
            names.append(info.name)
    return sorted(names)


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, 30-second load test")
    parser.add_argument("--sizes", help="comma-separated enterprise counts (e.g. 10000,100000)")
    parser.add_argument("--only", action="append", default=[], help="run only this module")
    parser.add_argument("--list", action="store_true", help="list the benchmark modules")
    parser.add_argument("--fresh", action="store_true", help="drop and re-create the bench db")
    parser.add_argument("--no-load", action="store_true", help="skip the load test")
    parser.add_argument("--load-only", action="store_true", help="only the load test")
    parser.add_argument("--users", type=int, default=50, help="load test: concurrent users")
    parser.add_argument("--duration", type=int, help="load test: seconds (300; --quick 30)")
    parser.add_argument("--no-write", action="store_true", help="do not touch docs/")
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    modules = discover()
    if args.list:
        print("\n".join(modules) or "(no benchmark modules)")
        return 0
    unknown = set(args.only) - set(modules)
    if unknown:
        print(f"unknown benchmark module(s): {', '.join(sorted(unknown))}", file=sys.stderr)
        return 2
    sizes = (
        [int(s.replace("_", "")) for s in args.sizes.split(",")]
        if args.sizes
        else (common.QUICK_SIZES if args.quick else common.DEFAULT_SIZES)
    )
    common.setup_django(fresh=args.fresh)
    common.RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    info = common.machine_info()
    print(common.machine_block(info))

    rows: list[dict] = []
    prepared: set[str] = set()
    failed = False
    if not args.load_only:
        for name in args.only or modules:
            print(f"== {name} (sizes {sizes})", flush=True)
            try:
                database = common.family_database_url(name)
                if database not in prepared:
                    common.switch_database(database, fresh=args.fresh)
                    prepared.add(database)
                else:
                    common.switch_database(database)
                module = importlib.import_module(f"bench.{name}")
                for result in module.run(sizes):
                    checked = common.check_row(result)
                    rows.append(checked)
                    print(
                        f"   {checked['name']}: ours {checked['ours_seconds']} s, "
                        f"ratio {checked['ratio']}, met {checked['met']}",
                        flush=True,
                    )
            except Exception as exc:
                failed = True
                traceback.print_exc()
                rows.append(
                    common.row(
                        name=f"{name} (failed)",
                        baseline="—",
                        baseline_seconds=None,
                        ours_seconds=0.0,
                        target="—",
                        notes=f"ERROR {exc.__class__.__name__}: {exc}"[:200],
                    )
                )
        stamp = info["date"].replace(" ", "_").replace(":", "")
        (common.RESULTS_DIR / f"bench-{stamp}.json").write_text(
            json.dumps(
                {"machine": info, "sizes": sizes, "rows": rows}, ensure_ascii=False, indent=2
            )
        )
        if not args.no_write and rows:
            body = (
                common.machine_block(info, f" Sizes: {', '.join(f'{s:,}' for s in sizes)}.")
                + "\n\n"
                + common.results_table(rows)
            )
            common.write_report_section(common.REPORT_START, common.REPORT_END, body)

    if not args.no_load:
        from .load.runner import report_markdown, run_load

        duration = args.duration or (30 if args.quick else 300)
        print(f"== load test: {args.users} users for {duration} s", flush=True)
        result = run_load(users=args.users, duration=duration, fresh=args.fresh)
        print(json.dumps(result["summary"], ensure_ascii=False, indent=2))
        if not args.no_write:
            common.write_report_section(
                common.LOAD_START, common.LOAD_END, report_markdown(result, info)
            )
        failed = failed or not result["ok"]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
