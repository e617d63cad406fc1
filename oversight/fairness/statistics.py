"""The pure statistics of fairness (no database): the probability that an eligible inspector fills
one enterprise's team under the WGDRAW-1 procedure (``team_probabilities``), the replay of a
stored draw that gives each team's eligible pool (``draw_team_models``), per-inspector
observed / expected / variance and exact tail probabilities (``inspector_statistics``,
Poisson-binomial), Pearson's chi-square goodness-of-fit with pooling of small expected counts
(``chi_square_test``) and its p-value from the regularised upper incomplete gamma function
(``chi2_sf``, no scipy), and the plain-language verdict (``fairness_verdict``). The model
and its limits: docs/fairness.md.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _

from inspections.drawing import verify as engine

ALPHA = 0.05  # significance level of the chi-square test and of the per-inspector flag
MIN_EXPECTED = 5.0  # chi-square categories with a smaller expected count are pooled
MONTE_CARLO_RUNS = 2000  # teams with two or more required qualifications (see docs/fairness.md)
EXACT_TAIL_LIMIT = 300_000  # slots × count above which the tail uses the normal approximation


# ===================================================================== special functions
def _log_gamma_prefactor(a: float, x: float) -> float:
    return math.exp(-x + a * math.log(x) - math.lgamma(a))


def _gamma_p_series(a: float, x: float) -> float:
    """P(a, x) by its power series (converges fast for x < a + 1)."""
    term = total = 1.0 / a
    ap = a
    for _i in range(10_000):
        ap += 1.0
        term *= x / ap
        total += term
        if abs(term) < abs(total) * 1e-16:
            break
    return total * _log_gamma_prefactor(a, x)


def _gamma_q_fraction(a: float, x: float) -> float:
    """Q(a, x) by its continued fraction (modified Lentz; for x ≥ a + 1)."""
    tiny = 1e-300
    b = x + 1.0 - a
    c = 1.0 / tiny
    d = 1.0 / b
    h = d
    for i in range(1, 10_000):
        an = -i * (i - a)
        b += 2.0
        d = an * d + b
        if abs(d) < tiny:
            d = tiny
        c = b + an / c
        if abs(c) < tiny:
            c = tiny
        d = 1.0 / d
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < 1e-16:
            break
    return h * _log_gamma_prefactor(a, x)


def gamma_q(a: float, x: float) -> float:
    """The regularised upper incomplete gamma function Q(a, x) = Γ(a, x) / Γ(a)."""
    if a <= 0:
        raise ValueError("a must be positive")
    if x <= 0:
        return 1.0
    if x < a + 1.0:
        return max(0.0, 1.0 - _gamma_p_series(a, x))
    return min(1.0, _gamma_q_fraction(a, x))


def chi2_sf(statistic: float, df: int) -> float:
    """P(χ²_df ≥ statistic) = Q(df/2, statistic/2)."""
    if df < 1:
        raise ValueError("at least one degree of freedom")
    return gamma_q(df / 2.0, statistic / 2.0)


def normal_sf(z: float) -> float:
    return 0.5 * math.erfc(z / math.sqrt(2.0))


def _poisson_binomial(probs: list[float], limit: int) -> tuple[list[float], float]:
    """P(X = j) for j < limit and P(X ≥ limit), X = sum of independent Bernoulli(p)."""
    dist = [1.0] + [0.0] * (limit - 1)
    tail = 0.0
    for p in probs:
        q = 1.0 - p
        tail += dist[limit - 1] * p
        for j in range(limit - 1, 0, -1):
            dist[j] = dist[j] * q + dist[j - 1] * p
        dist[0] *= q
    return dist, tail


def upper_tail(probs: list[float], observed: int) -> float:
    """P(X ≥ observed), exact (Poisson-binomial) or, for very long lists, normal with
    continuity correction."""
    if observed <= 0:
        return 1.0
    if observed > len(probs):
        return 0.0
    if len(probs) * observed <= EXACT_TAIL_LIMIT:
        return min(1.0, _poisson_binomial(probs, observed)[1])
    mean = sum(probs)
    sd = math.sqrt(sum(p * (1 - p) for p in probs)) or 1e-12
    return normal_sf((observed - 0.5 - mean) / sd)


def lower_tail(probs: list[float], observed: int) -> float:
    """P(X ≤ observed)."""
    if observed < 0:
        return 0.0
    if observed >= len(probs):
        return 1.0
    if len(probs) * (observed + 1) <= EXACT_TAIL_LIMIT:
        return min(1.0, sum(_poisson_binomial(probs, observed + 1)[0]))
    mean = sum(probs)
    sd = math.sqrt(sum(p * (1 - p) for p in probs)) or 1e-12
    return 1.0 - normal_sf((observed + 0.5 - mean) / sd)


# ============================================================ chance of one team slot
_MONTE_CARLO_CACHE: dict[tuple, dict[frozenset, float]] = {}


def team_probabilities(eligible: dict[str, frozenset], k: int, required=()) -> dict[str, float]:
    """P(inspector is in the team of one enterprise), for every eligible inspector.

    ``eligible``: staff number → qualifications, the inspectors the engine would not skip for
    this enterprise. WGDRAW-1 ranks everyone by an independent hash (a uniformly random order
    under the null hypothesis) and takes the first k eligible, so without required
    qualifications each of the n eligible is in the team with probability k/n. With one
    required qualification q held by m of them, the team is the first k unless none of those
    holds q, in which case its last member is replaced by the first holder of q. With
    P0 = C(n−m, k) / C(n, k): holders k/n + P0/m, others k/n − P0/(n−m). With two or more
    required qualifications the engine's own ``build_team`` is run on MONTE_CARLO_RUNS
    hash-seeded orders (deterministic) and the frequencies are used."""
    n = len(eligible)
    if n == 0:
        return {}
    if k >= n:
        return dict.fromkeys(eligible, 1.0)
    required = sorted(set(required))
    base = k / n
    if not required:
        return dict.fromkeys(eligible, base)
    if len(required) == 1:
        q = required[0]
        holders = {s for s, quals in eligible.items() if q in quals}
        m = len(holders)
        if m == 0 or m == n:  # (m == 0 cannot occur in a completed draw)
            return dict.fromkeys(eligible, base)
        p0 = math.comb(n - m, k) / math.comb(n, k)
        with_q, without_q = base + p0 / m, base - p0 / (n - m)
        return {s: with_q if s in holders else without_q for s in eligible}
    profiles = {s: frozenset(q for q in required if q in quals) for s, quals in eligible.items()}
    class_of = _monte_carlo_classes(profiles, k, required)
    return {s: class_of[profile] for s, profile in profiles.items()}


def _monte_carlo_classes(profiles: dict[str, frozenset], k: int, required) -> dict:
    counts: defaultdict[Any, int] = defaultdict(int)
    for profile in profiles.values():
        counts[profile] += 1
    signature = (
        k,
        tuple(required),
        tuple(sorted((tuple(sorted(p)), c) for p, c in counts.items())),
    )
    if signature in _MONTE_CARLO_CACHE:
        return _MONTE_CARLO_CACHE[signature]
    rows, profile_of = [], {}
    for index, (profile, count) in enumerate(sorted(counts.items(), key=lambda x: sorted(x[0]))):
        for j in range(count):
            staff = f"C{index:02d}N{j:04d}"
            profile_of[staff] = profile
            rows.append(
                {
                    "staff_number": staff,
                    "pool": "",
                    "qualifications": profile,
                    "capacity": None,
                    "recusals": frozenset(),
                }
            )
    hits: defaultdict[Any, int] = defaultdict(int)
    done = 0
    for run in range(MONTE_CARLO_RUNS):
        try:
            team = engine.build_team(f"FAIRNESS-MC|{run}", "MC", rows, k, required, {})
        except engine.DrawError:
            continue
        done += 1
        for member in team["drawn"]:
            hits[profile_of[member]] += 1
    n = len(profile_of)
    result = {
        profile: (hits[profile] / (done * count) if done else k / n)
        for profile, count in counts.items()
    }
    if len(_MONTE_CARLO_CACHE) > 1000:
        _MONTE_CARLO_CACHE.clear()
    _MONTE_CARLO_CACHE[signature] = result
    return result


# ================================================================ replaying a stored draw
@dataclass(frozen=True)
class TeamModel:
    """One enterprise's team in a draw: who could fill it, with which chance, who did."""

    uscc: str
    probabilities: dict[str, float]
    drawn: tuple[str, ...]


