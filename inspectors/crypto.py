"""Encryption at rest for the inspectors' ID numbers (身份证号).

Fernet (AES-128-CBC + HMAC-SHA256, from ``cryptography``). The key comes from the environment
variable ``FIELD_ENCRYPTION_KEY`` (settings ``FIELD_ENCRYPTION_KEY``): one or more urlsafe-base64
Fernet keys separated by commas; the first encrypts, all decrypt, and so do the earlier keys in
``FIELD_ENCRYPTION_KEY_FALLBACKS`` (key rotation: ``manage.py rotate_field_key`` re-encrypts). A fixed
development key is used only when DEBUG is on or under the test settings; anywhere else a
missing key is a configuration error (and a deploy system check, ``inspectors.E001``).
"""

import base64
import hashlib
import hmac
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

_DEV_KEY = base64.urlsafe_b64encode(hashlib.sha256(b"wugang-dev-only-field-key").digest())
TEST_SETTINGS_MODULE = "config.settings.test"


def dev_key_allowed() -> bool:
    return bool(settings.DEBUG) or settings.SETTINGS_MODULE == TEST_SETTINGS_MODULE


def configured_keys() -> list[bytes]:
    raw = getattr(settings, "FIELD_ENCRYPTION_KEY", "") or ""
    keys = [k.strip().encode() for k in raw.split(",") if k.strip()]
    if not keys:
        if not dev_key_allowed():
            raise ImproperlyConfigured(
                "FIELD_ENCRYPTION_KEY 未设置：生产环境必须通过环境变量提供字段加密密钥"
                "（Fernet.generate_key() 生成）。"
            )
        keys = [_DEV_KEY]
    # Earlier keys still decrypt (never encrypt) until rotate_field_key has re-encrypted.
    for fallback in getattr(settings, "FIELD_ENCRYPTION_KEY_FALLBACKS", []) or []:
        if fallback.strip() and fallback.strip().encode() not in keys:
            keys.append(fallback.strip().encode())
    return keys


@lru_cache(maxsize=4)
def _fernet(keys: tuple[bytes, ...]) -> MultiFernet:
    return MultiFernet([Fernet(k) for k in keys])


def fernet() -> MultiFernet:
    return _fernet(tuple(configured_keys()))


def encrypt(value: str) -> str:
    if not value:
        return ""
    return fernet().encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    if not token:
        return ""
    try:
        return fernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:  # wrong key: say so instead of showing garbage
        raise ImproperlyConfigured(
            "无法解密身份证号：FIELD_ENCRYPTION_KEY 与加密时的密钥不符。"
        ) from exc


def digest(value: str) -> str:
    """A keyed hash (HMAC-SHA256 with the first key) for finding duplicates without decrypting."""
    if not value:
        return ""
    return hmac.new(configured_keys()[0], value.upper().encode(), hashlib.sha256).hexdigest()


def mask_id_number(value: str) -> str:
    """410481199001011234 → 410481********1234 (region code and last four kept)."""
    if not value:
        return ""
    if len(value) <= 10:
        return "*" * len(value)
    return value[:6] + "*" * (len(value) - 10) + value[-4:]


_ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
_ID_CHECK = "10X98765432"


def id_number_is_valid(value: str) -> bool:
    """GB 11643-1999: 17 digits and a check character (0-9 or X)."""
    value = (value or "").upper()
    if len(value) != 18 or not value[:17].isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(value[:17], _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11] == value[17]
