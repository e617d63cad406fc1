"""The working-day calendar moves from ``disclosure`` to its own app (docs/decisions.md, decision 100).

State only: the tables ``disclosure_calendaryear`` / ``disclosure_calendarday`` were created (and
seeded) by ``disclosure.0001_calendar`` / ``0002_seed_calendar`` and keep their names, rows, ids
and constraints; ``disclosure.0007_calendar_moved_to_workdays`` drops the old models from
``disclosure``'s state. No row is copied and no SQL runs.
"""

import django.db.models.deletion
import uuid
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('disclosure', '0002_seed_calendar'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[
        migrations.CreateModel(
            name='CalendarYear',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('year', models.PositiveSmallIntegerField(db_index=True, verbose_name='年份')),
                ('revision', models.PositiveSmallIntegerField(default=1, verbose_name='修订版')),
                ('status', models.CharField(choices=[('draft', '草稿'), ('published', '已发布'), ('superseded', '已被更正取代'), ('discarded', '已作废')], default='draft', max_length=12, verbose_name='状态')),
                ('source', models.CharField(choices=[('seed', '初始数据（chinesecalendar）'), ('manual', '人工录入')], default='manual', max_length=8, verbose_name='来源')),
                ('notice_title', models.CharField(max_length=200, verbose_name='国务院通知标题')),
                ('notice_number', models.CharField(blank=True, max_length=60, verbose_name='通知文号')),
                ('reason', models.CharField(blank=True, help_text='修订版 2 起必填：为何更正已发布的安排', max_length=500, verbose_name='更正原因')),
                ('entered_at', models.DateTimeField(blank=True, null=True, verbose_name='录入时间')),
                ('approved_at', models.DateTimeField(blank=True, null=True, verbose_name='审批（发布）时间')),
                ('content_key', models.UUIDField(default=uuid.uuid4, editable=False, unique=True, verbose_name='内容标识')),
                ('approved_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='审批人')),
                ('entered_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='录入人')),
            ],
            options={
                'db_table': 'disclosure_calendaryear',
                'verbose_name': '年度节假日安排',
                'verbose_name_plural': '年度节假日安排',
                'ordering': ['-year', '-revision'],
            },
        ),
        migrations.CreateModel(
            name='CalendarDay',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('date', models.DateField(verbose_name='日期')),
                ('kind', models.CharField(choices=[('workday', '工作日'), ('weekend', '周末'), ('holiday', '法定节假日'), ('makeup', '调休上班')], max_length=8, verbose_name='类型')),
                ('holiday_name', models.CharField(blank=True, max_length=60, verbose_name='节日名称')),
                ('calendar_year', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='days', to='workdays.calendaryear', verbose_name='年度安排')),
            ],
            options={
                'db_table': 'disclosure_calendarday',
                'verbose_name': '日历日',
                'verbose_name_plural': '日历日',
                'ordering': ['date'],
            },
        ),
        migrations.AddConstraint(
            model_name='calendaryear',
            constraint=models.UniqueConstraint(fields=('year', 'revision'), name='calendar_year_revision'),
        ),
        migrations.AddConstraint(
            model_name='calendaryear',
            constraint=models.UniqueConstraint(condition=models.Q(('status', 'published')), fields=('year',), name='calendar_one_published_per_year'),
        ),
        migrations.AddConstraint(
            model_name='calendaryear',
            constraint=models.UniqueConstraint(condition=models.Q(('status', 'draft')), fields=('year',), name='calendar_one_draft_per_year'),
        ),
        migrations.AddConstraint(
            model_name='calendarday',
            constraint=models.UniqueConstraint(fields=('calendar_year', 'date'), name='calendar_day_unique'),
        ),
        migrations.AddConstraint(
            model_name='calendarday',
            constraint=models.CheckConstraint(condition=models.Q(('kind', 'holiday'), ('holiday_name', ''), _connector='OR'), name='calendar_day_name_only_for_holiday'),
        ),
        ]),
    ]
