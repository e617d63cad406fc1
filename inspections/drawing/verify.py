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
from typing import Any

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


# The last large input hashed and its digest: a draw hashes its 20 MB manifest several times
# (the seed, draw.json, the reader's cache key). Held by reference, so the ``is`` test can
# only ever match the very same, immutable bytes object.
_LAST_DIGEST: list[Any] = [None, b""]


def _sha256(data: bytes) -> bytes:
    if len(data) < 1 << 20 or type(data) is not bytes:
        return hashlib.sha256(data).digest()
    if _LAST_DIGEST[0] is not data:
        _LAST_DIGEST[:] = [data, hashlib.sha256(data).digest()]
    return _LAST_DIGEST[1]


def sha256_hex(data: bytes) -> str:
    return _sha256(data).hex()


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


_ROW_PATTERNS: dict[int, re.Pattern[bytes]] = {}


def _row_pattern(width: int):
    if width not in _ROW_PATTERNS:
        attrs = ",[A-Za-z0-9_.;:-]*" * (width - 2)
        _ROW_PATTERNS[width] = re.compile(rb"(?:[0-9A-Z]{15,18},[ABCD]" + attrs.encode() + rb"\n)*")
    return _ROW_PATTERNS[width]


_LAST_READ: dict[Any, Any] = {}


def read_manifest(data: bytes):
    """read_manifest_uncached: (header, usccs, tiers as a list of one-letter bytes)."""
    header, usccs, tier_bytes = read_manifest_columns(data)
    return header, usccs, memoryview(tier_bytes).cast("c").tolist()


def read_manifest_columns(data: bytes):
    """(header, usccs, tiers as one bytes object: a letter per row), remembering the last
    result (a pure function of the bytes; the draw reads the same manifest several times)."""
    key = (len(data), _sha256(data))
    if key not in _LAST_READ:
        _LAST_READ.clear()
        _LAST_READ[key] = read_manifest_uncached(data, joined=True)
    return _LAST_READ[key]


_USCC_BYTES = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_TIER_CODES = frozenset(t.encode("ascii") for t in TIERS)


def _two_columns_ok(body, lines, usccs, tiers) -> bool:
    """The rows of a ``uscc,tier`` manifest match ``([0-9A-Z]{15,18},[ABCD]\\n)*`` — checked
    with C-level passes instead of the regex (same rows accepted, a third of the time): only
    those bytes; one comma per row, second to last; a known tier; a USCC of 15–18 symbols."""
    from operator import itemgetter

    return (
        not body.translate(None, _USCC_BYTES + b",\n")
        and body.count(b",") == len(lines)
        and set(map(itemgetter(slice(-2, -1)), lines)) <= {b","}
        and set(tiers) <= _TIER_CODES
        and set(map(len, usccs)) <= {15, 16, 17, 18}
    )


def _bad_row(header, lines):
    for number, line in enumerate(lines, start=2):
        if not _row_pattern(len(header)).fullmatch(line + b"\n"):
            raise ValueError(f"manifest.csv line {number}: bad row {line[:60]!r}")
    raise ValueError("manifest.csv: bad rows")


# Rows of the usual manifest, ``uscc,tier`` with 18-character USCCs: 21 bytes each.
_FIXED_ROW = 21


def _fixed_width_columns(body: bytes):
    """The usual manifest's rows at C speed: when every row is 21 bytes, the checks of
    ``([0-9A-Z]{18},[ABCD]\n)*`` are strided slices and counts (the commas and LFs exactly at
    their places and nowhere else, a known tier, only USCC symbols), and the USCCs come out of
    ``struct``. -> (usccs, tier bytes), or None when the body is not of that shape (the general
    reader then decides)."""
    import struct
    from operator import itemgetter

    rows, rest = divmod(len(body), _FIXED_ROW)
    if rest or not rows:
        return None
    tiers = body[19::_FIXED_ROW]
    if (
        body[18::_FIXED_ROW] != b"," * rows
        or body[20::_FIXED_ROW] != b"\n" * rows
        or body.count(b",") != rows
        or body.count(b"\n") != rows
        or tiers.translate(None, b"ABCD")
        or body.translate(None, _USCC_BYTES + b",\n")
    ):
        return None
    return list(map(itemgetter(0), struct.iter_unpack("18s3x", body))), tiers


