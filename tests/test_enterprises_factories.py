"""Test helpers for the register (not a test module)."""

from enterprises.demo import DIVISION, seed_reference
from enterprises.models import Enterprise, Township, Trade
from enterprises.uscc import uscc_make


def code(n: int) -> str:
    return uscc_make(f"91{DIVISION}MA{n:07d}")


def make_enterprises(n: int, *, trade="refined_oil", start: int = 0) -> list[Enterprise]:
    seed_reference()
    township = Township.objects.get(name="垭口街道")
    trade_obj = Trade.objects.get(code=trade)
    result = []
    for i in range(start, start + n):
        e = Enterprise.objects.create(
            uscc=code(i), name=f"舞钢市测试{i}有限公司", township=township
        )
        e.trades.add(trade_obj)
        result.append(e)
    return result
