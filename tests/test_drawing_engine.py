"""The pure draw engine (inspections/drawing): the worked example of docs/draws.md as a fixed test
vector, counts, order independence, subset consistency, uniformity, teams, verification."""

import copy
import io
import json
import random
import subprocess
import sys
import zipfile
from decimal import Decimal

import pytest

from inspections.drawing import document, evidence
from inspections.drawing import verify as engine

SECRET = "0123456789abcdef" * 4
DICE = "31415265312345626153"
RATES = {"A": "0.01", "B": "0.03", "C": "0.10", "D": "0.20"}


def example_files():
    manifest = engine.build_manifest(
        [
            {"uscc": "91410481000000060P", "tier": "D", "township": "sipo"},
            {"uscc": "91410481000000010J", "tier": "A", "township": "yakou"},
            {"uscc": "91410481000000030L", "tier": "A", "township": "zhulan"},
            {"uscc": "91410481000000020K", "tier": "A", "township": "sipo"},
            {"uscc": "91410481000000050N", "tier": "B", "township": "batai"},
            {"uscc": "91410481000000040M", "tier": "B", "township": "yakou"},
        ],
        attributes=["township"],
    )
    inspectors = engine.build_inspector_manifest(
        [
            {"staff_number": "WG005", "section": "shangmao"},
            {"staff_number": "WG001", "section": "shichang"},
            {
                "staff_number": "WG002",
                "section": "shichang",
                "qualifications": ["hazchem"],
                "capacity": 1,
            },
            {"staff_number": "WG003", "section": "fagui", "recusals": ["91410481000000060P"]},
            {"staff_number": "WG004", "section": "fagui", "pool": "certificate_expired"},
        ]
    )
    return manifest, inspectors, engine.build_expert_manifest([])


def example_draw():
    manifest, inspectors, experts = example_files()
    doc = document.perform(
        draw_id=1,
        manifest=manifest,
        inspectors=inspectors,
        experts=experts,
        rates=RATES,
        rounding="ceil",
        k=2,
        secret=SECRET,
        dice_kind="d6",
        dice=DICE,
        witnesses=["王某", "李某"],
    )
    return doc, manifest, inspectors, experts


# ---------------------------------------------------------------- the worked example (docs/draws.md)
def test_worked_example_is_the_documented_vector():
    doc, manifest, inspectors, experts = example_draw()
    assert manifest == (
        b"uscc,tier,township\n91410481000000010J,A,yakou\n91410481000000020K,A,sipo\n"
        b"91410481000000030L,A,zhulan\n91410481000000040M,B,yakou\n"
        b"91410481000000050N,B,batai\n91410481000000060P,D,sipo\n"
    )
    assert doc["population_sha256"] == (
        "1d5d2b3f737e25ddba7862fe87dba2e726c62f7faf183011afdb41773bf563e0"
    )
    assert doc["inspectors_sha256"] == (
        "3718f12ffd2ec1320520cef49adc3b4e451aba74f36f0664884e68ee7d01a549"
    )
    assert doc["random_inputs"]["secret_sha256"] == (
        "a8ae6e6ee929abea3afcfc5258c8ccd6f85273e0d4626d26c7279f3250f77c8e"
    )
    assert doc["seed_string"] == (
        "WGDRAW-1|draw=1"
        "|population=1d5d2b3f737e25ddba7862fe87dba2e726c62f7faf183011afdb41773bf563e0"
        "|inspectors=3718f12ffd2ec1320520cef49adc3b4e451aba74f36f0664884e68ee7d01a549"
        "|experts=af81b31f07e9b29e81b9807a0e6665b60f37f6b3125a9f1b1940b86305473507"
        "|n=A:1.B:1.C:0.D:1|k=2|secret=" + SECRET + "|dice=d6:" + DICE
    )
    assert doc["tiers"] == {
        "A": {"population": 3, "rate": "0.01", "count": 1},
        "B": {"population": 2, "rate": "0.03", "count": 1},
        "C": {"population": 0, "rate": "0.1", "count": 0},
        "D": {"population": 1, "rate": "0.2", "count": 1},
    }
    assert [(s["uscc"], s["ticket"][:8]) for s in doc["selected"]] == [
        ("91410481000000010J", "506bef5e"),
        ("91410481000000050N", "9b0e7fc7"),
        ("91410481000000060P", "b1c61cdb"),
    ]
    assert engine.ticket(doc["seed_string"], "91410481000000020K").startswith("9282c920")
    teams = {t["uscc"]: t for t in doc["teams"]}
    assert teams["91410481000000010J"]["inspectors"] == ["WG002", "WG001"]
    assert teams["91410481000000050N"]["inspectors"] == ["WG003", "WG005"]
    assert teams["91410481000000050N"]["skips"] == [{"staff_number": "WG002", "reason": "capacity"}]
    assert teams["91410481000000060P"]["inspectors"] == ["WG001", "WG005"]
    assert teams["91410481000000060P"]["skips"] == [
        {"staff_number": "WG002", "reason": "capacity"},
        {"staff_number": "WG004", "reason": "certificate_expired"},
        {"staff_number": "WG003", "reason": "recused"},
    ]
    assert engine.verify(doc, manifest, inspectors, experts) == []


