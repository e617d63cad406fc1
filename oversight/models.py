"""Precomputed report figures (docs/reports.md, "Performance"; decision 91).

``VisitFigures`` is a read model: one row per visit and task it covers (``Visit.tasks``), with
the per-visit facts the reports count, so a cold report groups one narrow table instead of
running subqueries over results, categories, follow-ups and publication records per visit. The
rows are derived data, rewritten by ``oversight.figures.visit_figures_refresh`` whenever a
service changes what they read (``inspections.signals.visits_changed``); never edited by hand.
"""

from django.db import models


class VisitFigures(models.Model):
    visit = models.ForeignKey(
        "inspections.Visit", verbose_name="检查记录", on_delete=models.CASCADE, related_name="+"
    )
    task = models.ForeignKey(
        "inspections.Task", verbose_name="任务", on_delete=models.CASCADE, related_name="+"
    )
    # The township and trades are read from the enterprise when the report is made (its current
    # ones, as docs/reports.md defines them), so no enterprise change can make them stale.
    enterprise = models.ForeignKey(
        "enterprises.Enterprise",
        verbose_name="企业",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
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
        ]

    def __str__(self):
        return f"{self.visit_id}/{self.task_id}"
