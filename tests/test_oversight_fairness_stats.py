"""The pure statistics of the fairness pages (oversight/fairness/statistics.py), each against numbers
worked out by hand here (table values, closed forms, enumerations), never read off the code."""

import itertools
import math
from collections import Counter

import pytest

from inspections.drawing import verify as engine
from oversight import fairness
from oversight.fairness import TeamModel

# A database for the session: tests/conftest.py snapshots the migration data before the first test.
pytestmark = pytest.mark.django_db


# ------------------------------------------------------------------------ chi-square p-value
@pytest.mark.parametrize(
    ("statistic", "df", "p"),
    [
        # Critical values from the standard chi-square table.
        (3.841, 1, 0.05),
        (6.635, 1, 0.01),
        (5.991, 2, 0.05),
        (7.815, 3, 0.05),
        (11.070, 5, 0.05),
        (18.307, 10, 0.05),
        (23.209, 10, 0.01),
        (31.410, 20, 0.05),
        (67.505, 50, 0.05),
        (2.706, 1, 0.10),
        (0.455, 1, 0.50),
    ],
)
def test_chi2_p_value_matches_the_table(statistic, df, p):
    assert fairness.chi2_sf(statistic, df) == pytest.approx(p, abs=2e-4)


def test_chi2_p_value_closed_forms():
    # df = 2: the survival function is exp(-x/2); df = 1: erfc(sqrt(x/2)).
    for x in (0.1, 1.0, 4.0, 10.0, 40.0):
        assert fairness.chi2_sf(x, 2) == pytest.approx(math.exp(-x / 2), rel=1e-10)
        assert fairness.chi2_sf(x, 1) == pytest.approx(math.erfc(math.sqrt(x / 2)), rel=1e-9)
    assert fairness.chi2_sf(0.0, 4) == 1.0


# -------------------------------------------------------------------- one team's chances
def _eligible(**quals):
    return {staff: frozenset(q) for staff, q in quals.items()}


def test_without_qualifications_every_eligible_has_k_over_n():
    probs = fairness.team_probabilities(_eligible(a=(), b=(), c=(), d=(), e=()), 2, [])
    assert probs == {s: pytest.approx(0.4) for s in "abcde"}


def test_team_of_everyone_is_certain():
    assert fairness.team_probabilities(_eligible(a=(), b=()), 2, []) == {"a": 1.0, "b": 1.0}


def test_one_required_qualification_closed_form_by_hand():
    # n = 5, k = 2, holders m = 2 (a, b). P(no holder among the first two) = C(3,2)/C(5,2) = 3/10.
    # Holders: 2/5 + (3/10)/2 = 0.55; others: 2/5 − (3/10)/3 = 0.30. Total 2·0.55 + 3·0.30 = 2.
    probs = fairness.team_probabilities(
        _eligible(a=("hazchem",), b=("hazchem",), c=(), d=(), e=()), 2, ["hazchem"]
    )
    assert probs["a"] == pytest.approx(0.55) and probs["b"] == pytest.approx(0.55)
    assert probs["c"] == probs["d"] == probs["e"] == pytest.approx(0.30)
    # The only holder is always in the team; the three others share the second place.
    probs = fairness.team_probabilities(_eligible(a=("q",), b=(), c=(), d=()), 2, ["q"])
    assert probs == {"a": pytest.approx(1.0), **{s: pytest.approx(1 / 3) for s in "bcd"}}


def test_two_required_qualifications_against_full_enumeration():
    eligible = _eligible(a=("q1",), b=("q2",), c=(), d=(), e=("q1", "q2"))
    # Exact answer: run the engine's team procedure on all 5! = 120 orders.
    rows = [
        {"staff_number": s, "pool": "", "qualifications": q, "capacity": None, "recusals": set()}
        for s, q in eligible.items()
    ]
    hits = Counter()
    orders = list(itertools.permutations(sorted(eligible)))
    names = [row["staff_number"] for row in rows]
    for order in orders:
        positions = [names.index(staff) for staff in order]  # the ranking, imposed
        hits.update(
            engine.build_team("x", "u", rows, 2, ["q1", "q2"], {}, order=positions)["drawn"]
        )
    exact = {s: hits[s] / len(orders) for s in eligible}
    assert sum(exact.values()) == pytest.approx(2)
    probs = fairness.team_probabilities(eligible, 2, ["q1", "q2"])
    for staff in eligible:
        assert probs[staff] == pytest.approx(exact[staff], abs=0.03)
    assert probs["c"] == probs["d"]  # same qualification profile, same chance


