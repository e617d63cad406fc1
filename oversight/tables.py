"""The exported tables of the discipline group's audit views, declared as column tables (like
``disclosure/exports.COLUMNS``): one place says each table's file name, sheet, headers and how
each cell is read from a row. ``oversight.common.table_response`` writes one.

A column's ``value`` takes the row and the view's context (``today`` for the deadline state).
Headers are translated when the file is written (the reader's language).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

if TYPE_CHECKING:
    from django.utils.functional import _StrOrPromise


@dataclass(frozen=True)
class Column:
    header: _StrOrPromise
    value: Callable[[Any, dict], Any]
    width: int | None = None


@dataclass(frozen=True)
class Table:
    page: str  # the audited object of the export (``oversight.export``)
    filename: str
    sheet_title: _StrOrPromise
    columns: tuple[Column, ...]

    def headers(self) -> list[str]:
        return [str(c.header) for c in self.columns]

    def widths(self) -> list[int | None] | None:
        widths = [c.width for c in self.columns]
        return widths if any(widths) else None

    def rows(self, items: Iterable, context: dict | None = None):
        context = context or {}
        return (tuple(c.value(item, context) for c in self.columns) for item in items)


def name(user) -> str:
    if user is None:
        return ""
    return user.full_name or user.username


def when(value) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else ""


def as_json(value) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True) if value else ""


def added_label(items) -> str:
    """Who joined a merged joint-visit team, for which task's qualification."""
    return "、".join(
        f"{a.get('staff_number', '')}（{a.get('task', '')} {a.get('qualification', '')}）"
        if isinstance(a, dict)
        else str(a)
        for a in items or []
    )


def missing_label(items) -> str:
    return "、".join(
        f"{m.get('task', '')} {m.get('qualification', '')}" if isinstance(m, dict) else str(m)
        for m in items or []
    )


def verification_label(row) -> str:
    if row.verified is None:
        return _("未抽取，无需核验")
    return _("核验通过") if row.verified else _("核验未通过：") + "；".join(row.problems)


L = gettext_lazy

# --- draws ------------------------------------------------------------------------------------
DRAWS = Table(
    "review_draws",
    "抽取核验.xlsx",
    L("抽取核验"),
    (
        Column(L("抽取编号"), lambda r, c: r.draw.pk, 8),
        Column(L("任务编号"), lambda r, c: r.draw.task.number, 24),
        Column(L("任务名称"), lambda r, c: r.draw.task.name, 24),
        Column(L("第几次"), lambda r, c: r.draw.attempt, 6),
        Column(L("状态"), lambda r, c: r.draw.get_status_display(), 10),
        Column(L("操作人"), lambda r, c: name(r.draw.operator), 10),
        Column(L("见证人"), lambda r, c: "、".join(w.name for w in r.witnesses), 16),
        Column(L("时间"), lambda r, c: when(r.draw.completed_at or r.draw.committed_at), 16),
        Column(L("名单户数"), lambda r, c: r.draw.population_count, 10),
        Column(L("名单 SHA-256"), lambda r, c: r.draw.manifest_sha256, 66),
        Column(L("抽中户数"), lambda r, c: r.selected, 8),
        Column(L("回避替补"), lambda r, c: r.replacements, 8),
        Column(L("联合检查"), lambda r, c: r.joint_visits, 8),
        Column(L("核验结果"), lambda r, c: verification_label(r), 40),
        Column(L("作废理由"), lambda r, c: r.draw.void_reason, 30),
        Column(L("作废批准人"), lambda r, c: name(r.draw.void_approver), 10),
        Column(L("作废时间"), lambda r, c: when(r.draw.voided_at), 16),
    ),
)
REPLACEMENTS = Table(
    "review_draws.replacements",
    "抽取后回避替补.xlsx",
    L("回避替补"),
    (
        Column(L("抽查任务"), lambda r, c: r.selection.draw.task.number),
        Column(L("抽取编号"), lambda r, c: r.selection.draw_id),
        Column(L("统一社会信用代码"), lambda r, c: r.selection.uscc),
        Column(L("企业"), lambda r, c: r.selection.enterprise.name),
        Column(L("回避人员"), lambda r, c: f"{r.out.staff_number} {r.out.name}"),
        Column(L("替补人员"), lambda r, c: f"{r.into.staff_number} {r.into.name}"),
        Column(L("回避理由"), lambda r, c: r.reason),
        Column(L("批准人"), lambda r, c: name(r.approver)),
        Column(L("操作人"), lambda r, c: name(r.made_by)),
        Column(L("时间"), lambda r, c: when(r.made_at)),
    ),
)
JOINT = Table(
    "review_draws.joint",
    "联合检查合并.xlsx",
    L("联合检查"),
    (
        Column(L("统一社会信用代码"), lambda j, c: j.enterprise.uscc),
        Column(L("企业"), lambda j, c: j.enterprise.name),
        Column(
            L("合并的任务"), lambda j, c: "、".join(s.draw.task.number for s in j.selections.all())
        ),
        Column(L("保留检查组的任务"), lambda j, c: j.base_selection.draw.task.number),
        Column(L("合并后检查组"), lambda j, c: "、".join(j.team)),
        Column(L("因资质增加"), lambda j, c: added_label(j.added)),
        Column(L("仍缺资质"), lambda j, c: missing_label(j.missing)),
        Column(L("操作人"), lambda j, c: name(j.merged_by)),
        Column(L("合并时间"), lambda j, c: when(j.merged_at)),
    ),
)

