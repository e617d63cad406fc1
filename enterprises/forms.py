from django import forms
from django.core.exceptions import ValidationError
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy

from accounts.models import Section
from core.bounds import DateBoundsMixin, single_line

from .importers import _split
from .models import (
    ONE_LINE_FIELDS,
    CheckItem,
    CheckMethod,
    Enterprise,
    Licence,
    RiskAssessment,
    RiskTier,
    Township,
    Trade,
    group_name_normalise,
)
from .selectors import enterprise_groups
from .uscc import normalise, uscc_check


class DatalistInput(forms.TextInput):
    """A text input suggesting ``options`` (an HTML datalist: no script, CSP-safe)."""

    def __init__(self, *, list_id: str, options=(), attrs=None):
        super().__init__(attrs={**(attrs or {}), "list": list_id})
        self.list_id, self.options = list_id, options

    def render(self, name, value, attrs=None, renderer=None):
        html = super().render(name, value, attrs, renderer)
        options = format_html_join("", '<option value="{}"></option>', ((o,) for o in self.options))
        return html + format_html('<datalist id="{}">{}</datalist>', self.list_id, options)


class EnterpriseForm(forms.ModelForm):
    trades = forms.ModelMultipleChoiceField(
        label="监管行业",
        queryset=Trade.objects.filter(is_active=True),
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = Enterprise
        fields = [
            "uscc",
            "uscc_override_reason",
            "name",
            "legal_representative",
            "group_name",
            "group_uscc",
            "contact_person",
            "contact_phone",
            "registered_address",
            "business_address",
            "township",
            "trades",
            "enterprise_type",
            "scale",
            "status",
            "section",
            "remarks",
        ]
        widgets = {"remarks": forms.Textarea(attrs={"rows": 3})}

    def clean_uscc(self):
        check = uscc_check(self.cleaned_data["uscc"])
        if check.error:
            raise ValidationError(check.error)
        return check.value

    def clean(self):
        data = super().clean()
        for name in ONE_LINE_FIELDS:
            if data.get(name):
                data[name] = single_line(data[name])
        check = uscc_check(data.get("uscc") or "")
        if check.warning and not (data.get("uscc_override_reason") or "").strip():
            self.add_error("uscc_override_reason", check.warning)
        return data

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)

        # Suggest the names already in use: recusals match the exact name.
        self.fields["group_name"].widget = DatalistInput(
            list_id="enterprise-groups", options=enterprise_groups()
        )

    def clean_group_name(self):
        return group_name_normalise(self.cleaned_data.get("group_name"))

    def clean_group_uscc(self):
        value = self.cleaned_data.get("group_uscc") or ""
        if not value.strip():
            return ""
        check = uscc_check(value)
        if check.error:
            raise ValidationError(check.error)
        return check.value

    def validate_unique(self):
        # uniqueness is checked on the normalised code by the service
        pass


class RiskAssessmentForm(DateBoundsMixin, forms.ModelForm):
    class Meta:
        model = RiskAssessment
        fields = ["tier", "effective_date", "source", "reason"]
        widgets = {"effective_date": forms.DateInput(attrs={"type": "date"})}


class LicenceForm(DateBoundsMixin, forms.ModelForm):
    class Meta:
        model = Licence
        fields = ["licence_type", "number", "issued_on", "expires_on", "issuer"]
        widgets = {
            "issued_on": forms.DateInput(attrs={"type": "date"}),
            "expires_on": forms.DateInput(attrs={"type": "date"}),
        }


class CheckItemForm(forms.ModelForm):
    trades = forms.ModelMultipleChoiceField(
        label="适用行业", queryset=Trade.objects.all(), widget=forms.CheckboxSelectMultiple
    )
    methods = forms.MultipleChoiceField(
        label="检查方式", choices=CheckMethod.choices, widget=forms.CheckboxSelectMultiple
    )
    licence_types = forms.CharField(
        label="适用许可证类型", required=False, help_text="多个用“、”分隔"
    )

    class Meta:
        model = CheckItem
        fields = [
            "code",
            "name",
            "sub_items",
            "legal_basis",
            "inspecting_body",
            "object_scope",
            "trades",
            "licence_types",
            "content",
            "key_points",
            "methods",
            "default_ratio",
            "frequency",
            "required_qualification",
            "section",
            "status",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial["licence_types"] = "、".join(self.instance.licence_types or [])

    def clean_licence_types(self):
        return _split(self.cleaned_data.get("licence_types") or "")


class ImportUploadForm(forms.Form):
    file = forms.FileField(label="文件", help_text="支持 .xlsx、.xls、.csv（UTF-8 或 GBK）")


class ListFilterForm(forms.Form):
    q = forms.CharField(
        label="名称或代码",
        required=False,
        max_length=100,
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": "企业名称或统一社会信用代码"}
        ),
    )
    trade = forms.ModelChoiceField(label="监管行业", queryset=Trade.objects.all(), required=False)
    township: forms.ModelChoiceField = forms.ModelChoiceField(
        label="乡镇/街道", queryset=None, required=False
    )
    enterprise_type = forms.ChoiceField(
        label="主体类型",
        choices=[("", "全部类型"), *Enterprise.EnterpriseType.choices],
        required=False,
    )
    scale = forms.ChoiceField(
        label="规模", choices=[("", "全部规模"), *Enterprise.Scale.choices], required=False
    )
    status = forms.ChoiceField(
        label="登记状态", choices=[("", "全部状态"), *Enterprise.Status.choices], required=False
    )
    tier = forms.ChoiceField(
        label="风险等级", choices=[("", "全部等级"), *RiskTier.choices], required=False
    )
    section: forms.ModelChoiceField = forms.ModelChoiceField(
        label="责任股室", queryset=None, required=False
    )
    licence = forms.ChoiceField(label="许可证", required=False)
    group = forms.CharField(
        label=gettext_lazy("所属集团"),
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"placeholder": gettext_lazy("所属集团（全称）")}),
    )

    def __init__(self, *args, licence_types=(), **kwargs):
        super().__init__(*args, **kwargs)

        self.fields["township"].queryset = Township.objects.all()
        self.fields["section"].queryset = Section.objects.filter(is_active=True)
        self.fields["licence"].choices = [("", "全部许可证"), *((t, t) for t in licence_types)]
        self.fields["trade"].empty_label = "全部行业"
        self.fields["township"].empty_label = "全部乡镇/街道"
        self.fields["section"].empty_label = "全部股室"

    def params(self) -> dict:
        if not self.is_valid():
            return {}
        data = {}
        for name, value in self.cleaned_data.items():
            if value in (None, ""):
                continue
            data[name] = value.pk if hasattr(value, "pk") else value
        if "q" in data:
            data["q"] = (
                normalise(data["q"]) if normalise(data["q"]).isascii() else data["q"].strip()
            )
        return data