# ----------------------------------------------------------- replay of a stored draw
def test_replay_gives_each_team_its_own_eligible_pool():
    inspectors = engine.build_inspector_manifest(
        [
            {"staff_number": "A", "capacity": 1},
            {"staff_number": "B"},
            {"staff_number": "C", "pool": "inactive"},
            {"staff_number": "D", "recusals": ["U2"]},
            {"staff_number": "E"},
        ]
    )
    document = {
        "inspectors_per_enterprise": 2,
        "required_qualifications": [],
        "teams": [
            {"uscc": "U1", "drawn": ["A", "D"]},
            {"uscc": "U2", "drawn": ["B", "E"]},
            {"uscc": "U3", "drawn": ["D", "E"]},
        ],
    }
    teams = fairness.draw_team_models(document=document, inspectors_csv=inspectors)
    # U1: A, B, D, E eligible (C inactive) → 2/4 each. A's only assignment is then used up.
    assert teams[0].probabilities == {s: pytest.approx(0.5) for s in "ABDE"}
    # U2: A has no capacity left, C inactive, D recused → B and E are certain.
    assert teams[1].probabilities == {"B": 1.0, "E": 1.0}
    # U3: B, D, E → 2/3 each.
    assert teams[2].probabilities == {s: pytest.approx(2 / 3) for s in "BDE"}

    stats = fairness.inspector_statistics(teams)
    assert "C" not in stats  # never eligible, never drawn
    assert stats["A"].expected == pytest.approx(0.5) and stats["A"].observed == 1
    assert stats["B"].expected == pytest.approx(0.5 + 1 + 2 / 3) and stats["B"].observed == 1
    assert stats["D"].expected == pytest.approx(0.5 + 2 / 3) and stats["D"].observed == 2
    assert stats["E"].expected == pytest.approx(0.5 + 1 + 2 / 3) and stats["E"].observed == 2
    # Variance Σ p(1−p): B = 0.25 + 0 + 2/9; z = (1 − 13/6) / √(0.25 + 2/9).
    assert stats["B"].variance == pytest.approx(0.25 + 2 / 9)
    assert stats["B"].residual == pytest.approx((1 - 13 / 6) / math.sqrt(0.25 + 2 / 9))
    # D: P(X ≥ 2) with p = (1/2, 2/3) is 1/2 · 2/3 = 1/3; P(X ≤ 2) = 1.
    assert stats["D"].p_high == pytest.approx(1 / 3)
    assert stats["D"].p_low == pytest.approx(1.0)
    # B: P(X ≤ 1) with p = (1/2, 1, 2/3) = P(first 0, third 0) = 1/2 · 1/3.
    assert stats["B"].p_low == pytest.approx(1 / 6)
    assert sum(s.expected for s in stats.values()) == pytest.approx(6)


def test_poisson_binomial_tails_by_hand():
    assert fairness.upper_tail([0.5, 0.5, 0.5], 2) == pytest.approx(4 / 8)
    assert fairness.upper_tail([0.5, 0.5, 0.5], 3) == pytest.approx(1 / 8)
    assert fairness.lower_tail([0.5, 0.5, 0.5], 0) == pytest.approx(1 / 8)
    assert fairness.upper_tail([0.5, 1 / 3], 1) == pytest.approx(1 - 0.5 * 2 / 3)
    assert fairness.upper_tail([0.5], 2) == 0.0
    assert fairness.upper_tail([0.2] * 20, 20) == pytest.approx(0.2**20, rel=1e-9)


def test_long_tails_use_the_normal_approximation_close_to_the_binomial(monkeypatch):
    # Binomial(400, 0.25): mean 100, sd √75; P(X ≥ 120) ≈ 0.0124 (exact binomial tail).
    exact = sum(math.comb(400, j) * 0.25**j * 0.75 ** (400 - j) for j in range(120, 401))
    monkeypatch.setattr("oversight.fairness.statistics.EXACT_TAIL_LIMIT", 10)
    assert fairness.upper_tail([0.25] * 400, 120) == pytest.approx(exact, rel=0.1)
    # The same through inspector_statistics: 400 teams of 1 from 4, "A" in 120 of them.
    staff = ["A", "B", "C", "D"]
    teams = [
        TeamModel(f"U{j}", dict.fromkeys(staff, 0.25), ("A",) if j < 120 else (staff[1 + j % 3],))
        for j in range(400)
    ]
    stat = fairness.inspector_statistics(teams)["A"]
    assert stat.observed == 120 and stat.expected == pytest.approx(100)
    assert stat.p_high == pytest.approx(exact, rel=0.1)
    assert stat.p_low == pytest.approx(
        1 - exact + math.comb(400, 120) * 0.25**120 * 0.75**280, rel=0.01
    )


# ----------------------------------------------------------------------------- chi-square
def test_chi_square_without_pooling():
    # (12−10)²/10 + (8−10)²/10 + (10−10)²/10 = 0.8, df 2 → p = exp(−0.4).
    test = fairness.chi_square_test([(12, 10.0), (8, 10.0), (10, 10.0)])
    assert test.applicable and test.df == 2 and test.pooled == 0
    assert test.statistic == pytest.approx(0.8)
    assert test.p_value == pytest.approx(math.exp(-0.4))


