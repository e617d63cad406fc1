"""The one way a view reads a query parameter (issue 21 item 7).

Every function takes the request's ``GET`` (any mapping of strings) and the parameter's name,
and returns the parsed value or ``default``. **An invalid value is treated as absent**: the
page shows what it shows without that filter, never a 500 and never a 400 (the filter form
still shows what was typed where the page echoes it). What counts as invalid:

- ``param_int``: anything but ASCII digits (``²`` passes ``str.isdigit()`` and fails ``int()``),
  or a value outside ``minimum``..``maximum`` (by default a positive PostgreSQL ``bigint``);
- ``param_date``: anything but ``YYYY-MM-DD``, or a day outside 2000-01-01..2100-12-31 (so that
  a period's arithmetic cannot overflow);
- ``param_text``: a value with a NUL or another control character (PostgreSQL refuses NUL in
  text); the value is stripped and cut to ``max_length`` characters;
- ``param_choice``: a value not among ``choices``;
- ``param_uuid``: anything that is not a UUID (also for a form's hidden id, ``request.POST``).
"""

from __future__ import annotations

import datetime
import re
import uuid
from collections.abc import Iterable, Mapping

from .bounds import MAX_DATE, MIN_DATE, date_in_range

__all__ = [
    "MAX_DATE",
    "MIN_DATE",
    "param_choice",
    "param_date",
    "param_int",
    "param_text",
    "param_uuid",
]

MAX_INT = 2**63 - 1
TEXT_MAX_LENGTH = 100

_ASCII_DIGITS = re.compile(r"[0-9]{1,19}")
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _raw(params: Mapping, name: str) -> str:
    value = params.get(name, "")
    return value if isinstance(value, str) else ""


def param_int(params: Mapping, name: str, *, default=None, minimum: int = 0, maximum=MAX_INT):
    raw = _raw(params, name).strip()
    if not _ASCII_DIGITS.fullmatch(raw):
        return default
    value = int(raw)
    return value if minimum <= value <= maximum else default


def param_date(params: Mapping, name: str, *, default=None):
    raw = _raw(params, name).strip()
    if not _ISO_DATE.fullmatch(raw):
        return default
    try:
        value = datetime.date.fromisoformat(raw)
    except ValueError:
        return default
    return value if date_in_range(value) else default


def param_text(params: Mapping, name: str, *, default: str = "", max_length=TEXT_MAX_LENGTH):
    raw = _raw(params, name)
    if _CONTROL.search(raw):
        return default
    return raw.strip()[:max_length]


def param_choice(params: Mapping, name: str, choices: Iterable[str], *, default: str = ""):
    raw = _raw(params, name)
    return raw if raw in set(choices) else default


def param_uuid(params: Mapping, name: str, *, default=None):
    try:
        return uuid.UUID(_raw(params, name).strip())
    except ValueError:
        return default
