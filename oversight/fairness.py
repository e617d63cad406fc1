"""Fairness statistics (公平性统计, issue 8): who was assigned how often compared with chance,
how often each enterprise was drawn, and the realised sampling rates per tier.

Two halves:

* **Pure statistics** (no database): the probability that an eligible inspector fills one
  enterprise's team under the WGDRAW-1 procedure (``team_probabilities``), the replay of a
  stored draw that gives each team's eligible pool (``draw_team_models``), per-inspector
  observed / expected / variance and exact tail probabilities (``inspector_statistics``,
  Poisson-binomial), Pearson's chi-square goodness-of-fit with pooling of small expected
  counts (``chi_square_test``) and its p-value from the regularised upper incomplete gamma
  function (``chi2_sf``, no scipy), and the plain-language verdict (``fairness_verdict``).
* **Selectors** reading the draws of a ``Scope`` (period, section, task): ``inspector_fairness``,
  ``enterprise_frequency``, ``repeat_inspections``, ``tier_rates``.

The model and its limits are written out in docs/fairness.md.
"""

from __future__ import annotations

import datetime
import json
import math
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils import timezone
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
    counts = defaultdict(int)
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
    hits = defaultdict(int)
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
def scope_draws(scope):
    """Completed (not voided) draws whose draw took place in the period; the section filter
    is the task's lead section (牵头实施股室)."""
    from inspections.models import Draw

    qs = Draw.objects.filter(
        status=Draw.Status.COMPLETED,
        completed_at__date__gte=scope.start,
        completed_at__date__lte=scope.end,
    )
    if scope.section is not None:
        qs = qs.filter(task__lead_section=scope.section)
    if scope.task is not None:
        qs = qs.filter(task=scope.task)
    return qs


@dataclass
class InspectorRow:
    staff_number: str
    name: str
    section: str
    inspector_id: int | None
    stat: InspectorStat
    replaced_in: int = 0
    replaced_out: int = 0


@dataclass
class InspectorFairness:
    rows: list[InspectorRow]
    test: ChiSquare
    verdict: list[tuple[str, str]]
    draws: int
    teams: int
    slots: int

    @property
    def flagged(self) -> list[InspectorRow]:
        return [r for r in self.rows if r.stat.flag_high]


def _team_documents(scope) -> list[tuple[int, dict, bytes]]:
    """(draw id, the part of draw.json the replay needs, inspectors.csv) per draw in scope.
    On PostgreSQL only the teams' ``uscc`` and ``drawn`` leave the database (a draw.json also
    carries every team's ranking, skips and experts, and the tickets: ~40 times more to parse)."""
    from django.db import connection
    from django.db.models.expressions import RawSQL

    qs = scope_draws(scope).order_by("completed_at", "id")
    if connection.vendor != "postgresql":
        return [
            (pk, document, bytes(csv))
            for pk, document, csv in qs.values_list("id", "document", "inspectors_manifest")
        ]
    rows = qs.annotate(
        usccs=RawSQL("jsonb_path_query_array(document, '$.teams[*].uscc')", ()),
        drawn=RawSQL("jsonb_path_query_array(document, '$.teams[*].drawn')", ()),
        k=RawSQL("document -> 'inspectors_per_enterprise'", ()),
        required=RawSQL("document -> 'required_qualifications'", ()),
    ).values_list("id", "usccs", "drawn", "k", "required", "inspectors_manifest")
    out = []
    for pk, usccs, drawn, k, required, csv in rows:
        if isinstance(usccs, str):  # psycopg returns jsonb parsed; a plain str would be JSON
            usccs, drawn, k, required = (json.loads(v) for v in (usccs, drawn, k, required))
        document = {
            "inspectors_per_enterprise": k,
            "required_qualifications": required or [],
            "teams": [
                {"uscc": u, "drawn": d} for u, d in zip(usccs or [], drawn or [], strict=True)
            ],
        }
        out.append((pk, document, bytes(csv)))
    return out


