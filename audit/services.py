"""Writing to and verifying the audit chain.

``audit_record`` is the only way to write an event. Call it inside the same
``transaction.atomic()`` as the change it records, so both are written or neither.
"""

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, models, transaction
from django.utils import timezone

from . import checkpoints
from .context import current_ip
from .models import GENESIS_HASH, AuditEvent

# Any constant works; it names the one advisory lock that serialises the chain on PostgreSQL.
_CHAIN_LOCK_KEY = 7_301_994_202


def _lock_chain() -> None:
    """Serialise inserts so the chain never forks.

    PostgreSQL: a transaction-scoped advisory lock. SQLite: transactions are BEGIN IMMEDIATE
    (settings), so the write lock is already held by the enclosing transaction.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_CHAIN_LOCK_KEY])


def _normalise(detail: dict[str, Any] | None) -> dict[str, Any]:
    # Round-trip through JSON so what is hashed equals what the database gives back later.
    normal: dict[str, Any] = json.loads(
        json.dumps(detail or {}, cls=DjangoJSONEncoder, ensure_ascii=False)
    )
    return normal


def _actor_fields(actor: Any) -> dict[str, Any]:
    if actor is None or not getattr(actor, "is_authenticated", False):
        return {"actor": None, "actor_name": "", "actor_roles": ""}
    return {
        "actor": actor,
        "actor_name": actor.display_name[:200],
        "actor_roles": ",".join(sorted(actor.groups.values_list("name", flat=True)))[:200],
    }


def audit_record(
    *,
    event_type: str,
    actor: Any = None,  # a user, or None / anonymous for the system
    obj: models.Model | None = None,
    object_type: str = "",
    object_id: str | int = "",
    outcome: str = AuditEvent.Outcome.SUCCESS,
    reason: str = "",
    detail: dict[str, Any] | None = None,
    source_ip: str | None = None,
    actor_name: str = "",
) -> AuditEvent:
    """Append one event to the chain. ``obj`` fills object type and id from a model instance."""
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or obj.pk
    with transaction.atomic():
        _lock_chain()
        last = AuditEvent.objects.order_by("-seq").values_list("seq", "hash").first()
        seq, prev_hash = (last[0] + 1, last[1]) if last else (1, GENESIS_HASH)
        fields = _actor_fields(actor)
        if actor_name and not fields["actor_name"]:
            fields["actor_name"] = actor_name[:200]  # e.g. the username of a failed login
        event = AuditEvent(
            seq=seq,
            occurred_at=timezone.now(),
            source_ip=(current_ip.get() if source_ip is None else source_ip)[:64],
            event_type=event_type,
            object_type=object_type,
            object_id=str(object_id) if object_id != "" else "",
            outcome=outcome,
            reason=reason,
            detail=_normalise(detail),
            prev_hash=prev_hash,
            **fields,
        )
        event.hash = event.compute_hash()
        event.mac = checkpoints.event_mac(event.hash)
        event.save(force_insert=True)
    return event


def model_snapshot(instance: models.Model, fields: Iterable[str] | None = None) -> dict[str, Any]:
    """The instance's concrete field values as JSON-ready data (for before/after details)."""
    names = fields or [f.attname for f in instance._meta.concrete_fields]
    return _normalise({name: getattr(instance, name) for name in names})


