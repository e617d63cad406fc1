#!/usr/bin/env python3
"""WGDRAW-1: the verifiable draw of the 舞钢市工业信息化和商务局 "双随机、一公开" system.

This one file is BOTH the algorithm the server uses to draw AND the standalone verifier that ships
inside every evidence package. It uses only the Python standard library (3.8+), so anyone can run

    python3 verify.py

in the unpacked evidence folder (manifest.csv, inspectors.csv, experts.csv, draw.json): it
recomputes the hashes, the seed string, the tickets, the per-tier selection, the inspector teams
and the post-draw replacements, prints ``OK`` and exits 0, or prints every difference and exits 1.

Algorithm (documented with a worked example in docs/draws.md):

* manifest.csv: header ``uscc,tier[,attribute...]``, one row per enterprise, sorted by USCC
  bytewise, LF after every row, values are codes (no quoting).
* S = ``WGDRAW-1|draw=<id>|population=<sha256>|inspectors=<sha256>|experts=<sha256>|``
  ``n=A:<n>.B:<n>.C:<n>.D:<n>|k=<k>|secret=<hex>|dice=<d6|d10>:<digits>``
* ticket(e) = lowercase hex sha256(UTF-8 of ``S + "|ENT|" + uscc``); in each tier the n smallest
  tickets are selected (tie: smaller USCC).
* the selected enterprises, in ticket order, get their teams: inspectors ranked by
  sha256(``S + "|INSP|" + uscc + "|" + staff_number``); the first k eligible are taken; a required
  qualification nobody in the team has replaces the lowest-ranked replaceable member by the
  highest-ranked eligible inspector who has it. Experts: sha256(``S + "|EXP|" + uscc + "|" + code``).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal

ALGORITHM = "WGDRAW-1"
TIERS = ("A", "B", "C", "D")
SEED_ALPHABET = re.compile(r"^[A-Za-z0-9|=:._-]+$")
CODE_VALUE = re.compile(r"^[A-Za-z0-9_.;:-]*$")
USCC_VALUE = re.compile(r"^[0-9A-Z]{15,18}$")
HEX64 = re.compile(r"^[0-9a-f]{64}$")
MIN_DICE_DIGITS = 20
DICE_KINDS = {"d6": "123456", "d10": "0123456789"}
ROUNDINGS = ("ceil", "half_up")
INSPECTOR_HEADER = ("staff_number", "section", "pool", "qualifications", "capacity", "recusals")
EXPERT_HEADER = ("code", "specialties", "pool", "recusals")
FORBIDDEN_TEXT = re.compile(r'[,"\r\n;]')

# Reasons recorded for skipped candidates (the pool reason comes from the roster at freeze time).
SKIP_RECUSED = "recused"
SKIP_CAPACITY = "capacity"
SKIP_REPLACED = "replaced_after_draw"


class DrawError(Exception):
    """The draw cannot proceed (for example too few eligible inspectors)."""


class Shortfall(DrawError):
    def __init__(self, uscc, needed, available, qualification=""):
        self.uscc = uscc
        self.needed = needed
        self.available = available
        self.qualification = qualification
        what = f"qualification {qualification}" if qualification else "inspectors"
        super().__init__(f"{uscc}: needs {needed} eligible ({what}), only {available} available")


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --------------------------------------------------------------------------------------- counts
def tier_count(population: int, rate, rounding: str = "ceil") -> int:
    """n = ceil(N × rate) (or round-half-up) in exact decimal arithmetic; 0 for an empty tier."""
    if population <= 0:
        return 0
    if rounding not in ROUNDINGS:
        raise ValueError(f"unknown rounding {rounding!r}")
    exact = Decimal(population) * Decimal(str(rate))
    mode = ROUND_CEILING if rounding == "ceil" else ROUND_HALF_UP
    return min(population, int(exact.to_integral_value(rounding=mode)))


# ------------------------------------------------------------------------------------- manifests
def _csv_bytes(header, rows) -> bytes:
    lines = [",".join(header)] + [",".join(row) for row in rows]
    return ("\n".join(lines) + "\n").encode("utf-8")


def build_manifest(rows, attributes=()) -> bytes:
    """rows: iterable of dicts with ``uscc``, ``tier`` and each attribute (codes only), or of
    tuples in header order. Lines are sorted as strings: "," sorts before every USCC character,
    so line order is USCC byte order. The result is checked by ``read_manifest`` (the same
    check the verifier applies), so only canonical manifests are ever produced."""
    header = ("uscc", "tier", *attributes)

    def line(row):
        if isinstance(row, dict):
            return ",".join(str(row.get(col, "") or "") for col in header)
        return ",".join("" if v is None else str(v) for v in row)

    rows = iter(rows)
    first = next(rows, None)
    lines = [] if first is None else [line(first)]
    if isinstance(first, tuple) and all(isinstance(v, str) for v in first):
        lines.extend(map(",".join, rows))  # tuples of str (database rows): C speed
    else:
        lines.extend(map(line, rows))
    lines.sort()
    data = ("\n".join([",".join(header), *lines]) + "\n").encode("utf-8")
    read_manifest(data)
    return data


def _clean(value, what):
    value = str(value or "")
    if FORBIDDEN_TEXT.search(value):
        raise ValueError(f"{what} {value!r} contains , ; quote or newline")
    return value


def _join(values, what):
    return ";".join(sorted(_clean(v, what) for v in values))


def build_inspector_manifest(rows) -> bytes:
    """rows: dicts with staff_number, section, pool ("" if in the pool, else the reason),
    qualifications (codes), capacity (remaining assignments for this draw, None = unlimited),
    recusals (USCCs)."""
    out = []
    for row in rows:
        capacity = row.get("capacity")
        out.append(
            [
                _clean(row["staff_number"], "staff number"),
                _clean(row.get("section", ""), "section"),
                _clean(row.get("pool", ""), "pool reason"),
                _join(row.get("qualifications", ()), "qualification"),
                "" if capacity is None else str(int(capacity)),
                _join(row.get("recusals", ()), "recusal"),
            ]
        )
    out.sort(key=lambda v: v[0].encode("utf-8"))
    _check_unique([v[0] for v in out], "staff number")
    return _csv_bytes(INSPECTOR_HEADER, out)


def build_expert_manifest(rows) -> bytes:
    out = []
    for row in rows:
        out.append(
            [
                _clean(row["code"], "expert code"),
                _join(row.get("specialties", ()), "specialty"),
                _clean(row.get("pool", ""), "pool reason"),
                _join(row.get("recusals", ()), "recusal"),
            ]
        )
    out.sort(key=lambda v: v[0].encode("utf-8"))
    _check_unique([v[0] for v in out], "expert code")
    return _csv_bytes(EXPERT_HEADER, out)


def _check_unique(values, what):
    if len(set(values)) != len(values):
        raise ValueError(f"duplicate {what}")


def _lines(data: bytes, name: str):
    text = data.decode("utf-8")
    if not text.endswith("\n") or "\r" in text:
        raise ValueError(f"{name}: every row must end with LF (and no CR)")
    return text[:-1].split("\n")


_ROW_PATTERNS = {}


def _row_pattern(width: int):
    if width not in _ROW_PATTERNS:
        attrs = ",[A-Za-z0-9_.;:-]*" * (width - 2)
        _ROW_PATTERNS[width] = re.compile(rb"(?:[0-9A-Z]{15,18},[ABCD]" + attrs.encode() + rb"\n)*")
    return _ROW_PATTERNS[width]


_LAST_READ = {}


def read_manifest(data: bytes):
    """read_manifest_uncached, remembering the last result (a pure function of the bytes; the
    draw reads the same manifest several times)."""
    key = (len(data), hashlib.sha256(data).digest())
    if key not in _LAST_READ:
        _LAST_READ.clear()
        _LAST_READ[key] = read_manifest_uncached(data)
    return _LAST_READ[key]


def read_manifest_uncached(data: bytes):
    """Check manifest.csv and return (header, usccs, tiers): usccs as bytes in file order,
    tiers as one-letter bytes. Checks: header starts uscc,tier; every row has the header's
    width and only codes; LF after every row; USCCs strictly increasing bytewise (sorted,
    unique). The checks run at C speed (one regex, one comparison pass)."""
    import operator
    from itertools import islice

    if not data.endswith(b"\n") or b"\r" in data:
        raise ValueError("manifest.csv: every row must end with LF (and no CR)")
    head, _, body = data.partition(b"\n")
    header = head.decode("utf-8").split(",")
    if header[:2] != ["uscc", "tier"]:
        raise ValueError("manifest.csv: header must start with uscc,tier")
    lines = body.split(b"\n")
    lines.pop()  # after the last LF
    if not _row_pattern(len(header)).fullmatch(body):
        for number, line in enumerate(lines, start=2):
            if not _row_pattern(len(header)).fullmatch(line + b"\n"):
                raise ValueError(f"manifest.csv line {number}: bad row {line[:60]!r}")
        raise ValueError("manifest.csv: bad rows")
    if len(header) == 2:
        usccs = [line[:-2] for line in lines]
        tiers = [line[-1:] for line in lines]
    else:
        usccs = [line.split(b",", 1)[0] for line in lines]
        tiers = [line[len(u) + 1 : len(u) + 2] for u, line in zip(usccs, lines)]  # noqa: B905
    if any(map(operator.ge, usccs, islice(usccs, 1, None))):
        for number, (a, b) in enumerate(zip(usccs, usccs[1:]), start=3):  # noqa: B905, RUF007
            if a >= b:
                raise ValueError(f"manifest.csv line {number}: not sorted by uscc or duplicate")
    return header, usccs, tiers


def manifest_tiers(data: bytes):
    """(uscc, tier) per row as str."""
    _, usccs, tiers = read_manifest(data)
    return [(u.decode("ascii"), t.decode("ascii")) for u, t in zip(usccs, tiers)]  # noqa: B905


def manifest_populations(data: bytes) -> dict:
    _, _, tiers = read_manifest(data)
    return {tier: tiers.count(tier.encode("ascii")) for tier in TIERS}


def parse_manifest(data: bytes):
    """-> (header, rows as dicts). For small manifests (views, tests)."""
    header, _, _ = read_manifest(data)
    text = data.decode("utf-8").split("\n")[1:-1]
    return header, [dict(zip(header, line.split(","))) for line in text]  # noqa: B905


def _split(value):
    return [v for v in value.split(";") if v]


def parse_inspectors(data: bytes):
    lines = _lines(data, "inspectors.csv")
    if tuple(lines[0].split(",")) != INSPECTOR_HEADER:
        raise ValueError("inspectors.csv: unexpected header")
    out = []
    for line in lines[1:]:
        staff, section, pool, quals, capacity, recusals = line.split(",")
        out.append(
            {
                "staff_number": staff,
                "section": section,
                "pool": pool,
                "qualifications": frozenset(_split(quals)),
                "capacity": int(capacity) if capacity else None,
                "recusals": frozenset(_split(recusals)),
            }
        )
    return out


def parse_experts(data: bytes):
    lines = _lines(data, "experts.csv")
    if tuple(lines[0].split(",")) != EXPERT_HEADER:
        raise ValueError("experts.csv: unexpected header")
    out = []
    for line in lines[1:]:
        code, specialties, pool, recusals = line.split(",")
        out.append(
            {
                "code": code,
                "specialties": frozenset(_split(specialties)),
                "pool": pool,
                "recusals": frozenset(_split(recusals)),
            }
        )
    return out


# ------------------------------------------------------------------------------------------ seed
def check_dice(kind: str, digits: str) -> None:
    if kind not in DICE_KINDS:
        raise ValueError("dice kind must be d6 or d10")
    if len(digits) < MIN_DICE_DIGITS:
        raise ValueError(f"at least {MIN_DICE_DIGITS} dice digits are needed")
    bad = sorted(set(digits) - set(DICE_KINDS[kind]))
    if bad:
        raise ValueError("digits {} are impossible with {} dice".format("".join(bad), kind))


def seed_string(
    *,
    draw_id,
    population_sha256,
    inspectors_sha256,
    experts_sha256,
    counts,
    k,
    secret,
    dice_kind,
    dice,
) -> str:
    """The seed string S, fields in this fixed order (see docs/draws.md)."""
    check_dice(dice_kind, dice)
    for value in (population_sha256, inspectors_sha256, experts_sha256, secret):
        if not HEX64.match(value):
            raise ValueError("hashes and the secret are 64 lowercase hex digits")
    n = ".".join(f"{tier}:{int(counts.get(tier, 0))}" for tier in TIERS)
    s = "|".join(
        [
            ALGORITHM,
            f"draw={draw_id}",
            f"population={population_sha256}",
            f"inspectors={inspectors_sha256}",
            f"experts={experts_sha256}",
            f"n={n}",
            f"k={int(k)}",
            f"secret={secret}",
            f"dice={dice_kind}:{dice}",
        ]
    )
    if not SEED_ALPHABET.match(s):
        raise ValueError("seed string contains characters outside [A-Za-z0-9|=:._-]")
    return s


# --------------------------------------------------------------------------------------- tickets
def ticket(seed: str, uscc: str) -> str:
    return sha256_hex((seed + "|ENT|" + uscc).encode("utf-8"))


def inspector_ticket(seed: str, uscc: str, staff_number: str) -> str:
    return sha256_hex((seed + "|INSP|" + uscc + "|" + staff_number).encode("utf-8"))


def expert_ticket(seed: str, uscc: str, code: str) -> str:
    return sha256_hex((seed + "|EXP|" + uscc + "|" + code).encode("utf-8"))


def select_table(seed: str, usccs, tiers, counts) -> list:
    """The selection. usccs (bytes) and tiers (one-letter bytes) are parallel lists. Per tier,
    the counts[tier] enterprises with the smallest tickets (tie: smaller USCC). Returns dicts
    uscc/tier/ticket ordered by tier, then ticket. Lowercase hex order equals byte order, so
    digests are compared as bytes."""
    import heapq

    sha = hashlib.sha256
    prefix = (seed + "|ENT|").encode("utf-8")
    groups = {tier.encode("ascii"): [] for tier in TIERS}
    appends = {code: members.append for code, members in groups.items()}
    for uscc, code in zip(usccs, tiers):  # noqa: B905
        appends[code](uscc)
    selected = []
    for tier in TIERS:
        n = int(counts.get(tier, 0))
        if n <= 0:
            continue
        members = groups[tier.encode("ascii")]
        keys = [(sha(prefix + u).digest(), u) for u in members]
        for digest, uscc in heapq.nsmallest(n, keys):
            selected.append({"uscc": uscc.decode("ascii"), "tier": tier, "ticket": digest.hex()})
    return selected


def select(seed: str, rows, counts) -> list:
    """The same selection from an iterable of (uscc, tier) str pairs."""
    usccs, tiers = [], []
    for uscc, tier in rows:
        usccs.append(uscc.encode("utf-8"))
        tiers.append(tier.encode("ascii"))
    return select_table(seed, usccs, tiers, counts)


def ticket_order(selected) -> list:
    """The selected enterprises in ticket order (the order in which teams are drawn)."""
    return sorted(selected, key=lambda s: (s["ticket"], s["uscc"]))


# ------------------------------------------------------------------------------------------ teams
def rank_inspectors(seed, uscc, inspectors) -> list:
    """Inspectors by sha256(S|INSP|uscc|staff_number) (tie: staff number)."""
    prefix = hashlib.sha256((seed + "|INSP|" + uscc + "|").encode("utf-8"))

    def key(row):
        h = prefix.copy()
        h.update(row["staff_number"].encode("utf-8"))
        return (h.digest(), row["staff_number"])

    return sorted(inspectors, key=key)


def _skip_reason(row, uscc, remaining):
    if row["pool"]:
        return row["pool"]
    if uscc in row["recusals"]:
        return SKIP_RECUSED
    if remaining.get(row["staff_number"]) == 0:
        return SKIP_CAPACITY
    return ""


def build_team(seed, uscc, inspectors, k, required, remaining) -> dict:
    """One enterprise's team. ``remaining`` (staff → capacity or None) is decremented."""
    ranking = rank_inspectors(seed, uscc, inspectors)
    quals = {r["staff_number"]: r["qualifications"] for r in ranking}
    eligible, reasons = [], {}
    for row in ranking:
        reason = _skip_reason(row, uscc, remaining)
        if reason:
            reasons[row["staff_number"]] = reason
        else:
            eligible.append(row["staff_number"])
    if len(eligible) < k:
        raise Shortfall(uscc, k, len(eligible))
    team = eligible[:k]
    locked = set()
    qualification_replacements = []
    for q in sorted(required):
        covering = [m for m in team if q in quals[m]]
        if covering:
            locked.add(covering[0])
            continue
        candidates = [s for s in eligible if s not in team and q in quals[s]]
        if not candidates:
            raise Shortfall(uscc, 1, 0, qualification=q)
        free = [i for i, m in enumerate(team) if m not in locked]
        if not free:
            raise Shortfall(uscc, len(required), k, qualification=q)
        position = free[-1]
        qualification_replacements.append(
            {"qualification": q, "out": team[position], "in": candidates[0]}
        )
        team[position] = candidates[0]
        locked.add(candidates[0])
    order = [r["staff_number"] for r in ranking]
    team.sort(key=order.index)
    last = max(order.index(m) for m in team)
    skips = [{"staff_number": s, "reason": reasons[s]} for s in order[: last + 1] if s in reasons]
    for member in team:
        if remaining.get(member) is not None:
            remaining[member] -= 1
    return {
        "uscc": uscc,
        "inspectors": list(team),
        "drawn": list(team),
        "ranking": order,
        "skips": skips,
        "qualification_replacements": qualification_replacements,
    }