def draw_team_models(*, document: dict, inspectors_csv: bytes) -> list[TeamModel]:
    """Replay a completed draw's teams in ticket order from its stored inspectors.csv: at each
    team, the eligible pool is everyone without a pool reason, not recused for the enterprise
    and with capacity left after the teams drawn before it — the engine's rule
    (``verify._skip_reason``) — so the per-slot eligibility is exact, not the draw-wide pool.

    Teams with the same pool share one probability dict (computed once; inspector_statistics
    accumulates it once per distinct pool): the pool is the frozen base minus the few who are
    recused for this enterprise or out of capacity, so each team costs O(those few)."""
    pool = engine.parse_inspectors(inspectors_csv)
    base = {row["staff_number"]: row["qualifications"] for row in pool if not row["pool"]}
    recused: dict[str, set] = defaultdict(set)
    for row in pool:
        for uscc in row["recusals"]:
            recused[uscc].add(row["staff_number"])
    remaining = engine.initial_capacity(pool)
    exhausted = {staff for staff, left in remaining.items() if left == 0}
    k = int(document.get("inspectors_per_enterprise") or 0)
    required = document.get("required_qualifications") or []
    models = []
    shared: dict[frozenset, dict[str, float]] = {}
    for team in document.get("teams", []):
        uscc = team["uscc"]
        out = frozenset(s for s in exhausted | recused.get(uscc, set()) if s in base)
        if out not in shared:
            eligible = {s: q for s, q in base.items() if s not in out}
            shared[out] = team_probabilities(eligible, k, required)
        drawn = tuple(team.get("drawn") or team.get("inspectors") or ())
        models.append(TeamModel(uscc, shared[out], drawn))
        for member in drawn:
            if remaining.get(member) is not None:
                remaining[member] -= 1
                if remaining[member] == 0:
                    exhausted.add(member)
                else:
                    exhausted.discard(member)
    return models


