"""Reads for draws: the frozen population and inspector pool of a task, inspector load, current
teams (drawn members + post-draw replacements), the draw.json document and its verification."""

from __future__ import annotations

import datetime
import json
import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from django.core.cache import cache
from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from approvals.selectors import approvals_open_for
from audit.models import AuditEvent
from enterprises.models import Enterprise, Licence

from ..drawing import evidence
from ..drawing import verify as engine
from ..models import (
    Draw,
    DrawPopulationNames,
    DrawReplacement,
    DrawSelection,
    DrawTeamMember,
    JointVisit,
    Task,
)
from .plans import task_population, task_population_excluded, with_tier

logger = logging.getLogger(__name__)

LIVE = (Draw.Status.COMPLETED,)
# An enterprise no recusal can match: the enterprise-independent part of eligibility.
NO_ENTERPRISE = SimpleNamespace(pk=-1, legal_representative="\x00")

SKIP_LABELS = {
    engine.SKIP_RECUSED: "回避",
    engine.SKIP_CAPACITY: "本次抽取中检查户数已达上限",
}


def _code(value: str) -> str:
    """Manifest values are codes; anything else is replaced by a neutral placeholder."""
    value = str(value or "")
    return value if engine.CODE_VALUE.match(value) else ""


def _csv_text(value: str) -> str:
    return str(value).replace(",", "，").replace(";", "；").replace('"', "”").replace("\n", " ")


@dataclass
class Population:
    rows: list[tuple[Any, ...]]  # (uscc, tier, attributes…) as str, in manifest column order
    attributes: list[str]
    excluded: list[dict[str, Any]]  # uscc, name, reason
    unrated: list[Enterprise] = field(default_factory=list)
    ids: dict[str, int] = field(default_factory=dict)  # uscc → enterprise id
    legal_reps: dict[str, list[str]] = field(default_factory=dict)  # legal rep → usccs
    names: dict[str, str] = field(default_factory=dict)  # uscc → name on the day (frozen too)
    last_inspected: dict[str, datetime.date] = field(default_factory=dict)
    unrated_count: int = 0

    def by_tier(self) -> dict[str, int]:
        counts = dict.fromkeys(engine.TIERS, 0)
        for row in self.rows:
            counts[row[1]] += 1
        return counts


def _task_attributes(task: Task) -> list[str]:
    if task.kind != "directed":
        return []
    attrs = []
    if task.enterprise_types:
        attrs.append("type")
    if task.scales:
        attrs.append("scale")
    if task.townships.exists():
        attrs.append("township")
    if task.trades.exists():
        attrs.append("trades")
    if task.licence_types:
        attrs.append("licensed")
    return attrs


def frequency_exclusions(*, task: Task, year: int) -> dict[int, str]:
    """enterprise id → reason, for the frequency rules the task switches on."""
    out: dict[int, str] = {}
    live = DrawSelection.objects.filter(draw__status__in=LIVE, draw__task__year=year).exclude(
        draw__task=task
    )
    if task.same_item_once_per_year:
        item_ids = list(task.check_items.values_list("pk", flat=True))
        for enterprise_id, number in (
            live.filter(draw__task__check_items__in=item_ids)
            .values_list("enterprise_id", "draw__task__number")
            .distinct()
        ):
            out.setdefault(enterprise_id, f"本年度已被同一事项抽中（{number}）")
    if task.annual_cap:
        for enterprise_id, n in (
            live.values("enterprise_id")
            .annotate(n=Count("draw_id", distinct=True))
            .filter(n__gte=task.annual_cap)
            .values_list("enterprise_id", "n")
        ):
            out.setdefault(
                enterprise_id, f"本年度已被本局抽查{n}次，达到每户上限{task.annual_cap}次"
            )
    return out


def last_inspected(enterprise_ids: Iterable[int]) -> dict[int, datetime.date]:
    out = {}
    for enterprise_id, at in (
        DrawSelection.objects.filter(draw__status__in=LIVE, enterprise_id__in=enterprise_ids)
        .order_by("enterprise_id", "draw__completed_at")
        .values_list("enterprise_id", "draw__completed_at")
    ):
        out[enterprise_id] = at.date()
    return out


