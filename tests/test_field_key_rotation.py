"""rotate_field_key: after a FIELD_ENCRYPTION_KEY rotation every ID number is re-encrypted under
the new key and its keyed digest recomputed, in batches, resumably, audited (issue 20 item 7)."""

import hashlib
import hmac
import io

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.core.management.base import CommandError

from audit.models import AuditEvent
from inspectors.models import Inspector

IDS = [
    "410481199001011237",
    "41048119900715123X",
    "410481198503121236",
    "410481197812310019",
    "410481200002290010",
]
OLD, NEW, LOST = (Fernet.generate_key().decode() for _ in range(3))


@pytest.fixture
def inspectors(db, settings, section):
    settings.FIELD_ENCRYPTION_KEY = OLD
    settings.FIELD_ENCRYPTION_KEY_FALLBACKS = []
    made = []
    for n, number in enumerate(IDS, start=1):
        inspector = Inspector(staff_number=f"WG{n:03d}", name=f"检查员{n}", section=section)
        inspector.id_number = number
        inspector.save()
        made.append(inspector)
    return made


def _digest(key: str, value: str) -> str:
    return hmac.new(key.encode(), value.upper().encode(), hashlib.sha256).hexdigest()


def _rotate(*args) -> str:
    out = io.StringIO()
    call_command("rotate_field_key", *args, stdout=out)
    return out.getvalue()


def test_every_id_number_moves_to_the_new_key_with_a_new_digest(inspectors, settings):
    settings.FIELD_ENCRYPTION_KEY = NEW
    settings.FIELD_ENCRYPTION_KEY_FALLBACKS = [OLD]
    # Before: readable through the fallback, but still under the old key and the old digest.
    assert Inspector.objects.get(pk=inspectors[0].pk).id_number == IDS[0]
    out = _rotate("--batch-size", "2")
    assert out.startswith("已重新加密 5 行，跳过 0 行")
    for inspector, number in zip(Inspector.objects.order_by("pk"), IDS, strict=True):
        assert Fernet(NEW).decrypt(inspector.id_number_encrypted.encode()).decode() == number
        assert inspector.id_number_digest == _digest(NEW, number)
    events = AuditEvent.objects.filter(event_type="field_key.rotated").order_by("seq")
    assert [e.detail["rows"] for e in events] == [2, 2, 1]  # one event per batch
    assert all(IDS[0] not in str(e.detail) for e in events)  # never the plaintext
    # The old key can go: everything still decrypts.
    settings.FIELD_ENCRYPTION_KEY_FALLBACKS = []
    assert [i.id_number for i in Inspector.objects.order_by("pk")] == IDS
    # Run again: nothing to do, nothing audited.
    assert _rotate().startswith("已重新加密 0 行，跳过 5 行")
    assert AuditEvent.objects.filter(event_type="field_key.rotated").count() == 3


def test_an_interrupted_rotation_keeps_finished_batches_and_resumes(inspectors, settings):
    # The fourth row was encrypted under a key that is no longer configured.
    stray = inspectors[3]
    Inspector.objects.filter(pk=stray.pk).update(
        id_number_encrypted=Fernet(LOST).encrypt(IDS[3].encode()).decode()
    )
    settings.FIELD_ENCRYPTION_KEY = NEW
    settings.FIELD_ENCRYPTION_KEY_FALLBACKS = [OLD]
    with pytest.raises(CommandError, match=f"#{stray.pk}"):
        _rotate("--batch-size", "2")
    rows = list(Inspector.objects.order_by("pk"))
    # Batch one (rows 1–2) is done; batch two (rows 3–4) wrote nothing, row 3 included.
    assert Fernet(NEW).decrypt(rows[0].id_number_encrypted.encode())
    assert rows[2].id_number_digest == _digest(OLD, IDS[2])
    assert AuditEvent.objects.filter(event_type="field_key.rotated").count() == 1
    # With the missing key supplied the run resumes and finishes.
    settings.FIELD_ENCRYPTION_KEY_FALLBACKS = [OLD, LOST]
    assert _rotate("--batch-size", "2").startswith("已重新加密 3 行，跳过 2 行")
    settings.FIELD_ENCRYPTION_KEY_FALLBACKS = []
    assert [i.id_number for i in Inspector.objects.order_by("pk")] == IDS


def test_a_fallback_decrypts_but_never_encrypts(settings):
    from inspectors import crypto

    settings.FIELD_ENCRYPTION_KEY = NEW
    settings.FIELD_ENCRYPTION_KEY_FALLBACKS = [OLD]
    assert crypto.configured_keys() == [NEW.encode(), OLD.encode()]
    assert Fernet(NEW).decrypt(crypto.encrypt("410481199001011237").encode())
    assert crypto.decrypt(Fernet(OLD).encrypt(b"x").decode()) == "x"


def test_secret_key_fallbacks_come_from_the_environment(monkeypatch):
    import importlib

    import config.settings.base as base

    monkeypatch.setenv("SECRET_KEY_FALLBACKS", "old-one,older-one")
    monkeypatch.setenv("FIELD_ENCRYPTION_KEY_FALLBACKS", OLD)
    try:
        reloaded = importlib.reload(base)
        assert reloaded.SECRET_KEY_FALLBACKS == ["old-one", "older-one"]
        assert reloaded.FIELD_ENCRYPTION_KEY_FALLBACKS == [OLD]
    finally:
        monkeypatch.delenv("SECRET_KEY_FALLBACKS")
        monkeypatch.delenv("FIELD_ENCRYPTION_KEY_FALLBACKS")
        importlib.reload(base)