# ============================================================== per-inspector statistics
@dataclass
class InspectorStat:
    staff_number: str
    observed: int = 0
    expected: float = 0.0
    variance: float = 0.0
    eligible_teams: int = 0
    chances: Counter = field(default_factory=Counter, repr=False)  # p → number of teams
    p_high: float = 1.0  # P(X ≥ observed)
    p_low: float = 1.0  # P(X ≤ observed)
    flag_high: bool = False
    flag_low: bool = False
    ineligible_assignments: int = 0  # assignments to a team the inspector was not eligible for

    @property
    def residual(self) -> float | None:
        """Standardised residual z = (O − E) / √V, V = Σ p(1 − p)."""
        if self.variance <= 0:
            return None
        return (self.observed - self.expected) / math.sqrt(self.variance)

    @property
    def ratio(self) -> float | None:
        return self.observed / self.expected if self.expected > 0 else None


def inspector_statistics(teams: Iterable[TeamModel], *, alpha: float = ALPHA) -> dict:
    """staff number → InspectorStat, with exact tails and Bonferroni-adjusted flags over the
    inspectors who had a chance at all (expected > 0)."""
    stats: dict[str, InspectorStat] = {}

    def get(staff):
        if staff not in stats:
            stats[staff] = InspectorStat(staff)
        return stats[staff]

    pools: dict[int, list] = {}  # id of a shared probability dict → [dict, number of teams]
    for team in teams:
        entry = pools.setdefault(id(team.probabilities), [team.probabilities, 0])
        entry[1] += 1
        for staff in team.drawn:
            stat = get(staff)
            stat.observed += 1
            if team.probabilities.get(staff, 0) <= 0:
                stat.ineligible_assignments += 1
    for probabilities, times in pools.values():
        for staff, p in probabilities.items():
            if p <= 0:
                continue
            stat = get(staff)
            stat.expected += p * times
            stat.variance += p * (1.0 - p) * times
            stat.eligible_teams += times
            stat.chances[p] += times
    tested = [s for s in stats.values() if s.expected > 0]
    m = max(1, len(tested))
    for stat in tested:
        stat.p_high, stat.p_low = _tails(stat)
        stat.flag_high = stat.observed > stat.expected and stat.p_high * m < alpha
        stat.flag_low = stat.observed < stat.expected and stat.p_low * m < alpha
    for stat in stats.values():
        if stat.ineligible_assignments:
            stat.flag_high = True
            stat.p_high = 0.0
    return stats


def _tails(stat: InspectorStat) -> tuple[float, float]:
    """(P(X ≥ observed), P(X ≤ observed)): exact when small, else normal (same as the list
    functions, without expanding the list)."""
    slots = sum(stat.chances.values())
    if slots * (stat.observed + 1) <= EXACT_TAIL_LIMIT:
        probs = [p for p, times in stat.chances.items() for _i in range(times)]
        return upper_tail(probs, stat.observed), lower_tail(probs, stat.observed)
    sd = math.sqrt(stat.variance) or 1e-12
    o, mean = stat.observed, stat.expected
    high = 1.0 if o <= 0 else (0.0 if o > slots else normal_sf((o - 0.5 - mean) / sd))
    low = 1.0 if o >= slots else 1.0 - normal_sf((o + 0.5 - mean) / sd)
    return high, low


@dataclass(frozen=True)
class ChiSquare:
    applicable: bool
    reason: str = ""
    statistic: float = 0.0
    df: int = 0
    p_value: float | None = None
    categories: int = 0
    pooled: int = 0  # inspectors merged into the pooled category

    @property
    def significant(self) -> bool:
        return self.applicable and self.p_value is not None and self.p_value < ALPHA


