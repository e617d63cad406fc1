"""Roster audit events made readable: Chinese event names and field-by-field before → after."""

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from accounts.models import Section, User
from enterprises.models import Enterprise, ProfessionalQualification, Trade

from .models import Agency, Certificate, Expert, Inspector, Recusal, StatusPeriod, Training

EVENT_LABELS = {
    "inspector.created": "新增人员",
    "inspector.updated": "修改人员信息",
    "inspector.status_added": "登记状态",
    "inspector.status_ended": "结束状态",
    "inspector.certificate_added": "新增执法证",
    "inspector.certificate_updated": "修改执法证",
    "inspector.training_added": "登记培训",
    "inspector.imported": "批量导入名录",
    "inspector.exported": "导出名录",
    "recusal.declared": "回避申报",
    "recusal.ended": "终止回避",
    "expert.created": "新增专业技术人员",
    "expert.updated": "修改专业技术人员",
    "agency.created": "新增委托专业机构",
    "agency.updated": "修改委托专业机构",
}
_HIDDEN = {"id", "inspector_id", "created_at", "updated_at", "created_by_id", "approved_by_id"}
_EXTRA = {
    "id_number": "身份证号",
    "check_items": "可检查事项",
    "trades": "可检查行业",
    "user_id": "登录账户",
    "section_id": "所在股室",
    "enterprise_id": "回避企业",
    "expert_id": "专业技术人员",
    "agency_id": "专业机构",
}
_LABELS: dict[str, str] = {}
for _model in (Inspector, StatusPeriod, Certificate, Training, Recusal, Expert, Agency):
    for _field in _model._meta.concrete_fields:
        _LABELS.setdefault(_field.attname, str(_field.verbose_name))
_LABELS.update(_EXTRA)
_CHOICES = {
    "status": dict(StatusPeriod.Status.choices),
    "reason": dict(Recusal.Reason.choices),
}
_QUALS = dict(ProfessionalQualification.choices)


@dataclass
class Change:
    label: str
    before: str
    after: str


def _show(field: str, value, names: dict | None = None) -> str:
    if value in (None, "", []):
        return "—"
    lookup = (names or {}).get(field)
    if lookup is not None:
        if isinstance(value, list):
            return "、".join(str(lookup.get(v, v)) for v in value)
        return str(lookup.get(value, value))
    if isinstance(value, bool):
        return "是" if value else "否"
    if field == "professional_qualifications" and isinstance(value, list):
        return "、".join(str(_QUALS.get(v, v)) for v in value)
    if isinstance(value, list):
        return "、".join(str(v) for v in value)
    if field in _CHOICES:
        return _CHOICES[field].get(value, value)
    return str(value)


def describe(event, names: dict | None = None) -> dict:
    """{"label", "changes": [Change], "note"} for one roster event."""
    detail = event.detail or {}
    before, after = detail.get("before"), detail.get("after") or {}
    changes = []
    pairs: Iterable[tuple[Any, Any]]
    if "changes" in detail and isinstance(detail["changes"], dict) and before is not None:
        pairs = detail["changes"].items()
    elif before is not None:
        pairs = ((k, [before.get(k), v]) for k, v in after.items() if before.get(k) != v)
    else:
        pairs = ((k, [None, v]) for k, v in after.items() if v not in (None, "", [], False))
    for field, (old, new) in pairs:
        if field in _HIDDEN:
            continue
        changes.append(
            Change(
                str(_LABELS.get(field, field)), _show(field, old, names), _show(field, new, names)
            )
        )
    note = ""
    if event.event_type == "inspector.imported":
        counts = detail.get("written", {})
        note = f"文件 {detail.get('filename', '')}：新增 {counts.get('created', 0)}，更新 {counts.get('updated', 0)}"
    elif event.event_type == "inspector.exported":
        note = f"{detail.get('rows', 0)} 行（身份证号{'未' if detail.get('id_numbers') == 'unmasked' else '已'}脱敏）"
    return {
        "label": EVENT_LABELS.get(event.event_type, event.event_type),
        "changes": changes,
        "note": note,
    }


def _names(events) -> dict:
    """Names for the ids and codes the events mention, in a few queries for the whole page."""
    wanted: dict[str, set] = {"section_id": set(), "user_id": set(), "enterprise_id": set()}
    for event in events:
        for part in ("before", "after"):
            data = (event.detail or {}).get(part) or {}
            for field, ids in wanted.items():
                if data.get(field):
                    ids.add(data[field])
    return {
        "section_id": dict(
            Section.objects.filter(pk__in=wanted["section_id"]).values_list("pk", "name")
        ),
        "user_id": {u.pk: u.display_name for u in User.objects.filter(pk__in=wanted["user_id"])},
        "enterprise_id": dict(
            Enterprise.objects.filter(pk__in=wanted["enterprise_id"]).values_list("pk", "name")
        ),
        "trades": dict(Trade.objects.values_list("code", "name")),
    }


def describe_all(events) -> list[dict]:
    events = list(events)
    names = _names(events)
    return [{"event": e, **describe(e, names)} for e in events]