def draw_population(*, task: Task, day: datetime.date) -> Population:
    """The task's population on ``day`` as manifest rows, with every exclusion and its reason."""
    attributes = _task_attributes(task)
    excluded = [
        {"uscc": e.enterprise.uscc, "name": e.enterprise.name, "reason": e.reason}
        for e in task_population_excluded(task=task)
    ]
    frequency = frequency_exclusions(task=task, year=task.year)
    qs = with_tier(task_population(task=task), day=day).values_list(  # type: ignore[misc]  # tier: annotated
        "pk",
        "uscc",
        "name",
        "tier",
        "enterprise_type",
        "scale",
        "township__code",
        "legal_representative",
    )
    trades: dict[int, list[str]] = defaultdict(list)
    if "trades" in attributes:
        for enterprise_id, code in Enterprise.trades.through.objects.filter(
            enterprise__in=task_population(task=task)
        ).values_list("enterprise_id", "trade__code"):
            trades[enterprise_id].append(_code(code))
    licensed = set()
    if "licensed" in attributes:
        licensed = set(
            Licence.objects.filter(licence_type__in=task.licence_types).values_list(
                "enterprise_id", flat=True
            )
        )
    rows, unrated_ids, ids, names, reps = [], [], {}, {}, defaultdict(list)
    for pk, uscc, name, tier, etype, scale, township, rep in qs.iterator(chunk_size=20000):
        if pk in frequency:
            excluded.append({"uscc": uscc, "name": name, "reason": frequency[pk]})
            continue
        if tier is None:
            if not task.unrated_tier:
                unrated_ids.append(pk)
                continue
            tier = task.unrated_tier
        # Tuples of str, not dicts: a third of the memory at 10^6 rows, and build_manifest joins
        # them at C speed.
        row = [uscc, tier]
        for attr in attributes:
            if attr == "type":
                row.append(_code(etype))
            elif attr == "scale":
                row.append(_code(scale))
            elif attr == "township":
                row.append(_code(township))
            elif attr == "trades":
                row.append(";".join(sorted(trades.get(pk, []))))
            else:  # licensed
                row.append("1" if pk in licensed else "0")
        rows.append(tuple(row))
        ids[uscc] = pk
        names[uscc] = name
        if rep:
            reps[rep.strip()].append(uscc)
    excluded.sort(key=lambda e: e["uscc"])
    unrated = list(Enterprise.objects.filter(pk__in=unrated_ids[:50]).order_by("uscc"))
    population = Population(
        rows=rows,
        attributes=attributes,
        excluded=excluded,
        unrated=unrated,
        ids=ids,
        legal_reps=dict(reps),
        names=names,
    )
    population.unrated_count = len(unrated_ids)
    return population


# --------------------------------------------------------------------------- inspectors' load
def inspector_load(*, task: Task, year: int) -> dict[int, tuple[int, int]]:
    """inspector id → (enterprises in this task, enterprises this year) over completed draws,
    counting post-draw replacements (out −1, into +1)."""
    in_task: defaultdict[int, int] = defaultdict(int)
    in_year: defaultdict[int, int] = defaultdict(int)
    members = DrawTeamMember.objects.filter(
        selection__draw__status__in=LIVE, selection__draw__task__year=year
    ).values_list("inspector_id", "selection__draw__task_id")
    for inspector_id, task_id in members:
        in_year[inspector_id] += 1
        if task_id == task.pk:
            in_task[inspector_id] += 1
    for out_id, into_id, task_id in DrawReplacement.objects.filter(
        selection__draw__status__in=LIVE, selection__draw__task__year=year
    ).values_list("out_id", "into_id", "selection__draw__task_id"):
        in_year[out_id] -= 1
        in_year[into_id] += 1
        if task_id == task.pk:
            in_task[out_id] -= 1
            in_task[into_id] += 1
    return {pk: (in_task[pk], in_year[pk]) for pk in set(in_task) | set(in_year)}


