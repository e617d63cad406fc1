"""The realised sampling rates per risk tier, against the rates the draws used."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

from inspections.drawing import verify as engine
from inspections.selectors.plans import task_rates

from .inspectors import scope_draws


# ---------------------------------------------------------------------------- tier rates
@dataclass
class DrawTierRate:
    draw_id: int
    task_number: str
    draw_date: datetime.date
    tier: str
    population: int
    drawn: int
    stored_rate: Decimal
    configured_rate: Decimal | None
    configured_source: str  # "default" / "override" / ""
    required: int | None  # tier_count(population, configured rate, rounding)

    @property
    def realised(self) -> float | None:
        return self.drawn / self.population if self.population else None

    @property
    def rate_differs(self) -> bool:
        return self.population > 0 and (
            self.configured_rate is None or self.stored_rate != self.configured_rate
        )

    @property
    def short(self) -> bool:
        return self.required is not None and self.drawn < self.required


@dataclass
class TierRate:
    tier: str
    draws: int
    population: int
    drawn: int
    required: int
    configured: list[Decimal]
    problems: int  # draws of this tier with a differing rate or fewer drawn than configured

    @property
    def realised(self) -> float | None:
        return self.drawn / self.population if self.population else None

    @property
    def required_rate(self) -> float | None:
        return self.required / self.population if self.population else None


def tier_rates(*, scope) -> tuple[list[TierRate], list[DrawTierRate]]:
    """Realised rate per tier (Σ drawn / Σ population from each draw's stored tier table) next
    to the configured rate of the draw date (the task's TaskRateOverride or the SamplingRate in
    force), and per draw and tier the stored vs configured rate and the count the configured
    rate requires (with the draw's rounding)."""
    detail: list[DrawTierRate] = []
    draws = (
        scope_draws(scope)
        .select_related("task")
        .prefetch_related("task__rate_overrides")
        .only("id", "draw_date", "tiers", "rounding", "task__number", "task__id")
        .order_by("completed_at", "id")
    )
    for draw in draws:
        configured = task_rates(task=draw.task, day=draw.draw_date)
        for tier in engine.TIERS:
            info = (draw.tiers or {}).get(tier) or {}
            population = int(info.get("population") or 0)
            conf = configured.get(tier)
            required = None
            if conf is not None:
                required = engine.tier_count(population, conf.rate, draw.rounding or "ceil")
            detail.append(
                DrawTierRate(
                    draw_id=draw.pk,
                    task_number=draw.task.number,
                    draw_date=draw.draw_date,
                    tier=tier,
                    population=population,
                    drawn=int(info.get("count") or 0),
                    stored_rate=Decimal(str(info.get("rate") or "0")),
                    configured_rate=conf.rate if conf else None,
                    configured_source=conf.source if conf else "",
                    required=required,
                )
            )
    summary = []
    for tier in engine.TIERS:
        rows = [d for d in detail if d.tier == tier and d.population > 0]
        rates = sorted({d.configured_rate for d in rows if d.configured_rate is not None})
        summary.append(
            TierRate(
                tier=tier,
                draws=len(rows),
                population=sum(d.population for d in rows),
                drawn=sum(d.drawn for d in rows),
                required=sum(d.required or 0 for d in rows),
                configured=rates,
                problems=sum(1 for d in rows if d.rate_differs or d.short),
            )
        )
    return summary, detail