def test_small_expected_counts_are_pooled_into_their_own_category():
    # (3,3) and (2,3) pool into (5,6): categories (10,10), (8,10), (5,6):
    # 0 + 0.4 + 1/6, df 2.
    test = fairness.chi_square_test([(10, 10.0), (8, 10.0), (3, 3.0), (2, 3.0)])
    assert test.applicable and test.categories == 3 and test.pooled == 2
    assert test.statistic == pytest.approx(0.4 + 1 / 6)
    assert test.p_value == pytest.approx(math.exp(-(0.4 + 1 / 6) / 2))


def test_a_pool_still_too_small_joins_the_smallest_category():
    # Pool (1,2)+(3,2) = (4,4) < 5 joins (10,8) → (14,12); with (6,8):
    # 4/12 + 4/8, df 1 → p = erfc(√(x/2)).
    test = fairness.chi_square_test([(10, 8.0), (6, 8.0), (1, 2.0), (3, 2.0)])
    x = 4 / 12 + 4 / 8
    assert test.applicable and test.df == 1
    assert test.statistic == pytest.approx(x)
    assert test.p_value == pytest.approx(math.erfc(math.sqrt(x / 2)))


def test_small_cells_are_pooled_into_groups_of_at_least_five():
    # Expected 2, 2, 2, 3, 3 (sorted): (2+2+2) = 6 closes a group, (3+3) = 6 another:
    # groups (1+1+1, 6) and (9+0, 6) → (3−6)²/6 + (9−6)²/6 = 3, df 1.
    test = fairness.chi_square_test([(1, 2.0), (1, 2.0), (1, 2.0), (9, 3.0), (0, 3.0)])
    assert test.applicable and test.categories == 2 and test.df == 1
    assert test.statistic == pytest.approx(3.0)
    assert test.p_value == pytest.approx(math.erfc(math.sqrt(1.5)))


def test_chi_square_not_applicable_when_expected_counts_are_tiny():
    test = fairness.chi_square_test([(1, 1.0), (2, 1.5)])
    assert not test.applicable and not test.significant
    assert "无法检验" in test.reason
    assert not fairness.chi_square_test([(3, 3.0)]).applicable


# ---------------------------------------------------------------- flag and verdict
def _teams(assignments, n=10, k=2):
    """Teams where all n inspectors S00..S09 are eligible (p = k/n)."""
    staff = [f"S{i:02d}" for i in range(n)]
    return [
        TeamModel(f"U{j}", dict.fromkeys(staff, k / n), tuple(t)) for j, t in enumerate(assignments)
    ]


class _Row:
    def __init__(self, name, stat):
        self.name, self.stat = name, stat


def _verdict(teams):
    stats = fairness.inspector_statistics(teams)
    rows = [_Row(f"检查员{s}", stat) for s, stat in sorted(stats.items())]
    test = fairness.chi_square_test((r.stat.observed, r.stat.expected) for r in rows)
    return stats, test, fairness.fairness_verdict(rows, test)


def test_fair_allocation_is_not_flagged():
    # 20 teams of 2 from 10: expected 4 each; each inspector gets exactly 4.
    pairs = [(f"S{(2 * j) % 10:02d}", f"S{(2 * j + 1) % 10:02d}") for j in range(20)]
    stats, test, verdict = _verdict(_teams(pairs))
    assert all(s.observed == 4 and s.expected == pytest.approx(4) for s in stats.values())
    assert not any(s.flag_high or s.flag_low for s in stats.values())
    assert test.applicable and test.statistic == pytest.approx(0) and test.p_value == 1.0
    # Expected 4 < 5 each: pooled into five pairs (8, 8) → χ² = 0, df 4.
    assert test.categories == 5 and test.pooled == 10 and test.df == 4
    assert verdict == [("ok", "未发现异常（卡方检验 p = 1.0000）")]


def test_seeded_imbalance_is_flagged_with_a_plain_verdict():
    # S00 is in all 20 teams (expected 20 · 2/10 = 4): P(X ≥ 20) = 0.2^20.
    pairs = [("S00", f"S{1 + j % 9:02d}") for j in range(20)]
    stats, test, verdict = _verdict(_teams(pairs))
    favoured = stats["S00"]
    assert favoured.observed == 20 and favoured.expected == pytest.approx(4)
    assert favoured.p_high == pytest.approx(0.2**20)
    assert favoured.residual == pytest.approx(16 / math.sqrt(20 * 0.2 * 0.8))
    assert favoured.flag_high
    assert [s for s, stat in stats.items() if stat.flag_high] == ["S00"]
    assert test.significant
    assert verdict[0] == ("bad", "检查员S00的分配次数明显高于预期（期望 4.0 次，实际 20 次）")


def test_assignment_without_eligibility_is_flagged():
    teams = [TeamModel("U1", {"A": 1.0, "B": 1.0}, ("A", "X"))]
    stats = fairness.inspector_statistics(teams)
    assert stats["X"].ineligible_assignments == 1 and stats["X"].flag_high
    assert stats["X"].expected == 0