# ------------------------------------------------------------------------------------- reads
def draw_list(*, task: Task | None = None) -> QuerySet[Draw]:
    qs = Draw.objects.select_related("task", "operator", "void_approver", "voided_by").defer(
        "manifest", "inspectors_manifest", "experts_manifest"
    )
    if task is not None:
        qs = qs.filter(task=task)
    return qs


def live_draw(task: Task) -> Draw | None:
    return draw_list(task=task).filter(status__in=[Draw.Status.COMMITTED, *LIVE]).first()


def draw_replacements(
    draw: Draw, *, until: datetime.datetime | None = None
) -> list[DrawReplacement]:
    qs = DrawReplacement.objects.filter(selection__draw=draw)
    if until is not None:
        qs = qs.filter(made_at__lte=until)
    return list(
        qs.select_related("selection", "out", "into", "approver", "made_by").order_by(
            "made_at", "id"
        )
    )


def draw_teams(draw: Draw) -> list[dict[str, Any]]:
    """Per selection (ticket order): the drawn team, replacements and the current team."""
    selections = list(
        DrawSelection.objects.filter(draw=draw)
        .select_related("enterprise", "enterprise__township")
        .prefetch_related("members__inspector")
        .order_by("order")
    )
    replacements = defaultdict(list)
    for rep in draw_replacements(draw):
        replacements[rep.selection_id].append(rep)
    document_teams = {t["uscc"]: t for t in (draw.document or {}).get("teams", [])}
    out = []
    for selection in selections:
        members = [m.inspector for m in selection.members.all()]
        current = list(members)
        for rep in replacements[selection.pk]:
            current[current.index(rep.out)] = rep.into
        team_doc = document_teams.get(selection.uscc, {})
        ranking = team_doc.get("ranking", [])
        current.sort(
            key=lambda i: ranking.index(i.staff_number) if i.staff_number in ranking else 0
        )
        out.append(
            {
                "selection": selection,
                "enterprise": selection.enterprise,
                "drawn": members,
                "current": current,
                "replacements": replacements[selection.pk],
                "skips": [
                    {**skip, "label": SKIP_LABELS.get(skip["reason"], skip["reason"])}
                    for skip in team_doc.get("skips", [])
                ],
                "qualification_replacements": team_doc.get("qualification_replacements", []),
                "experts": team_doc.get("experts", []),
            }
        )
    return out


def draw_document(draw: Draw, *, until: datetime.datetime | None = None) -> dict[str, Any]:
    """draw.json: the document computed at the draw plus replacements and the void, if any
    (``until``: only the replacements made by then — the teams as they were at that moment)."""
    document = dict(draw.document or {})
    teams = {
        t["uscc"]: dict(t, inspectors=list(t["inspectors"])) for t in document.get("teams", [])
    }
    replacements = []
    for rep in draw_replacements(draw, until=until):
        team = teams[rep.selection.uscc]
        members = team["inspectors"]
        members[members.index(rep.out.staff_number)] = rep.into.staff_number
        members.sort(key=team["ranking"].index)
        replacements.append(
            {
                "uscc": rep.selection.uscc,
                "out": rep.out.staff_number,
                "in": rep.into.staff_number,
                "reason": rep.reason,
                "approver": rep.approver.full_name or rep.approver.username,
                "by": rep.made_by.full_name or rep.made_by.username,
                "at": rep.made_at.isoformat(),
            }
        )
    document["teams"] = [teams[t["uscc"]] for t in document.get("teams", [])]
    document["replacements"] = replacements
    document["status"] = draw.status
    if draw.status == Draw.Status.VOIDED:
        document["void"] = {
            "reason": draw.void_reason,
            "by": str(draw.voided_by.full_name if draw.voided_by else ""),
            "approver": draw.void_approver.full_name or draw.void_approver.username,  # type: ignore[union-attr]  # a void is approved
            "at": draw.voided_at.isoformat() if draw.voided_at else "",
        }
    return document


