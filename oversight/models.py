"""Precomputed report figures (docs/reports.md, "Performance"; decisions 91 and 94).

``VisitFigures`` is a read model: one row per visit and task it covers (``Visit.tasks``), with
the per-visit facts the reports count, so a cold report groups one narrow table instead of
running subqueries over results, categories, follow-ups and publication records per visit.
``VisitCategoryFigures`` holds the same visit's result categories (how many of its results carry
each), ``VisitTradeFigures`` its enterprise's trades. The rows are derived data, rewritten by ``oversight.figures.visit_figures_refresh``
whenever a service changes what they read (``inspections.signals.visits_changed``; the township
also on ``enterprises.signals.register_changed``); never edited by hand.
"""

from django.db import models


class VisitTaskRow(models.Model):
    """A row about one visit and one task it covers (a joint visit has one per task)."""

    visit = models.ForeignKey(
        "inspections.Visit", verbose_name="检查记录", on_delete=models.CASCADE, related_name="+"
    )
    task = models.ForeignKey(
        "inspections.Task", verbose_name="任务", on_delete=models.CASCADE, related_name="+"
    )

    class Meta:
        abstract = True


class VisitFigures(VisitTaskRow):
    # The township (the enterprise's current one, as docs/reports.md defines it) is copied here
    # and its trades into VisitTradeFigures, kept in step by the register's services (a report
    # would otherwise join the 10^6-row register and its trade links).
    enterprise = models.ForeignKey(
        "enterprises.Enterprise",
        verbose_name="企业",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    township = models.ForeignKey(
        "enterprises.Township",
        verbose_name="企业所在乡镇/街道",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        blank=True,
        related_name="+",
    )
    # A joint visit has a row for every task it covers: where a report spans several of them it
    # counts the visit once (DISTINCT), which only these rows need.
    joint = models.BooleanField("联合检查（覆盖多个任务）", default=False)
    tier = models.CharField("抽取时风险等级", max_length=8, null=True, blank=True)
    checked = models.BooleanField("已检查", default=False)
    approved = models.BooleanField("已审核", default=False)
    problem = models.BooleanField("有发现问题的结果", default=False)
    follow_up = models.BooleanField("需后续处置", default=False)
    follow_up_closed = models.BooleanField("后续处置均已办结", default=False)
    records = models.PositiveIntegerField("公示记录条数", default=0)
    records_unpublished = models.PositiveIntegerField("未公示条数", default=0)
    records_late = models.PositiveIntegerField("逾期公示条数", default=0)
    transfers = models.PositiveIntegerField("线索移送件数", default=0)
    non_cooperation = models.PositiveIntegerField("不配合检查情节严重件数", default=0)

    class Meta:
        verbose_name = "检查记录统计数"
        verbose_name_plural = verbose_name
        constraints = [
            models.UniqueConstraint(fields=["task", "visit"], name="visitfigures_task_visit")
        ]
        indexes = [
            models.Index(fields=["visit"], name="visitfigures_visit"),
            # The few visits with transfers or non-cooperation cases, for their breakdowns.
            models.Index(
                fields=["task", "visit"],
                condition=models.Q(transfers__gt=0),
                name="visitfigures_transfers",
            ),
            models.Index(
                fields=["task", "visit"],
                condition=models.Q(non_cooperation__gt=0),
                name="visitfigures_non_coop",
            ),
            models.Index(
                fields=["task", "visit"], condition=models.Q(joint=True), name="visitfigures_joint"
            ),
        ]

    def __str__(self):
        return f"{self.visit_id}/{self.task_id}"


class VisitCategoryFigures(VisitTaskRow):
    """How many results of a visit carry a result category, for each task the visit covers
    (with the visit's approved and joint flags, so the result mix groups this table alone)."""

    category = models.ForeignKey(
        "inspections.ResultCategory",
        verbose_name="结果类别",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    approved = models.BooleanField("已审核", default=False)
    joint = models.BooleanField("联合检查（覆盖多个任务）", default=False)
    results = models.PositiveIntegerField("结果条数", default=0)

    class Meta:
        verbose_name = "检查结果类别统计数"
        verbose_name_plural = verbose_name
        constraints = [
            models.UniqueConstraint(
                fields=["task", "visit", "category"], name="visitcategoryfigures_key"
            )
        ]
        indexes = [models.Index(fields=["visit"], name="visitcategoryfigures_visit")]

    def __str__(self):
        return f"{self.visit_id}/{self.task_id}/{self.category_id}"


class VisitTradeFigures(VisitTaskRow):
    """The trades of a visit's enterprise (its current ones; an enterprise without a trade has
    one row with no trade), for each task the visit covers, with the visit's flags."""

    enterprise = models.ForeignKey(
        "enterprises.Enterprise",
        verbose_name="企业",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    trade = models.ForeignKey(
        "enterprises.Trade",
        verbose_name="监管行业",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        blank=True,
        related_name="+",
    )
    approved = models.BooleanField("已审核", default=False)
    problem = models.BooleanField("有发现问题的结果", default=False)
    joint = models.BooleanField("联合检查（覆盖多个任务）", default=False)

    class Meta:
        verbose_name = "检查记录行业统计数"
        verbose_name_plural = verbose_name
        indexes = [
            models.Index(fields=["visit"], name="visittradefigures_visit"),
            models.Index(fields=["enterprise"], name="visittradefigures_enterprise"),
            models.Index(fields=["task", "trade"], name="visittradefigures_task"),
        ]

    def __str__(self):
        return f"{self.visit_id}/{self.task_id}/{self.trade_id}"
