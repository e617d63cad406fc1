"""The filter every oversight and report page shares: period, section and task.

One form, so that every page reads the same query string (``from``, ``to``, ``section``,
``task``) and a link copied from one page filters the next the same way."""

import datetime
from dataclasses import dataclass

from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Section
from core.params import MAX_DATE, MIN_DATE
from inspections.models import Task


@dataclass(frozen=True)
class Scope:
    start: datetime.date
    end: datetime.date
    section: Section | None
    task: Task | None

    def as_detail(self) -> dict:
        """For the audit event of a view or an export: what exactly was looked at."""
        return {
            "from": self.start.isoformat(),
            "to": self.end.isoformat(),
            "section": self.section.code if self.section else "",
            "task": self.task.number if self.task else "",
        }


class ScopeForm(forms.Form):
    # The range keeps a period's arithmetic from overflowing (``to=0001-01-01``).
    start = forms.DateField(
        label=_("起始日期"),
        required=False,
        validators=[MinValueValidator(MIN_DATE), MaxValueValidator(MAX_DATE)],
    )
    end = forms.DateField(
        label=_("截止日期"),
        required=False,
        validators=[MinValueValidator(MIN_DATE), MaxValueValidator(MAX_DATE)],
    )
    section = forms.ModelChoiceField(
        label=_("股室"), queryset=Section.objects.filter(is_active=True), required=False
    )
    task = forms.ModelChoiceField(
        label=_("抽查任务"), queryset=Task.objects.order_by("-number"), required=False
    )

    def __init__(self, data=None, **kwargs):
        if data is not None:
            # The query string uses the short names ``from`` / ``to``.
            data = data.copy()
            for short, long in (("from", "start"), ("to", "end")):
                if short in data and long not in data:
                    data[long] = data[short]
        super().__init__(data, **kwargs)

    def scope(self, *, default_days: int = 365) -> Scope:
        """The cleaned scope; an invalid value is treated as absent (core.params' rule) and a
        missing period falls back to the last ``default_days``."""
        today = timezone.localdate()
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        end = data.get("end") or today
        start = data.get("start") or end - datetime.timedelta(days=default_days - 1)
        if start > end:
            start, end = end, start
        return Scope(start=start, end=end, section=data.get("section"), task=data.get("task"))


def scope_from_request(request, *, default_days: int = 365) -> tuple[ScopeForm, Scope]:
    form = ScopeForm(request.GET)
    return form, form.scope(default_days=default_days)