def draw_files(draw: Draw) -> tuple[bytes, bytes, bytes]:
    return bytes(draw.manifest), bytes(draw.inspectors_manifest), bytes(draw.experts_manifest)


def draw_verification(draw: Draw) -> list[str]:
    """Recompute the draw from the stored bytes (re-run on every view). Also checks that the
    database rows (selections, team members) agree with the document. [] = verified."""
    if draw.document is None:
        return ["尚未抽取"]
    document = draw_document(draw)
    problems = engine.verify(document, *draw_files(draw), joint_visit_records(draw))
    if engine.sha256_hex(bytes(draw.manifest)) != draw.manifest_sha256:
        problems.append("manifest_sha256 in the database differs from the stored manifest")
    if engine.sha256_hex(bytes(draw.inspectors_manifest)) != draw.inspectors_sha256:
        problems.append("inspectors_sha256 in the database differs from the stored file")
    if engine.sha256_hex(draw.secret.encode()) != draw.secret_sha256:
        problems.append("the revealed secret does not match the committed hash")
    inputs = document.get("random_inputs", {})
    for label, stored, documented in (
        ("dice", draw.dice, inputs.get("dice")),
        ("secret", draw.secret, inputs.get("secret")),
        ("seed_string", draw.seed_string, document.get("seed_string")),
        ("population_sha256", draw.manifest_sha256, document.get("population_sha256")),
    ):
        if stored != documented:
            problems.append(f"database {label} differs from draw.json")
    rows = list(
        DrawSelection.objects.filter(draw=draw).order_by("order").values_list("uscc", "ticket")
    )
    expected = [(s["uscc"], s["ticket"]) for s in engine.ticket_order(document.get("selected", []))]
    if rows != expected:
        problems.append("database selections differ from draw.json")
    members = defaultdict(list)
    for uscc, staff in (
        DrawTeamMember.objects.filter(selection__draw=draw)
        .order_by("selection__order", "position")
        .values_list("selection__uscc", "staff_number")
    ):
        members[uscc].append(staff)
    for team in document.get("teams", []):
        if members.get(team["uscc"], []) != team["drawn"]:
            problems.append(f"database team of {team['uscc']} differs from draw.json")
    return problems


def population_names_bytes(names: dict[str, str]) -> bytes:
    """The frozen names as stored (DrawPopulationNames.names): compact JSON sorted by code."""
    ordered = dict(sorted(names.items()))
    return json.dumps(ordered, ensure_ascii=False, separators=(",", ":")).encode()


def frozen_names(draw: Draw) -> dict[str, str] | None:
    """uscc → name as frozen with the draw, or None for a draw frozen before names were kept."""
    row = DrawPopulationNames.objects.filter(draw=draw).values_list("names", flat=True).first()
    return None if row is None else json.loads(bytes(row))


PUBLIC_NAMES_KEY = "draw-public-names:{}"


def published_selections(draw: Draw) -> tuple[list[dict[str, Any]], bool]:
    """The public list (抽取名单), by code: ``([{uscc, name}], frozen)``. ``frozen`` says the
    names are those at the freeze; False (older draws) means today's names, labelled so. A
    frozen list never changes, so it is cached: the names blob of a 10^6 register is tens of MB,
    not to be parsed on every anonymous request."""
    key = PUBLIC_NAMES_KEY.format(draw.pk)
    cached = cache.get(key)
    if cached is not None:
        return cached, True
    selections = DrawSelection.objects.filter(draw=draw).select_related("enterprise")
    names = frozen_names(draw)
    rows = [
        {
            "uscc": s.uscc,
            "name": names.get(s.uscc, s.enterprise.name)
            if names is not None
            else s.enterprise.name,
        }
        for s in selections.order_by("uscc")
    ]
    if names is not None:
        cache.set(key, rows, 24 * 3600)
    return rows, names is not None


