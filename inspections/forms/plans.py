"""Forms for plans, tasks, the inspection scheme and sampling rates."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Section
from core.bounds import DATE_VALIDATORS, REASON_TEXT, RULE_TEXT, DateBoundsMixin
from enterprises.models import CheckMethod, Enterprise, RiskTier, Township, Trade

from ..models import Plan, Task
from ..selectors.plans import check_item_choices, licence_type_choices, task_has_draws
from ..services.plans import DRAW_FIELDS, DRAW_M2M

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class PercentField(forms.DecimalField):
    """A rate entered as a percentage (3 → Decimal('0.03')), exact to 0.01%."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_digits", 5)
        kwargs.setdefault("decimal_places", 2)
        kwargs.setdefault("min_value", Decimal("0.01"))
        kwargs.setdefault("max_value", Decimal("100"))
        super().__init__(**kwargs)

    def clean(self, value):
        value = super().clean(value)
        return None if value is None else (value / Decimal(100)).quantize(Decimal("0.0001"))


class AmendmentReasonMixin(forms.Form):
    """Adds the amendment reason when the plan is already filed."""

    def add_reason_field(self, required: bool) -> None:
        if required:
            self.fields["amendment_reason"] = forms.CharField(
                label=_("变更理由"),
                max_length=REASON_TEXT,
                widget=forms.Textarea(attrs={"rows": 2}),
                help_text=_("计划已备案，本次修改将作为计划变更记录在案。"),
            )


