"""The pure, standard-library-only draw engine (WGDRAW-1).

``verify.py`` holds the whole algorithm AND is the standalone verifier copied verbatim into every
evidence package, so the server's draw and the public verification are one implementation.
``evidence.py`` writes the evidence zip. Nothing here imports Django.
"""

from .verify import (  # noqa: F401
    ALGORITHM,
    TIERS,
    DrawError,
    Shortfall,
    build_expert_manifest,
    build_inspector_manifest,
    build_manifest,
    build_teams,
    check_dice,
    compute,
    joint_visit_merge,
    parse_inspectors,
    parse_manifest,
    replacement_pick,
    seed_string,
    select,
    sha256_hex,
    ticket,
    tier_count,
)