PUBLIC_VERIFICATION_KEY = "draw-public-verification:{}"
# The public page re-runs the verification at most this often per draw (it recomputes every
# ticket from the stored manifest: seconds at 10^5 enterprises, not per anonymous request).
PUBLIC_VERIFICATION_SECONDS = 600


def draw_public_verification(draw: Draw) -> dict[str, Any]:
    """``{"ok": bool, "problems": int, "checked_at": datetime}`` for the public page: the same
    check as ``verify_draw`` and the draw page (``draw_verification``), cached per draw for
    ``PUBLIC_VERIFICATION_SECONDS`` so the page says when it was last checked."""
    key = PUBLIC_VERIFICATION_KEY.format(draw.pk)
    result: dict[str, Any] | None = cache.get(key)
    if result is None:
        try:
            problems = draw_verification(draw)
        except Exception:  # an unreadable stored document is a failed verification, not a 500
            logger.exception("public verification of draw %s crashed", draw.pk)
            problems = ["verification crashed"]
        result = {"ok": not problems, "problems": len(problems), "checked_at": timezone.now()}
        cache.set(key, result, PUBLIC_VERIFICATION_SECONDS)
    return result


def joint_visit_candidates(*, selection: DrawSelection) -> list[DrawSelection]:
    """Other live selections of the same enterprise whose task windows overlap this one's."""
    draw = selection.draw
    return list(
        DrawSelection.objects.filter(
            enterprise_id=selection.enterprise_id,
            draw__status__in=LIVE,
            draw__window_start__lte=draw.window_end,
            draw__window_end__gte=draw.window_start,
        )
        .exclude(pk=selection.pk)
        .select_related("draw", "draw__task")
        .order_by("draw__completed_at", "draw_id")
    )


def _frozen_pool(draw: Draw) -> dict[str, dict[str, Any]]:
    return {r["staff_number"]: r for r in engine.parse_inspectors(bytes(draw.inspectors_manifest))}


def joint_visit_plan(*, group: Any, until: datetime.datetime | None = None) -> dict[str, Any]:
    """The inputs of a joint-visit merge, all from frozen records so anyone can recompute it
    (``engine.joint_visit_merge``): the earliest draw's team for the enterprise (as it was at
    ``until``, i.e. after the replacements made by then) with its members' qualifications from
    that draw's inspectors.csv, and for each later draw (in draw order) its task, required
    qualifications, eligible ranking for the enterprise and their qualifications."""
    group = sorted(group, key=lambda s: (s.draw.completed_at, s.draw_id))
    base = group[0]
    base_doc = draw_document(base.draw, until=until)
    before = next(t for t in base_doc["teams"] if t["uscc"] == base.uscc)["inspectors"]
    base_pool = _frozen_pool(base.draw)
    tasks = []
    for selection in group[1:]:
        doc = draw_document(selection.draw, until=until)
        team = next(t for t in doc["teams"] if t["uscc"] == selection.uscc)
        pool = _frozen_pool(selection.draw)
        ranking = engine.joint_visit_ranking(team, pool)
        tasks.append(
            {
                "draw_id": selection.draw_id,
                "task": selection.draw.task.number,
                "required": sorted(selection.draw.required_qualifications),
                "ranking": ranking,
                "qualifications": {st: sorted(pool[st]["qualifications"]) for st in ranking},
            }
        )
    return {
        "uscc": base.uscc,
        "base": {"draw_id": base.draw_id, "task": base.draw.task.number},
        "before": list(before),
        "base_qualifications": {
            st: sorted(base_pool[st]["qualifications"]) for st in before if st in base_pool
        },
        "tasks": tasks,
    }


JOINT_VISIT_REASON = "一次抽查、全面体检：同一企业被检查时间重叠的多个任务抽中，合并为一次检查"


