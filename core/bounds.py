"""Bounds on what a person may type (issue 21 item 9): one place for the rules.

- Free text: every ``CharField`` has its ``max_length``; a ``TextField`` gets one too (the
  form's ``maxlength`` and field check come from it; the database does not enforce it), from
  the sizes below. A service checks what it stores with ``bounds_check`` (the model's limits,
  so that a caller that bypasses the form is refused the same way).
- Dates a person types: 2000-01-01..2100-12-31 (``DATE_VALIDATORS`` on form fields,
  ``bounds_check`` in services).
- Names (enterprises, departments, signers): one line; ``single_line`` turns line breaks
  and other control characters into one space, at the form and at import.
"""

from __future__ import annotations

import datetime
import re

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.utils.translation import gettext as _

MIN_DATE = datetime.date(2000, 1, 1)
MAX_DATE = datetime.date(2100, 12, 31)
DATE_VALIDATORS = [MinValueValidator(MIN_DATE), MaxValueValidator(MAX_DATE)]

# Free-text sizes (characters), decided per kind of field (docs/decisions.md 230).
REASON_TEXT = 500  # a reason or an opinion: a few sentences
NOTE_TEXT = 2000  # a finding, a measure, a transfer, remarks
REPORT_TEXT = 5000  # a visit's overall summary, an objection, a re-check conclusion
RULE_TEXT = 10000  # legal bases, check contents and schedules copied from regulations

_BREAKS = re.compile(r"[\x00-\x1f\x7f\u0085\u2028\u2029]+")


class DateBoundsMixin:
    """For a ``ModelForm`` whose date fields come from the model: each gets the 2000..2100
    bounds (a form's own ``DateField`` takes ``validators=DATE_VALIDATORS``)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            if isinstance(field, forms.DateField):
                field.validators = [*field.validators, *DATE_VALIDATORS]


def date_in_range(value: datetime.date | None) -> bool:
    """Whether a day is one a filter or a record may name (2000-01-01..2100-12-31)."""
    return value is not None and MIN_DATE <= value <= MAX_DATE


def single_line(value: str | None) -> str:
    """A name on one line: line breaks, tabs and control characters become one space."""
    return " ".join(_BREAKS.sub(" ", value or "").split())


def bounds_check(instance, names) -> None:
    """Refuse (``ValidationError`` by field) a text longer than its field's ``max_length`` or a
    date outside 2000..2100, with a message naming the field."""
    errors = {}
    for name in names:
        field = instance._meta.get_field(name)
        value = getattr(instance, field.attname)
        label = str(field.verbose_name)
        if isinstance(value, str) and field.max_length and len(value) > field.max_length:
            errors[name] = _("“%(field)s”不能超过 %(limit)d 个字（现有 %(count)d 个）。") % {
                "field": label,
                "limit": field.max_length,
                "count": len(value),
            }
        elif isinstance(value, datetime.date) and not date_in_range(value):
            errors[name] = _(
                "“%(field)s”须在 %(start)s 至 %(end)s 之间（填写的是 %(value)s）。"
            ) % {
                "field": label,
                "start": MIN_DATE.isoformat(),
                "end": MAX_DATE.isoformat(),
                "value": value.isoformat(),
            }
    if errors:
        raise ValidationError(errors)
