"""Fairness statistics (公平性统计, issue 8): who was assigned how often compared with chance,
how often each enterprise was drawn, and the realised sampling rates per tier.

``statistics`` holds the pure statistics (no database); ``inspectors``, ``enterprises`` and
``tiers`` read the draws of a ``Scope`` (period, section, task). The names other code relies on
(docs/contracts.md) are importable from here. The model and its limits: docs/fairness.md.
"""

from .enterprises import (
    RepeatRow,
    YearFrequency,
    active_register_size,
    enterprise_frequency,
    repeat_count,
    repeat_inspections,
)
from .inspectors import InspectorFairness, InspectorRow, inspector_fairness, scope_draws
from .statistics import (
    ALPHA,
    ChiSquare,
    InspectorStat,
    TeamModel,
    chi2_sf,
    chi_square_test,
    draw_team_models,
    fairness_verdict,
    format_p,
    format_probability,
    gamma_q,
    inspector_statistics,
    lower_tail,
    normal_sf,
    team_probabilities,
    upper_tail,
)
from .tiers import DrawTierRate, TierRate, tier_rates

__all__ = [
    "ALPHA",
    "ChiSquare",
    "DrawTierRate",
    "InspectorFairness",
    "InspectorRow",
    "InspectorStat",
    "RepeatRow",
    "TeamModel",
    "TierRate",
    "YearFrequency",
    "active_register_size",
    "chi2_sf",
    "chi_square_test",
    "draw_team_models",
    "enterprise_frequency",
    "fairness_verdict",
    "format_p",
    "format_probability",
    "gamma_q",
    "inspector_fairness",
    "inspector_statistics",
    "lower_tail",
    "normal_sf",
    "repeat_count",
    "repeat_inspections",
    "scope_draws",
    "team_probabilities",
    "tier_rates",
    "upper_tail",
]
