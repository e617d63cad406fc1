"""Report exporters: the task completion report (任务完成情况报告) and the annual summary
(年度抽查工作总结) as an xlsx workbook and as a PDF for the higher authority.

Each exporter takes a built ``reports.Report`` and renders bytes; ``export_response`` sends
them and records the export as an ``oversight.export`` audit event (like
``common.xlsx_response`` does for the single-table pages), in the same shape: the scope, the
file name, and here also the format."""

from __future__ import annotations

import io

from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop as N_
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter

from core.pdf import render_pdf
from core.spreadsheets import escape_text

from .common import XLSX_TYPE, download_response
from .filters import Scope
from .reports import (
    Report,
    figure_headers,
    figure_values,
    rate_text,
    report_charts,
    summary_headers,
    summary_rows,
)

DEFINITIONS = [
    (N_("名单户数"), N_("抽取所依据名单的企业户数（有效抽取，不含已作废的抽取）。")),
    (N_("应检查（抽中）户数"), N_("有效抽取抽中的企业户数，即应当检查的企业。")),
    (N_("已检查户数"), N_("检查记录已提交（待审核、退回、已审核或已归档）的企业户数。")),
    (N_("已审核户数"), N_("检查记录经股室负责人审核通过（含已归档）的企业户数。")),
    (N_("已公示户数"), N_("该任务的全部检查结果均已在企业信用信息公示系统公示的企业户数。")),
    (
        N_("按期公示户数"),
        N_("已公示企业中，没有任何一条结果晚于公示期限（检查结束后20个工作日）公示的户数。"),
    ),
    (N_("完成率"), N_("已公示户数 ÷ 应检查（抽中）户数。")),
    (N_("按期公示率"), N_("按期公示户数 ÷ 已公示户数。")),
    (N_("发现问题户数"), N_("已审核的检查中，至少一项结果属于“发现问题”类别的企业户数。")),
    (N_("需后续处置户数"), N_("登记了“无需后续处置”以外后续处置措施的检查数。")),
    (N_("处置办结户数"), N_("上述检查中，全部后续处置措施均已办结的检查数。")),
    (N_("闭环率"), N_("处置办结户数 ÷ 需后续处置户数。")),
    (N_("线索移送件数"), N_("检查中登记的线索移送（含待移送）件数。")),
    (N_("不配合检查情节严重件数"), N_("登记的不配合检查情节严重情形件数。")),
    (N_("逾期未公示条数"), N_("截至统计日尚未公示且已超过公示期限的结果条数。")),
    (N_("合计"), N_("计划、股室合计为各任务之和（联合检查的企业在其涉及的每个任务中各计一次）。")),
]


class ReportExporter:
    """Base: ``render()`` → bytes; ``filename`` and ``content_type`` for the response."""

    identifier = ""
    verbose_name = ""
    content_type = "application/octet-stream"
    extension = ""

    def __init__(self, report: Report):
        self.report = report

    @property
    def filename(self) -> str:
        return f"{self.report.title}.{self.extension}"

    def render(self) -> bytes:
        raise NotImplementedError

    def row_count(self) -> int:
        return len(self.report.tasks)


class ReportXlsxExporter(ReportExporter):
    """One sheet per table: 汇总, 按股室, 检查结果, 按风险等级, 按行业, 按乡镇, 线索移送,
    不配合检查, 指标说明. Text is formula-escaped; rates are numbers (percent)."""

    identifier = "xlsx"
    verbose_name = "Excel"
    content_type = XLSX_TYPE
    extension = "xlsx"

    def sheets(self) -> list[tuple[str, list[str], list[list]]]:
        r = self.report
        problem_headers = [_("已审核户数"), _("发现问题户数")]
        return [
            (_("汇总"), summary_headers(), summary_rows(r)),
            (
                _("按股室"),
                [_("股室"), *figure_headers()],
                [[f.label, *figure_values(f)] for f in r.sections],
            ),
            (
                _("检查结果构成"),
                [_("检查结果"), _("结果条数")],
                [[b.label, b.count] for b in r.categories],
            ),
            (
                _("按风险等级"),
                [_("风险等级"), *problem_headers],
                [[b.label, b.count, b.extra] for b in r.tiers],
            ),
            (
                _("按行业"),
                [_("监管行业"), *problem_headers],
                [[b.label, b.count, b.extra] for b in r.trades],
            ),
            (
                _("按乡镇街道"),
                [_("乡镇/街道"), *problem_headers],
                [[b.label, b.count, b.extra] for b in r.townships],
            ),
            (
                _("线索移送"),
                [_("状态"), _("件数")],
                [[b.label, b.count] for b in r.transfers],
            ),
            (
                _("不配合检查"),
                [_("情形"), _("件数")],
                [[b.label, b.count] for b in r.non_cooperation],
            ),
            (
                _("指标说明"),
                [_("指标"), _("定义")],
                [[_(name), _(text)] for name, text in DEFINITIONS],
            ),
        ]

    def render(self) -> bytes:
        workbook = Workbook(write_only=True)
        bold, fill = Font(bold=True), PatternFill("solid", fgColor="DDE6F2")
        for title, headers, rows in self.sheets():
            sheet = workbook.create_sheet(title[:31])
            for index in range(1, len(headers) + 1):
                sheet.column_dimensions[get_column_letter(index)].width = 14 if index > 1 else 28
            sheet.freeze_panes = "A2"
            cells = []
            for header in headers:
                cell = WriteOnlyCell(sheet, value=header)
                cell.font, cell.fill = bold, fill
                cells.append(cell)
            sheet.append(cells)
            for row in rows:
                sheet.append([escape_text(v) if isinstance(v, str) else v for v in row])
        buffer = io.BytesIO()
        workbook.save(buffer)
        return buffer.getvalue()


class ReportPdfExporter(ReportExporter):
    """The printable report: A4, Chinese fonts embedded, the charts inline as SVG."""

    identifier = "pdf"
    verbose_name = "PDF"
    content_type = "application/pdf"
    extension = "pdf"
    template = "oversight/report_pdf.html"

    def context(self) -> dict:
        r = self.report
        return {
            "report": r,
            "charts": report_charts(r, by="section" if r.task is None else "task"),
            "today": timezone.localdate(),
            "totals_rows": list(
                zip(figure_headers(), figure_values(r.totals, as_text=True), strict=True)
            ),
            "rate_text": rate_text,
        }

    def render(self) -> bytes:
        return render_pdf(self.template, self.context(), extra_css=PDF_CSS)


PDF_CSS = """
.chart { display: block; margin: 2mm auto 4mm; max-width: 100%; height: auto; }
table.figures th, table.figures td { font-size: 8.5pt; padding: 1mm 1.2mm; }
.lead { text-indent: 2em; }
.keep { page-break-inside: avoid; }
h2 { page-break-after: avoid; }
"""


def export_response(request, exporter: ReportExporter, *, page: str, scope: Scope) -> HttpResponse:
    """Render and send as a recorded download (a PDF opens in the browser)."""
    content = exporter.render()
    return download_response(
        request,
        page=page,
        scope=scope,
        content=content,
        content_type=exporter.content_type,
        filename=exporter.filename,
        rows=exporter.row_count(),
        attachment=exporter.identifier != "pdf",
        detail={"format": exporter.identifier},
    )
