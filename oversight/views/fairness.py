"""Fairness pages (公平性统计): inspectors' assignments vs chance, enterprises' inspection
frequency and repeats, realised sampling rates per tier (issue 8; docs/fairness.md).

Read-only, for the 纪检派驻组 and the 审计管理员 (``OVERSIGHT_READERS``). Every page filters by
period, section and task (``?from=&to=&section=&task=``) and exports its table with
``?format=xlsx`` (a second table with ``&table=…``); viewing and exporting are audit events.
"""

from __future__ import annotations

from decimal import Decimal

from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_safe

from accounts.roles import BUSINESS_READERS
from core.charts import stacked_bar_chart
from core.paging import page_of, query_without
from core.permissions import role_required

from .. import fairness
from ..common import oversight_view_record, wants_xlsx, xlsx_response
from ..filters import scope_from_request
from ..navigation import OVERSIGHT_READERS


def _percent(value: float | None, digits: int = 2) -> str:
    return "—" if value is None else f"{value * 100:.{digits}f}%"


def _rate(value) -> str:
    return "—" if value is None else f"{(Decimal(value) * 100).normalize():f}%"


def _headers(headers) -> list[str]:
    return [str(h) for h in headers]


def _filename(stem: str, scope) -> str:
    return f"{stem}_{scope.start:%Y%m%d}-{scope.end:%Y%m%d}.xlsx"


def _context(request, form, scope, **extra) -> dict:
    return {
        "scope_form": form,
        "scope": scope,
        "query": request.GET.urlencode(),
        # The audit admin reads the oversight pages but not the business records they link to.
        "can_open_records": request.user.has_role(*BUSINESS_READERS),
        **extra,
    }


# ------------------------------------------------------------------------------ inspectors
INSPECTOR_HEADERS = [
    gettext_lazy("人员编号"),
    gettext_lazy("姓名"),
    gettext_lazy("所在股室"),
    gettext_lazy("有资格的检查组数"),
    gettext_lazy("实际分配次数"),
    gettext_lazy("期望分配次数"),
    gettext_lazy("实际/期望"),
    gettext_lazy("标准化残差 z"),
    gettext_lazy("偏高概率 P(X≥实际)"),
    gettext_lazy("偏低概率 P(X≤实际)"),
    gettext_lazy("事后回避替入"),
    gettext_lazy("事后回避替出"),
    gettext_lazy("判断"),
]


def _inspector_judgement(stat) -> str:
    if stat.ineligible_assignments:
        return _("不具备资格却被分配")
    if stat.flag_high:
        return _("明显偏高")
    if stat.flag_low:
        return _("明显偏低")
    return _("正常")


@role_required(*OVERSIGHT_READERS)
@require_safe
def fairness_inspectors(request):
    form, scope = scope_from_request(request)
    report = fairness.inspector_fairness(scope=scope)
    if wants_xlsx(request):
        rows = [
            [
                r.staff_number,
                r.name,
                r.section,
                r.stat.eligible_teams,
                r.stat.observed,
                round(r.stat.expected, 3),
                None if r.stat.ratio is None else round(r.stat.ratio, 3),
                None if r.stat.residual is None else round(r.stat.residual, 3),
                r.stat.p_high,
                r.stat.p_low,
                r.replaced_in,
                r.replaced_out,
                _inspector_judgement(r.stat),
            ]
            for r in report.rows
        ]
        return xlsx_response(
            request,
            page="fairness.inspectors",
            scope=scope,
            filename=_filename(_("检查人员分配公平性"), scope),
            headers=_headers(INSPECTOR_HEADERS),
            rows=rows,
            sheet_title=_("检查人员分配"),
        )
    oversight_view_record(request, page="fairness.inspectors", scope=scope)
    return render(
        request,
        "oversight/fairness_inspectors.html",
        _context(
            request,
            form,
            scope,
            report=report,
            p_value=fairness.format_p(report.test.p_value),
            rows=[
                (r, _inspector_judgement(r.stat), fairness.format_probability(r.stat.p_high))
                for r in report.rows
            ],
            fairness=fairness,
        ),
    )


# ----------------------------------------------------------------------------- enterprises
FREQUENCY_HEADERS = [
    gettext_lazy("年度"),
    gettext_lazy("在册企业（正常经营）"),
    gettext_lazy("未被抽中"),
    gettext_lazy("抽中1次"),
    gettext_lazy("抽中2次"),
    gettext_lazy("抽中3次及以上"),
    gettext_lazy("抽取次数"),
]
REPEAT_HEADERS = [
    gettext_lazy("年度"),
    gettext_lazy("统一社会信用代码"),
    gettext_lazy("企业名称"),
    gettext_lazy("年内被抽中次数"),
    gettext_lazy("抽查任务"),
    gettext_lazy("已合并为联合检查"),
]


REPEATS_PER_PAGE = 50  # on the page, paged; the export has them all


