"""The fast draw path (C-level hashing loops, forked ticket workers, lazy team walk) gives exactly
what the reference implementation gives, on random populations and pools; and PostgreSQL's
sha256() computes the same tickets and per-tier selection as the engine."""

import hashlib
import random

import pytest
from django.db import connection

from inspections.drawing import verify as engine

CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def random_population(rng, size):
    usccs = set()
    while len(usccs) < size:
        length = rng.choice((15, 18, 18, 18))
        usccs.add("".join(rng.choice(CHARSET) for _ in range(length)))
    rows = [(u, rng.choice("AABBBCCD")) for u in usccs]
    rng.shuffle(rows)
    return rows


def random_counts(rng, rows):
    counts = {}
    for tier in engine.TIERS:
        size = sum(1 for _, t in rows if t == tier)
        counts[tier] = rng.randint(0, size) if rng.random() < 0.3 else min(size, rng.randint(0, 9))
    return counts


def as_table(rows):
    manifest = engine.build_manifest(rows)
    _, usccs, tiers = engine.read_manifest_uncached(manifest)
    return manifest, usccs, tiers


def random_pool(rng, usccs, size):
    rows = []
    for i in range(size):
        rows.append(
            {
                "staff_number": f"WG{i:03d}",
                "section": rng.choice(("shichang", "fagui")),
                "pool": ""
                if rng.random() < 0.8
                else rng.choice(("inactive", "certificate_expired")),
                "qualifications": [q for q in ("hazchem", "gas") if rng.random() < 0.3],
                "capacity": rng.choice((None, None, 1, 2, 5)),
                "recusals": rng.sample(usccs, min(len(usccs), rng.randint(0, 3))),
            }
        )
    return engine.parse_inspectors(engine.build_inspector_manifest(rows))


@pytest.mark.parametrize("trial", range(12))
def test_fast_selection_equals_the_reference_on_random_populations(trial):
    rng = random.Random(1000 + trial)  # test data only; the engine never uses a PRNG
    rows = random_population(rng, rng.randint(1, 700))
    counts = random_counts(rng, rows)
    _, usccs, tiers = as_table(rows)
    seed = f"WGDRAW-1|draw={trial}|secret={'ab' * rng.randint(1, 200)}"
    reference = engine.select_table_reference(seed, usccs, tiers, counts)
    assert engine.select_table(seed, usccs, tiers, counts) == reference
    # and the reference is the definition: sha256 hex of S|ENT|uscc, n smallest per tier
    for tier in engine.TIERS:
        tickets = sorted(
            (hashlib.sha256(f"{seed}|ENT|{u}".encode()).hexdigest(), u)
            for u, t in rows
            if t == tier
        )
        want = [{"uscc": u, "tier": tier, "ticket": t} for t, u in tickets[: counts[tier]]]
        assert [s for s in reference if s["tier"] == tier] == want


@pytest.mark.parametrize("workers", [2, 3])
def test_forked_ticket_workers_give_the_same_selection(monkeypatch, workers):
    monkeypatch.setattr(engine, "FORK_MIN_ROWS", 1)
    rng = random.Random(workers)
    rows = random_population(rng, 900)
    counts = {"A": 40, "B": 1, "C": 300, "D": 0}
    _, usccs, tiers = as_table(rows)
    reference = engine.select_table_reference("S-fork", usccs, tiers, counts)
    assert engine.select_table("S-fork", usccs, tiers, counts, workers=workers) == reference


def test_fast_selection_refuses_unknown_tiers():
    with pytest.raises(ValueError, match="unknown tier"):
        engine.select_table("S", [b"91410481000000010J"], [b"E"], {"A": 1})


