"""The contract commands: verify_draw DRAW_ID_OR_ZIP and draw_evidence DRAW_ID OUT.zip."""

import datetime
import io
import json
import zipfile

import pytest
import time_machine
from django.core.management import CommandError, call_command

from inspections.services import draws as services
from tests.draws_fixtures import DICE, WITNESSES


@pytest.fixture
def completed(lead, make_task, make_enterprises, roster):
    with time_machine.travel(datetime.datetime(2026, 11, 26, 2, tzinfo=datetime.UTC), tick=False):
        make_enterprises({"A": 12, "B": 5, "C": 2, "D": 2})
        draw = services.draw_commit(actor=lead, task=make_task())
        return services.draw_perform(
            actor=lead, draw=draw, witnesses=WITNESSES, dice_kind="d6", dice=DICE
        )


def run(*args):
    out = io.StringIO()
    try:
        call_command(*args, stdout=out)
    except SystemExit as exc:
        return exc.code, out.getvalue()
    return 0, out.getvalue()


def test_verify_draw_from_database_and_zip(completed, tmp_path):
    code, out = run("verify_draw", str(completed.pk))
    assert code == 0 and out.startswith(f"OK draw {completed.pk}: 4 selected")
    target = tmp_path / "e.zip"
    code, out = run("draw_evidence", str(completed.pk), str(target))
    assert code == 0 and out.split()[0] == str(target)
    code, out = run("verify_draw", str(target))
    assert code == 0 and out.startswith("OK draw")
    # the same draw always gives the same package
    again = tmp_path / "again.zip"
    run("draw_evidence", str(completed.pk), str(again))
    assert again.read_bytes() == target.read_bytes()


def _rewrite(source, target, name, change):
    with zipfile.ZipFile(source) as src, zipfile.ZipFile(target, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename.endswith(name):
                data = change(data)
            dst.writestr(info, data)


def test_tampered_zip_fails_with_exit_1(completed, tmp_path):
    good = tmp_path / "good.zip"
    run("draw_evidence", str(completed.pk), str(good))
    bad = tmp_path / "bad.zip"

    def forge_ticket(data):
        doc = json.loads(data)
        doc["selected"][0]["ticket"] = "0" * 64
        return json.dumps(doc).encode()

    _rewrite(good, bad, "draw.json", forge_ticket)
    code, out = run("verify_draw", str(bad))
    assert code == 1 and "selected[0]" in out
    edited = tmp_path / "edited.zip"
    _rewrite(good, edited, "manifest.csv", lambda d: d.replace(b",A\n", b",B\n", 1))
    code, out = run("verify_draw", str(edited))
    assert code == 1 and "sha256 of manifest.csv" in out


def test_errors_are_command_errors(db, tmp_path):
    with pytest.raises(CommandError, match="不存在"):
        call_command("verify_draw", "999")
    with pytest.raises(CommandError, match="找不到"):
        call_command("verify_draw", str(tmp_path / "nope.zip"))
    junk = tmp_path / "junk.zip"
    junk.write_bytes(b"not a zip")
    with pytest.raises(CommandError, match="无法读取"):
        call_command("verify_draw", str(junk))
    with pytest.raises(CommandError, match="不存在"):
        call_command("draw_evidence", "999", str(tmp_path / "x.zip"))


def _drop_guards(cursor, vendor):
    """An attacker with DDL rights removes the triggers (rolled back with the test)."""
    tables = ["drawwitness", "drawselection", "drawteammember", "drawreplacement", "jointvisit"]
    if vendor == "postgresql":
        cursor.execute("DROP TRIGGER inspections_draw_guard ON inspections_draw")
        for t in tables:
            cursor.execute(f"DROP TRIGGER inspections_{t}_append_only ON inspections_{t}")
    else:
        cursor.execute("DROP TRIGGER inspections_draw_completed_only_void")
        for t in tables:
            cursor.execute(f"DROP TRIGGER inspections_{t}_no_update")


def test_the_database_refuses_raw_updates(completed):
    from django.db import DatabaseError, connection, transaction

    for sql in (
        "UPDATE inspections_draw SET dice = '11111111111111111111' WHERE id = %s",
        "UPDATE inspections_drawselection SET ticket = 'f' WHERE draw_id = %s",
    ):
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, [completed.pk])
    if connection.vendor == "postgresql":
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "DELETE FROM inspections_drawselection WHERE draw_id = %s", [completed.pk]
            )


def test_tampering_in_the_database_is_detected(completed):
    from django.db import connection

    from inspections.models import Draw

    with connection.cursor() as cursor:
        _drop_guards(cursor, connection.vendor)
        cursor.execute(
            "UPDATE inspections_draw SET dice = %s WHERE id = %s", ["1" * 20, completed.pk]
        )
        cursor.execute(
            "UPDATE inspections_drawselection SET ticket = %s WHERE draw_id = %s",
            ["f" * 64, completed.pk],
        )
    assert Draw.objects.get(pk=completed.pk).dice == "1" * 20
    code, out = run("verify_draw", str(completed.pk))
    assert code == 1 and "database selections differ" in out
    assert "database dice differs" in out
