"""The audit chain anchored outside the database (docs/decisions.md 111).

The threat: someone holding the database credentials (the app's role, a DBA, a stolen
password) but not the application server's keys. The hash chain alone cannot stop them: they
can truncate the table, delete its tail, or rewrite a row and recompute every later hash with
the model's own ``compute_hash``. Two things here can:

- each event carries a ``mac``: HMAC-SHA256 of its hash under a key derived from
  ``AUDIT_CHECKPOINT_KEY``, which lives in the application server's environment only; a
  rewritten row cannot be given a matching ``mac``;
- **checkpoints**: signed JSON files (seq, hash, count, time, epoch) written daily, on every
  verification and into every backup manifest, kept in ``AUDIT_CHECKPOINT_DIR`` on the
  application server, where the database role cannot reach. A log shorter than a checkpoint,
  or holding another hash at its seq, is broken.

A legitimate restore of an older backup records a **restore epoch** (``epoch-<n>.json``: the
seq and hash the log went back to, and the epoch the backup was made in). Checkpoints of the
abandoned history beyond that seq are then superseded, not reported as truncation.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

KIND = "wugang-audit-checkpoint"
EPOCH_KIND = "wugang-audit-epoch"
FORMAT = 1
_DEV_KEY = "wugang-dev-only-audit-checkpoint-key"
_CHECKPOINT_NAME = re.compile(r"^e(\d{4,})-s(\d{12,})-(\d{8}T\d{12}Z)\.json$")
_EPOCH_NAME = re.compile(r"^epoch-(\d{4,})\.json$")
MIN_KEY_LENGTH = 32


# --- keys ------------------------------------------------------------------------------------


def _dev_key_allowed() -> bool:
    return bool(settings.DEBUG) or settings.SETTINGS_MODULE == "config.settings.test"


def configured_keys() -> list[str]:
    """The signing key first, then the fallbacks that are still accepted when verifying."""
    primary = getattr(settings, "AUDIT_CHECKPOINT_KEY", "") or ""
    fallbacks = [k for k in getattr(settings, "AUDIT_CHECKPOINT_KEY_FALLBACKS", []) if k]
    if primary:
        return [primary, *fallbacks]
    if _dev_key_allowed():
        return [_DEV_KEY, *fallbacks]
    raise ImproperlyConfigured(
        "AUDIT_CHECKPOINT_KEY 未设置：生产环境必须在应用服务器的环境变量中提供审计检查点密钥"
        '（python -c "import secrets; print(secrets.token_urlsafe(48))" 生成）。'
    )


def _derived(key: str, purpose: bytes) -> bytes:
    # One key in the environment, separate keys for the two uses.
    return hmac.new(key.encode(), purpose, hashlib.sha256).digest()


def key_id(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()[:16]


def event_mac(event_hash: str) -> str:
    return hmac.new(
        _derived(configured_keys()[0], b"audit-event"), event_hash.encode(), hashlib.sha256
    ).hexdigest()


def event_mac_valid(event_hash: str, mac: str) -> bool:
    return any(
        hmac.compare_digest(
            hmac.new(_derived(k, b"audit-event"), event_hash.encode(), hashlib.sha256).hexdigest(),
            mac,
        )
        for k in configured_keys()
    )


def _canonical(document: dict[str, Any]) -> bytes:
    body = {k: v for k, v in document.items() if k != "signature"}
    return json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def _signature(key: str, document: dict[str, Any]) -> str:
    return hmac.new(
        _derived(key, b"audit-checkpoint"), _canonical(document), hashlib.sha256
    ).hexdigest()


def signed(document: dict[str, Any]) -> dict[str, Any]:
    key = configured_keys()[0]
    document = {**document, "key_id": key_id(key)}
    return {**document, "signature": _signature(key, document)}


def signature_valid(document: dict[str, Any]) -> bool:
    given = document.get("signature")
    if not isinstance(given, str):
        return False
    return any(hmac.compare_digest(_signature(k, document), given) for k in configured_keys())


# --- the store (a directory on the application server) ---------------------------------------


def store_dir() -> Path:
    return Path(settings.AUDIT_CHECKPOINT_DIR)


def _write_new(path: Path, document: dict[str, Any]) -> Path:
    """Write a file that must not exist yet (never replace an anchor)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o750)
    data = json.dumps(document, ensure_ascii=False, indent=2, sort_keys=True).encode()
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    return path


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%S%fZ")


def checkpoint_document(
    *, seq: int, hash: str, count: int, keyed_from: int | None, epoch: int | None = None
) -> dict[str, Any]:
    """A signed checkpoint of the chain's head (not yet written anywhere)."""
    return signed(
        {
            "kind": KIND,
            "format": FORMAT,
            "seq": seq,
            "hash": hash,
            "count": count,
            "time": timezone.now().astimezone(UTC).isoformat(),
            "epoch": current_epoch() if epoch is None else epoch,
            "keyed_from": keyed_from,
        }
    )


def checkpoint_name(document: dict[str, Any]) -> str:
    moment = datetime.fromisoformat(document["time"])
    return f"e{document['epoch']:04d}-s{document['seq']:012d}-{_stamp(moment)}.json"


