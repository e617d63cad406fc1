"""Re-encryption after a ``FIELD_ENCRYPTION_KEY`` rotation (docs/deploy.md §10, decision 113).

Every encrypted field is listed in ``ENCRYPTED_FIELDS`` with the keyed digest computed from
the same plaintext (HMAC under the first key, so it changes with the key). ``field_key_rotate``
walks each model by primary key in batches; a batch is one transaction with one
``field_key.rotated`` audit event, so an interruption keeps the finished batches and loses
nothing of the one it was in. Rows already under the first key with the right digest are
skipped: running it again resumes where it stopped, and a finished rotation changes nothing.
"""

from __future__ import annotations

import getpass
import hashlib
from dataclasses import dataclass

from cryptography.fernet import Fernet, InvalidToken
from django.core.management.base import CommandError
from django.db import transaction

from audit.services import audit_record

from . import crypto
from .models import Inspector

# (model, ciphertext field, digest field or None)
ENCRYPTED_FIELDS = [(Inspector, "id_number_encrypted", "id_number_digest")]


@dataclass
class RotationResult:
    rotated: int = 0
    skipped: int = 0
    batches: int = 0


def field_key_rotate(*, batch_size: int = 500, actor_name: str = "") -> RotationResult:
    keys = crypto.configured_keys()
    primary, every_key = Fernet(keys[0]), crypto.fernet()
    key_id = hashlib.sha256(keys[0]).hexdigest()[:16]
    actor_name = actor_name or f"manage.py ({getpass.getuser()})"
    result = RotationResult()
    for model, field, digest_field in ENCRYPTED_FIELDS:
        last_pk = 0
        while True:
            with transaction.atomic():
                rows = list(
                    model.objects.select_for_update()
                    .filter(pk__gt=last_pk)
                    .exclude(**{field: ""})
                    .order_by("pk")
                    .only("pk", field, *([digest_field] if digest_field else []))[:batch_size]
                )
                if not rows:
                    break
                changed = [
                    row for row in rows if _rotate(row, field, digest_field, primary, every_key)
                ]
                result.skipped += len(rows) - len(changed)
                if changed:
                    fields = [field, *([digest_field] if digest_field else [])]
                    model.objects.bulk_update(changed, fields)
                    audit_record(
                        event_type="field_key.rotated",
                        actor_name=actor_name,
                        object_type=model._meta.label_lower,
                        detail={
                            "field": field,
                            "rows": len(changed),
                            "from_pk": rows[0].pk,
                            "to_pk": rows[-1].pk,
                            "key_id": key_id,
                        },
                    )
                    result.rotated += len(changed)
                    result.batches += 1
                last_pk = rows[-1].pk
    return result


def _rotate(row, field: str, digest_field: str | None, primary: Fernet, every_key) -> bool:
    """Bring one row under the first key; False when it already is."""
    token = getattr(row, field).encode()
    try:
        plain, new_token = primary.decrypt(token), None
    except InvalidToken:
        try:
            plain = every_key.decrypt(token)
        except InvalidToken:
            raise CommandError(
                f"{row._meta.verbose_name} #{row.pk} 的 {field} 无法用任何已配置的密钥解密："
                "把加密它的旧密钥加入 FIELD_ENCRYPTION_KEY_FALLBACKS 后重试（本批未写入）。"
            ) from None
        new_token = primary.encrypt(plain)
    digest = crypto.digest(plain.decode()) if digest_field else None
    if new_token is None and (digest_field is None or getattr(row, digest_field) == digest):
        return False
    if new_token is not None:
        setattr(row, field, new_token.decode())
    if digest_field:
        setattr(row, digest_field, digest)
    return True