@pytest.mark.parametrize("trial", range(10))
def test_fast_teams_equal_the_reference_on_random_pools(trial):
    rng = random.Random(2000 + trial)
    rows = random_population(rng, rng.randint(5, 150))
    counts = {t: min(5, sum(1 for _, x in rows if x == t)) for t in engine.TIERS}
    _, usccs, tiers = as_table(rows)
    seed = f"S-teams-{trial}"
    selected = engine.select_table(seed, usccs, tiers, counts)
    pool = random_pool(rng, [u for u, _ in rows], rng.randint(3, 40))
    k = rng.choice((2, 2, 3))
    required = [q for q in ("gas", "hazchem") if rng.random() < 0.5]
    try:
        reference = engine.build_teams_reference(seed, selected, pool, k, required)
    except engine.Shortfall as exc:
        with pytest.raises(engine.Shortfall) as fast:
            engine.build_teams(seed, selected, pool, k, required)
        assert str(fast.value) == str(exc)
    else:
        assert engine.build_teams(seed, selected, pool, k, required) == reference


@pytest.mark.parametrize("workers", [2, 3])
def test_forked_team_rankings_give_the_same_teams(monkeypatch, workers):
    monkeypatch.setattr(engine, "FORK_MIN_TEAMS", 1)
    rng = random.Random(30 + workers)
    rows = random_population(rng, 400)
    counts = {t: min(25, sum(1 for _, x in rows if x == t)) for t in engine.TIERS}
    _, usccs, tiers = as_table(rows)
    selected = engine.select_table("S-fork-teams", usccs, tiers, counts)
    pool = random_pool(rng, [u for u, _ in rows], 30)
    reference = engine.build_teams_reference("S-fork-teams", selected, pool, 2, ["gas"])
    forked = engine.build_teams("S-fork-teams", selected, pool, 2, ["gas"], workers=workers)
    assert forked == reference


def test_fast_ranking_equals_the_reference():
    rng = random.Random(7)
    pool = random_pool(rng, ["U1"], 60)
    for uscc in ("91410481000000010J", "410481000012345"):
        fast = engine.rank_inspectors("S", uscc, pool)
        assert fast == engine.rank_inspectors_reference("S", uscc, pool)


def test_duplicate_staff_numbers_in_inspectors_csv_are_refused():
    data = b"staff_number,section,pool,qualifications,capacity,recusals\nWG1,a,,,,\nWG1,b,,,,\n"
    with pytest.raises(ValueError, match="duplicate"):
        engine.parse_inspectors(data)


@pytest.mark.django_db
def test_postgresql_sha256_selects_what_the_engine_selects():
    """The bench's PostgreSQL path (sha256() in SQL, ORDER BY the digest bytes) is provably the
    same computation: same tickets, same per-tier selection, on a random population."""
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only")
    rng = random.Random(5)
    rows = random_population(rng, 400)
    counts = random_counts(rng, rows)
    _, usccs, tiers = as_table(rows)
    seed = "WGDRAW-1|draw=9|population=" + "a" * 64 + "|dice=d6:31415265312345626153"
    expected = engine.select_table(seed, usccs, tiers, counts)
    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMPORARY TABLE t_draw_population (uscc text, tier text)")
        cursor.executemany("INSERT INTO t_draw_population VALUES (%s, %s)", rows)
        found = []
        for tier in engine.TIERS:
            cursor.execute(
                """SELECT uscc, encode(sha256(convert_to(%s || uscc, 'UTF8')), 'hex')
                   FROM t_draw_population WHERE tier = %s
                   ORDER BY sha256(convert_to(%s || uscc, 'UTF8')), uscc COLLATE "C" LIMIT %s""",
                [seed + "|ENT|", tier, seed + "|ENT|", counts[tier]],
            )
            found += [{"uscc": u, "tier": tier, "ticket": t} for u, t in cursor.fetchall()]
    assert found == expected


@pytest.mark.parametrize(
    "make_digest",
    [
        lambda i: bytes([255] * 31 + [i % 256]),  # all far above the first bound: retries
        lambda i: bytes([i % 3] * 32),  # many equal digests: ties go to the smaller uscc
        lambda i: hashlib.sha256(str(i).encode()).digest(),
    ],
)
@pytest.mark.parametrize("n", [1, 5, 60, 250])
def test_bounded_smallest_equals_nsmallest_even_for_skewed_digests(monkeypatch, make_digest, n):
    import heapq

    members = [f"U{i:05d}".encode() for i in range(1000, 0, -1)]
    digests = [make_digest(i) for i in range(len(members))]
    by_member = dict(zip(members, digests, strict=True))

    class State:
        """A hash state whose digest of a member is the skewed one chosen above."""

        def copy(self):
            return State()

        def update(self, member):
            self.member = member

        def digest(self):
            return by_member[self.member]

    assert engine._smallest(State(), members, n) == heapq.nsmallest(
        n, zip(digests, members, strict=True)
    )