def draw_experts(seed, uscc, experts, specialties) -> list:
    """For each required specialty (sorted), the highest-ranked eligible expert who has it."""
    ranking = sorted(experts, key=lambda r: (expert_ticket(seed, uscc, r["code"]), r["code"]))
    picks = []
    for specialty in sorted(specialties):
        skips = []
        chosen = ""
        for row in ranking:
            if specialty not in row["specialties"]:
                continue
            reason = row["pool"] or (SKIP_RECUSED if uscc in row["recusals"] else "")
            if reason:
                skips.append({"code": row["code"], "reason": reason})
                continue
            chosen = row["code"]
            break
        if not chosen:
            raise Shortfall(uscc, 1, 0, qualification="expert:" + specialty)
        picks.append({"specialty": specialty, "expert": chosen, "skips": skips})
    return picks


def initial_capacity(inspectors) -> dict:
    return {r["staff_number"]: r["capacity"] for r in inspectors}


def build_teams(seed, selected, inspectors, k, required, experts=(), specialties=()) -> list:
    remaining = initial_capacity(inspectors)
    teams = []
    for entry in ticket_order(selected):
        team = build_team(seed, entry["uscc"], inspectors, k, required, remaining)
        team["experts"] = draw_experts(seed, entry["uscc"], experts, specialties)
        teams.append(team)
    return teams


