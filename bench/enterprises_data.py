"""Generator of realistic registers (10^4, 10^5, 10^6 enterprises) for the benchmarks.

``python -m bench.enterprises_data 100000 /tmp/register.xlsx`` writes a file with the
template's headers; ``write_register`` is used by the other enterprise benchmarks."""

import os
import random
import sys
from pathlib import Path

from bench import enterprises_setup  # noqa: F401 - configures Django


def register_rows(n: int, *, seed: int = 410481):
    from enterprises.demo import (
        BRANDS,
        DIVISION,
        GIVEN,
        STREETS,
        SUFFIX,
        SURNAMES,
        TOWNSHIPS,
        TRADES,
    )
    from enterprises.uscc import CHARSET, uscc_make

    rng = random.Random(seed)
    trade_names = {code: name for code, name, _ in TRADES}
    trade_codes = list(trade_names)
    townships = [name for _, name in TOWNSHIPS]
    seen = set()
    for i in range(n):
        code = uscc_make(f"91{DIVISION}" + "".join(rng.choice(CHARSET) for _ in range(9)))
        while code in seen:
            code = uscc_make(f"91{DIVISION}" + "".join(rng.choice(CHARSET) for _ in range(9)))
        seen.add(code)
        trade = rng.choice(trade_codes)
        township = rng.choice(townships)
        person = rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN)
        address = f"河南省平顶山市舞钢市{township}{rng.choice(STREETS)}{rng.randint(1, 999)}号"
        trades = trade_names[trade]
        if rng.random() < 0.1:
            trades += "、" + trade_names[rng.choice(trade_codes)]
            if trades.split("、")[0] == trades.split("、")[1]:
                trades = trade_names[trade]
        yield [
            code,
            f"舞钢市{''.join(rng.sample(BRANDS, 2))}{rng.choice(SUFFIX[trade])}{i}",
            person,
            person,
            f"13{rng.randint(100000000, 999999999)}",
            address,
            address,
            township,
            trades,
            "企业",
            rng.choice(["", "小型", "微型", "规上", "规下"]),
            "存续（在业）",
            "",
            "",
            "",
        ]


def write_register(n: int, path: Path) -> Path:
    from core.spreadsheets import write_xlsx
    from enterprises.importers import ENTERPRISE_COLUMNS

    if not path.exists():
        # Written under a temporary name and renamed: another run reusing the same file never
        # sees a half-written one.
        partial = path.with_name(f"{path.name}.{os.getpid()}.partial")
        write_xlsx(partial, headers=[c.header for c in ENTERPRISE_COLUMNS], rows=register_rows(n))
        partial.replace(path)
    return path


if __name__ == "__main__":
    size, target = int(sys.argv[1]), Path(sys.argv[2])
    write_register(size, target)
    print(f"{target}: {size} rows")