def test_ticket_matches_the_shell_recipe():
    import hashlib

    seed = "WGDRAW-1|draw=9|x"
    expected = hashlib.sha256(f"{seed}|ENT|91350200776049653A".encode()).hexdigest()
    assert engine.ticket(seed, "91350200776049653A") == expected
    assert engine.SEED_ALPHABET.match(example_draw()[0]["seed_string"])


# ------------------------------------------------------------------------------------------ counts
@pytest.mark.parametrize(
    ("population", "rate", "rounding", "expected"),
    [
        (100, "0.07", "ceil", 7),  # exact decimal: a float would give 8
        (0, "0.20", "ceil", 0),
        (1, "0.01", "ceil", 1),  # every non-empty tier inspected at least once
        (3, "0.01", "ceil", 1),
        (101, "0.01", "ceil", 2),
        (250, "0.03", "half_up", 8),  # 7.5 → 8
        (49, "0.01", "half_up", 0),
        (5, "1", "ceil", 5),
        (5, "1.5", "ceil", 5),  # never more than the tier
    ],
)
def test_tier_count(population, rate, rounding, expected):
    assert engine.tier_count(population, Decimal(rate), rounding) == expected


def population(sizes, seed=1):
    rng = random.Random(seed)  # test data only; the engine never uses a PRNG
    rows = []
    for tier, size in sizes.items():
        for _ in range(size):
            body = "".join(rng.choice("0123456789ABCDEFGHJKLMNPQRTUWXY") for _ in range(16))
            rows.append({"uscc": "91" + body, "tier": tier})
    return rows


@pytest.mark.parametrize(
    "sizes", [{"A": 1, "B": 2, "C": 3, "D": 1}, {"A": 250, "B": 40, "C": 9, "D": 0}]
)
def test_exact_counts_per_tier_including_tiny_tiers(sizes):
    rows = population(sizes)
    manifest = engine.build_manifest(rows)
    table = document.tier_table(manifest, RATES, "ceil")
    seed = "WGDRAW-1|test"
    counts = {t: table[t]["count"] for t in table}
    selected = engine.select(seed, [(r["uscc"], r["tier"]) for r in rows], counts)
    for tier, size in sizes.items():
        chosen = [s for s in selected if s["tier"] == tier]
        assert len(chosen) == engine.tier_count(size, Decimal(RATES[tier]))
        assert len(chosen) == (0 if size == 0 else max(1, len(chosen)))
        tickets = sorted(engine.ticket(seed, r["uscc"]) for r in rows if r["tier"] == tier)
        assert [c["ticket"] for c in chosen] == tickets[: len(chosen)]


def test_order_independence_shuffled_population_same_draw():
    rows = population({"A": 60, "B": 30, "C": 20, "D": 10})
    shuffled = list(rows)
    random.Random(7).shuffle(shuffled)
    assert engine.build_manifest(rows) == engine.build_manifest(shuffled)
    counts = {"A": 3, "B": 2, "C": 2, "D": 2}
    a = engine.select("S", [(r["uscc"], r["tier"]) for r in rows], counts)
    b = engine.select("S", [(r["uscc"], r["tier"]) for r in shuffled], counts)
    assert a == b