def capacity_after(teams, inspectors) -> dict:
    remaining = initial_capacity(inspectors)
    for team in teams:
        for member in team["drawn"]:
            if remaining.get(member) is not None:
                remaining[member] -= 1
    return remaining


def replacement_pick(team, out, inspectors, required, remaining, removed) -> str:
    """Post-draw recusal: the next inspector in the same ranking who is eligible, not in the
    team, not removed earlier for this enterprise and under capacity; if ``out`` carried a
    required qualification nobody else in the team has, the replacement must have it."""
    uscc = team["uscc"]
    rows = {r["staff_number"]: r for r in inspectors}
    if out not in team["inspectors"]:
        raise DrawError(f"{out} is not in the team of {uscc}")
    others = [m for m in team["inspectors"] if m != out]
    needed = [
        q
        for q in sorted(required)
        if q in rows[out]["qualifications"]
        and not any(q in rows[m]["qualifications"] for m in others)
    ]
    for staff in team["ranking"]:
        row = rows[staff]
        if staff in team["inspectors"] or staff in removed:
            continue
        if _skip_reason(row, uscc, remaining):
            continue
        if all(q in row["qualifications"] for q in needed):
            return staff
    raise Shortfall(uscc, 1, 0, qualification=",".join(needed))


def apply_replacement(team, out, into, remaining) -> None:
    members = team["inspectors"]
    members[members.index(out)] = into
    members.sort(key=team["ranking"].index)
    if remaining.get(into) is not None:
        remaining[into] -= 1
    if remaining.get(out) is not None:
        remaining[out] += 1