def read_manifest_uncached(data: bytes, *, joined: bool = False):
    """Check manifest.csv and return (header, usccs, tiers): usccs as bytes in file order,
    tiers as one-letter bytes (``joined``: one bytes object, a letter per row). Checks: header
    starts uscc,tier; every row has the header's width and only codes; LF after every row;
    USCCs strictly increasing bytewise (sorted, unique). The checks run at C speed."""
    import operator
    from itertools import islice

    if not data.endswith(b"\n") or b"\r" in data:
        raise ValueError("manifest.csv: every row must end with LF (and no CR)")
    head, _, body = data.partition(b"\n")
    header = head.decode("utf-8").split(",")
    if header[:2] != ["uscc", "tier"]:
        raise ValueError("manifest.csv: header must start with uscc,tier")
    fixed = _fixed_width_columns(body) if len(header) == 2 else None
    if fixed is not None:
        usccs, tiers = fixed
    else:
        lines = body.split(b"\n")
        lines.pop()  # after the last LF
        if len(header) == 2:
            usccs = list(map(operator.itemgetter(slice(None, -2)), lines))
            tiers = list(map(operator.itemgetter(slice(-1, None)), lines))
            if not _two_columns_ok(body, lines, usccs, tiers):
                _bad_row(header, lines)
        elif not _row_pattern(len(header)).fullmatch(body):
            _bad_row(header, lines)
        else:
            usccs = [line.split(b",", 1)[0] for line in lines]
            tiers = [line[len(u) + 1 : len(u) + 2] for u, line in zip(usccs, lines)]  # noqa: B905
        tiers = b"".join(tiers)
    if any(map(operator.ge, usccs, islice(usccs, 1, None))):
        for number, (a, b) in enumerate(zip(usccs, usccs[1:]), start=3):  # noqa: B905, RUF007
            if a >= b:
                raise ValueError(f"manifest.csv line {number}: not sorted by uscc or duplicate")
    return header, usccs, (tiers if joined else memoryview(tiers).cast("c").tolist())


def manifest_tiers(data: bytes):
    """(uscc, tier) per row as str."""
    _, usccs, tiers = read_manifest(data)
    return [(u.decode("ascii"), t.decode("ascii")) for u, t in zip(usccs, tiers)]  # noqa: B905


def manifest_populations(data: bytes) -> dict:
    _, _, tiers = read_manifest_columns(data)
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
    _check_unique([row["staff_number"] for row in out], "staff number in inspectors.csv")
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


def select_table_reference(seed: str, usccs, tiers, counts) -> list:
    """The selection as first written (one Python-level hash per row): the reference the fast
    ``select_table`` is tested against. Per tier, the counts[tier] enterprises with the
    smallest tickets (tie: smaller USCC), as dicts uscc/tier/ticket by tier, then ticket."""
    import heapq

    sha = hashlib.sha256
    prefix = (seed + "|ENT|").encode("utf-8")
    groups: dict[bytes, list] = {tier.encode("ascii"): [] for tier in TIERS}
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


# Below this many rows a draw hashes in one process (forking costs more than it saves).
FORK_MIN_ROWS = 1 << 18


def prefixed_digests(prefix_state, messages) -> list:
    """[sha256(prefix + m).digest() for m in messages], computed from copies of the hash state
    after the prefix (S is several blocks long, each ticket then hashes only its last block).
    A plain loop: measured faster than chaining starmap/map over lists of states (0.34 against
    0.42 µs per digest at 10^6), since each copied state is freed while still in the cache."""
    copy = prefix_state.copy
    out: list = []
    append = out.append
    for message in messages:
        state = copy()
        state.update(message)
        append(state.digest())
    return out


