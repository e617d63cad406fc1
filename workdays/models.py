"""The bureau's working-day calendar (docs/calendar.md).

A ``CalendarYear`` is one revision of one year's State Council holiday notice; its
``CalendarDay`` rows give the kind of every date of that year, plus the dates of the previous
December the notice touches (a New Year holiday may start on 31 December). Only the published
revision of a year counts. A published revision is never edited: a correction is a new revision
(draft → approved by a second person → published), and the old one stays, marked superseded.
"""

import uuid
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q


class CalendarYear(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "草稿"
        PUBLISHED = "published", "已发布"
        SUPERSEDED = "superseded", "已被更正取代"
        DISCARDED = "discarded", "已作废"

    class Source(models.TextChoices):
        SEED = "seed", "初始数据（chinesecalendar）"
        MANUAL = "manual", "人工录入"

    year = models.PositiveSmallIntegerField("年份", db_index=True)
    revision = models.PositiveSmallIntegerField("修订版", default=1)
    status = models.CharField("状态", max_length=12, choices=Status, default=Status.DRAFT)
    source = models.CharField("来源", max_length=8, choices=Source, default=Source.MANUAL)
    notice_title = models.CharField("国务院通知标题", max_length=200)
    notice_number = models.CharField("通知文号", max_length=60, blank=True)
    reason = models.CharField(
        "更正原因", max_length=500, blank=True, help_text="修订版 2 起必填：为何更正已发布的安排"
    )
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="录入人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    entered_at = models.DateTimeField("录入时间", null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="审批人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    approved_at = models.DateTimeField("审批（发布）时间", null=True, blank=True)
    # Identifies this revision's content for caches (ids can be reused after a rollback).
    content_key = models.UUIDField("内容标识", default=uuid.uuid4, editable=False, unique=True)

    # Events written before the calendar left ``disclosure`` name it so (decision 100); histories read both.
    audit_former_object_types = ("disclosure.calendaryear",)

    class Meta:
        # The tables keep the names they had in ``disclosure`` (docs/decisions.md, decision 100).
        db_table = "disclosure_calendaryear"
        verbose_name = "年度节假日安排"
        verbose_name_plural = "年度节假日安排"
        ordering = ["-year", "-revision"]
        constraints = [
            models.UniqueConstraint(fields=["year", "revision"], name="calendar_year_revision"),
            models.UniqueConstraint(
                fields=["year"],
                condition=Q(status="published"),
                name="calendar_one_published_per_year",
            ),
            models.UniqueConstraint(
                fields=["year"], condition=Q(status="draft"), name="calendar_one_draft_per_year"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.year} 年节假日安排（第 {self.revision} 版，{self.get_status_display()}）"

    @property
    def is_draft(self) -> bool:
        return self.status == self.Status.DRAFT

    @property
    def is_published(self) -> bool:
        return self.status == self.Status.PUBLISHED


class CalendarDay(models.Model):
    class Kind(models.TextChoices):
        WORKDAY = "workday", "工作日"
        WEEKEND = "weekend", "周末"
        HOLIDAY = "holiday", "法定节假日"
        MAKEUP = "makeup", "调休上班"

    WORKING_KINDS = frozenset({Kind.WORKDAY, Kind.MAKEUP})

    calendar_year = models.ForeignKey(
        CalendarYear, verbose_name="年度安排", on_delete=models.CASCADE, related_name="days"
    )
    date = models.DateField("日期")
    kind = models.CharField("类型", max_length=8, choices=Kind)
    holiday_name = models.CharField("节日名称", max_length=60, blank=True)

    class Meta:
        db_table = "disclosure_calendarday"
        verbose_name = "日历日"
        verbose_name_plural = "日历日"
        ordering = ["date"]
        constraints = [
            models.UniqueConstraint(fields=["calendar_year", "date"], name="calendar_day_unique"),
            models.CheckConstraint(
                condition=Q(kind="holiday") | Q(holiday_name=""),
                name="calendar_day_name_only_for_holiday",
            ),
        ]

    def __str__(self) -> str:
        name = f" {self.holiday_name}" if self.holiday_name else ""
        return f"{self.date:%Y-%m-%d} {self.get_kind_display()}{name}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        # A published (or superseded) revision is never edited in place: corrections are revisions.
        if not self.calendar_year.is_draft:
            raise ValidationError("已发布的节假日安排不可修改，请以更正修订版提交。")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        if not self.calendar_year.is_draft:
            raise ValidationError("已发布的节假日安排不可修改，请以更正修订版提交。")
        return super().delete(*args, **kwargs)

    @property
    def is_working(self) -> bool:
        return self.kind in self.WORKING_KINDS
