"""Forms of the visit pages. ``VisitRecordForm`` is built for one visit: a field per team member
(present, certificate shown) and per item (method, checked, finding, result categories); its
``service_data()`` is what ``visit_save_draft`` takes."""

from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.bounds import DATE_VALIDATORS, NOTE_TEXT, REASON_TEXT, REPORT_TEXT
from enterprises.models import CheckMethod

from ..models import FollowUp, LeadTransfer, NonCooperation, SignerRole, SigningForm, VisitEvidence
from ..services.visits import RECORD_FIELDS

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class VisitRecordForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput(attrs={"id": "visit-version"}))
    check_start = forms.DateField(
        validators=DATE_VALIDATORS, label=_("检查开始日期"), required=False, widget=DATE
    )
    check_end = forms.DateField(
        validators=DATE_VALIDATORS,
        label=_("检查结束日期"),
        required=False,
        widget=DATE,
        help_text=_("公示期限（20个工作日）自检查结束之日起算"),
    )
    place = forms.CharField(label=_("检查地点"), required=False, max_length=255)
    summary = forms.CharField(
        label=_("核查情况（总体）"),
        max_length=REPORT_TEXT,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    signing_form = forms.ChoiceField(
        label=_("企业确认方式"),
        required=False,
        choices=[("", "—"), *SigningForm.choices],
        widget=forms.RadioSelect,
    )
    signer_name = forms.CharField(label=_("签字（盖章）人姓名"), required=False, max_length=64)
    signer_role = forms.ChoiceField(
        label=_("签字人身份"), required=False, choices=[("", "—"), *SignerRole.choices]
    )
    unsigned_reason = forms.CharField(
        label=_("未签原因"),
        max_length=REASON_TEXT,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("无法取得签名或盖章的，必须注明原因（第十条）"),
    )
    witness_name = forms.CharField(label=_("见证人"), required=False, max_length=64)
    witness_detail = forms.CharField(label=_("见证人单位/身份"), required=False, max_length=100)

    def __init__(self, *args, visit, members, results, categories, **kwargs):
        self.visit, self.members, self.results = visit, members, results
        initial = {name: getattr(visit, name) for name in RECORD_FIELDS}
        initial["version"] = visit.version
        if initial["check_start"] is None:
            # Shown as today (the first save starts the visit today anyway), so that the next
            # autosave does not clear the start date the first one set.

            initial["check_start"] = timezone.localdate()
        for m in members:
            initial[f"m{m.pk}_present"] = m.present
            initial[f"m{m.pk}_cert"] = m.certificate_number
        for r in results:
            initial[f"r{r.pk}_method"] = r.method
            initial[f"r{r.pk}_checked"] = r.checked
            initial[f"r{r.pk}_finding"] = r.finding
            initial[f"r{r.pk}_cats"] = [c.pk for c in r.categories.all()]
        kwargs.setdefault("initial", initial)
        super().__init__(*args, **kwargs)
        category_choices = [(c.pk, c.label) for c in categories]
        for m in members:
            self.fields[f"m{m.pk}_present"] = forms.BooleanField(label=_("到场"), required=False)
            self.fields[f"m{m.pk}_cert"] = forms.CharField(
                label=_("出示的执法证号"), required=False, max_length=64
            )
        for r in results:
            self.fields[f"r{r.pk}_method"] = forms.ChoiceField(
                label=_("实际检查方式"), required=False, choices=[("", "—"), *CheckMethod.choices]
            )
            self.fields[f"r{r.pk}_checked"] = forms.CharField(
                label=_("检查内容"),
                max_length=NOTE_TEXT,
                required=False,
                widget=forms.Textarea(attrs={"rows": 2}),
            )
            self.fields[f"r{r.pk}_finding"] = forms.CharField(
                label=_("检查发现"),
                max_length=NOTE_TEXT,
                required=False,
                widget=forms.Textarea(attrs={"rows": 2}),
            )
            self.fields[f"r{r.pk}_cats"] = forms.TypedMultipleChoiceField(
                label=_("检查结果"),
                required=False,
                coerce=int,
                choices=category_choices,
                widget=forms.CheckboxSelectMultiple,
            )

    def clean(self):
        data = super().clean()
        start, end = data.get("check_start"), data.get("check_end")
        if start and end and end < start:
            self.add_error("check_end", _("检查结束日期不能早于开始日期。"))
        return data

    def member_rows(self):
        return [(m, self[f"m{m.pk}_present"], self[f"m{m.pk}_cert"]) for m in self.members]

    def result_rows(self, tree):
        """Per item: the bound fields and the category tree with what is ticked."""
        rows = []
        for r in self.results:
            name = f"r{r.pk}_cats"
            ticked = {str(v) for v in (self[name].value() or [])}
            nodes = [
                {
                    "category": node["category"],
                    "checked": str(node["category"].pk) in ticked,
                    "children": [(c, str(c.pk) in ticked) for c in node["children"]],
                }
                for node in tree
            ]
            rows.append(
                {
                    "result": r,
                    "method": self[f"r{r.pk}_method"],
                    "checked": self[f"r{r.pk}_checked"],
                    "finding": self[f"r{r.pk}_finding"],
                    "cats_name": self.add_prefix(name),
                    "tree": nodes,
                    "errors": self[name].errors,
                }
            )
        return rows

    def service_data(self) -> dict:
        data = self.cleaned_data
        return {
            "version": data["version"],
            "fields": {
                name: data.get(name) or ("" if name not in ("check_start", "check_end") else None)
                for name in RECORD_FIELDS
            },
            "members": {
                m.pk: {
                    "present": data.get(f"m{m.pk}_present", False),
                    "certificate_number": data.get(f"m{m.pk}_cert", ""),
                }
                for m in self.members
            },
            "results": {
                r.pk: {
                    "method": data.get(f"r{r.pk}_method", ""),
                    "checked": data.get(f"r{r.pk}_checked", ""),
                    "finding": data.get(f"r{r.pk}_finding", ""),
                    "categories": data.get(f"r{r.pk}_cats", []),
                }
                for r in self.results
            },
        }


class VersionForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)


class RescheduleForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
    planned_on = forms.DateField(validators=DATE_VALIDATORS, label="计划检查日期", widget=DATE)


class EvidenceForm(forms.Form):
    KINDS = [
        (k, label)
        for k, label in VisitEvidence.Kind.choices
        if k not in ("signature", "penalty", "signed_page")
    ]
    kind = forms.ChoiceField(label=_("类型"), choices=KINDS, initial="photo")
    description = forms.CharField(label=_("说明"), required=False, max_length=200)
    file = forms.FileField(
        label=_("文件（照片 JPG/PNG 或 PDF）"),
        widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,application/pdf"}),
    )
    non_cooperation = forms.IntegerField(required=False, widget=forms.HiddenInput)
    supersedes = forms.IntegerField(required=False, widget=forms.HiddenInput)


class SignedPageForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
    file = forms.FileField(
        label=_("签字（盖章）页照片或扫描件"),
        widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,application/pdf"}),
    )


class NonCooperationForm(forms.Form):
    case = forms.ChoiceField(label=_("情形（第十二条）"), choices=NonCooperation.Case.choices)
    occurred_on = forms.DateField(validators=DATE_VALIDATORS, label=_("发生日期"), widget=DATE)
    description = forms.CharField(
        label=_("经过"), max_length=NOTE_TEXT, widget=forms.Textarea(attrs={"rows": 3})
    )


class ReviewForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
    decision = forms.ChoiceField(
        label=_("审核意见"), choices=[("approve", _("审核通过")), ("return", _("退回"))]
    )
    reason = forms.CharField(
        label=_("理由/意见"),
        max_length=REASON_TEXT,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("退回时必须写明理由"),
    )

    def clean(self):
        data = super().clean()
        if data.get("decision") == "return" and not (data.get("reason") or "").strip():
            self.add_error("reason", _("退回必须写明理由。"))
        return data


class TransferForm(forms.Form):
    department = forms.CharField(label=_("接收部门"), max_length=100)
    content = forms.CharField(
        label=_("移送内容"), max_length=NOTE_TEXT, widget=forms.Textarea(attrs={"rows": 3})
    )
    sent_on = forms.DateField(
        validators=DATE_VALIDATORS, label=_("移送日期"), required=False, widget=DATE
    )


class TransferUpdateForm(forms.Form):
    status = forms.ChoiceField(label=_("状态"), choices=LeadTransfer.Status.choices)
    sent_on = forms.DateField(
        validators=DATE_VALIDATORS, label=_("移送日期"), required=False, widget=DATE
    )
    receipt = forms.CharField(
        label=_("回执/回复情况"),
        max_length=NOTE_TEXT,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    replied_on = forms.DateField(
        validators=DATE_VALIDATORS, label=_("回复日期"), required=False, widget=DATE
    )


class FollowUpForm(forms.Form):
    measures = forms.MultipleChoiceField(
        label=_("处置措施"), choices=FollowUp.Measure.choices, widget=forms.CheckboxSelectMultiple
    )
    detail = forms.CharField(
        label=_("措施说明"),
        max_length=NOTE_TEXT,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    due_on = forms.DateField(
        validators=DATE_VALIDATORS, label=_("期限"), required=False, widget=DATE
    )


class FollowUpCloseForm(forms.Form):
    outcome = forms.CharField(
        label=_("处置结果"), max_length=NOTE_TEXT, widget=forms.Textarea(attrs={"rows": 2})
    )
    closed_on = forms.DateField(
        validators=DATE_VALIDATORS, label=_("办结日期"), required=False, widget=DATE
    )


class ArchiveDocumentForm(forms.Form):
    title = forms.CharField(
        label=_("文件名称"),
        max_length=200,
        help_text=_("如：行政处罚决定书（舞工信商罚〔2026〕3号）"),
    )
    file = forms.FileField(label=_("文件（PDF 或图片）"))


class CategoryForm(forms.Form):
    label = forms.CharField(label=_("名称"), max_length=100)
    exclusive = forms.BooleanField(label=_("排他"), required=False)