# --- records ----------------------------------------------------------------------------------
EDITS = Table(
    "review_records.edits",
    "提交后修改记录.xlsx",
    L("提交后修改"),
    (
        Column(L("时间"), lambda r, c: when(r["event"].occurred_at)),
        Column(L("修改人"), lambda r, c: r["event"].actor_name),
        Column(L("阶段"), lambda r, c: r["stage"]),
        Column(L("操作"), lambda r, c: r["label"]),
        Column(L("抽查任务"), lambda r, c: r["visit"].task.number if r["visit"] else ""),
        Column(
            L("通知书文号"),
            lambda r, c: r["visit"].notice_number if r["visit"] else r["event"].object_id,
        ),
        Column(L("企业"), lambda r, c: r["visit"].enterprise.name if r["visit"] else ""),
        Column(L("修改前"), lambda r, c: r["before_text"]),
        Column(L("修改后"), lambda r, c: r["after_text"]),
    ),
)
RETURNS = Table(
    "review_records.returns",
    "退回记录.xlsx",
    L("退回记录"),
    (
        Column(L("抽查任务"), lambda r, c: r.visit.task.number),
        Column(L("通知书文号"), lambda r, c: r.visit.notice_number),
        Column(L("企业"), lambda r, c: r.visit.enterprise.name),
        Column(L("股室"), lambda r, c: r.visit.section.name if r.visit.section else ""),
        Column(L("审核人"), lambda r, c: name(r.reviewer)),
        Column(L("退回时间"), lambda r, c: when(r.reviewed_at)),
        Column(L("退回时版本"), lambda r, c: r.visit_version),
        Column(L("退回理由"), lambda r, c: r.reason),
    ),
)
CORRECTIONS = Table(
    "review_records.corrections",
    "更正记录.xlsx",
    L("更正"),
    (
        Column(L("抽查任务"), lambda v, c: v.record.task_number),
        Column(L("企业"), lambda v, c: v.record.enterprise_name),
        Column(L("检查事项"), lambda v, c: v.record.check_item),
        Column(L("版本"), lambda v, c: v.number),
        Column(L("状态"), lambda v, c: v.get_status_display()),
        Column(L("更正后结果"), lambda v, c: v.result_text),
        Column(L("更正原因"), lambda v, c: v.reason),
        Column(L("提出人"), lambda v, c: name(v.created_by)),
        Column(L("提出时间"), lambda v, c: when(v.created_at)),
        Column(L("批准人"), lambda v, c: name(v.approved_by)),
        Column(L("批准时间"), lambda v, c: when(v.approved_at)),
    ),
)
OBJECTIONS = Table(
    "review_records.objections",
    "异议记录.xlsx",
    L("异议"),
    (
        Column(L("抽查任务"), lambda o, c: o.record.task_number),
        Column(L("企业"), lambda o, c: o.record.enterprise_name),
        Column(L("检查事项"), lambda o, c: o.record.check_item),
        Column(L("收到日期"), lambda o, c: o.received_on),
        Column(L("异议内容"), lambda o, c: o.content),
        Column(L("状态"), lambda o, c: o.get_status_display()),
        Column(L("复查日期"), lambda o, c: o.recheck_on),
        Column(L("复查结论"), lambda o, c: o.recheck_result),
        Column(L("改变结果"), lambda o, c: _("是") if o.changes_result else _("否")),
        Column(L("复查人"), lambda o, c: name(o.recheck_by)),
    ),
)


# --- deadlines --------------------------------------------------------------------------------
def inspector_label(row) -> str:
    return row["user__full_name"] or row["user__username"]


OPEN = Table(
    "review_deadlines.open",
    "逾期与即将到期公示.xlsx",
    L("逾期与即将到期"),
    (
        Column(L("抽查任务"), lambda r, c: r.task_number),
        Column(L("企业"), lambda r, c: r.enterprise_name),
        Column(L("统一社会信用代码"), lambda r, c: r.uscc),
        Column(L("检查事项"), lambda r, c: r.check_item),
        Column(L("股室"), lambda r, c: r.section.name if r.section else ""),
        Column(L("检查人员"), lambda r, c: "、".join(name(u) for u in r.inspectors.all())),
        Column(L("抽查完成日期"), lambda r, c: r.check_end),
        Column(L("公示期限"), lambda r, c: r.deadline),
        Column(
            L("期限状态"),
            lambda r, c: _("已逾期") if r.deadline < c["today"] else _("即将到期"),
        ),
        Column(L("公示状态"), lambda r, c: r.get_status_display()),
    ),
)
SECTIONS = Table(
    "review_deadlines.sections",
    "逾期按股室.xlsx",
    L("按股室"),
    (
        Column(L("股室"), lambda r, c: r["section__name"] or "—"),
        Column(L("已逾期"), lambda r, c: r["overdue"]),
        Column(L("即将到期"), lambda r, c: r["due_soon"]),
    ),
)
INSPECTORS = Table(
    "review_deadlines.inspectors",
    "逾期按检查人员.xlsx",
    L("按检查人员"),
    (
        Column(L("检查人员"), lambda r, c: inspector_label(r)),
        Column(L("已逾期"), lambda r, c: r["overdue"]),
        Column(L("即将到期"), lambda r, c: r["due_soon"]),
    ),
)
MONTHLY = Table(
    "review_deadlines.monthly",
    "按月按时公示率.xlsx",
    L("按月按时率"),
    (
        Column(L("期限所在月份"), lambda r, c: r["month"].strftime("%Y-%m")),
        Column(L("应公示"), lambda r, c: r["decided"]),
        Column(L("按时公示"), lambda r, c: r["on_time"]),
        Column(L("逾期后公示"), lambda r, c: r["late_published"]),
        Column(L("逾期未公示"), lambda r, c: r["overdue_open"]),
        Column(L("按时率（%）"), lambda r, c: r["rate"]),
    ),
)
