"""Reads of the inspections app. Plans and tasks live in ``selectors.plans`` (re-exported here so
``inspections.selectors.task_population`` works); draws add ``selectors.draws`` beside it."""

from .plans import (  # noqa: F401
    EXCLUSION_REASONS,
    SUPERVISED_STATUSES,
    Excluded,
    PopulationSummary,
    RateUsed,
    can_edit_scheme,
    plan_list,
    sampling_rate_history,
    sampling_rates_on,
    task_filter_lines,
    task_has_draws,
    task_list,
    task_population,
    task_population_excluded,
    task_population_summary,
    task_population_unrated,
    task_rates,
    with_tier,
)
