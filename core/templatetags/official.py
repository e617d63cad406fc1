"""Official-document formatting for templates: ``{% load official %}``.

- ``{{ day|cn_date }}`` → 二〇二六年十一月二十六日 (the date line of an official document)
- ``{{ rate|percent }}`` → 3% / 12.5% (a Decimal rate shown as a percentage, exact)
"""

from datetime import date
from decimal import Decimal

from django import template

from core.pdf import cn_date as _cn_date

register = template.Library()


@register.filter
def cn_date(value: date | None) -> str:
    return _cn_date(value) if value else ""


@register.filter
def percent(value: Decimal | str | None) -> str:
    """A Decimal rate (0.03) as an exact percentage string (3%), without float rounding."""
    if value in (None, ""):
        return ""
    number = (Decimal(str(value)) * 100).normalize()
    text = format(number, "f")
    return f"{text}%"
