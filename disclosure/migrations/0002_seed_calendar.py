"""Load the committed seed calendar (now workdays/data/cn_calendar_2004_2026.json): every year
2004–2026 as a published revision 1. The chinesecalendar package is not needed here."""

from django.db import migrations

from workdays.seed_data import expand, load, parse_year


def seed(apps, schema_editor):
    CalendarYear = apps.get_model("disclosure", "CalendarYear")
    CalendarDay = apps.get_model("disclosure", "CalendarDay")
    data = load()
    days = []
    for year_text, entry in data["years"].items():
        year = int(year_text)
        if CalendarYear.objects.filter(year=year).exists():
            continue
        record = CalendarYear.objects.create(
            year=year,
            revision=1,
            status="published",
            source="seed",
            notice_title=entry["notice_title"],
            notice_number=entry["notice_number"],
        )
        holidays, makeup = parse_year(entry)
        days.extend(
            CalendarDay(calendar_year=record, date=day, kind=kind, holiday_name=name)
            for day, kind, name in expand(year, holidays, makeup)
        )
    # bulk_create skips CalendarDay.save(), whose guard refuses writes to published years.
    CalendarDay.objects.bulk_create(days, batch_size=2000)


def unseed(apps, schema_editor):
    apps.get_model("disclosure", "CalendarYear").objects.filter(source="seed").delete()


class Migration(migrations.Migration):
    dependencies = [("disclosure", "0001_calendar")]
    operations = [migrations.RunPython(seed, unseed)]
