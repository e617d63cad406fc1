"""Build draw.json (the document verify.py checks) from the frozen inputs. Standard library only."""

from __future__ import annotations

from decimal import Decimal

from . import verify as engine


def tier_table(manifest: bytes, rates: dict, rounding: str) -> dict:
    """{tier: {population, rate, count}} from the manifest rows and the decimal rates."""
    populations = engine.manifest_populations(manifest)
    table = {}
    for tier in engine.TIERS:
        rate = Decimal(str(rates.get(tier, "0")))
        table[tier] = {
            "population": populations[tier],
            "rate": str(rate.normalize()) if rate else "0",
            "count": engine.tier_count(populations[tier], rate, rounding),
        }
    return table


def perform(
    *,
    draw_id,
    manifest: bytes,
    inspectors: bytes,
    experts: bytes,
    rates: dict,
    rounding: str,
    k: int,
    required=(),
    specialties=(),
    secret: str,
    dice_kind: str,
    dice: str,
    witnesses=(),
    excluded=(),
    extra=None,
    workers: int = 1,
    progress=None,
) -> dict:
    """The whole draw -> draw.json dict. Raises engine.DrawError (e.g. Shortfall). ``workers``
    > 1 hashes the tickets of a large population in that many forked processes (same result);
    ``progress(stage, done, total)`` hears how far the tickets and the teams are."""
    if int(k) < 2:
        raise engine.DrawError("at least two inspectors per enterprise (art. 10)")
    if len([w for w in witnesses if str(w).strip()]) < 2:
        raise engine.DrawError("at least two witnesses are required")
    tiers = tier_table(manifest, rates, rounding)
    counts = {tier: info["count"] for tier, info in tiers.items()}
    seed = engine.seed_string(
        draw_id=draw_id,
        population_sha256=engine.sha256_hex(manifest),
        inspectors_sha256=engine.sha256_hex(inspectors),
        experts_sha256=engine.sha256_hex(experts),
        counts=counts,
        k=k,
        secret=secret,
        dice_kind=dice_kind,
        dice=dice,
    )
    selected, teams = engine.compute(
        seed=seed,
        manifest=manifest,
        inspectors=inspectors,
        experts=experts,
        counts=counts,
        k=k,
        required=sorted(required),
        specialties=sorted(specialties),
        workers=workers,
        progress=progress,
    )
    document = {
        "algorithm": engine.ALGORITHM,
        "draw_id": draw_id,
        "seed_string": seed,
        "population_sha256": engine.sha256_hex(manifest),
        "inspectors_sha256": engine.sha256_hex(inspectors),
        "experts_sha256": engine.sha256_hex(experts),
        "rounding": rounding,
        "tiers": tiers,
        "excluded": [dict(e) for e in excluded],
        "inspectors_per_enterprise": int(k),
        "required_qualifications": sorted(required),
        "expert_specialties": sorted(specialties),
        "random_inputs": {
            "secret": secret,
            "secret_sha256": engine.sha256_hex(secret.encode("ascii")),
            "dice_kind": dice_kind,
            "dice": dice,
        },
        "witnesses": list(witnesses),
        "selected": selected,
        "teams": teams,
        "replacements": [],
    }
    if extra:
        document.update(extra)
    return document