def test_subset_consistency():
    rows = population({"A": 80})
    counts = {"A": 5}
    full = engine.select("S", [(r["uscc"], "A") for r in rows], counts)
    chosen = {s["uscc"] for s in full}
    # drop 30 unselected enterprises: the same five win with the same tickets
    subset = [r for r in rows if r["uscc"] in chosen] + [
        r for r in rows if r["uscc"] not in chosen
    ][30:]
    assert engine.select("S", [(r["uscc"], "A") for r in subset], counts) == full
    # and a smaller n picks a prefix of the larger draw
    assert engine.select("S", [(r["uscc"], "A") for r in rows], {"A": 3}) == full[:3]


def test_tie_on_ticket_goes_to_smaller_uscc(monkeypatch):
    import hashlib

    class Same:
        def __init__(self, data=b""):
            pass

        def copy(self):
            return self

        def update(self, data):
            pass

        def digest(self):
            return b"\x00" * 32

    monkeypatch.setattr(engine.hashlib, "sha256", lambda data=b"": Same())
    chosen = engine.select("S", [("B2", "A"), ("A1", "A"), ("C3", "A")], {"A": 2})
    monkeypatch.setattr(engine.hashlib, "sha256", hashlib.sha256)
    assert [c["uscc"] for c in chosen] == ["A1", "B2"]


def test_chi_square_selection_is_uniform_within_a_tier():
    rows = [(f"9141048100000{i:04d}X", "C") for i in range(20)]
    draws, n = 3000, 4
    hits = {uscc: 0 for uscc, _ in rows}
    for i in range(draws):
        for s in engine.select(f"WGDRAW-1|draw={i}", rows, {"C": n}):
            hits[s["uscc"]] += 1
    expected = draws * n / len(rows)
    chi2 = sum((h - expected) ** 2 / expected for h in hits.values())
    assert sum(hits.values()) == draws * n
    assert chi2 < 43.82  # df = 19, p = 0.001


def test_engine_uses_no_library_prng():
    source = evidence.VERIFY_SOURCE.read_text()
    assert "import random" not in source and "from random" not in source


# ------------------------------------------------------------------------------------------- teams
def pool(*rows):
    return engine.parse_inspectors(engine.build_inspector_manifest(rows))


def test_qualification_replaces_the_lowest_ranked_member():
    inspectors = pool(
        *({"staff_number": f"P{i:02d}"} for i in range(6)),
        {"staff_number": "Q01", "qualifications": ["hazchem"]},
    )
    seed = "S-qual"
    ranking = [r["staff_number"] for r in engine.rank_inspectors(seed, "U1", inspectors)]
    team = engine.build_team(seed, "U1", inspectors, 2, ["hazchem"], {})
    first_two = [s for s in ranking if s != "Q01"][:2]
    if "Q01" in ranking[:2]:
        assert team["qualification_replacements"] == []
    else:
        assert team["qualification_replacements"] == [
            {"qualification": "hazchem", "out": first_two[1], "in": "Q01"}
        ]
    assert "Q01" in team["inspectors"] and len(team["inspectors"]) == 2
    assert team["inspectors"] == sorted(team["inspectors"], key=ranking.index)


def test_shortfall_names_the_enterprise_and_never_fills_with_ineligible():
    inspectors = pool(
        {"staff_number": "A1"},
        {"staff_number": "A2", "pool": "inactive"},
        {"staff_number": "A3", "recusals": ["91410481000000010J"]},
    )
    with pytest.raises(engine.Shortfall) as info:
        engine.build_team("S", "91410481000000010J", inspectors, 2, [], {})
    assert info.value.uscc == "91410481000000010J"
    assert (info.value.needed, info.value.available) == (2, 1)
    with pytest.raises(engine.Shortfall) as info:
        engine.build_team(
            "S", "X", pool({"staff_number": "B1"}, {"staff_number": "B2"}), 2, ["hazchem"], {}
        )
    assert info.value.qualification == "hazchem"


