"""The working-day arithmetic (art. 15: publish within 20 working days of the inspection's end)."""

import ast
import datetime as dt
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.cache import cache
from django.core.management import call_command

from workdays import seed_data
from workdays.calendar import (
    CalendarYearNotPublished,
    WorkingCalendar,
    add_working_days,
    clear_memo,
    deadline_or_pending,
)
from workdays.models import CalendarDay, CalendarYear

D = dt.date
ROOT = Path(__file__).resolve().parent.parent


# --- Known facts of the 2026 calendar (../shared/brief/domain.md) ------------------------------
@pytest.mark.django_db
@pytest.mark.parametrize(
    ("end", "n", "expected"),
    [
        # National Day 2026: 10-01..10-07 off, Saturday 10-10 a make-up working day.
        (D(2026, 9, 28), 20, D(2026, 10, 30)),
        (D(2026, 10, 3), 20, D(2026, 11, 3)),
        (D(2026, 9, 30), 1, D(2026, 10, 8)),
        (D(2026, 10, 9), 1, D(2026, 10, 10)),  # make-up Saturday counts
        (D(2026, 10, 10), 1, D(2026, 10, 12)),
        # Spring Festival 2026: 02-15..02-23 off; make-up Saturdays 02-14 and 02-28.
        (D(2026, 2, 13), 1, D(2026, 2, 14)),
        (D(2026, 2, 14), 1, D(2026, 2, 24)),
        (D(2026, 2, 13), 20, D(2026, 3, 19)),
        # New Year 2026: 01-01..01-03 off, Sunday 01-04 a make-up working day.
        (D(2025, 12, 31), 1, D(2026, 1, 4)),
        (D(2025, 12, 31), 20, D(2026, 1, 29)),
        # The end date is not counted, even when it is a working day.
        (D(2026, 11, 2), 1, D(2026, 11, 3)),
        # 2019 New Year: 2018-12-29 (Saturday) worked, 2018-12-30..2019-01-01 off (2019 notice).
        (D(2018, 12, 28), 1, D(2018, 12, 29)),
        (D(2018, 12, 29), 1, D(2019, 1, 2)),
        # Last 20-day deadline that stays inside 2026.
        (D(2026, 12, 3), 20, D(2026, 12, 31)),
    ],
)
def test_known_deadlines(end, n, expected):
    assert add_working_days(end, n) == expected


@pytest.mark.django_db
def test_a_day_in_an_unpublished_year_raises_never_guesses():
    assert not CalendarYear.objects.filter(year=2027).exists()
    with pytest.raises(CalendarYearNotPublished) as info:
        add_working_days(D(2026, 12, 4), 20)
    assert info.value.year == 2027
    assert "2027 年节假日安排尚未发布" in str(info.value)
    # Counting starts the day after the end date: 2026-12-31 + 1 needs 2027 only.
    with pytest.raises(CalendarYearNotPublished):
        add_working_days(D(2026, 12, 31), 1)
    # A year before the seed is not published either.
    with pytest.raises(CalendarYearNotPublished) as early:
        add_working_days(D(2003, 6, 1), 1)
    assert early.value.year == 2003


@pytest.mark.django_db
def test_end_of_december_only_needs_the_next_year():
    # 2003 is not published, but the day after 2003-12-31 is in 2004, which is.
    assert add_working_days(D(2003, 12, 31), 1) == D(2004, 1, 2)


@pytest.mark.django_db
def test_deadline_or_pending():
    assert str(deadline_or_pending(D(2026, 10, 3))) == "2026-11-03"
    pending = deadline_or_pending(D(2026, 12, 10))
    assert pending.is_pending and pending.missing_year == 2027
    assert str(pending) == "待定（2027年节假日安排未发布）"


@pytest.mark.django_db
def test_bad_arguments():
    with pytest.raises(ValueError):
        add_working_days(D(2026, 10, 3), 0)
    with pytest.raises(TypeError):
        add_working_days(dt.datetime(2026, 10, 3, 8, 0), 1)


# --- Properties, checked exhaustively over every end date of the seed -------------------------
@pytest.mark.django_db
@pytest.mark.parametrize("n", [1, 5, 20])
def test_properties_over_every_end_date(n, django_assert_max_num_queries):
    with django_assert_max_num_queries(30):  # one index query + one per year, not per date
        calendar = WorkingCalendar()
        end, last_end = D(2004, 1, 1), D(2026, 11, 30)
        previous = None
        while end <= last_end:
            deadline = calendar.add_working_days(end, n)
            assert deadline > end
            assert calendar.is_working_day(deadline)
            assert calendar.count_working_days(end, deadline) == n
            assert calendar.count_working_days(end, deadline - dt.timedelta(days=1)) == n - 1
            if previous is not None:
                assert deadline >= previous  # monotone in the end date
            previous = deadline
            end += dt.timedelta(days=1)


@pytest.mark.django_db
def test_bulk_deadlines_use_few_queries(django_assert_max_num_queries):
    clear_memo()
    cache.clear()  # cold: one query for the index, one per year (2025, 2026)
    ends = [D(2025, 1, 1) + dt.timedelta(days=i) for i in range(730)]
    with django_assert_max_num_queries(3):
        result = WorkingCalendar().deadlines(ends, 20)
    assert result[D(2026, 10, 3)] == D(2026, 11, 3)
    assert isinstance(result[D(2026, 12, 20)], CalendarYearNotPublished)


