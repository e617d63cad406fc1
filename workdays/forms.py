import datetime as dt
import re
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from core.bounds import NOTE_TEXT, REASON_TEXT

from .services import Arrangement, HolidayRange, arrangement_validate

_DATE = r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?"
_DATE_RE = re.compile(_DATE)
_RANGE_RE = re.compile(rf"^{_DATE}(?:\s*(?:至|到|~|～|—|－|--)\s*{_DATE})?\s+(\S.*)$")


def _date(y: str, m: str, d: str) -> dt.date:
    return dt.date(int(y), int(m), int(d))


def parse_holidays(text: str) -> list[HolidayRange]:
    """One range a line: ``2027-01-01 至 2027-01-03 元旦`` or ``2027-05-01 劳动节`` (one day).
    Dates may be written 2027-01-01, 2027/1/1 or 2027年1月1日."""
    result, errors = [], []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        match = _RANGE_RE.match(line)
        if not match:
            errors.append(f"第 {number} 行“{line}”格式不对，应为：开始日期 至 结束日期 节日名称。")
            continue
        g = match.groups()
        try:
            start = _date(*g[0:3])
            end = _date(*g[3:6]) if g[3] else start
        except ValueError:
            errors.append(f"第 {number} 行“{line}”中的日期不存在。")
            continue
        result.append(HolidayRange(start, end, g[6].strip()))
    if errors:
        raise ValidationError(errors)
    return result


def parse_dates(text: str) -> list[dt.date]:
    """Dates separated by line breaks, commas, 、 or spaces."""
    result, errors = [], []
    rest = _DATE_RE.sub("", text)
    if re.sub(r"[\s,，、;；]", "", rest):
        errors.append(f"无法识别的内容：“{rest.strip()[:40]}”。请每行填写一个日期，如 2027-02-07。")
    for match in _DATE_RE.finditer(text):
        try:
            result.append(_date(*match.groups()))
        except ValueError:
            errors.append(f"日期“{match.group(0)}”不存在。")
    if errors:
        raise ValidationError(errors)
    return sorted(result)


class CalendarDraftForm(forms.Form):
    year = forms.IntegerField(label=_("年份"), min_value=2004, max_value=2100)
    notice_title = forms.CharField(
        label=_("国务院通知标题"),
        max_length=200,
        help_text=_("如：国务院办公厅关于2027年部分节假日安排的通知"),
    )
    notice_number = forms.CharField(
        label=_("通知文号"), max_length=60, required=False, help_text=_("如：国办发明电〔2026〕X号")
    )
    holidays = forms.CharField(
        label=_("放假安排"),
        max_length=NOTE_TEXT,
        widget=forms.Textarea(attrs={"rows": 9}),
        help_text=_(
            "每行一个假期：开始日期 至 结束日期 节日名称，例如“2026-12-31 至 2027-01-02 元旦”。"
            "包含假期中的周末；元旦假期可从上一年 12 月开始。"
        ),
    )
    makeup_days = forms.CharField(
        label=_("调休上班日"),
        max_length=REASON_TEXT,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "通知中“上班”的周六、周日，每行一个或用顿号分隔，例如 2027-02-06、2027-02-20。"
        ),
    )
    reason = forms.CharField(
        label=_("更正原因"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("更正已发布年份时必填。"),
    )

    def __init__(self, *args, fixed_year: int | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if fixed_year is not None:
            self.fields["year"].disabled = True
            self.fields["year"].initial = fixed_year

    def clean_holidays(self):
        return parse_holidays(self.cleaned_data["holidays"])

    def clean_makeup_days(self):
        return parse_dates(self.cleaned_data.get("makeup_days") or "")

    def clean(self):
        data = super().clean()
        if {"year", "holidays", "makeup_days"} <= data.keys():
            arrangement = Arrangement(tuple(data["holidays"]), tuple(data["makeup_days"]))
            try:
                arrangement_validate(data["year"], arrangement)
            except ValidationError as exc:
                self.add_error(None, exc)
            data["arrangement"] = arrangement
        return data

    @staticmethod
    def initial_from(arrangement: Arrangement) -> dict[str, Any]:
        holidays = "\n".join(
            f"{h.start:%Y-%m-%d} 至 {h.end:%Y-%m-%d} {h.name}" for h in arrangement.holidays
        )
        return {
            "holidays": holidays,
            "makeup_days": "\n".join(d.isoformat() for d in arrangement.makeup_days),
        }


class DiscardForm(forms.Form):
    reason = forms.CharField(label=_("作废原因"), max_length=500)