def chi_square_test(pairs: Iterable[tuple[int, float]], *, min_expected=MIN_EXPECTED) -> ChiSquare:
    """Pearson's goodness-of-fit over (observed, expected) per inspector. Inspectors with an
    expected count below ``min_expected`` are pooled: taken in order of their expected count,
    consecutive ones form groups whose expected counts add up to at least ``min_expected``; a
    remainder still below it joins the last group (or, with no group, the smallest regular
    category). Needs two categories after pooling; df = categories − 1."""
    cells = [(o, e) for o, e in pairs if e > 0]
    if len(cells) < 2:
        return ChiSquare(False, _("参与比较的检查人员不足两人"))
    big = sorted((c for c in cells if c[1] >= min_expected), key=lambda c: c[1])
    small = sorted((c for c in cells if c[1] < min_expected), key=lambda c: c[1])
    pooled = len(small)
    bins: list[tuple[int, float]] = []
    current = (0, 0.0)
    for o, e in small:  # consecutive (by expected count) small cells, each bin ≥ min_expected
        current = (current[0] + o, current[1] + e)
        if current[1] >= min_expected:
            bins.append(current)
            current = (0, 0.0)
    if current[1] > 0:  # a remainder still too small joins the last bin or the smallest cell
        if bins:
            bins[-1] = (bins[-1][0] + current[0], bins[-1][1] + current[1])
        elif big:
            big[0] = (big[0][0] + current[0], big[0][1] + current[1])
        else:
            return ChiSquare(
                False,
                _("全部期望次数合计仅 %(total).1f 次，少于 %(min)s 次，样本太少，无法检验")
                % {"total": current[1], "min": int(min_expected)},
                pooled=pooled,
            )
    big.extend(bins)
    if len(big) < 2:
        return ChiSquare(
            False,
            _("期望次数过小（每人不足 %(min)s 次），合并后不足两组，无法进行卡方检验")
            % {"min": int(min_expected)},
            pooled=pooled,
        )
    statistic = sum((o - e) ** 2 / e for o, e in big)
    df = len(big) - 1
    return ChiSquare(True, "", statistic, df, chi2_sf(statistic, df), len(big), pooled)


def _count(value: float) -> str:
    return f"{value:.1f}"


def fairness_verdict(rows, test: ChiSquare) -> list[tuple[str, str]]:
    """Plain-language verdict lines (level, text); level is "bad", "warn" or "ok".

    ``rows``: objects with ``name``, ``stat`` (InspectorStat)."""
    lines = []
    for row in rows:
        stat = row.stat
        if stat.ineligible_assignments:
            lines.append(
                (
                    "bad",
                    _("%(name)s在不具备抽取资格的情况下被分配 %(n)s 次，须核查抽取记录")
                    % {"name": row.name, "n": stat.ineligible_assignments},
                )
            )
        elif stat.flag_high:
            lines.append(
                (
                    "bad",
                    _("%(name)s的分配次数明显高于预期（期望 %(e)s 次，实际 %(o)s 次）")
                    % {"name": row.name, "e": _count(stat.expected), "o": stat.observed},
                )
            )
    for row in rows:
        if row.stat.flag_low and not row.stat.flag_high:
            lines.append(
                (
                    "warn",
                    _("%(name)s的分配次数明显低于预期（期望 %(e)s 次，实际 %(o)s 次）")
                    % {"name": row.name, "e": _count(row.stat.expected), "o": row.stat.observed},
                )
            )
    if test.significant and not any(level == "bad" for level, _text in lines):
        lines.append(
            (
                "warn",
                _(
                    "整体分配与随机抽取的预期有统计学差异（卡方检验 %(p)s），"
                    "但没有单个人员明显偏高，请结合明细核查"
                )
                % {"p": format_p(test.p_value)},
            )
        )
    if not lines:
        if test.applicable:
            lines.append(("ok", _("未发现异常（卡方检验 %(p)s）") % {"p": format_p(test.p_value)}))
        else:
            lines.append(("ok", _("未发现单个人员明显偏高；%(reason)s") % {"reason": test.reason}))
    return lines


def format_p(p: float | None) -> str:
    """ "p = 0.0123" or "p < 0.0001" (for the verdict and the test line)."""
    if p is None:
        return "p = —"
    if p < 0.0001:
        return "p < 0.0001"
    return f"p = {p:.4f}"


def format_probability(p: float) -> str:
    return "< 0.0001" if p < 0.0001 else f"{p:.4f}"


# ============================================================================= selectors