def _tier_members(usccs, tier_bytes: bytes, code: bytes) -> list:
    """The usccs whose tier (one byte each in ``tier_bytes``) is ``code``, in order."""
    from itertools import compress

    table = bytearray(256)
    table[code[0]] = 1
    return list(compress(usccs, tier_bytes.translate(table)))


def _smallest(prefix_state, members, n) -> list:
    """The n (digest, uscc) pairs with the smallest digests (tie: smaller uscc), i.e.
    ``heapq.nsmallest(n, zip(digests, members))`` with bounded work: while hashing, keep only
    the pairs whose digest is at most a bound that about 2n + 64 of the uniformly distributed
    digests fall under (raised until at least n pass), then sort those. Every pair left out
    has a larger digest than all n kept ones, so the result is exact."""
    total = len(members)
    if n <= 0 or not total:
        return []
    if n * 4 >= total:
        return sorted(zip(prefixed_digests(prefix_state, members), members))[:n]  # noqa: B905
    copy = prefix_state.copy
    top = 1 << 256
    wanted = 2 * n + 64
    while True:
        bound = min(top - 1, wanted * top // total).to_bytes(32, "big")
        pairs: list = []
        append = pairs.append
        for member in members:
            state = copy()
            state.update(member)
            digest = state.digest()
            if digest <= bound:
                append((digest, member))
        if len(pairs) >= n or wanted >= total:
            break
        wanted *= 4  # (practically never: fewer than n of about 2n + 64 expected)
    pairs.sort()
    return pairs[:n]


def _smallest_per_tier(prefix_state, groups) -> list:
    """groups: [(members, n)] -> [the n smallest (digest, uscc) pairs of each]."""
    return [_smallest(prefix_state, members, n) for members, n in groups]


def _forked_map(fn, shares) -> list:
    """[fn(share) for share in shares], shares[1:] each in a forked child (POSIX fork; the
    children only compute and write their pickled result to a pipe), shares[0] here."""
    import pickle

    children = []
    for share in shares[1:]:
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - runs in the child
            code = 1
            try:
                os.close(read)
                data = pickle.dumps(fn(share), protocol=4)
                with os.fdopen(write, "wb") as out:
                    out.write(data)
                code = 0
            finally:
                os._exit(code)
        os.close(write)
        children.append((pid, read))
    results = [fn(shares[0])]
    for pid, read in children:
        with os.fdopen(read, "rb") as pipe:
            data = pipe.read()
        _, status = os.waitpid(pid, 0)
        if not data or status:
            raise DrawError("a draw worker process failed")
        results.append(pickle.loads(data))  # noqa: S301 - written by our own forked child
    return results


def _can_fork(workers: int, size: int, minimum: int) -> bool:
    return workers > 1 and hasattr(os, "fork") and size >= minimum


def _shares(items, parts: int) -> list:
    """``items`` in ``parts`` consecutive slices of (nearly) equal size, in order."""
    size = -(-len(items) // parts)
    return [items[i * size : (i + 1) * size] for i in range(parts)]


def _smallest_forked(prefix_state, groups, workers: int) -> list:
    """_smallest_per_tier with every tier's members split over ``workers`` processes: each
    share yields its n smallest, the n smallest of those are the n smallest of the tier — the
    same pairs."""
    import heapq

    slices = [_shares(members, workers) for members, _ in groups]
    shares = [
        [(tier_slices[index], n) for tier_slices, (_, n) in zip(slices, groups)]  # noqa: B905
        for index in range(workers)
    ]
    parts = _forked_map(lambda share: _smallest_per_tier(prefix_state, share), shares)
    return [
        heapq.nsmallest(n, heapq.merge(*(part[i] for part in parts)))
        for i, (_, n) in enumerate(groups)
    ]


def select_table(seed: str, usccs, tiers, counts, *, workers: int = 1, progress=None) -> list:
    """The selection. usccs (bytes) and tiers (one-letter bytes, or one bytes object with a
    letter per uscc) are parallel. Per tier,
    the counts[tier] enterprises with the smallest tickets (tie: smaller USCC). Returns dicts
    uscc/tier/ticket ordered by tier, then ticket. Lowercase hex order equals byte order, so
    digests are compared as bytes. Gives exactly what ``select_table_reference`` gives (tested
    on random populations); ``workers`` > 1 splits the hashing over forked processes;
    ``progress(stage, done, total)`` is told how many rows are hashed."""
    tier_bytes = tiers if isinstance(tiers, bytes) else b"".join(tiers)
    unknown = set(tier_bytes.translate(None, "".join(TIERS).encode("ascii")))
    if unknown:
        raise ValueError(f"unknown tier codes {sorted(bytes([c]) for c in unknown)!r}")
    prefix = hashlib.sha256((seed + "|ENT|").encode("utf-8"))
    wanted = [(tier, int(counts.get(tier, 0))) for tier in TIERS]
    wanted = [(tier, n) for tier, n in wanted if n > 0]
    if len(tier_bytes) != len(usccs):
        raise ValueError("one one-letter tier per uscc is needed")
    groups = [(_tier_members(usccs, tier_bytes, tier.encode("ascii")), n) for tier, n in wanted]
    total = sum(len(members) for members, _ in groups)
    if progress:
        progress("tickets", 0, total)
    if _can_fork(workers, len(usccs), FORK_MIN_ROWS):
        results = _smallest_forked(prefix, groups, workers)
    else:
        results, done = [], 0
        for members, n in groups:
            results.append(_smallest(prefix, members, n))
            done += len(members)
            if progress:
                progress("tickets", done, total)
    selected = []
    for (tier, _), pairs in zip(wanted, results):  # noqa: B905
        for digest, uscc in pairs:
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
def _rank_order(seed, uscc, names, encoded) -> list:
    """Positions of the inspectors in rank order: by sha256(S|INSP|uscc|staff_number), tie:
    staff number. ``encoded``: the staff numbers as UTF-8 (computed once per draw)."""
    prefix = hashlib.sha256((seed + "|INSP|" + uscc + "|").encode("utf-8"))
    digests = prefixed_digests(prefix, encoded)
    if len(set(digests)) == len(digests):  # always, short of a SHA-256 collision
        return sorted(range(len(names)), key=digests.__getitem__)
    keys = zip(digests, names, range(len(names)))  # noqa: B905
    return [position for _, _, position in sorted(keys)]


def rank_inspectors(seed, uscc, inspectors, encoded=None) -> list:
    """Inspectors by sha256(S|INSP|uscc|staff_number) (tie: staff number); the digests are
    computed from copies of one prefix state. Same order as the reference."""
    names = [row["staff_number"] for row in inspectors]
    if encoded is None:
        encoded = [name.encode("utf-8") for name in names]
    return [inspectors[i] for i in _rank_order(seed, uscc, names, encoded)]


# Below this many selected enterprises the rankings are computed in one process.
FORK_MIN_TEAMS = 1 << 11


def _rankings(seed, usccs, names, encoded, workers: int = 1) -> list:
    """_rank_order for every uscc; split over ``workers`` forked processes for large draws
    (the rankings do not depend on each other, only the team walk after them does)."""

    def rank(part):
        return [_rank_order(seed, uscc, names, encoded) for uscc in part]

    if not _can_fork(workers, len(usccs), FORK_MIN_TEAMS):
        return rank(usccs)
    parts = _forked_map(rank, _shares(usccs, workers))
    return [order for part in parts for order in part]


def _skip_reason(row, uscc, remaining):
    if row["pool"]:
        return row["pool"]
    if uscc in row["recusals"]:
        return SKIP_RECUSED
    if remaining.get(row["staff_number"]) == 0:
        return SKIP_CAPACITY
    return ""


def build_team(seed, uscc, inspectors, k, required, remaining, *, order=None, quals=None) -> dict:
    """One enterprise's team. ``remaining`` (staff → capacity or None) is decremented. Walks
    the ranking only as far as the team needs (the reference walks all of it); same result.
    ``order`` (the positions from ``_rank_order``) and ``quals`` (staff → qualifications) may
    be precomputed by the caller for the whole draw."""
    if order is None:
        names = [row["staff_number"] for row in inspectors]
        order = _rank_order(seed, uscc, names, [name.encode("utf-8") for name in names])
    if quals is None:
        quals = {r["staff_number"]: r["qualifications"] for r in inspectors}
    ranking = list(map(inspectors.__getitem__, order))
    order = [r["staff_number"] for r in ranking]
    reasons = {}
    eligible: list = []
    walked = 0

    def walk_to(count):
        """Extend ``eligible`` until it has ``count`` members or the ranking is exhausted."""
        nonlocal walked
        while len(eligible) < count and walked < len(ranking):
            row = ranking[walked]
            walked += 1
            reason = _skip_reason(row, uscc, remaining)
            if reason:
                reasons[row["staff_number"]] = reason
            else:
                eligible.append(row["staff_number"])

    def next_with(q, team):
        """The highest-ranked eligible inspector outside the team who has q, or ""."""
        position = 0
        while True:
            if position == len(eligible):
                walk_to(len(eligible) + 1)
                if position == len(eligible):
                    return ""
            staff = eligible[position]
            if staff not in team and q in quals[staff]:
                return staff
            position += 1

    walk_to(k)
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
        candidate = next_with(q, team)
        if not candidate:
            raise Shortfall(uscc, 1, 0, qualification=q)
        free = [i for i, m in enumerate(team) if m not in locked]
        if not free:
            raise Shortfall(uscc, len(required), k, qualification=q)
        position = free[-1]
        qualification_replacements.append(
            {"qualification": q, "out": team[position], "in": candidate}
        )
        team[position] = candidate
        locked.add(candidate)
    team.sort(key=order.index)
    last = order.index(team[-1])
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


def rank_inspectors_reference(seed, uscc, inspectors) -> list:
    """The reference ``rank_inspectors``: inspectors by sha256(S|INSP|uscc|staff_number) (tie: staff number)."""
    prefix = hashlib.sha256((seed + "|INSP|" + uscc + "|").encode("utf-8"))

    def key(row):
        h = prefix.copy()
        h.update(row["staff_number"].encode("utf-8"))
        return (h.digest(), row["staff_number"])

    return sorted(inspectors, key=key)


def build_team_reference(seed, uscc, inspectors, k, required, remaining) -> dict:
    """The reference ``build_team`` (walks the whole ranking). One enterprise's team. ``remaining`` (staff → capacity or None) is decremented."""
    ranking = rank_inspectors_reference(seed, uscc, inspectors)
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


def build_teams(
    seed, selected, inspectors, k, required, experts=(), specialties=(), progress=None, workers=1
) -> list:
    """The teams of the selected enterprises, in ticket order (capacity is used up in that
    order). The rankings are computed first (``workers`` > 1: in forked processes)."""
    remaining = initial_capacity(inspectors)
    teams = []
    ordered = ticket_order(selected)
    if progress:
        progress("teams", 0, len(ordered))
    names = [row["staff_number"] for row in inspectors]
    encoded = [name.encode("utf-8") for name in names]
    quals = {row["staff_number"]: row["qualifications"] for row in inspectors}
    orders = _rankings(seed, [entry["uscc"] for entry in ordered], names, encoded, workers)
    for number, (entry, order) in enumerate(zip(ordered, orders)):  # noqa: B905
        if progress and number % 100 == 0:
            progress("teams", number, len(ordered))
        team = build_team(
            seed, entry["uscc"], inspectors, k, required, remaining, order=order, quals=quals
        )
        team["experts"] = draw_experts(seed, entry["uscc"], experts, specialties)
        teams.append(team)
    if progress:
        progress("teams", len(ordered), len(ordered))
    return teams


def build_teams_reference(seed, selected, inspectors, k, required, experts=(), specialties=()):
    """build_teams with the reference ranking and team walk (for the equivalence tests)."""
    remaining = initial_capacity(inspectors)
    teams = []
    for entry in ticket_order(selected):
        team = build_team_reference(seed, entry["uscc"], inspectors, k, required, remaining)
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


def joint_visit_ranking(team, pool_by_staff) -> list:
    """A later task's candidates for a joint visit: its ranking for the enterprise without the
    inspectors skipped at the draw, outside the pool (``pool`` reason) or recused for it."""
    uscc = team["uscc"]
    skipped = {s["staff_number"] for s in team.get("skips", [])}
    return [
        staff
        for staff in team["ranking"]
        if staff not in skipped
        and staff in pool_by_staff
        and not pool_by_staff[staff]["pool"]
        and uscc not in pool_by_staff[staff]["recusals"]
    ]


def team_states(team, replacements) -> list:
    """The team of one enterprise as it was after the draw and after each post-draw
    replacement (in order): a joint visit's "before" team must be one of them."""
    members = list(team["drawn"])
    states = [list(members)]
    for rep in replacements:
        if rep.get("uscc") != team["uscc"] or rep.get("out") not in members:
            continue
        members[members.index(rep["out"])] = rep.get("in")
        members.sort(key=lambda s: team["ranking"].index(s) if s in team["ranking"] else -1)
        states.append(list(members))
    return states


def _sorted_quals(pool_by_staff, staff_numbers) -> dict:
    return {
        s: sorted(pool_by_staff[s]["qualifications"]) for s in staff_numbers if s in pool_by_staff
    }


def verify_joint_visits(draw: dict, visits, pool) -> list:
    """Check joint_visits.json: each merge is recomputed with ``joint_visit_merge`` from its
    recorded inputs, and the inputs that come from THIS draw (the team before the merge when
    this draw is the earliest, or this task's ranking, required qualifications and inspectors'
    qualifications otherwise) are checked against this draw. [] when all agree."""
    problems = []
    pool_by_staff = {r["staff_number"]: r for r in pool}
    teams = {t["uscc"]: t for t in draw.get("teams", [])}
    draw_id = draw.get("draw_id")
    for i, visit in enumerate(visits):
        label = "joint_visits[{}] ({})".format(i, visit.get("uscc"))
        others = visit.get("tasks", [])
        try:
            merged = joint_visit_merge(
                visit.get("before", []), others, visit.get("base_qualifications", {})
            )
        except (KeyError, TypeError, AttributeError) as exc:
            problems.append(f"{label}: unreadable merge inputs ({exc!r})")
            continue
        for key, recorded in (("team", "after"), ("added", "added"), ("missing", "missing")):
            if merged[key] != visit.get(recorded):
                problems.append(
                    f"{label} {recorded}: expected {merged[key]}, found {visit.get(recorded)}"
                )
        team = teams.get(visit.get("uscc"))
        if team is None:
            problems.append(f"{label}: this enterprise was not selected in this draw")
            continue
        base = visit.get("base", {})
        mine = [t for t in others if t.get("draw_id") == draw_id]
        if base.get("draw_id") == draw_id:
            states = team_states(team, draw.get("replacements", []))
            if visit.get("before") not in states:
                problems.append(
                    f"{label}: team before the merge {visit.get('before')} is not a team this "
                    f"draw had for the enterprise ({states})"
                )
            want = _sorted_quals(pool_by_staff, visit.get("before", []))
            if want != visit.get("base_qualifications"):
                problems.append(
                    f"{label} base_qualifications: expected {want}, "
                    f"found {visit.get('base_qualifications')}"
                )
        elif len(mine) != 1:
            problems.append(f"{label}: this draw is not one of the merged draws")
        for task in mine:
            ranking = joint_visit_ranking(team, pool_by_staff)
            if task.get("ranking") != ranking:
                problems.append(f"{label} ranking: expected {ranking}, found {task.get('ranking')}")
            required = sorted(draw.get("required_qualifications", []))
            if sorted(task.get("required", [])) != required:
                problems.append(
                    f"{label} required: expected {required}, found {task.get('required')}"
                )
            want = _sorted_quals(pool_by_staff, ranking)
            if task.get("qualifications") != want:
                problems.append(
                    f"{label} qualifications: expected {want}, found {task.get('qualifications')}"
                )
    return problems


def joint_visit_report(visits) -> list:
    """One line per merge, for the verifier's output."""
    lines = []
    for visit in visits:
        tasks = [visit.get("base", {}).get("task", "?")]
        tasks += [t.get("task", "?") for t in visit.get("tasks", [])]
        added = ", ".join(
            "{} ({}, {})".format(a.get("staff_number"), a.get("qualification"), a.get("task"))
            for a in visit.get("added", [])
        )
        missing = ", ".join(
            "{} ({})".format(m.get("qualification"), m.get("task"))
            for m in visit.get("missing", [])
        )
        lines.append(
            "joint visit {}: tasks {}; team {} -> {}{}{}".format(
                visit.get("uscc"),
                " + ".join(str(t) for t in tasks),
                "/".join(visit.get("before", [])),
                "/".join(visit.get("after", [])),
                f"; added {added}" if added else "",
                f"; still missing {missing}" if missing else "",
            )
        )
    return lines


# ----------------------------------------------------------------------------------- the draw
def compute(
    *,
    seed,
    manifest,
    inspectors,
    experts=b"",
    counts,
    k,
    required,
    specialties=(),
    workers=1,
    progress=None,
):
    """The whole draw from the frozen bytes: -> (selected, teams)."""
    pool = parse_inspectors(inspectors)
    expert_rows = parse_experts(experts) if experts else []
    _, usccs, tiers = read_manifest_columns(manifest)
    selected = select_table(seed, usccs, tiers, counts, workers=workers, progress=progress)
    teams = build_teams(
        seed, selected, pool, k, required, expert_rows, specialties, progress, workers
    )
    return selected, teams


# --------------------------------------------------------------------------------- verification
def verify(
    draw: dict, manifest: bytes, inspectors: bytes, experts: bytes, joint_visits=None
) -> list:
    """Every difference between draw.json and a recomputation from the files (and, when given,
    joint_visits.json: the merges this draw took part in); [] when OK."""
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
    removed: dict = {}
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
    if joint_visits:
        recomputed = dict(draw, teams=teams)
        problems.extend(verify_joint_visits(recomputed, joint_visits, pool))
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
    try:
        visits = read_joint_visits(read("joint_visits.json"))
    except ValueError as exc:
        return [f"joint_visits.json: {exc}"]
    return verify(draw, read("manifest.csv"), read("inspectors.csv"), experts, visits)


def read_joint_visits(data) -> list:
    """joint_visits.json (a list of merges; absent in packages made before it existed)."""
    if data is None:
        return []
    visits = json.loads(data.decode("utf-8"))
    if not isinstance(visits, list):
        raise ValueError("must be a list of merges")
    return visits


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
    path = os.path.join(folder, "joint_visits.json")
    if os.path.exists(path):
        with open(path, "rb") as fh:
            for line in joint_visit_report(read_joint_visits(fh.read())):
                print(line)
    print("OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