def checkpoint_write(document: dict[str, Any]) -> Path:
    path = store_dir() / checkpoint_name(document)
    try:
        return _write_new(path, document)
    except FileExistsError:
        # The same head checkpointed twice in one microsecond (a frozen clock): the same file.
        if _read(path) == document:
            return path
        raise


@dataclass
class Store:
    checkpoints: list[dict[str, Any]] = field(default_factory=list)
    epochs: dict[int, dict[str, Any]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def _read(path: Path) -> dict[str, Any] | None:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    return document if isinstance(document, dict) else None


def store_load() -> Store:
    """Every checkpoint and epoch file; a file that does not parse or whose signature does not
    verify is a problem (someone wrote into the store, or the key is wrong)."""
    store = Store()
    directory = store_dir()
    if not directory.is_dir():
        return store
    for path in sorted(directory.iterdir()):
        if _CHECKPOINT_NAME.match(path.name):
            document = _read(path)
            if document is None or document.get("kind") != KIND or not signature_valid(document):
                store.problems.append(f"检查点文件无效或签名不符：{path.name}")
                continue
            store.checkpoints.append({**document, "name": path.name})
        elif _EPOCH_NAME.match(path.name):
            document = _read(path)
            if (
                document is None
                or document.get("kind") != EPOCH_KIND
                or not signature_valid(document)
            ):
                store.problems.append(f"恢复纪元文件无效或签名不符：{path.name}")
                continue
            store.epochs[int(document["epoch"])] = document
    store.checkpoints.sort(key=lambda c: (c["epoch"], c["seq"], c["time"]))
    return store


def current_epoch(store: Store | None = None) -> int:
    if store is None:
        directory = store_dir()
        names = [p.name for p in directory.iterdir()] if directory.is_dir() else []
        numbers = [int(m[1]) for n in names if (m := _EPOCH_NAME.match(n))]
        return max(numbers, default=0)
    return max(store.epochs, default=0)


def epoch_record(*, seq: int, hash: str, from_epoch: int, backup_created_at: str) -> dict[str, Any]:
    """A legitimate restore: the log went back to (seq, hash) of the history of ``from_epoch``.
    Written before anything else is checked against the store again."""
    epoch = current_epoch() + 1
    document = signed(
        {
            "kind": EPOCH_KIND,
            "format": FORMAT,
            "epoch": epoch,
            "from_epoch": from_epoch,
            "seq": seq,
            "hash": hash,
            "backup_created_at": backup_created_at,
            "time": timezone.now().astimezone(UTC).isoformat(),
        }
    )
    _write_new(store_dir() / f"epoch-{epoch:04d}.json", document)
    return document


def held_limits(store: Store) -> dict[int, int | None]:
    """epoch → the highest seq of that epoch's history the current log still holds (None: all).
    The current epoch holds everything; each restore went back to a seq of its source epoch."""
    epoch = current_epoch(store)
    held: dict[int, int | None] = {epoch: None}
    limit: int | None = None
    while epoch in store.epochs:
        record = store.epochs[epoch]
        limit = record["seq"] if limit is None else min(limit, record["seq"])
        source = int(record.get("from_epoch", epoch - 1))
        if source in held:
            break
        held[source] = limit
        epoch = source
    return held


@dataclass(frozen=True)
class Anchor:
    seq: int
    hash: str
    what: str  # for the message: which file said so
    keyed_from: int | None = None


def anchors(store: Store) -> tuple[list[Anchor], int]:
    """The (seq, hash) pairs the log must hold, and how many checkpoints are superseded."""
    limits = held_limits(store)
    result, superseded = [], 0
    for checkpoint in store.checkpoints:
        epoch = checkpoint["epoch"]
        if epoch not in limits:
            superseded += 1
            continue
        limit = limits[epoch]
        if limit is not None and checkpoint["seq"] > limit:
            superseded += 1
            continue
        result.append(
            Anchor(
                checkpoint["seq"],
                checkpoint["hash"],
                f"检查点 {checkpoint['name']}（{checkpoint['time'][:19]}）",
                checkpoint.get("keyed_from"),
            )
        )
    for number, record in store.epochs.items():
        if number in limits and record["seq"]:
            result.append(Anchor(record["seq"], record["hash"], f"恢复纪元 {number}"))
    return result, superseded


def checkpoint_find(name: str) -> dict[str, Any] | None:
    """One stored checkpoint by file name (for the download views), signature checked."""
    if not _CHECKPOINT_NAME.match(name):
        return None
    document = _read(store_dir() / name)
    if document is None or document.get("kind") != KIND or not signature_valid(document):
        return None
    return document


def checkpoints_recent(limit: int = 50) -> list[dict[str, Any]]:
    """The newest checkpoints, newest first, without reading the whole store's files."""
    directory = store_dir()
    if not directory.is_dir():
        return []
    names = sorted(
        (p.name for p in directory.iterdir() if _CHECKPOINT_NAME.match(p.name)),
        key=lambda n: cast(re.Match[str], _CHECKPOINT_NAME.match(n))[3],  # filtered above
        reverse=True,
    )[:limit]
    return [{**document, "name": name} for name in names if (document := checkpoint_find(name))]
