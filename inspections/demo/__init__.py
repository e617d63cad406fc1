"""Demo data of the inspections app (collected by core's ``seed_demo``): the filed 2026 plan
(``plans``), then its draws (``draws``), then visits in every state (``visits``)."""

from . import draws, plans, visits


def seed(*, stdout, with_visits: bool = True) -> None:
    if not plans.seed(stdout=stdout):
        return
    # Draws build on the plan's tasks, visits on the draws.
    draws.seed(stdout=stdout)
    if with_visits:  # a browser test seeds the draws only and records a visit itself
        visits.seed(stdout=stdout)