def test_two_column_manifest_check_accepts_exactly_what_the_row_regex_accepts():
    """The C-level checks of a ``uscc,tier`` manifest against the regex they replace, on
    valid manifests and on many single-byte mutations of them."""
    import operator

    rng = random.Random(3)
    alphabet = b"0123456789AEZaz,;\n .-"
    for _ in range(400):
        rows = random_population(rng, rng.randint(0, 6))
        body = engine.build_manifest(rows).partition(b"\n")[2]
        if body and rng.random() < 0.9:
            at = rng.randrange(len(body))
            action = rng.choice(("insert", "delete", "replace"))
            byte = bytes([rng.choice(alphabet)])
            if action == "insert":
                body = body[:at] + byte + body[at:]
            elif action == "delete":
                body = body[:at] + body[at + 1 :]
            else:
                body = body[:at] + byte + body[at + 1 :]
        if not body.endswith(b"\n") and body:
            continue  # read_manifest refuses that before either check
        lines = body.split(b"\n")
        lines.pop()
        usccs = list(map(operator.itemgetter(slice(None, -2)), lines))
        tiers = list(map(operator.itemgetter(slice(-1, None)), lines))
        fast = engine._two_columns_ok(body, lines, usccs, tiers)
        assert fast == bool(engine._row_pattern(2).fullmatch(body)), body


def _read_both(monkeypatch, data):
    """read_manifest_uncached through the fixed-width reader and through the general one."""
    fast = engine.read_manifest_uncached(data)
    with monkeypatch.context() as patched:
        patched.setattr(engine, "_fixed_width_columns", lambda body: None)
        general = engine.read_manifest_uncached(data)
    return fast, general


def test_fixed_width_reader_reads_what_the_general_reader_reads(monkeypatch):
    rng = random.Random(18)
    rows = sorted({(f"9141{rng.getrandbits(56):014X}", rng.choice("ABCD")) for _ in range(500)})
    data = engine.build_manifest(rows)
    fast, general = _read_both(monkeypatch, data)
    assert fast == general
    assert fast[1] == [u.encode() for u, _ in rows]
    assert fast[2] == [t.encode() for _, t in rows]
    assert engine.read_manifest_columns(data)[2] == "".join(t for _, t in rows).encode()


@pytest.mark.parametrize(
    "bad",
    [
        b"91410481000000010J,E\n",  # unknown tier
        b"91410481000000010j,A\n",  # lowercase
        b"91410481000000010J;A\n",  # not a comma
        b"9141048100000,010J,A\n",  # comma inside the USCC, row still 21 bytes
        b"91410481000000010JA,\n",  # comma in the tier's place
        b"91410481000000010J,A,",  # no LF (and the file then ends without one)
        b"91410481000000020K,A\n91410481000000010J,A\n",  # not sorted
        b"91410481000000010J,A\n91410481000000010J,B\n",  # duplicate
    ],
)
def test_fixed_width_reader_refuses_what_the_general_reader_refuses(monkeypatch, bad):
    data = b"uscc,tier\n91410481000000000A,B\n" + bad
    with pytest.raises(ValueError):
        engine.read_manifest_uncached(data)
    with monkeypatch.context() as patched:
        patched.setattr(engine, "_fixed_width_columns", lambda body: None)
        with pytest.raises(ValueError):
            engine.read_manifest_uncached(data)


def test_mixed_widths_fall_back_to_the_general_reader(monkeypatch):
    """A 15-character legacy registration number among 18-character USCCs: rows are no longer
    all 21 bytes; the general reader reads them."""
    data = b"uscc,tier\n410481000000001,A\n91410481000000010J,C\n"
    fast, general = _read_both(monkeypatch, data)
    assert (
        fast
        == general
        == (
            ["uscc", "tier"],
            [b"410481000000001", b"91410481000000010J"],
            [b"A", b"C"],
        )
    )
