from django import forms
from django.utils.translation import gettext_lazy as _

from .services import REASON_MAX


class ApprovalRequestForm(forms.Form):
    kind = forms.CharField(widget=forms.HiddenInput, max_length=64)
    object_id = forms.CharField(widget=forms.HiddenInput, max_length=64)
    reason = forms.CharField(
        label=_("申请理由"), max_length=REASON_MAX, widget=forms.Textarea(attrs={"rows": 2})
    )


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("审批"),
        choices=[("approve", _("批准")), ("refuse", _("拒绝"))],
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(
        label=_("审批意见（拒绝时必填）"),
        max_length=REASON_MAX,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
