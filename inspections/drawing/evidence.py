"""The evidence package: a zip with the exact frozen bytes, draw.json and verify.py."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

from . import verify as engine

VERIFY_SOURCE = Path(engine.__file__).with_suffix(".py")

README = """WGDRAW-1 evidence package / 抽取证据包

Files: manifest.csv (the frozen population), inspectors.csv (the frozen inspector pool),
experts.csv (the frozen expert pool), draw.json (the draw), joint_visits.json (the joint visits
this draw's enterprises were merged into: team before and after, who was added and why),
verify.py (the verifier).

Verify with any Python 3.8+ and nothing else:

    python3 verify.py

It prints OK and exits 0 when the hashes, the seed string, every ticket, the per-tier selection,
the teams and every joint-visit merge match (the merges are listed above OK); otherwise it prints
every difference and exits 1.

One ticket by hand (S is draw.json's seed_string):

    printf '%s' "$S|ENT|$USCC" | sha256sum
"""


def dumps_draw(draw: dict | list) -> bytes:
    return (json.dumps(draw, ensure_ascii=False, indent=1, sort_keys=True) + "\n").encode()


def write_zip(
    out,
    *,
    folder: str,
    draw: dict,
    manifest: bytes,
    inspectors: bytes,
    experts: bytes,
    joint_visits=(),
    date_time=(2026, 1, 1, 0, 0, 0),
) -> None:
    """Write the package to ``out`` (path or binary file). Entries get a fixed timestamp, so
    the same draw always gives the same bytes."""
    files = [
        ("README.txt", README.encode()),
        ("draw.json", dumps_draw(draw)),
        ("joint_visits.json", dumps_draw(list(joint_visits))),
        ("manifest.csv", manifest),
        ("inspectors.csv", inspectors),
        ("experts.csv", experts),
        ("verify.py", VERIFY_SOURCE.read_bytes()),
    ]
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in files:
            info = zipfile.ZipInfo(f"{folder}/{name}", date_time=date_time)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, data)


def zip_bytes(**kwargs) -> bytes:
    buffer = io.BytesIO()
    write_zip(buffer, **kwargs)
    return buffer.getvalue()


MAX_MEMBER_BYTES = 512 * 1024 * 1024


def read_zip(source) -> dict:
    """-> {name: bytes} of the package's files (folder prefix stripped); refuses odd members."""
    wanted = {"draw.json", "manifest.csv", "inspectors.csv", "experts.csv", "joint_visits.json"}
    found = {}
    with zipfile.ZipFile(source) as archive:
        for info in archive.infolist():
            name = info.filename.rsplit("/", 1)[-1]
            if name not in wanted:
                continue
            if info.file_size > MAX_MEMBER_BYTES:
                raise ValueError(f"{info.filename} is too large")
            found[name] = archive.read(info)
    return found


def verify_zip(source) -> list[str]:
    files = read_zip(source)
    missing = [n for n in ("draw.json", "manifest.csv", "inspectors.csv") if n not in files]
    if missing:
        return [f"missing file: {name}" for name in missing]
    try:
        draw = json.loads(files["draw.json"].decode("utf-8"))
    except ValueError as exc:
        return [f"draw.json: {exc}"]
    experts = files.get("experts.csv") or engine.build_expert_manifest([])
    try:
        visits = engine.read_joint_visits(files.get("joint_visits.json"))
    except ValueError as exc:
        return [f"joint_visits.json: {exc}"]
    return engine.verify(draw, files["manifest.csv"], files["inspectors.csv"], experts, visits)