def joint_visit_records(draw: Draw) -> list[dict[str, Any]]:
    """joint_visits.json of a draw: every merge one of its selections took part in, with the
    inputs (as they were at the merge), the team before and after, who was added for which
    task and qualification, what is still missing, who merged and when."""
    visits = (
        JointVisit.objects.filter(selections__draw=draw)
        .distinct()
        .select_related("merged_by")
        .prefetch_related("selections__draw__task")
        .order_by("merged_at", "id")
    )
    records = []
    for visit in visits:
        plan = joint_visit_plan(group=list(visit.selections.all()), until=visit.merged_at)
        records.append(
            {
                "id": visit.pk,
                **plan,
                "after": list(visit.team),
                "added": list(visit.added),
                "missing": list(visit.missing),
                "reason": JOINT_VISIT_REASON,
                "merged_by": visit.merged_by.full_name or visit.merged_by.username,
                "merged_at": visit.merged_at.isoformat(),
            }
        )
    return records


def draws_for_discipline() -> QuerySet[Draw]:
    """Every draw incl. voided ones, with counts (what the discipline group reviews)."""
    return (
        draw_list()
        .annotate(
            n_selected=Count("selections", distinct=True),
            n_replacements=Count("selections__replacements", distinct=True),
        )
        .filter(Q(status__in=[Draw.Status.COMPLETED, Draw.Status.VOIDED]) | Q(status="committed"))
    )


def evidence_zip(draw: Draw) -> bytes:
    """The evidence package of a performed draw (same bytes every time)."""
    return evidence.zip_bytes(
        folder=f"draw-{draw.pk}",
        draw=draw_document(draw),
        manifest=bytes(draw.manifest),
        inspectors=bytes(draw.inspectors_manifest),
        experts=bytes(draw.experts_manifest),
        joint_visits=joint_visit_records(draw),
        date_time=timezone.localtime(draw.completed_at).timetuple()[:6],
    )


# A background draw's stage and counts, written by ``services.draws`` as it computes.
PROGRESS_KEY = "draw-progress:{}"
PROGRESS_STAGES = {
    "queued": (_("排队等待后台计算"), 0, 0),
    "tickets": (_("计算号签并按等级抽取"), 0, 80),
    "teams": (_("抽取检查组"), 80, 100),
}


def draw_progress(draw: Draw) -> dict[str, Any] | None:
    """A background draw's progress (None when the draw is not being computed in the
    background): stage label, percent 0–100 and the counts, from the cache the task writes."""
    if draw.status != Draw.Status.COMMITTED or draw.perform_requested_at is None:
        return None
    if draw_failure(draw):
        return None
    state = cache.get(PROGRESS_KEY.format(draw.pk)) or {"stage": "queued", "done": 0, "total": 0}
    label, start, end = PROGRESS_STAGES.get(state["stage"], PROGRESS_STAGES["queued"])
    total = state.get("total") or 0
    share = state.get("done", 0) / total if total else 0
    return {
        "stage": state["stage"],
        "label": label,
        "done": state.get("done", 0),
        "total": total,
        "percent": min(100, int(start + (end - start) * share)),
    }


def draw_events(draw: Draw, event_type: str) -> QuerySet[AuditEvent]:
    """The draw's audit events of one type, newest first."""
    return AuditEvent.objects.filter(
        event_type=event_type, object_type="inspections.draw", object_id=str(draw.pk)
    ).order_by("-seq")


def draw_failure(draw: Draw) -> str:
    """Why performing this draw failed (it can then only be voided); "" if it never failed."""
    event = draw_events(draw, "draw.perform_failed").first()
    return event.reason if event else ""


# The approvals kinds of the draw's two-person rules (inspections/approval_kinds.py).
VOID_KIND = "inspections.draw_void"
REPLACE_KIND = "inspections.draw_replace"


def draw_pending_approvals(draw: Draw) -> dict[str, Any]:
    """The draw's open void request (or None) and its open replacement requests by selection
    id (as a string): the draw pages show them instead of offering a second request."""
    selection_ids = list(draw.selections.values_list("pk", flat=True))
    return {
        "void": approvals_open_for(kind=VOID_KIND, object_ids=[draw.pk]).get(str(draw.pk)),
        "replacements": approvals_open_for(kind=REPLACE_KIND, object_ids=selection_ids),
    }