def test_capacity_is_consumed_in_ticket_order():
    inspectors = pool(
        {"staff_number": "C1", "capacity": 1},
        {"staff_number": "C2", "capacity": 1},
        {"staff_number": "C3"},
        {"staff_number": "C4"},
    )
    selected = [{"uscc": f"U{i}", "tier": "A", "ticket": f"{i:064x}"} for i in range(4)]
    teams = engine.build_teams("S-cap", selected, inspectors, 2, [])
    counts = {}
    for team in teams:
        for member in team["inspectors"]:
            counts[member] = counts.get(member, 0) + 1
    assert counts.get("C1", 0) <= 1 and counts.get("C2", 0) <= 1
    assert [t["uscc"] for t in teams] == ["U0", "U1", "U2", "U3"]


def test_experts_drawn_by_exp_ticket():
    experts = engine.parse_experts(
        engine.build_expert_manifest(
            [
                {"code": "E1", "specialties": ["hazchem"]},
                {"code": "E2", "specialties": ["hazchem"]},
                {"code": "E3", "specialties": ["hazchem"], "recusals": ["U"]},
                {"code": "E4", "specialties": ["boiler"]},
            ]
        )
    )
    picks = engine.draw_experts("S", "U", experts, ["hazchem"])
    best = min(["E1", "E2"], key=lambda c: engine.expert_ticket("S", "U", c))
    assert picks[0]["expert"] == best


def test_post_draw_recusal_takes_the_next_ranked():
    doc, manifest, inspectors, experts = example_draw()
    rows = engine.parse_inspectors(inspectors)
    team = copy.deepcopy(doc["teams"][0])  # 010J: WG002, WG001; ranking WG002 WG001 WG003 WG005
    remaining = engine.capacity_after(doc["teams"], rows)
    pick = engine.replacement_pick(team, "WG001", rows, [], remaining, {"WG001"})
    assert pick == "WG003"
    doc["replacements"] = [
        {
            "uscc": team["uscc"],
            "out": "WG001",
            "in": "WG003",
            "reason": "亲属关系",
            "approver": "马晓燕",
            "by": "李建国",
            "at": "2026-03-01T10:00:00+08:00",
        }
    ]
    doc["teams"][0]["inspectors"] = ["WG002", "WG003"]
    assert engine.verify(doc, manifest, inspectors, experts) == []
    doc["replacements"][0]["in"] = "WG005"  # skipping the next-ranked is caught
    doc["teams"][0]["inspectors"] = ["WG002", "WG005"]
    assert any("replacements[0]" in p for p in engine.verify(doc, manifest, inspectors, experts))


def test_joint_visit_merge_adds_highest_ranked_qualified():
    merged = engine.joint_visit_merge(
        ["WG001", "WG005"],
        [
            {
                "task": 2,
                "required": ["hazchem"],
                "ranking": ["WG007", "WG002", "WG009"],
                "qualifications": {"WG002": ["hazchem"], "WG009": ["hazchem"], "WG007": []},
            },
            {
                "task": 3,
                "required": ["hazchem"],
                "ranking": ["WG009"],
                "qualifications": {"WG009": ["hazchem"]},
            },
        ],
    )
    assert merged["team"] == ["WG001", "WG005", "WG002"]
    assert merged["added"] == [{"task": 2, "qualification": "hazchem", "staff_number": "WG002"}]
    assert merged["missing"] == []


# -------------------------------------------------------------------------------- verification
def test_edited_manifest_fails_verification():
    doc, manifest, inspectors, experts = example_draw()
    edited = manifest.replace(b"91410481000000020K,A", b"91410481000000020K,B")
    problems = engine.verify(doc, edited, inspectors, experts)
    assert any("sha256 of manifest.csv" in p for p in problems)


def test_changed_ticket_or_selection_fails_verification():
    doc, manifest, inspectors, experts = example_draw()
    forged = copy.deepcopy(doc)
    forged["selected"][0]["ticket"] = "0" * 64
    assert any("selected[0]" in p for p in engine.verify(forged, manifest, inspectors, experts))
    forged = copy.deepcopy(doc)
    forged["selected"][0]["uscc"] = "91410481000000020K"
    assert engine.verify(forged, manifest, inspectors, experts)
    forged = copy.deepcopy(doc)
    forged["teams"][1]["inspectors"] = ["WG003", "WG001"]
    assert any("final team" in p for p in engine.verify(forged, manifest, inspectors, experts))


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("random_inputs", "secret"), "f" * 64),
        (("random_inputs", "dice"), "3141526531234562615"),
        (("tiers", "A", "count"), 2),
        (("tiers", "B", "rate"), "0.6"),  # 2 × 0.6 → 2, not 1
        (("witnesses",), ["王某"]),
    ],
)
def test_tampered_inputs_fail_verification(path, value):
    doc, manifest, inspectors, experts = example_draw()
    target = doc
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    assert engine.verify(doc, manifest, inspectors, experts)


