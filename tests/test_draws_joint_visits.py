"""Joint visits (一次抽查、全面体检) in the evidence package: joint_visits.json lists every merge a
draw took part in (team before and after, who was added for which task and qualification), and
verify.py / verify_draw recompute each merge and check it against the draw."""

import datetime
import io
import json
import subprocess
import sys
import zipfile

import pytest
import time_machine

from enterprises.models import CheckItem
from inspections.drawing import evidence
from inspections.drawing import verify as engine
from inspections.models import DrawSelection
from inspections.selectors import draws as selectors
from inspections.services import draws as services
from tests.draws_fixtures import DICE, WITNESSES, replace_approved

TODAY = datetime.datetime(2026, 11, 26, 10, 0, tzinfo=datetime.UTC)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(TODAY, tick=True):
        yield


def complete(task, actor, dice=DICE):
    draw = services.draw_commit(actor=actor, task=task)
    return services.draw_perform(
        actor=actor, draw=draw, witnesses=WITNESSES, dice_kind="d6", dice=dice
    )


@pytest.fixture
def merged(lead, make_task, make_enterprises, make_inspector, section, trade):
    """Two tasks drew the same enterprise with overlapping windows; the second task's item
    needs hazchem, held by one inspector only. Merged from the second draw's selection."""
    make_enterprises({"D": 1})
    for _ in range(4):
        make_inspector()
    hazchem = make_inspector(professional_qualifications=["hazchem"])
    item2 = CheckItem.objects.create(
        code="GX-002",
        name="危险化学品检查",
        legal_basis="条例",
        section=section,
        required_qualification="hazchem",
    )
    item2.trades.add(trade)
    first = complete(make_task(same_item_once_per_year=False), lead)
    second = complete(make_task(items=[item2], same_item_once_per_year=False), lead, dice="6" * 20)
    visit = services.joint_visit_merge(actor=lead, selection=DrawSelection.objects.get(draw=second))
    return first, second, visit, hazchem


def package(draw) -> dict:
    with zipfile.ZipFile(io.BytesIO(selectors.evidence_zip(draw))) as archive:
        return {n.split("/")[-1]: archive.read(n) for n in archive.namelist()}


def rezip(files: dict, folder="draw") -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in files.items():
            archive.writestr(f"{folder}/{name}", data)
    return buffer.getvalue()


def test_both_draws_packages_list_the_merge_and_verify(merged):
    first, second, visit, hazchem = merged
    base_team = selectors.draw_document(first)["teams"][0]["inspectors"]
    for draw in (first, second):
        files = package(draw)
        (record,) = json.loads(files["joint_visits.json"])
        assert record["id"] == visit.pk
        assert record["base"] == {"draw_id": first.pk, "task": first.task.number}
        assert record["before"] == base_team
        assert record["after"] == visit.team
        assert record["added"] == visit.added
        assert [t["draw_id"] for t in record["tasks"]] == [second.pk]
        assert record["tasks"][0]["required"] == ["hazchem"]
        assert record["reason"]
        assert evidence.verify_zip(io.BytesIO(rezip(files))) == []
        assert selectors.draw_verification(draw) == []
    if hazchem.staff_number not in base_team:
        assert visit.team == [*base_team, hazchem.staff_number]
        assert record["added"][0]["staff_number"] == hazchem.staff_number


