"""Forms of the draw pages: witnesses and dice, the void and post-draw recusal requests."""

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from accounts.roles import Role
from core.bounds import REASON_TEXT

from ..models import Draw


class SeedForm(forms.Form):
    witness_1 = forms.CharField(label=_("见证人一"), max_length=64)
    witness_1_org = forms.CharField(label=_("单位/身份"), max_length=100, required=False)
    witness_2 = forms.CharField(label=_("见证人二"), max_length=64)
    witness_2_org = forms.CharField(label=_("单位/身份"), max_length=100, required=False)
    witness_3 = forms.CharField(label=_("见证人三（可选）"), max_length=64, required=False)
    witness_3_org = forms.CharField(label=_("单位/身份"), max_length=100, required=False)
    dice_kind = forms.ChoiceField(label=_("骰子类型"), choices=Draw.DiceKind.choices)
    dice = forms.CharField(
        label=_("骰子数字"),
        max_length=200,
        help_text=_("见证人现场掷骰，依次录入至少 20 位数字（可用空格分组）"),
        widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "numeric"}),
    )

    def witnesses(self) -> list[dict]:
        data = self.cleaned_data
        return [
            {"name": data[f"witness_{i}"], "organisation": data[f"witness_{i}_org"]}
            for i in (1, 2, 3)
            if data.get(f"witness_{i}")
        ]


class VoidForm(forms.Form):
    """A void request: approved later by another 牵头股室 member in their own session."""

    reason = forms.CharField(
        label=_("作废理由"), max_length=REASON_TEXT, widget=forms.Textarea(attrs={"rows": 3})
    )
    approver = forms.ModelChoiceField(
        label=_("审批人（另一名牵头股室人员）"),
        queryset=User.objects.none(),
        required=False,
        empty_label=_("任一其他牵头股室人员"),
    )

    def __init__(self, *args, draw: Draw, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["approver"].queryset = (  # type: ignore[attr-defined]  # typed as Field
            User.objects.filter(groups__name=Role.LEAD_SECTION, is_active=True)
            .exclude(pk__in=[draw.operator_id, user.pk])
            .order_by("username")
        )


class ReplaceForm(forms.Form):
    """A replacement request: approved later by a 牵头股室 member or a 股室负责人 other than
    the requester, in their own session."""

    out = forms.ChoiceField(label=_("需回避的检查人员"))
    reason = forms.CharField(
        label=_("回避理由"), max_length=REASON_TEXT, widget=forms.Textarea(attrs={"rows": 2})
    )
    approver = forms.ModelChoiceField(
        label=_("审批人"),
        queryset=User.objects.none(),
        required=False,
        empty_label=_("任一牵头股室人员或股室负责人"),
    )

    def __init__(self, *args, members, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["out"].choices = [(m.pk, str(m)) for m in members]
        self.fields["approver"].queryset = (
            User.objects.filter(
                groups__name__in=[Role.LEAD_SECTION, Role.SECTION_HEAD], is_active=True
            )
            .exclude(pk=user.pk)
            .distinct()
            .order_by("username")
        )
