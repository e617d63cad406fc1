"""Writing to and verifying the audit chain.

``audit_record`` is the only way to write an event. Call it inside the same
``transaction.atomic()`` as the change it records, so both are written or neither.
"""

import json
from collections.abc import Iterable
from dataclasses import dataclass

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, models, transaction
from django.utils import timezone

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


def _normalise(detail: dict | None) -> dict:
    # Round-trip through JSON so what is hashed equals what the database gives back later.
    return json.loads(json.dumps(detail or {}, cls=DjangoJSONEncoder, ensure_ascii=False))


def _actor_fields(actor) -> dict:
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
    actor=None,
    obj: models.Model | None = None,
    object_type: str = "",
    object_id: str | int = "",
    outcome: str = AuditEvent.Outcome.SUCCESS,
    reason: str = "",
    detail: dict | None = None,
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
        event.save(force_insert=True)
    return event


def model_snapshot(instance: models.Model, fields: Iterable[str] | None = None) -> dict:
    """The instance's concrete field values as JSON-ready data (for before/after details)."""
    names = fields or [f.attname for f in instance._meta.concrete_fields]
    return _normalise({name: getattr(instance, name) for name in names})


def changes_between(before: dict, after: dict) -> dict:
    """Only the fields that changed: {field: [before, after]}."""
    return {k: [before.get(k), after.get(k)] for k in after if before.get(k) != after.get(k)}


@dataclass(frozen=True)
class ChainVerification:
    ok: bool
    checked: int
    last_hash: str
    broken_seq: int | None = None
    problem: str = ""


def audit_chain_verify(*, chunk_size: int = 2000) -> ChainVerification:
    """Recompute every hash in sequence order; stop at the first broken link."""
    expected_seq, prev_hash, checked = 1, GENESIS_HASH, 0
    for event in AuditEvent.objects.order_by("seq").iterator(chunk_size=chunk_size):
        if event.seq != expected_seq:
            return ChainVerification(
                False,
                checked,
                prev_hash,
                expected_seq,
                f"序号不连续：应为 {expected_seq}，实际为 {event.seq}（有记录被删除）",
            )
        if event.prev_hash != prev_hash:
            return ChainVerification(
                False, checked, prev_hash, event.seq, "前一哈希与上一条记录的哈希不一致"
            )
        if event.compute_hash() != event.hash:
            return ChainVerification(
                False, checked, prev_hash, event.seq, "记录内容与其哈希不一致（记录被改动）"
            )
        prev_hash, expected_seq, checked = event.hash, expected_seq + 1, checked + 1
    return ChainVerification(True, checked, prev_hash)