def inspector_fairness(*, scope) -> InspectorFairness:
    from inspections.models import DrawReplacement
    from inspectors.models import Inspector

    draws = _team_documents(scope)
    teams: list[TeamModel] = []
    for _draw_id, document, inspectors_csv in draws:
        if document:
            teams.extend(draw_team_models(document=document, inspectors_csv=inspectors_csv))
    stats = inspector_statistics(teams)
    people = {
        i.staff_number: i
        for i in Inspector.objects.filter(staff_number__in=list(stats)).select_related("section")
    }
    moves_in, moves_out = defaultdict(int), defaultdict(int)
    for out_number, in_number in DrawReplacement.objects.filter(
        selection__draw__in=[draw_id for draw_id, _doc, _csv in draws]
    ).values_list("out__staff_number", "into__staff_number"):
        moves_out[out_number] += 1
        moves_in[in_number] += 1
    rows = []
    for staff, stat in stats.items():
        person = people.get(staff)
        rows.append(
            InspectorRow(
                staff_number=staff,
                name=person.name if person else staff,
                section=person.section.name if person and person.section_id else "",
                inspector_id=person.pk if person else None,
                stat=stat,
                replaced_in=moves_in[staff],
                replaced_out=moves_out[staff],
            )
        )
    rows.sort(key=lambda r: (-(r.stat.residual or 0.0), r.staff_number))
    # Pooling takes ties of the expected count in staff-number order (not in table order).
    test = chi_square_test(
        (r.stat.observed, r.stat.expected) for r in sorted(rows, key=lambda r: r.staff_number)
    )
    return InspectorFairness(
        rows=rows,
        test=test,
        verdict=fairness_verdict(rows, test),
        draws=len(draws),
        teams=len(teams),
        slots=sum(len(t.drawn) for t in teams),
    )


# ----------------------------------------------------------------------------- enterprises
@dataclass
class YearFrequency:
    year: int
    register: int  # active enterprises in the register (today)
    zero: int
    once: int
    twice: int
    three_plus: int
    draws: int

    @property
    def drawn(self) -> int:
        return self.once + self.twice + self.three_plus


@dataclass
class RepeatRow:
    year: int
    enterprise_id: int
    uscc: str
    name: str
    times: int
    draws: list[dict]  # draw_id, task_number, task_name, date
    joint: bool  # all its selections of the year were merged into one joint visit


def _selections(scope):
    from inspections.models import DrawSelection

    return DrawSelection.objects.filter(draw__in=scope_draws(scope))