# ------------------------------------------------------------------------------- joint visits
def joint_visit_merge(base_team, others, base_qualifications=None) -> dict:
    """One visit for an enterprise selected by several tasks: keep the earliest draw's team;
    for each other task (in draw order) and each of its required qualifications (sorted) that
    the team lacks, add the highest-ranked qualified eligible inspector of that task's ranking.

    base_team: list of staff numbers; others: list of dicts with ``task``, ``required``
    (qualification codes), ``ranking`` (eligible staff numbers in rank order) and
    ``qualifications`` (staff → codes); ``base_qualifications``: staff → codes of the team."""
    team = list(base_team)
    quals = {s: set(q) for s, q in (base_qualifications or {}).items()}
    for other in others:
        quals.update({s: set(q) for s, q in other["qualifications"].items()})
    added, missing = [], []
    for other in others:
        for q in sorted(other["required"]):
            if any(q in quals.get(m, ()) for m in team):
                continue
            pick = next(
                (s for s in other["ranking"] if s not in team and q in quals.get(s, ())), ""
            )
            if pick:
                team.append(pick)
                added.append({"task": other["task"], "qualification": q, "staff_number": pick})
            else:
                missing.append({"task": other["task"], "qualification": q})
    return {"team": team, "added": added, "missing": missing}


