"""The audit log at scale: verifying the hash chain (the audit admin's daily duty) and appending
one event (every write of the application does it inside its transaction).

- chain verify: ``audit.services.audit_chain_verify`` (one ordered, chunked server-side cursor)
  vs the naive verifier that fetches each event by its sequence number (one query per event) —
  the baseline is timed on the first 2,000 events and scaled linearly (noted in the row).
- append: ``audit_record`` (locks the chain, reads the last hash, inserts) on a table of N
  events; the target is absolute (< 20 ms per event), since every write pays it.

Events are generated with a valid chain (bulk insert, hashes computed) continuing whatever the
bench database already holds, so the table only grows between runs (it is append-only: the
trigger refuses DELETE and TRUNCATE).
"""

from __future__ import annotations

import random
from datetime import timedelta

from bench.common import row, stopwatch, timed

BASELINE_SAMPLE = 2_000
EVENT_TYPES = ["auth.login", "enterprise.update", "plan.file", "draw.run", "result.record"]


def _grow_to(n: int) -> int:
    from django.db import transaction
    from django.utils import timezone

    from audit.checkpoints import event_mac
    from audit.models import GENESIS_HASH, AuditEvent

    last = AuditEvent.objects.order_by("-seq").values_list("seq", "hash").first()
    seq, prev = last if last else (0, GENESIS_HASH)
    rng = random.Random(seq)
    start = timezone.now() - timedelta(days=365)
    while seq < n:
        batch = []
        for _ in range(min(5_000, n - seq)):
            seq += 1
            event = AuditEvent(
                seq=seq,
                occurred_at=start + timedelta(seconds=seq),
                actor_name="基准测试",
                actor_roles="业务股室",
                source_ip="127.0.0.1",
                event_type=rng.choice(EVENT_TYPES),
                object_type="enterprises.enterprise",
                object_id=str(rng.randint(1, 10**6)),
                detail={"before": {"phone": "0375-8111001"}, "after": {"phone": "0375-8111002"}},
                prev_hash=prev,
            )
            event.hash = prev = event.compute_hash()
            event.mac = event_mac(event.hash)  # as audit_record writes it (and verify checks)
            batch.append(event)
        with transaction.atomic():
            AuditEvent.objects.bulk_create(batch, batch_size=5_000)
    return AuditEvent.objects.count()


def _naive_verify(limit: int) -> None:
    from audit.models import GENESIS_HASH, AuditEvent

    prev = GENESIS_HASH
    for seq in range(1, limit + 1):
        event = AuditEvent.objects.get(seq=seq)
        assert event.prev_hash == prev and event.compute_hash() == event.hash
        prev = event.hash


def run(sizes: list[int]) -> list[dict]:
    from audit.models import AuditEvent
    from audit.services import audit_chain_verify, audit_record

    rows = []
    for size in sorted(sizes):
        if AuditEvent.objects.count() > 2 * size:
            continue  # the bench table only grows: a smaller size was measured on an earlier run
        total = _grow_to(size)
        with stopwatch() as ours:
            result = audit_chain_verify()
        assert result.ok and result.checked == total, result
        sample = min(BASELINE_SAMPLE, total)
        with stopwatch() as naive:
            _naive_verify(sample)
        baseline_seconds = naive.seconds * total / sample
        rows.append(
            row(
                name=f"audit chain verify, {total:,} events",
                baseline="one query per event",
                baseline_seconds=baseline_seconds,
                ours_seconds=ours.seconds,
                target=5,
                notes=f"{total / ours.seconds:,.0f} events/s; baseline timed on {sample:,} "
                "and scaled",
            )
        )
        append = timed(lambda: audit_record(event_type="bench.append", detail={"n": 1}), repeat=50)
        rows.append(
            row(
                name=f"audit_record append on {total:,} events",
                baseline="—",
                baseline_seconds=None,
                ours_seconds=append,
                target="< 20 ms",
                met=append < 0.020,
                notes="median of 50; lock + last hash + insert",
            )
        )
    return rows