def changes_between(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """Only the fields that changed: {field: [before, after]}."""
    return {k: [before.get(k), after.get(k)] for k in after if before.get(k) != after.get(k)}


@dataclass(frozen=True)
class ChainVerification:
    ok: bool
    checked: int
    last_hash: str
    broken_seq: int | None = None
    problem: str = ""
    checkpoints: int = 0  # checkpoints and restore epochs the chain was compared with
    superseded: int = 0  # checkpoints of a history an honest restore went back from
    keyed_from: int | None = None  # the first seq that carries a mac


def _broken(
    checked: int, prev_hash: str, seq: int | None, problem: str, **kw: Any
) -> ChainVerification:
    return ChainVerification(False, checked, prev_hash, seq, problem, **kw)


def audit_chain_verify(*, chunk_size: int = 2000, anchored: bool = True) -> ChainVerification:
    """Recompute every hash and mac in sequence order, and compare the chain with every signed
    checkpoint outside the database (``anchored``); stop at the first broken link.

    Finds: an edited row (its hash), a deleted row (a gap), a rewritten row whose hashes were
    all recomputed (its mac, and the checkpoints after it), a truncated table or a deleted tail
    (a checkpoint beyond the log's end)."""
    store = checkpoints.store_load() if anchored else checkpoints.Store()
    if store.problems:
        return _broken(0, GENESIS_HASH, None, "；".join(store.problems[:3]))
    pins, superseded = checkpoints.anchors(store)
    expected: dict[int, list[Any]] = {}
    for pin in pins:
        if pin.seq > 0:  # a checkpoint of an empty log pins nothing
            expected.setdefault(pin.seq, []).append(pin)
    keyed = [p.keyed_from for p in pins if p.keyed_from]
    must_be_keyed_from = min(keyed) if keyed else None
    counts: dict[str, Any] = {"checkpoints": len(pins), "superseded": superseded}

    expected_seq, prev_hash, checked, keyed_from = 1, GENESIS_HASH, 0, None
    events = AuditEvent.objects.order_by("seq")
    if not _has_mac_column():
        events = events.defer("mac")  # a database restored from before audit.0003, not migrated
    for event in events.iterator(chunk_size=chunk_size):
        seq = event.seq
        if seq != expected_seq:
            return _broken(
                checked,
                prev_hash,
                expected_seq,
                f"序号不连续：应为 {expected_seq}，实际为 {seq}（有记录被删除）",
                **counts,
            )
        if event.prev_hash != prev_hash:
            return _broken(checked, prev_hash, seq, "前一哈希与上一条记录的哈希不一致", **counts)
        if event.compute_hash() != event.hash:
            return _broken(
                checked, prev_hash, seq, "记录内容与其哈希不一致（记录被改动）", **counts
            )
        mac = event.__dict__.get("mac")  # never a query for a deferred column
        if mac:
            if not checkpoints.event_mac_valid(event.hash, mac):
                return _broken(
                    checked,
                    prev_hash,
                    seq,
                    "密钥签名与哈希不符（记录被改写并重算了哈希）",
                    **counts,
                )
            keyed_from = keyed_from or seq
        elif keyed_from or (must_be_keyed_from and seq >= must_be_keyed_from):
            return _broken(
                checked, prev_hash, seq, "缺少密钥签名（记录被改写并重算了哈希）", **counts
            )
        for pin in expected.pop(seq, []):
            if pin.hash != event.hash:
                return _broken(
                    checked,
                    prev_hash,
                    seq,
                    f"与{pin.what}不符：该序号或之前的记录被改写（哈希被重算）",
                    **counts,
                )
        prev_hash, expected_seq, checked = event.hash, expected_seq + 1, checked + 1
    if expected:
        pin = expected[max(expected)][0]
        return _broken(
            checked,
            prev_hash,
            expected_seq,
            f"日志比{pin.what}短：检查点记到序号 {max(expected)}，现在只有 {checked} 条"
            "（表被清空或末尾记录被删除）",
            **counts,
        )
    return ChainVerification(True, checked, prev_hash, keyed_from=keyed_from, **counts)


def _has_mac_column() -> bool:
    with connection.cursor() as cursor:
        columns = connection.introspection.get_table_description(cursor, AuditEvent._meta.db_table)
    return any(column.name == "mac" for column in columns)


def audit_checkpoint_create() -> tuple[ChainVerification, Path | None]:
    """Verify the whole chain against every anchor and, only when it is intact, write a signed
    checkpoint of its head outside the database (never a checkpoint of a broken chain)."""
    result = audit_chain_verify()
    if not result.ok:
        return result, None
    document = checkpoints.checkpoint_document(
        seq=result.checked,
        hash=result.last_hash if result.checked else "",
        count=result.checked,
        keyed_from=result.keyed_from,
    )
    return result, checkpoints.checkpoint_write(document)
