"""Summaries and reports (art. 6(7), art. 14): the summary by task and section, the completion
report of a task and the annual summary of a plan, on screen, as xlsx and as PDF.

Who sees what (docs/reports.md): 牵头股室, 纪检派驻组 and 审计管理员 every section (the last
two read-only, as everywhere); 股室负责人 only the tasks their own section leads; everyone else
403. Every view and every export is an audit event."""

import dataclasses
import datetime

from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _

from core.permissions import role_required
from inspections.models import Plan, Task

from .. import reports
from ..common import oversight_view_record, wants_xlsx, xlsx_response
from ..exporters import DEFINITIONS, ReportPdfExporter, ReportXlsxExporter, export_response
from ..filters import Scope, scope_from_request

REPORT_ROLES = reports.REPORT_ROLES


def _limit_to_own_section(request, scope: Scope) -> Scope:
    section = reports.own_section(request.user)
    if section is not None:
        return dataclasses.replace(scope, section=section)
    return scope


@role_required(*REPORT_ROLES)
def report_index(request):
    """The summary of the tasks in the period: by task and by section, with charts. A section
    head sees their own section only (the section filter is fixed to it)."""
    form, scope = scope_from_request(request)
    scope = _limit_to_own_section(request, scope)
    if scope.task is not None and not reports.can_read_task(request.user, scope.task):
        raise PermissionDenied(_("您只能查看本股室的抽查任务。"))
    if not reports.sees_all_sections(request.user):
        # The filter offers only what this user may see (no other section's task names).
        form.fields["task"].queryset = reports.visible_tasks(request.user).order_by("-number")
        form.fields["section"].queryset = form.fields["section"].queryset.filter(
            pk=scope.section.pk if scope.section else None
        )
    tasks = reports.scoped_tasks(request.user, scope)
    report = reports.build_report(tasks, title=_("抽查工作统计"), section=scope.section)
    if wants_xlsx(request):
        return xlsx_response(
            request,
            page="reports.summary",
            scope=scope,
            filename=f"抽查工作统计-{scope.start:%Y%m%d}-{scope.end:%Y%m%d}.xlsx",
            headers=reports.summary_headers(),
            rows=reports.summary_rows(report),
            sheet_title=_("汇总"),
            widths=[24, 30, 16] + [12] * len(reports.FIGURE_COLUMNS),
        )
    oversight_view_record(request, page="reports.summary", scope=scope)
    return render(
        request,
        "oversight/report_index.html",
        {
            "scope_form": form,
            "scope": scope,
            "report": report,
            "charts": reports.report_charts(report, by="section"),
            "plans": reports.visible_plans(request.user, scope),
            "own_section": reports.own_section(request.user),
            **_tables(report),
        },
    )


def _task_for(request, pk: int) -> Task:
    task = get_object_or_404(Task.objects.select_related("lead_section", "plan"), pk=pk)
    if not reports.can_read_task(request.user, task):
        raise PermissionDenied(_("您只能查看本股室的抽查任务。"))
    return task


def _task_scope(task: Task) -> Scope:
    return Scope(start=task.window_start, end=task.window_end, section=None, task=task)


@role_required(*REPORT_ROLES)
def task_report(request, pk: int):
    """任务完成情况报告 of one task."""
    task = _task_for(request, pk)
    scope = _task_scope(task)
    report = reports.task_report(task)
    if wants_xlsx(request):
        return export_response(
            request, ReportXlsxExporter(report), page="reports.task", scope=scope
        )
    oversight_view_record(request, page="reports.task", scope=scope)
    return render(
        request,
        "oversight/report_task.html",
        {
            "report": report,
            "task": task,
            "charts": reports.report_charts(report, by="task"),
            "totals_rows": _totals_rows(report),
            "definitions": DEFINITIONS,
        },
    )


@role_required(*REPORT_ROLES)
def task_report_pdf(request, pk: int):
    task = _task_for(request, pk)
    report = reports.task_report(task)
    return export_response(
        request, ReportPdfExporter(report), page="reports.task", scope=_task_scope(task)
    )


def _plan_for(request, pk: int):
    plan = get_object_or_404(Plan.objects.select_related("lead_section"), pk=pk)
    section = reports.own_section(request.user)
    if not reports.sees_all_sections(request.user) and (
        section is None or not plan.tasks.filter(lead_section=section).exists()
    ):
        raise PermissionDenied(_("该计划没有本股室牵头的任务。"))
    scope = Scope(
        start=datetime.date(plan.year, 1, 1),
        end=datetime.date(plan.year, 12, 31),
        section=section,
        task=None,
    )
    return plan, section, scope


@role_required(*REPORT_ROLES)
def plan_report(request, pk: int):
    """年度抽查工作总结 of one plan (a section head: the part their section leads)."""
    plan, section, scope = _plan_for(request, pk)
    report = reports.plan_report(plan, section=section)
    if wants_xlsx(request):
        return export_response(
            request, ReportXlsxExporter(report), page="reports.plan", scope=scope
        )
    oversight_view_record(request, page="reports.plan", scope=scope)
    return render(
        request,
        "oversight/report_plan.html",
        {
            "report": report,
            "plan": plan,
            "charts": reports.report_charts(report, by="section"),
            "task_charts": reports.report_charts(report, by="task"),
            "totals_rows": _totals_rows(report),
            **_tables(report),
        },
    )


@role_required(*REPORT_ROLES)
def plan_report_pdf(request, pk: int):
    plan, section, scope = _plan_for(request, pk)
    report = reports.plan_report(plan, section=section)
    return export_response(request, ReportPdfExporter(report), page="reports.plan", scope=scope)


def _totals_rows(report) -> list[tuple[str, object]]:
    return list(
        zip(
            reports.figure_headers(),
            reports.figure_values(report.totals, as_text=True),
            strict=True,
        )
    )


def _tables(report) -> dict:
    """Rows of the figure tables (by task with links, by section) and the column headers."""
    return {
        "headers": reports.figure_headers(),
        "definitions": DEFINITIONS,
        "task_rows": [
            {
                "label": row.task.number,
                "note": row.task.name,
                "url": reverse("oversight:report_task", args=[row.task.pk]),
                "figures": row.figures,
            }
            for row in report.tasks
        ],
        "section_rows": [{"label": f.label, "figures": f} for f in report.sections],
    }