def test_standalone_verify_py_reports_the_merge(merged, tmp_path):
    first, _, visit, _ = merged
    with zipfile.ZipFile(io.BytesIO(selectors.evidence_zip(first))) as archive:
        archive.extractall(tmp_path)
    run = subprocess.run(
        [sys.executable, "-I", "verify.py"],
        cwd=tmp_path / f"draw-{first.pk}",
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stdout
    lines = run.stdout.strip().splitlines()
    assert lines[-1] == "OK"
    assert any(line.startswith("joint visit ") and "/".join(visit.team) in line for line in lines)


@pytest.mark.parametrize(
    "tamper, message",
    [
        (lambda r: r["after"].append("WG999"), "after"),
        (
            lambda r: r["added"].append({"task": "X", "qualification": "q", "staff_number": "Z"}),
            "added",
        ),
        (lambda r: r.__setitem__("before", list(reversed(r["before"]))), "before the merge"),
        (lambda r: r["tasks"][0]["ranking"].reverse(), "ranking"),
        (lambda r: r["tasks"][0].__setitem__("required", []), "required"),
    ],
)
def test_a_changed_merge_fails_verification(merged, tamper, message):
    first, second, _, _ = merged
    # "before" is checked in the earliest draw's package; the task inputs in the later one's
    draw = first if message == "before the merge" else second
    files = package(draw)
    records = json.loads(files["joint_visits.json"])
    tamper(records[0])
    files["joint_visits.json"] = json.dumps(records).encode()
    problems = evidence.verify_zip(io.BytesIO(rezip(files)))
    assert any(message in p for p in problems), problems


def test_a_replacement_before_the_merge_is_the_team_before(
    merged, lead, lead2, make_task, make_enterprises
):
    first, second, visit, _ = merged
    selection = DrawSelection.objects.get(draw=first)
    team = selectors.draw_document(first)["teams"][0]["inspectors"]
    from inspectors.models import Inspector

    replace_approved(
        requester=lead,
        selection=selection,
        out=Inspector.objects.get(staff_number=team[0]),
        reason="与企业负责人系亲属",
        approver=lead2,
    )
    # the earlier merge still verifies (its team before is the team of that moment) ...
    assert evidence.verify_zip(io.BytesIO(selectors.evidence_zip(first))) == []
    # ... and a new merge starts from the team after the replacement
    again = services.joint_visit_merge(actor=lead, selection=DrawSelection.objects.get(draw=second))
    records = json.loads(package(first)["joint_visits.json"])
    assert [r["id"] for r in records] == [visit.pk, again.pk]
    assert records[1]["before"] == selectors.draw_document(first)["teams"][0]["inspectors"]
    assert records[1]["before"] != records[0]["before"]
    assert evidence.verify_zip(io.BytesIO(selectors.evidence_zip(first))) == []
    assert selectors.draw_verification(second) == []


def test_a_package_without_merges_has_an_empty_list(lead, make_task, make_enterprises, roster):
    make_enterprises({"A": 3, "D": 2})
    draw = complete(make_task(), lead)
    files = package(draw)
    assert json.loads(files["joint_visits.json"]) == []
    assert evidence.verify_zip(io.BytesIO(rezip(files))) == []
    # a package made before joint_visits.json existed still verifies
    del files["joint_visits.json"]
    assert evidence.verify_zip(io.BytesIO(rezip(files))) == []


def test_report_lines_name_tasks_and_teams():
    lines = engine.joint_visit_report(
        [
            {
                "uscc": "U1",
                "base": {"task": "T1"},
                "tasks": [{"task": "T2"}],
                "before": ["WG1", "WG2"],
                "after": ["WG1", "WG2", "WG5"],
                "added": [{"task": "T2", "qualification": "hazchem", "staff_number": "WG5"}],
                "missing": [],
            }
        ]
    )
    assert lines == [
        "joint visit U1: tasks T1 + T2; team WG1/WG2 -> WG1/WG2/WG5; added WG5 (hazchem, T2)"
    ]


def test_verify_draw_command_lists_the_merges(merged, tmp_path):
    from django.core.management import call_command

    first, second, visit, _ = merged
    out = io.StringIO()
    call_command("verify_draw", str(second.pk), stdout=out)
    lines = out.getvalue().strip().splitlines()
    assert lines[-1].startswith(f"OK draw {second.pk}")
    assert lines[0].startswith(f"joint visit {visit.enterprise.uscc}: tasks ")
    path = tmp_path / "evidence.zip"
    path.write_bytes(selectors.evidence_zip(first))
    out = io.StringIO()
    call_command("verify_draw", str(path), stdout=out)
    assert out.getvalue().splitlines()[0] == lines[0]