def enterprise_frequency(*, scope) -> list[YearFrequency]:
    """Per year (the task's year): how many enterprises were drawn 0, 1, 2, 3+ times by the
    completed draws in scope. The base for "0" is today's active register. Aggregated in the
    database: (year, enterprise) → count, then (year, min(count, 3)) → enterprises."""
    from django.db import connection
    from django.db.models import Case, Count, F, IntegerField, Max, Value, When

    from enterprises.models import Enterprise

    per_enterprise = (
        _selections(scope)
        .annotate(y=F("draw__task__year"))
        .values("y", "enterprise_id")
        .annotate(
            n=Count("id"),
            active=Max(
                Case(
                    When(enterprise__status=Enterprise.Status.ACTIVE, then=Value(1)),
                    default=Value(0),
                    output_field=IntegerField(),
                )
            ),
        )
        .order_by()
    )
    sql, params = per_enterprise.query.sql_with_params()
    buckets: dict[int, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    active_drawn: dict[int, int] = defaultdict(int)
    with connection.cursor() as cursor:
        # The inner SQL is the ORM's own, its parameters bound by the driver.
        cursor.execute(
            "SELECT y, CASE WHEN n >= 3 THEN 3 ELSE n END, COUNT(*), SUM(active) "  # noqa: S608
            f"FROM ({sql}) per_enterprise GROUP BY 1, 2",
            params,
        )
        for year, bucket, enterprises, active in cursor.fetchall():
            buckets[year][bucket] += enterprises
            active_drawn[year] += active or 0
    draws = dict(
        scope_draws(scope)
        .values("task__year")
        .annotate(n=Count("id"))
        .order_by()
        .values_list("task__year", "n")
    )
    if not buckets:
        return []
    register = active_register_size()
    return [
        YearFrequency(
            year=year,
            register=register,
            zero=max(0, register - active_drawn[year]),
            once=buckets[year][1],
            twice=buckets[year][2],
            three_plus=buckets[year][3],
            draws=draws.get(year, 0),
        )
        for year in sorted(buckets)
    ]


def active_register_size() -> int:
    """How many enterprises are active (存续) in the register: an exact COUNT of the 10^6-row
    table (≈ 80 ms), so kept in the cache under the data fingerprint of the reports — every
    change to the register goes through a service that records an audit event, which makes a
    new key."""
    from enterprises.models import Enterprise

    from .reports import cached_figures

    return cached_figures(
        "active-register",
        Enterprise.objects.filter(status=Enterprise.Status.ACTIVE).count,
    )


def _repeat_pairs(scope):
    """(year, enterprise) pairs drawn two or more times, most often first (HAVING count ≥ 2)."""
    from django.db.models import Count, F

    return (
        _selections(scope)
        .annotate(y=F("draw__task__year"))
        .values("y", "enterprise_id")
        .annotate(n=Count("id"))
        .filter(n__gte=2)
    )


def repeat_count(*, scope) -> int:
    return _repeat_pairs(scope).order_by().count()


def repeat_inspections(*, scope, limit: int | None = None, offset: int = 0) -> list[RepeatRow]:
    """Enterprises drawn by two or more completed draws of the same year (latest year, most
    often, USCC first), at most ``limit`` from ``offset``. The repeated pairs are found in the
    database; only their selections are then read."""
    from inspections.models import JointVisit

    pairs = list(
        _repeat_pairs(scope)
        .order_by("-y", "-n", "enterprise__uscc")
        .values_list("y", "enterprise_id")[offset : None if limit is None else offset + limit]
    )
    if not pairs:
        return []
    wanted = set(pairs)
    by_key: dict[tuple, list] = defaultdict(list)
    names = {}
    for pk, year, enterprise_id, uscc, name, draw_id, number, task_name, at in (
        _selections(scope)
        .filter(enterprise_id__in={e for _y, e in pairs})
        .values_list(
            "pk",
            "draw__task__year",
            "enterprise_id",
            "enterprise__uscc",
            "enterprise__name",
            "draw_id",
            "draw__task__number",
            "draw__task__name",
            "draw__completed_at",
        )
    ):
        if (year, enterprise_id) in wanted:
            by_key[(year, enterprise_id)].append((pk, draw_id, number, task_name, at))
            names[enterprise_id] = (uscc, name)
    merged: dict[int, int] = {}
    selection_ids = {row[0] for rows in by_key.values() for row in rows}
    for visit_id, selection_id in JointVisit.selections.through.objects.filter(
        drawselection_id__in=selection_ids
    ).values_list("jointvisit_id", "drawselection_id"):
        merged[selection_id] = visit_id
    out = []
    for (year, enterprise_id), rows in by_key.items():
        rows.sort(key=lambda r: (r[4], r[1]))
        visits = {merged.get(r[0]) for r in rows}
        uscc, name = names[enterprise_id]
        out.append(
            RepeatRow(
                year=year,
                enterprise_id=enterprise_id,
                uscc=uscc,
                name=name,
                times=len(rows),
                draws=[
                    {
                        "draw_id": draw_id,
                        "task_number": number,
                        "task_name": task_name,
                        "date": timezone.localtime(at).date() if at else None,
                    }
                    for _pk, draw_id, number, task_name, at in rows
                ],
                joint=len(visits) == 1 and None not in visits,
            )
        )
    out.sort(key=lambda r: (-r.year, -r.times, r.uscc))
    return out


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
    from inspections.selectors.plans import task_rates

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
        configured = sorted({d.configured_rate for d in rows if d.configured_rate is not None})
        summary.append(
            TierRate(
                tier=tier,
                draws=len(rows),
                population=sum(d.population for d in rows),
                drawn=sum(d.drawn for d in rows),
                required=sum(d.required or 0 for d in rows),
                configured=configured,
                problems=sum(1 for d in rows if d.rate_differs or d.short),
            )
        )
    return summary, detail