@role_required(*OVERSIGHT_READERS)
@require_safe
def fairness_enterprises(request):
    form, scope = scope_from_request(request)
    if wants_xlsx(request):
        if request.GET.get("table") == "repeats":
            repeats = fairness.repeat_inspections(scope=scope)
            return xlsx_response(
                request,
                page="fairness.repeats",
                scope=scope,
                filename=_filename(_("年内重复抽查企业"), scope),
                headers=_headers(REPEAT_HEADERS),
                rows=[
                    [
                        r.year,
                        r.uscc,
                        r.name,
                        r.times,
                        "；".join(f"{d['task_number']}（{d['date']}）" for d in r.draws),
                        _("是") if r.joint else _("否"),
                    ]
                    for r in repeats
                ],
                sheet_title=_("年内重复抽查"),
            )
        years = fairness.enterprise_frequency(scope=scope)
        return xlsx_response(
            request,
            page="fairness.enterprises",
            scope=scope,
            filename=_filename(_("企业被抽查频次"), scope),
            headers=_headers(FREQUENCY_HEADERS),
            rows=[
                [y.year, y.register, y.zero, y.once, y.twice, y.three_plus, y.draws] for y in years
            ],
            sheet_title=_("企业被抽查频次"),
        )
    years = fairness.enterprise_frequency(scope=scope)
    repeats = page_of(
        request,
        fetch=lambda offset, limit: fairness.repeat_inspections(
            scope=scope, limit=limit, offset=offset
        ),
        count=lambda: fairness.repeat_count(scope=scope),
        per_page=REPEATS_PER_PAGE,
    )
    chart = stacked_bar_chart(
        [str(y.year) for y in years],
        [
            (_("抽中1次"), [y.once for y in years]),
            (_("抽中2次"), [y.twice for y in years]),
            (_("抽中3次及以上"), [y.three_plus for y in years]),
        ],
        title=_("各年度被抽中企业数（按次数）"),
    )
    oversight_view_record(request, page="fairness.enterprises", scope=scope)
    return render(
        request,
        "oversight/fairness_enterprises.html",
        _context(
            request,
            form,
            scope,
            years=years,
            repeats=repeats,
            pager_query=query_without(request),
            chart=chart,
        ),
    )


# ----------------------------------------------------------------------------------- rates
RATE_HEADERS = [
    gettext_lazy("风险等级"),
    gettext_lazy("抽取次数"),
    gettext_lazy("名单户数合计"),
    gettext_lazy("抽中户数合计"),
    gettext_lazy("实际抽查比例"),
    gettext_lazy("配置比例"),
    gettext_lazy("按配置比例应抽户数"),
    gettext_lazy("按配置应抽比例（含取整）"),
    gettext_lazy("异常抽取数"),
]
RATE_DETAIL_HEADERS = [
    gettext_lazy("抽取编号"),
    gettext_lazy("抽查任务"),
    gettext_lazy("抽取基准日"),
    gettext_lazy("风险等级"),
    gettext_lazy("名单户数"),
    gettext_lazy("抽中户数"),
    gettext_lazy("实际比例"),
    gettext_lazy("抽取时使用的比例"),
    gettext_lazy("配置比例"),
    gettext_lazy("比例来源"),
    gettext_lazy("按配置应抽户数"),
    gettext_lazy("核对"),
]


def _source_label(source: str) -> str:
    return {"default": _("默认比例"), "override": _("任务特别比例")}.get(source, _("未配置"))


def _detail_check(row) -> str:
    problems = []
    if row.rate_differs:
        problems.append(_("抽取时的比例与配置不一致"))
    if row.short:
        problems.append(_("抽中户数少于配置比例要求"))
    return "；".join(problems) or _("一致")


@role_required(*OVERSIGHT_READERS)
@require_safe
def fairness_rates(request):
    form, scope = scope_from_request(request)
    summary, detail = fairness.tier_rates(scope=scope)
    if wants_xlsx(request):
        if request.GET.get("table") == "draws":
            return xlsx_response(
                request,
                page="fairness.rates.draws",
                scope=scope,
                filename=_filename(_("各次抽取分等级比例"), scope),
                headers=_headers(RATE_DETAIL_HEADERS),
                rows=[
                    [
                        d.draw_id,
                        d.task_number,
                        d.draw_date,
                        d.tier,
                        d.population,
                        d.drawn,
                        _percent(d.realised),
                        _rate(d.stored_rate),
                        _rate(d.configured_rate),
                        _source_label(d.configured_source),
                        d.required,
                        _detail_check(d),
                    ]
                    for d in detail
                ],
                sheet_title=_("各次抽取比例"),
            )
        return xlsx_response(
            request,
            page="fairness.rates",
            scope=scope,
            filename=_filename(_("分等级实际抽查比例"), scope),
            headers=_headers(RATE_HEADERS),
            rows=[
                [
                    t.tier,
                    t.draws,
                    t.population,
                    t.drawn,
                    _percent(t.realised),
                    "、".join(_rate(r) for r in t.configured) or "—",
                    t.required,
                    _percent(t.required_rate),
                    t.problems,
                ]
                for t in summary
            ],
            sheet_title=_("分等级抽查比例"),
        )
    oversight_view_record(request, page="fairness.rates", scope=scope)
    return render(
        request,
        "oversight/fairness_rates.html",
        _context(
            request,
            form,
            scope,
            summary=[
                (
                    t,
                    _percent(t.realised),
                    "、".join(_rate(r) for r in t.configured) or "—",
                    _percent(t.required_rate),
                )
                for t in summary
            ],
            detail=[
                (
                    d,
                    _percent(d.realised),
                    _rate(d.stored_rate),
                    _rate(d.configured_rate),
                    _source_label(d.configured_source),
                    _detail_check(d),
                )
                for d in detail
                if d.population > 0
            ],
        ),
    )