@pytest.mark.django_db
def test_seed_agrees_with_chinesecalendar_on_every_date():
    chinese_calendar = pytest.importorskip("chinese_calendar")
    calendar = WorkingCalendar()
    day = D(2004, 1, 1)
    while day <= D(2026, 12, 31):
        assert calendar.is_working_day(day) == chinese_calendar.is_workday(day), day
        info = calendar.day(day)
        assert (info.kind == "holiday") == chinese_calendar.is_holiday(
            day
        ) or info.kind == "weekend"
        day += dt.timedelta(days=1)


# --- The seed: data file, migration, no runtime dependency ------------------------------------
@pytest.mark.django_db
def test_migration_published_2004_to_2026_only():
    years = set(
        CalendarYear.objects.filter(status=CalendarYear.Status.PUBLISHED).values_list(
            "year", flat=True
        )
    )
    assert years == set(range(2004, 2027))
    seeded = CalendarYear.objects.get(year=2026)
    assert seeded.source == CalendarYear.Source.SEED
    assert CalendarDay.objects.filter(calendar_year=seeded).count() == 365
    national_day = CalendarDay.objects.get(calendar_year=seeded, date=D(2026, 10, 1))
    assert (national_day.kind, national_day.holiday_name) == ("holiday", "国庆节")
    assert CalendarDay.objects.get(calendar_year=seeded, date=D(2026, 10, 10)).kind == "makeup"
    # The 2019 notice carries the 2018 December dates.
    notice_2019 = CalendarYear.objects.get(year=2019)
    assert CalendarDay.objects.get(calendar_year=notice_2019, date=D(2018, 12, 29)).kind == "makeup"


def test_data_file_is_what_the_command_generates(tmp_path):
    pytest.importorskip("chinese_calendar")
    out = tmp_path / "calendar.json"
    call_command("generate_calendar_data", output=str(out), stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert out.read_bytes() == seed_data.DEFAULT_DATA_FILE.read_bytes()
    data = seed_data.load()
    assert data["first_year"] == 2004 and data["last_year"] == 2026
    assert ["2026-10-01", "2026-10-07", "国庆节"] in data["years"]["2026"]["holidays"]
    assert "2026-10-10" in data["years"]["2026"]["makeup_days"]


def _imports_of(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_app_code_never_imports_chinesecalendar():
    dev_only = ROOT / "workdays/management/commands/generate_calendar_data.py"
    offenders = []
    for path in ROOT.rglob("*.py"):
        parts = path.relative_to(ROOT).parts
        if parts[0] in {".venv", "tests", "var", "bench", "node_modules"} or path == dev_only:
            continue
        if "chinese_calendar" in _imports_of(path):
            offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []


def test_runtime_does_not_load_chinesecalendar(tmp_path):
    code = (
        "import sys, django, datetime;"
        "django.setup();"
        "from django.core.management import call_command;"
        "call_command('migrate', verbosity=0);"
        "from workdays.calendar import add_working_days;"
        "import workdays.views, workdays.dashboard, workdays.services, workdays.demo;"
        "assert add_working_days(datetime.date(2026, 10, 3), 20) == datetime.date(2026, 11, 3);"
        "assert 'chinese_calendar' not in sys.modules, 'chinese_calendar was imported'"
    )
    env = {
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "PATH": "/usr/bin:/bin",
    }
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-2000:]


# --- The command -------------------------------------------------------------------------------
def _run(*args):
    import io

    out, err = io.StringIO(), io.StringIO()
    call_command("workday_deadline", *args, stdout=out, stderr=err)
    return out.getvalue()


@pytest.mark.django_db
def test_command_prints_the_deadline_alone():
    assert _run("2026-10-03") == "2026-11-03\n"
    assert _run("2026-09-28", "20") == "2026-10-30\n"
    assert _run("2026-09-30", "1") == "2026-10-08\n"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["2026-12-10"], "2027 年节假日安排尚未发布"),
        (["2026-13-01"], "日期无效"),
        (["2026-W40-1"], "Invalid date"),
        (["20261003"], "YYYY-MM-DD"),
        (["2026-10-03", "0"], "须为不小于 1 的整数"),
        (["2026-10-03", "x"], "Invalid number of working days"),
    ],
)
def test_command_errors(args, message):
    from django.core.management import CommandError

    with pytest.raises(CommandError, match=message):
        _run(*args)


def test_command_exit_status_in_a_real_process(tmp_path):
    env = {
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "PATH": "/usr/bin:/bin",
    }
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True, timeout=120
    )
    ok = subprocess.run(
        [sys.executable, "manage.py", "workday_deadline", "2026-10-03"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (ok.returncode, ok.stdout) == (0, "2026-11-03\n")
    missing = subprocess.run(
        [sys.executable, "manage.py", "workday_deadline", "2026-12-10", "20"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert missing.returncode != 0 and missing.stdout == ""
    assert "2027 年节假日安排尚未发布" in missing.stderr
    assert "holiday schedule has not been published" in missing.stderr