# ----------------------------------------------------------------------------------- the draw
def compute(*, seed, manifest, inspectors, experts=b"", counts, k, required, specialties=()):
    """The whole draw from the frozen bytes: -> (selected, teams)."""
    pool = parse_inspectors(inspectors)
    expert_rows = parse_experts(experts) if experts else []
    _, usccs, tiers = read_manifest(manifest)
    selected = select_table(seed, usccs, tiers, counts)
    teams = build_teams(seed, selected, pool, k, required, expert_rows, specialties)
    return selected, teams


# --------------------------------------------------------------------------------- verification
def verify(draw: dict, manifest: bytes, inspectors: bytes, experts: bytes) -> list:
    """Every difference between draw.json and a recomputation from the files; [] when OK."""
    problems = []

    def differ(what, expected, found):
        problems.append(f"{what}: expected {expected}, found {found}")

    for name, data, key in (
        ("manifest.csv", manifest, "population_sha256"),
        ("inspectors.csv", inspectors, "inspectors_sha256"),
        ("experts.csv", experts, "experts_sha256"),
    ):
        if sha256_hex(data) != draw.get(key):
            differ(f"sha256 of {name} ({key})", sha256_hex(data), draw.get(key))
    if draw.get("algorithm", "").split(" ")[0] != ALGORITHM:
        differ("algorithm", ALGORITHM, draw.get("algorithm"))
    try:
        _, usccs, tier_codes = read_manifest(manifest)
        populations = {tier: tier_codes.count(tier.encode("ascii")) for tier in TIERS}
        pool = parse_inspectors(inspectors)
        expert_rows = parse_experts(experts)
    except (ValueError, UnicodeDecodeError) as exc:
        problems.append(f"files: {exc}")
        return problems

    # per-tier populations and counts
    rounding = draw.get("rounding", "ceil")
    tiers = draw.get("tiers", {})
    counts = {}
    for tier in TIERS:
        info = tiers.get(tier, {})
        if info.get("population") != populations[tier]:
            differ(f"tier {tier} population", populations[tier], info.get("population"))
        try:
            n = tier_count(populations[tier], Decimal(info.get("rate", "0")), rounding)
        except (ArithmeticError, ValueError) as exc:
            problems.append(f"tier {tier} rate: {exc}")
            n = info.get("count", 0)
        if info.get("count") != n:
            differ(f"tier {tier} count", n, info.get("count"))
        counts[tier] = n

    # seed string and its random inputs
    inputs = draw.get("random_inputs", {})
    secret = inputs.get("secret", "")
    if sha256_hex(secret.encode("ascii", "replace")) != inputs.get("secret_sha256"):
        differ(
            "sha256 of the revealed secret",
            sha256_hex(secret.encode()),
            inputs.get("secret_sha256"),
        )
    if len(draw.get("witnesses", [])) < 2:
        problems.append("witnesses: at least two are required")
    try:
        expected_seed = seed_string(
            draw_id=draw.get("draw_id"),
            population_sha256=sha256_hex(manifest),
            inspectors_sha256=sha256_hex(inspectors),
            experts_sha256=sha256_hex(experts),
            counts=counts,
            k=draw.get("inspectors_per_enterprise", 0),
            secret=secret,
            dice_kind=inputs.get("dice_kind", ""),
            dice=inputs.get("dice", ""),
        )
    except (ValueError, TypeError) as exc:
        problems.append(f"seed inputs: {exc}")
        return problems
    seed = draw.get("seed_string")
    if seed != expected_seed:
        differ("seed_string", expected_seed, seed)
        return problems
    if int(draw.get("inspectors_per_enterprise", 0)) < 2:
        problems.append("inspectors_per_enterprise must be at least 2")

    # selection
    selected = select_table(seed, usccs, tier_codes, counts)
    found = draw.get("selected", [])
    if len(found) != len(selected):
        differ("number of selected enterprises", len(selected), len(found))
    for i, (want, got) in enumerate(zip(selected, found)):  # noqa: B905
        got = {key: got.get(key) for key in ("uscc", "tier", "ticket")}
        if want != got:
            differ(f"selected[{i}]", want, got)

    # teams
    required = draw.get("required_qualifications", [])
    specialties = draw.get("expert_specialties", [])
    k = int(draw.get("inspectors_per_enterprise", 0))
    try:
        teams = build_teams(seed, selected, pool, k, required, expert_rows, specialties)
    except DrawError as exc:
        problems.append(f"teams: {exc}")
        return problems
    found_teams = draw.get("teams", [])
    if len(found_teams) != len(teams):
        differ("number of teams", len(teams), len(found_teams))
    for want, got in zip(teams, found_teams):  # noqa: B905
        for key in ("uscc", "drawn", "ranking", "skips", "qualification_replacements", "experts"):
            if want[key] != got.get(key):
                differ("team of {}: {}".format(want["uscc"], key), want[key], got.get(key))

    # post-draw replacements, in order
    remaining = capacity_after(teams, pool)
    by_uscc = {t["uscc"]: t for t in teams}
    removed = {}
    for i, rep in enumerate(draw.get("replacements", [])):
        team = by_uscc.get(rep.get("uscc"))
        if team is None:
            problems.append(f"replacements[{i}]: {rep.get('uscc')} was not selected")
            continue
        if not rep.get("reason") or not rep.get("approver"):
            problems.append(f"replacements[{i}]: reason and approver are required")
        gone = removed.setdefault(team["uscc"], set())
        gone.add(rep.get("out"))
        try:
            pick = replacement_pick(team, rep.get("out"), pool, required, remaining, gone)
        except DrawError as exc:
            problems.append(f"replacements[{i}]: {exc}")
            continue
        if pick != rep.get("in"):
            differ(f"replacements[{i}] ({team['uscc']}) in", pick, rep.get("in"))
        apply_replacement(team, rep.get("out"), pick, remaining)
    for want, got in zip(teams, found_teams):  # noqa: B905
        if want["inspectors"] != got.get("inspectors"):
            differ(
                "final team of {}".format(want["uscc"]), want["inspectors"], got.get("inspectors")
            )
    return problems


def verify_folder(folder: str) -> list:
    def read(name):
        path = os.path.join(folder, name)
        if not os.path.exists(path):
            return None
        with open(path, "rb") as fh:
            return fh.read()

    missing = [n for n in ("draw.json", "manifest.csv", "inspectors.csv") if read(n) is None]
    if missing:
        return [f"missing file: {name}" for name in missing]
    try:
        draw = json.loads(read("draw.json").decode("utf-8"))
    except ValueError as exc:
        return [f"draw.json: {exc}"]
    experts = read("experts.csv")
    if experts is None:
        experts = build_expert_manifest([])
    return verify(draw, read("manifest.csv"), read("inspectors.csv"), experts)


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv:
        folder = argv[0]
    elif os.path.exists("draw.json"):
        folder = os.getcwd()
    else:
        folder = os.path.dirname(os.path.abspath(__file__))
    problems = verify_folder(folder)
    if problems:
        for line in problems:
            print(line)
        return 1
    print("OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