@pytest.mark.parametrize(
    ("kind", "digits"),
    [("d6", "1234561234561234561"), ("d6", "12345612345612345670"), ("d20", "1" * 20)],
)
def test_dice_rules(kind, digits):
    with pytest.raises(ValueError):
        engine.check_dice(kind, digits)
    engine.check_dice("d10", "0123456789" * 2)


def test_manifest_refuses_values_that_would_need_quoting():
    with pytest.raises(ValueError):
        engine.build_manifest([{"uscc": "91410481000000010J", "tier": "A", "t": "a,b"}], ["t"])
    with pytest.raises(ValueError):
        engine.build_manifest([{"uscc": "91410481000000010J", "tier": "E"}])


def test_evidence_zip_runs_standalone_verify_py(tmp_path):
    doc, manifest, inspectors, experts = example_draw()
    data = evidence.zip_bytes(
        folder="draw-1", draw=doc, manifest=manifest, inspectors=inspectors, experts=experts
    )
    assert data == evidence.zip_bytes(
        folder="draw-1", draw=doc, manifest=manifest, inspectors=inspectors, experts=experts
    )
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        archive.extractall(tmp_path)
        assert archive.read("draw-1/verify.py") == evidence.VERIFY_SOURCE.read_bytes()
    folder = tmp_path / "draw-1"
    # -I: isolated, no project on the path — only the standard library
    run = subprocess.run(
        [sys.executable, "-I", "verify.py"], cwd=folder, capture_output=True, text=True, check=False
    )
    assert (run.returncode, run.stdout.strip()) == (0, "OK")
    assert json.loads((folder / "draw.json").read_text())["seed_string"] == doc["seed_string"]
    assert evidence.verify_zip(io.BytesIO(data)) == []

    (folder / "manifest.csv").write_bytes(manifest.replace(b"sipo", b"yakou", 1))
    run = subprocess.run(
        [sys.executable, "-I", "verify.py"], cwd=folder, capture_output=True, text=True, check=False
    )
    assert run.returncode == 1
    assert "sha256 of manifest.csv" in run.stdout


def test_optimised_selection_equals_the_definition():
    """select_table (bounded work, bytes) equals sorting every ticket of the tier."""
    rows = population({"A": 300, "B": 120, "C": 7, "D": 1}, seed=11)
    counts = {"A": 5, "B": 4, "C": 7, "D": 1}
    for seed in ("S1", "WGDRAW-1|draw=2", "x" * 300):
        expected = []
        for tier in engine.TIERS:
            tickets = sorted(
                (engine.ticket(seed, r["uscc"]), r["uscc"]) for r in rows if r["tier"] == tier
            )
            expected += [{"uscc": u, "tier": tier, "ticket": t} for t, u in tickets[: counts[tier]]]
        assert engine.select(seed, [(r["uscc"], r["tier"]) for r in rows], counts) == expected


def test_manifest_order_is_bytewise_with_legacy_codes_and_refuses_duplicates():
    rows = [
        {"uscc": "410481000012345", "tier": "A"},  # 15-digit 注册号
        {"uscc": "410481000012340", "tier": "B"},
        {"uscc": "4104810000123456AB", "tier": "C"},
        {"uscc": "91410481000000010J", "tier": "D"},
    ]
    data = engine.build_manifest(reversed(rows))
    usccs = [line.split(b",")[0] for line in data.split(b"\n")[1:-1]]
    assert usccs == sorted(r["uscc"].encode() for r in rows)
    with pytest.raises(ValueError, match="duplicate"):
        engine.build_manifest([{"uscc": "91410481000000010J", "tier": "A"}] * 2)
    with pytest.raises(ValueError, match="not sorted"):
        engine.read_manifest(b"uscc,tier\n91410481000000020K,A\n91410481000000010J,A\n")
    with pytest.raises(ValueError, match="line 2"):
        engine.read_manifest(b"uscc,tier\n91410481000000010J,E\n")
