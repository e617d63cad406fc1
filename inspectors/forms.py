from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import User
from core.bounds import DATE_VALIDATORS, DateBoundsMixin, single_line
from enterprises.forms import DatalistInput
from enterprises.models import (
    CheckItem,
    Enterprise,
    ProfessionalQualification,
    Trade,
    group_name_normalise,
)
from enterprises.selectors import enterprise_groups

from . import crypto
from .models import Agency, Certificate, Expert, Inspector, Recusal, StatusPeriod, Training


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


def qualification_field(label="专业资质"):
    return forms.MultipleChoiceField(
        label=label,
        choices=ProfessionalQualification.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )


class InspectorForm(DateBoundsMixin, forms.ModelForm):
    id_number = forms.CharField(label="身份证号", max_length=18, required=False)
    professional_qualifications = qualification_field()

    class Meta:
        model = Inspector
        fields = [
            "staff_number", "name", "id_number", "section", "user", "mobile", "position",
            "joined_on", "check_items", "trades", "professional_qualifications", "is_expert",
            "can_lead", "max_checks_per_task", "max_checks_per_year", "remarks",
        ]  # fmt: skip
        widgets = {
            "joined_on": DateInput(),
            "check_items": forms.CheckboxSelectMultiple,
            "trades": forms.CheckboxSelectMultiple,
            "remarks": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["check_items"].queryset = CheckItem.objects.filter(status="valid")
        self.fields["trades"].queryset = Trade.objects.filter(is_active=True)
        self.fields["user"].queryset = User.objects.filter(is_active=True).order_by("username")
        self.fields["user"].help_text = "该人员登录系统使用的账户（用于接收到期提醒等）"
        if self.instance.pk:
            self.fields["id_number"].initial = self.instance.id_number

    def clean_name(self):
        return single_line(self.cleaned_data["name"])

    def clean_id_number(self):
        value = self.cleaned_data["id_number"].strip().upper()
        if value and not crypto.id_number_is_valid(value):
            raise ValidationError("身份证号格式或校验位不正确")
        return value

    def service_fields(self) -> dict:
        data = dict(self.cleaned_data)
        return {name: data[name] for name in self.Meta.fields}


class StatusPeriodForm(DateBoundsMixin, forms.ModelForm):
    class Meta:
        model = StatusPeriod
        fields = ["status", "start", "end", "reason"]
        widgets = {"start": DateInput(), "end": DateInput()}

    def clean(self):
        data = super().clean()
        if data.get("status") == StatusPeriod.Status.LEAVE and not data.get("end"):
            self.add_error("end", "休假须填写结束日期")
        return data


class StatusEndForm(forms.Form):
    end = forms.DateField(
        validators=DATE_VALIDATORS, label="结束日期（含当日）", widget=DateInput()
    )
    reason = forms.CharField(label="事由", max_length=200, required=False)


class CertificateForm(DateBoundsMixin, forms.ModelForm):
    class Meta:
        model = Certificate
        fields = ["cert_type", "number", "issued_on", "expires_on", "issuer", "revoked_on"]
        widgets = {
            "issued_on": DateInput(),
            "expires_on": DateInput(),
            "revoked_on": DateInput(),
        }


class TrainingForm(DateBoundsMixin, forms.ModelForm):
    class Meta:
        model = Training
        fields = ["course", "held_on", "hours", "provider", "certificate"]
        widgets = {"held_on": DateInput()}


class RecusalForm(DateBoundsMixin, forms.ModelForm):
    enterprise_uscc = forms.CharField(
        label="回避企业（统一社会信用代码）",
        max_length=18,
        required=False,
        help_text=gettext_lazy("回避企业、回避法定代表人、回避集团三者填一项"),
    )

    class Meta:
        model = Recusal
        fields = ["legal_representative", "group", "reason", "reason_detail", "declared_on"]
        widgets = {"declared_on": DateInput()}

    field_order = ["enterprise_uscc", "legal_representative", "group", "reason", "reason_detail"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["group"].widget = DatalistInput(
            list_id="recusal-groups", options=enterprise_groups()
        )

    def clean(self):
        data = super().clean()
        uscc = (data.get("enterprise_uscc") or "").strip().upper()
        representative = (data.get("legal_representative") or "").strip()
        group = group_name_normalise(data.get("group"))
        if sum(1 for t in (uscc, representative, group) if t) != 1:
            raise ValidationError(_("请填写回避企业、回避法定代表人或回避集团（三选一）"))
        if uscc:
            enterprise = Enterprise.objects.filter(uscc=uscc).first()
            if enterprise is None:
                self.add_error("enterprise_uscc", "名录库中没有该统一社会信用代码的企业")
            self.instance.enterprise = enterprise
        if group:
            # Matching is on the exact name: a name no enterprise carries is almost surely a typo
            # and would silently recuse nobody.
            if not Enterprise.objects.filter(group_name=group).exists():
                self.add_error(
                    "group",
                    _("名录库中没有“所属集团”为“%(group)s”的企业，请核对集团名称")
                    % {"group": group},
                )
            data["group"] = self.instance.group = group
        return data


class RecusalEndForm(forms.Form):
    ended_on = forms.DateField(
        validators=DATE_VALIDATORS, label="终止日期（当日起不再回避）", widget=DateInput()
    )
    end_reason = forms.CharField(label="终止理由", max_length=200)


class ExpertForm(DateBoundsMixin, forms.ModelForm):
    professional_qualifications = qualification_field()

    class Meta:
        model = Expert
        fields = [
            "code", "name", "organisation", "field", "qualification",
            "professional_qualifications", "contact", "valid_from", "valid_until", "is_active",
        ]  # fmt: skip
        widgets = {"valid_from": DateInput(), "valid_until": DateInput()}


class AgencyForm(DateBoundsMixin, forms.ModelForm):
    professional_qualifications = qualification_field()

    class Meta:
        model = Agency
        fields = [
            "code", "name", "uscc", "field", "qualification", "professional_qualifications",
            "contact", "contract_start", "contract_end", "is_active",
        ]  # fmt: skip
        widgets = {"contract_start": DateInput(), "contract_end": DateInput()}


class ImportForm(forms.Form):
    file = forms.FileField(label="名录文件（.xlsx / .xls / .csv）")


class EligibilityForm(forms.Form):
    start = forms.DateField(validators=DATE_VALIDATORS, label="检查期开始", widget=DateInput())
    end = forms.DateField(validators=DATE_VALIDATORS, label="检查期结束", widget=DateInput())
    check_items = forms.ModelMultipleChoiceField(
        label="检查事项", queryset=CheckItem.objects.none(), widget=forms.CheckboxSelectMultiple
    )
    enterprise_uscc = forms.CharField(label="检查对象（统一社会信用代码）", max_length=18)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["check_items"].queryset = CheckItem.objects.filter(status="valid")

    def clean(self):
        data = super().clean()
        if data.get("start") and data.get("end") and data["start"] > data["end"]:
            self.add_error("end", "结束日期不能早于开始日期")
        uscc = (data.get("enterprise_uscc") or "").strip().upper()
        if uscc:
            data["enterprise"] = Enterprise.objects.filter(uscc=uscc).first()
            if data["enterprise"] is None:
                self.add_error("enterprise_uscc", "名录库中没有该统一社会信用代码的企业")
        return data