class PlanForm(AmendmentReasonMixin, forms.ModelForm):
    class Meta:
        model = Plan
        fields = ["year", "number", "name", "scope", "remarks"]
        widgets = {
            "scope": forms.Textarea(attrs={"rows": 5}),
            "remarks": forms.Textarea(attrs={"rows": 3}),
        }
        help_texts = {"number": _("如：舞工信商〔2026〕12号")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.instance.pk:
            self.initial.setdefault("year", timezone.localdate().year)
        self.add_reason_field(bool(self.instance.pk and self.instance.is_frozen))


class PlanFileForm(forms.Form):
    filed_on = forms.DateField(validators=DATE_VALIDATORS, label=_("备案日期"), widget=DATE)
    filing_number = forms.CharField(label=_("备案文号/回执号"), max_length=64)
    filing_authority = forms.CharField(
        label=_("备案机关"), max_length=100, required=False, initial="舞钢市人民政府"
    )
    document = forms.FileField(label=_("备案文件（PDF）"), required=False)

    def clean_filed_on(self):
        value = self.cleaned_data["filed_on"]
        if value > timezone.localdate():
            raise forms.ValidationError(_("备案日期不能晚于今天。"))
        return value


def _multi(choices, label):
    return forms.MultipleChoiceField(
        label=label, choices=choices, required=False, widget=forms.CheckboxSelectMultiple
    )


class TaskForm(DateBoundsMixin, AmendmentReasonMixin, forms.ModelForm):
    fields: dict[str, Any]  # for mypy: __init__ sets querysets and choices of several kinds
    methods = _multi(CheckMethod.choices, _("检查方式"))
    enterprise_types = _multi(Enterprise.EnterpriseType.choices, _("主体类型"))
    scales = _multi(Enterprise.Scale.choices, _("规模"))
    licence_types = _multi([], _("许可证/专项库"))

    class Meta:
        model = Task
        fields = [
            "plan",
            "adhoc_reason",
            "name",
            "check_items",
            "kind",
            "enterprise_types",
            "scales",
            "trades",
            "townships",
            "licence_types",
            "lead_section",
            "cooperating_sections",
            "window_start",
            "window_end",
            "methods",
            "inspectors_per_enterprise",
            "rounding",
            "unrated_tier",
            "same_item_once_per_year",
            "annual_cap",
            "publish_selected_list",
        ]
        widgets = {
            "check_items": forms.CheckboxSelectMultiple,
            "trades": forms.CheckboxSelectMultiple,
            "townships": forms.CheckboxSelectMultiple,
            "cooperating_sections": forms.CheckboxSelectMultiple,
            "kind": forms.RadioSelect,
            "rounding": forms.RadioSelect,
            "window_start": DATE,
            "window_end": DATE,
            "adhoc_reason": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args, plan: Plan | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["check_items"].queryset = check_item_choices()
        self.fields["trades"].queryset = Trade.objects.filter(is_active=True)
        self.fields["townships"].queryset = Township.objects.all()
        sections = Section.objects.filter(is_active=True)
        self.fields["lead_section"].queryset = sections
        self.fields["cooperating_sections"].queryset = sections
        self.fields["licence_types"].choices = [(t, t) for t in licence_type_choices()]
        self.fields["plan"].queryset = Plan.objects.exclude(status=Plan.Status.COMPLETED)
        self.fields["plan"].required = False
        self.fields["unrated_tier"].choices = [("", _("不允许（存在未评级企业时不得抽取）"))] + [
            (t.value, t.label) for t in RiskTier
        ]
        if self.instance.pk:
            del self.fields["plan"]  # a task never moves between plans
            if not self.instance.is_adhoc:
                del self.fields["adhoc_reason"]
        elif plan is not None:
            self.initial["plan"] = plan.pk
            self.initial.setdefault("lead_section", plan.lead_section_id)
        if self.instance.pk and task_has_draws(self.instance):
            for name in (*DRAW_FIELDS, *DRAW_M2M):
                if name in self.fields:
                    self.fields[name].disabled = True
                    self.fields[name].help_text = _("任务已抽取，不能修改")
        task_plan = self.instance.plan if self.instance.pk else plan
        self.add_reason_field(bool(task_plan and task_plan.is_frozen))

    def clean(self):
        data = super().clean()
        if (
            "plan" in self.fields
            and not data.get("plan")
            and not (data.get("adhoc_reason") or "").strip()
        ):
            self.add_error("adhoc_reason", _("计划外任务必须说明理由。"))
        start, end = data.get("window_start"), data.get("window_end")
        if start and end and end < start:
            self.add_error("window_end", _("结束日期不能早于开始日期。"))
        plan = data.get("plan") if "plan" in self.fields else self.instance.plan
        if plan and start and start.year != plan.year:
            self.add_error("window_start", _("任务实施时间应在计划年度内。"))
        if not data.get("methods"):
            self.add_error("methods", _("至少选择一种检查方式。"))
        if data.get("kind") == "directed" and not any(
            data.get(name)
            for name in ("enterprise_types", "scales", "trades", "townships", "licence_types")
        ):
            self.add_error("kind", _("定向抽查须至少设置一个筛选条件；不设条件请选择不定向抽查。"))
        return data

    def service_kwargs(self) -> tuple[dict, dict]:
        """(fields, m2m) for the task services."""
        data = self.cleaned_data
        m2m = {
            name: list(data[name])
            for name in ("check_items", "trades", "townships", "cooperating_sections")
        }
        skip = {"plan", "amendment_reason", *m2m}
        fields = {name: data[name] for name in self.fields if name not in skip}
        if fields.get("kind") != "directed":
            for name in ("enterprise_types", "scales", "licence_types"):
                fields[name] = []
            m2m["trades"], m2m["townships"] = [], []
        return fields, m2m


class SchemeForm(forms.ModelForm):
    methods = _multi(CheckMethod.choices, _("检查方式"))

    class Meta:
        model = Task
        fields = ["methods", "content", "schedule"]
        widgets = {
            "content": forms.Textarea(attrs={"rows": 6}),
            "schedule": forms.Textarea(attrs={"rows": 6}),
        }

    def clean_methods(self):
        methods = self.cleaned_data["methods"]
        if not methods:
            raise forms.ValidationError(_("至少选择一种检查方式。"))
        return methods


class SamplingRateForm(forms.Form):
    tier = forms.ChoiceField(label=_("风险等级"), choices=RiskTier.choices)
    rate = PercentField(label=_("抽查比例（%）"))
    effective_from = forms.DateField(validators=DATE_VALIDATORS, label=_("生效日期"), widget=DATE)
    basis = forms.CharField(label=_("依据/说明"), max_length=255)


class RateOverrideForm(forms.Form):
    tier = forms.ChoiceField(label=_("风险等级"), choices=RiskTier.choices)
    rate = PercentField(label=_("特别抽查比例（%）"))
    legal_basis = forms.CharField(
        label=_("法律法规规章依据"),
        max_length=RULE_TEXT,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("写明法律、法规或规章的名称和条款（实施细则第八条）"),
    )
