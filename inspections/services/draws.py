"""The draw (抽取): commit → seed → perform, void, post-draw replacement, joint visits.

Each function is one transaction with its audit event. Only 牵头股室 draws (art. 6(2)). The
algorithm is ``inspections.drawing.verify`` (the same file the evidence package ships).
"""

from __future__ import annotations

import datetime
import logging
import os
import secrets
from functools import partial

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from accounts.roles import Role
from approvals.models import ApprovalRequest
from approvals.services import approval_request
from audit.models import AuditEvent
from audit.services import audit_record
from core.background import task_named
from enterprises.fastpath import register_size_estimate
from enterprises.models import Enterprise, ProfessionalQualification
from inspectors.models import Inspector
from inspectors.selectors import EligibilityContext, RecusalTargets, expert_eligibility

from ..drawing import document as draw_document_builder
from ..drawing import verify as engine
from ..models import (
    Draw,
    DrawPopulationNames,
    DrawReplacement,
    DrawSelection,
    DrawTeamMember,
    DrawWitness,
    JointVisit,
    Task,
)
from ..selectors import draws as selectors
from ..selectors.plans import task_rates
from .plans import rounding_rule_text

AGENCY_METHOD = "agency"
logger = logging.getLogger(__name__)


class DrawError(ValidationError):
    """A draw cannot go on; the message says why in Chinese."""


def _require_lead(actor: User) -> None:
    if not actor.has_role(Role.LEAD_SECTION):
        raise PermissionDenied("只有牵头股室可以执行抽取（实施细则第六条第二项）。")


def _rounding_text(rounding: str) -> str:
    try:
        return rounding_rule_text(rounding)
    except ValueError:
        return rounding


def _inspector_pool(*, task: Task, population: selectors.Population, load) -> list[dict]:
    """inspectors.csv rows from the roster's eligibility selector (inspectors.selectors)."""
    items = list(task.check_items.all())
    context = EligibilityContext(
        start=task.window_start, end=task.window_end, load=load, check_items=items
    )
    results = context.evaluate(selectors.NO_ENTERPRISE, items)
    # enterprise, legal representative and group (集团) recusals → population USCCs
    targets = RecusalTargets(
        ids=population.ids, legal_reps=population.legal_reps, people=context.inspectors
    )
    rows = []
    for result in results:
        inspector = result.inspector
        recused = targets.usccs(inspector)
        task_count, year_count = load.get(inspector.pk, (0, 0))
        capacity = max(0, min(inspector.task_limit - task_count, inspector.year_limit - year_count))
        rows.append(
            {
                "staff_number": inspector.staff_number,
                "section": inspector.section.code if inspector.section_id else "",
                "pool": selectors._csv_text("；".join(result.reasons)),
                "qualifications": sorted(result.qualifications),
                "capacity": capacity,
                "recusals": sorted(recused),
            }
        )
    return rows


def _expert_pool(*, task: Task, population: selectors.Population, specialties) -> list[dict]:
    if not specialties:
        return []

    results = expert_eligibility(
        start=task.window_start, end=task.window_end, enterprise=selectors.NO_ENTERPRISE
    )
    targets = RecusalTargets(
        ids=population.ids,
        legal_reps=population.legal_reps,
        people=[result.member for result in results],
    )
    rows = []
    for result in results:
        member = result.member
        recused = targets.usccs(member)
        rows.append(
            {
                "code": member.code,
                "specialties": sorted(result.qualifications),
                "pool": selectors._csv_text("；".join(result.reasons)),
                "recusals": sorted(recused),
            }
        )
    return rows


LIVE_DRAW_MESSAGE = "该任务已有进行中或已完成的抽取；如需重新抽取，须先作废原抽取。"


def _lock_task(task: Task) -> Task:
    # PostgreSQL: row lock; SQLite: the IMMEDIATE transaction already holds the write lock.
    return Task.objects.select_for_update().get(pk=task.pk)


def draw_commit(*, actor: User, task: Task, progress=None) -> Draw:
    """Step 1: freeze the population and the inspector pool, commit to a server secret.
    ``progress(stage)``, if given, is told each stage (the background commit's status)."""
    _require_lead(actor)
    progress = progress or (lambda stage: None)
    with transaction.atomic():
        task = _lock_task(task)
        if selectors.live_draw(task) is not None:
            raise DrawError(LIVE_DRAW_MESSAGE)
        if task.check_items.count() == 0:
            raise DrawError("任务尚未选择检查事项。")
        day = timezone.localdate()
        progress("population")
        population = selectors.draw_population(task=task, day=day)
        if population.unrated_count:
            names = "、".join(f"{e.name}（{e.uscc}）" for e in population.unrated[:10])
            raise DrawError(
                f"有 {population.unrated_count} 户企业在抽取日没有风险等级，须先评级或在任务中"
                f"说明未评级企业按何等级计：{names}"
                + ("等" if population.unrated_count > 10 else "")
            )
        if not population.rows:
            raise DrawError("抽取范围内没有可抽取的企业。")
        rates = task_rates(task=task, day=day)
        by_tier = population.by_tier()
        missing = [t for t, n in by_tier.items() if n and t not in rates]
        if missing:
            raise DrawError(f"风险等级 {'、'.join(missing)} 没有抽查比例。")
        k = task.inspectors_per_enterprise
        if k < 2:
            raise DrawError("每户检查人员不得少于两人（实施细则第十条）。")
        progress("manifest")
        manifest = engine.build_manifest(population.rows, population.attributes)
        progress("inspectors")
        load = selectors.inspector_load(task=task, year=task.year)
        inspectors = engine.build_inspector_manifest(
            _inspector_pool(task=task, population=population, load=load)
        )
        required = sorted(
            {i.required_qualification for i in task.check_items.all() if i.required_qualification}
        )
        specialties = required if AGENCY_METHOD in (task.methods or []) else []
        experts = engine.build_expert_manifest(
            _expert_pool(task=task, population=population, specialties=specialties)
        )
        tiers = draw_document_builder.tier_table(
            manifest, {t: r.rate for t, r in rates.items()}, task.rounding
        )
        progress("saving")
        secret = secrets.token_hex(32)
        attempt = (task.draws.aggregate(m=Max("attempt"))["m"] or 0) + 1
        try:
            with transaction.atomic():
                draw = Draw.objects.create(
                    task=task,
                    attempt=attempt,
                    operator=actor,
                    draw_date=day,
                    window_start=task.window_start,
                    window_end=task.window_end,
                    rounding=task.rounding,
                    rounding_text=_rounding_text(task.rounding),
                    inspectors_per_enterprise=k,
                    tiers=tiers,
                    rate_sources={
                        t: {"source": r.source, "basis": r.basis} for t, r in rates.items()
                    },
                    excluded=population.excluded,
                    required_qualifications=required,
                    expert_specialties=specialties,
                    attributes=population.attributes,
                    manifest=manifest,
                    manifest_sha256=engine.sha256_hex(manifest),
                    population_count=len(population.rows),
                    inspectors_manifest=inspectors,
                    inspectors_sha256=engine.sha256_hex(inspectors),
                    experts_manifest=experts,
                    experts_sha256=engine.sha256_hex(experts),
                    secret=secret,
                    secret_sha256=engine.sha256_hex(secret.encode("ascii")),
                )
                frozen_names = selectors.population_names_bytes(population.names)
                DrawPopulationNames.objects.create(
                    draw=draw, names=frozen_names, names_sha256=engine.sha256_hex(frozen_names)
                )
        except IntegrityError as exc:
            raise DrawError("该任务刚刚已由他人开始抽取，请刷新页面。") from exc
        audit_record(
            event_type="draw.committed",
            actor=actor,
            obj=draw,
            detail={
                "task": task.number,
                "attempt": attempt,
                "population_sha256": draw.manifest_sha256,
                "inspectors_sha256": draw.inspectors_sha256,
                "experts_sha256": draw.experts_sha256,
                "secret_sha256": draw.secret_sha256,
                "names_sha256": engine.sha256_hex(frozen_names),
                "tiers": tiers,
                "excluded": len(population.excluded),
            },
        )
    return draw


# --- the commit step of a large register, in the background (issue 5) ---------------------------

# A register of at least this many enterprises (estimated, never counted) is frozen by the Celery
# task ``inspections.tasks_draws.draw_commit_background`` (settings.DRAW_COMMIT_BACKGROUND_MIN_
# REGISTER overrides): the commit takes 1 s at 10^5 and 7 s / 630 MB at 10^6, too long for a
# web request. Smaller registers are frozen in the request.
DRAW_COMMIT_BACKGROUND_MIN_REGISTER = 200_000
COMMIT_PROGRESS_KEY = "draw-commit-progress:{}"
# A request neither done nor failed after this long is taken as lost (worker killed, message
# lost) and the button is offered again; longer than the Celery task time limit (30 min).
COMMIT_STALE_AFTER = datetime.timedelta(hours=1)
COMMIT_STAGES = {
    "queued": (_("排队等待后台冻结名单"), 0),
    "population": (_("查询抽取范围和抽取日的风险等级"), 5),
    "manifest": (_("生成企业名单并计算哈希值"), 55),
    "inspectors": (_("生成检查人员和专家名单"), 75),
    "saving": (_("保存冻结记录"), 90),
}
BROKER_DOWN_MESSAGE = (
    "后台任务队列暂时不可用，名单未冻结。请稍后重新提交；如持续出现，请联系系统管理员。"
)
COMMIT_ERROR_MESSAGE = "后台冻结名单时出错，名单未冻结。请重新提交；如持续出现，请联系系统管理员。"
COMMIT_LOST_MESSAGE = (
    "上次提交的后台冻结名单没有完成（后台任务可能已中断），名单未冻结。请重新提交。"
)


def draw_commit_runs_in_background() -> bool:
    limit = getattr(
        settings, "DRAW_COMMIT_BACKGROUND_MIN_REGISTER", DRAW_COMMIT_BACKGROUND_MIN_REGISTER
    )
    return register_size_estimate() >= limit


def _commit_request(task: Task) -> AuditEvent | None:
    """The latest ``draw.commit_requested`` of the task."""
    return (
        AuditEvent.objects.filter(
            event_type="draw.commit_requested",
            object_type="inspections.task",
            object_id=str(task.pk),
        )
        .order_by("-seq")
        .first()
    )


def _commit_outcome(task: Task, request: AuditEvent) -> AuditEvent | None:
    """What ended the request: a later ``draw.committed`` of a draw of this task (by this
    request or by anyone else) or a later ``draw.commit_failed``; None while it is pending.
    From the audit chain, not the cache, so a lost cache never loses a result or a failure."""
    draws = [str(pk) for pk in Draw.objects.filter(task=task).values_list("pk", flat=True)]
    return (
        AuditEvent.objects.filter(seq__gt=request.seq)
        .filter(
            Q(event_type="draw.committed", object_type="inspections.draw", object_id__in=draws)
            | Q(
                event_type="draw.commit_failed",
                object_type="inspections.task",
                object_id=str(task.pk),
            )
        )
        .order_by("seq")
        .first()
    )


def draw_commit_status(*, task: Task) -> dict | None:
    """The task's background commit for the draw page: None (nothing asked, or its draw has
    since been voided), ``running`` (stage label and percent from the cache the task writes),
    ``done`` (with the live draw) or ``failed`` (with the reason in Chinese)."""
    request = _commit_request(task)
    if request is None:
        return None
    base = {"by": request.actor_name, "at": request.occurred_at}
    outcome = _commit_outcome(task, request)
    if outcome is not None:
        if outcome.event_type == "draw.commit_failed":
            return {**base, "state": "failed", "message": outcome.reason}
        live = selectors.live_draw(task)
        return {**base, "state": "done", "draw": live} if live is not None else None
    if timezone.now() - request.occurred_at > COMMIT_STALE_AFTER:
        return {**base, "state": "failed", "message": COMMIT_LOST_MESSAGE}
    cached = cache.get(COMMIT_PROGRESS_KEY.format(task.pk)) or {}
    stage = cached.get("stage") if cached.get("request") == request.seq else "queued"
    label, percent = COMMIT_STAGES.get(stage or "", COMMIT_STAGES["queued"])
    return {**base, "state": "running", "stage": stage, "label": label, "percent": percent}


def _refuse_while_running(task: Task) -> None:
    status = draw_commit_status(task=task)
    if status is not None and status["state"] == "running":
        at = timezone.localtime(status["at"]).strftime("%H:%M:%S")
        raise DrawError(
            f"{status['by']} 已于 {at} 提交冻结名单，正在后台进行，不能重复提交；"
            "完成后本页自动转到抽取页面。"
        )


def draw_commit_request(*, actor: User, task: Task) -> AuditEvent:
    """Step 1 for a large register: record who asked (``draw.commit_requested``) and queue
    ``draw_commit_background``, which runs ``draw_commit`` itself. Refused while a draw is live
    or another request is still running; two requests at once record one (the task row lock),
    and even two queued runs give one draw (``draw_commit`` refuses a second live draw)."""
    _require_lead(actor)
    _refuse_while_running(task)  # early: a running commit holds the task's row lock for seconds
    with transaction.atomic():
        task = _lock_task(task)
        if selectors.live_draw(task) is not None:
            raise DrawError(LIVE_DRAW_MESSAGE)
        _refuse_while_running(task)
        event = audit_record(
            event_type="draw.commit_requested",
            actor=actor,
            obj=task,
            detail={"task": task.number, "register_estimate": register_size_estimate()},
        )
        transaction.on_commit(lambda: _enqueue_commit(task, actor))
    return event


def _commit_failed(*, task: Task, actor: User, reason: str) -> None:
    audit_record(
        event_type="draw.commit_failed",
        actor=actor,
        obj=task,
        outcome=AuditEvent.Outcome.FAILURE,
        reason=reason,
        detail={"task": task.number},
    )


def _enqueue_commit(task: Task, actor: User) -> None:
    draw_commit_background = task_named("inspections.tasks_draws.draw_commit_background")
    try:
        draw_commit_background.delay(task.pk, actor.pk)
    except Exception:  # the broker is down: the request fails visibly instead of a 500
        logger.exception("could not queue the background commit of task %s", task.pk)
        _commit_failed(task=task, actor=actor, reason=BROKER_DOWN_MESSAGE)


def draw_commit_run(*, task_id: int, actor_id: int) -> Draw | None:
    """The background task's work: ``draw_commit`` for the task's pending request, its stages
    in the cache. Safe to run twice: with no pending request (done, failed, or never asked)
    it only returns the live draw, if any; a run that loses to a draw frozen meanwhile returns
    that draw and records no failure. A refusal (e.g. unrated enterprises) is recorded as
    ``draw.commit_failed`` with the service's message and raised again."""
    task = Task.objects.get(pk=task_id)
    actor = get_user_model().objects.get(pk=actor_id)
    request = _commit_request(task)
    if request is None or _commit_outcome(task, request) is not None:
        return selectors.live_draw(task)
    key = COMMIT_PROGRESS_KEY.format(task.pk)

    def record(stage: str) -> None:
        cache.set(key, {"stage": stage, "request": request.seq}, 3600)

    try:
        return draw_commit(actor=actor, task=task, progress=record)
    except (DrawError, PermissionDenied) as exc:
        message = "".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
    except Exception:
        _commit_failed(task=task, actor=actor, reason=COMMIT_ERROR_MESSAGE)
        raise
    live = selectors.live_draw(task)
    if live is not None:
        return live  # frozen by a concurrent run or request: that draw answers this request
    if _commit_outcome(task, request) is None:  # not already failed by a concurrent run
        _commit_failed(task=task, actor=actor, reason=message)
    raise DrawError(message)


def _check_witnesses(witnesses) -> list[dict]:
    cleaned = []
    for w in witnesses:
        if isinstance(w, str):
            w = {"name": w, "organisation": ""}
        name = (w.get("name") or "").strip()
        if name:
            cleaned.append({"name": name, "organisation": (w.get("organisation") or "").strip()})
    if len({w["name"] for w in cleaned}) < 2:
        raise DrawError("至少需要两名在场见证人（姓名不能相同）。")
    return cleaned


def _failed_before(draw: Draw) -> bool:
    return selectors.draw_events(draw, "draw.perform_failed").exists()


def _shortfall_message(exc: engine.Shortfall) -> str:
    name = Enterprise.objects.filter(uscc=exc.uscc).values_list("name", flat=True).first() or ""
    if exc.qualification:
        labels = dict(ProfessionalQualification.choices)
        label = "、".join(labels.get(q, q) for q in exc.qualification.split(","))
        return (
            f"企业“{name}”（{exc.uscc}）的检查组缺少具备“{label}”专业资质的"
            f"合格检查人员；抽取已停止，不会以不符合条件的人员凑数。"
        )
    return (
        f"企业“{name}”（{exc.uscc}）需要 {exc.needed} 名符合条件的检查人员，只有 {exc.available} 名，"
        f"缺 {exc.needed - exc.available} 名；抽取已停止，不会以不符合条件的人员凑数。"
    )


# Draws over this many enterprises are performed by a background task with a progress bar
# (settings.DRAW_BACKGROUND_MIN_POPULATION overrides); smaller ones in the request.
DRAW_BACKGROUND_MIN_POPULATION = 50_000
PROGRESS_KEY = selectors.PROGRESS_KEY  # the stage the task writes, read by selectors.draw_progress


def draw_runs_in_background(draw: Draw) -> bool:
    limit = getattr(settings, "DRAW_BACKGROUND_MIN_POPULATION", DRAW_BACKGROUND_MIN_POPULATION)
    return draw.population_count >= limit


def _ticket_workers(draw: Draw) -> int:
    """Forked ticket workers for a large population (same result, see engine.select_table):
    opt-in with settings.DRAW_TICKET_WORKERS on a machine with idle cores — on a busy 2-core
    box a second process only adds memory (docs/draws.md, Performance)."""
    if draw.population_count < engine.FORK_MIN_ROWS:
        return 1
    workers = int(getattr(settings, "DRAW_TICKET_WORKERS", 1))
    return max(1, min(workers, os.cpu_count() or 1))


def _progress_recorder(draw_id: int):
    """engine progress(stage, done, total) -> the cache, read by the status fragment."""
    key = PROGRESS_KEY.format(draw_id)

    def record(stage: str, done: int, total: int) -> None:
        cache.set(key, {"stage": stage, "done": int(done), "total": int(total)}, 3600)

    return record


def _clean_inputs(witnesses, dice_kind: str, dice: str):
    dice = "".join(ch for ch in (dice or "") if not ch.isspace())
    witnesses = _check_witnesses(witnesses)
    try:
        engine.check_dice(dice_kind, dice)
    except ValueError as exc:
        raise DrawError(
            f"骰子数字不符合要求：至少 {engine.MIN_DICE_DIGITS} 位；普通骰子只能是 1–6，"
            f"十面骰子 0–9。（{exc}）"
        ) from exc
    return witnesses, dice


def _check_performable(draw: Draw, dice: str) -> None:
    """Under the draw's row lock: still committed, never failed, the dice never used before
    for this task (a redraw needs a new seed)."""
    if draw.status != Draw.Status.COMMITTED:
        raise DrawError("该抽取已完成或已作废，不能再次摇号。")
    if _failed_before(draw):
        raise DrawError("本次抽取此前已失败，须作废后重新冻结名单再抽取。")
    used = (
        Draw.objects.filter(task=draw.task)
        .filter(Q(dice=dice) | Q(perform_request__dice=dice))
        .exclude(pk=draw.pk)
    )
    if used.exists():
        raise DrawError("重新抽取必须使用新的骰子数字（新种子）。")


def draw_perform(*, actor: User, draw: Draw, witnesses, dice_kind: str, dice: str) -> Draw:
    """Steps 2–3: take the witnesses' dice, reveal the secret, compute and record the draw."""
    _require_lead(actor)
    witnesses, dice = _clean_inputs(witnesses, dice_kind, dice)
    return _perform(actor=actor, draw=draw, witnesses=witnesses, dice_kind=dice_kind, dice=dice)


def draw_perform_request(*, actor: User, draw: Draw, witnesses, dice_kind: str, dice: str) -> Draw:
    """Steps 2–3 for a large draw: the witnesses' dice are recorded on the draw (once; they can
    never change: model guard and database trigger) and the background task
    ``inspections.tasks_draws.draw_perform_background`` computes and records the draw from
    exactly these inputs; the draw page shows its progress."""
    _require_lead(actor)
    witnesses, dice = _clean_inputs(witnesses, dice_kind, dice)
    with transaction.atomic():
        draw = Draw.objects.select_for_update().select_related("task").get(pk=draw.pk)
        if draw.perform_requested_at is not None:
            raise DrawError("该抽取已提交后台计算，骰子数字已记录，不能重复提交。")
        _check_performable(draw, dice)
        draw.perform_request = {"witnesses": witnesses, "dice_kind": dice_kind, "dice": dice}
        draw.perform_requested_by = actor
        draw.perform_requested_at = timezone.now()
        draw.save()
        audit_record(
            event_type="draw.perform_requested",
            actor=actor,
            obj=draw,
            detail={
                "task": draw.task.number,
                "population": draw.population_count,
                "witnesses": [w["name"] for w in witnesses],
                "dice_kind": dice_kind,
                "dice": dice,
            },
        )
        _progress_recorder(draw.pk)("queued", 0, draw.population_count)
        transaction.on_commit(partial(_enqueue, draw.pk))
    return draw


PERFORM_QUEUE_DOWN_MESSAGE = (
    "后台任务队列暂时不可用，抽取尚未开始计算（见证人和骰子数字已记录，不会改变）。"
    "请稍后点击“重新提交后台计算”；如持续出现，请联系系统管理员。"
)
# A recorded background draw with no result after this long may be queued again (its worker
# may have been stopped); running the task twice is safe.
PERFORM_STALLED_AFTER = datetime.timedelta(minutes=10)


def _enqueue(draw_id: int) -> None:
    draw_perform_background = task_named("inspections.tasks_draws.draw_perform_background")
    try:
        draw_perform_background.delay(draw_id)
    except Exception:  # the broker is down: said on the draw page, not a 500
        logger.exception("could not queue the background perform step of draw %s", draw_id)
        draw = Draw.objects.select_related("task", "perform_requested_by").get(pk=draw_id)
        audit_record(
            event_type="draw.perform_enqueue_failed",
            actor=draw.perform_requested_by,
            obj=draw,
            outcome=AuditEvent.Outcome.FAILURE,
            reason=PERFORM_QUEUE_DOWN_MESSAGE,
            detail={"task": draw.task.number},
        )


def draw_perform_queue_state(draw: Draw) -> dict:
    """For a background draw still waiting for its result: ``failed`` (the last queueing
    failed: the reason) and ``requeue`` (it may be queued again: queueing failed, or no result
    for PERFORM_STALLED_AFTER since it was last queued)."""
    state = {"failed": "", "requeue": False}
    if (
        draw.status != Draw.Status.COMMITTED
        or draw.perform_requested_at is None
        or _failed_before(draw)
    ):
        return state
    last = selectors.draw_events(draw, "draw.perform_requeued").first()
    failures = selectors.draw_events(draw, "draw.perform_enqueue_failed")
    if last is not None:
        failures = failures.filter(seq__gt=last.seq)
    failed = failures.first()
    queued_at = last.occurred_at if last is not None else draw.perform_requested_at
    state["failed"] = failed.reason if failed is not None else ""
    state["requeue"] = bool(failed) or timezone.now() - queued_at >= PERFORM_STALLED_AFTER
    return state


def draw_perform_requeue(*, actor: User, draw: Draw) -> Draw:
    """Queue a recorded background draw again, with the very inputs recorded on it (they never
    change). Only when its queueing failed or it has shown no result for a while."""
    _require_lead(actor)
    with transaction.atomic():
        draw = Draw.objects.select_for_update().select_related("task").get(pk=draw.pk)
        if not draw_perform_queue_state(draw)["requeue"]:
            raise DrawError("该抽取正在后台计算或已结束，不需要重新提交。")
        audit_record(
            event_type="draw.perform_requeued",
            actor=actor,
            obj=draw,
            detail={"task": draw.task.number},
        )
        _progress_recorder(draw.pk)("queued", 0, draw.population_count)
        transaction.on_commit(partial(_enqueue, draw.pk))
    return draw


def draw_perform_run(*, draw_id: int) -> Draw:
    """The background task's work: perform a requested draw with its recorded inputs. Safe to
    run twice: a draw that is no longer committed, has no request or failed before is left
    as it is (the second run waits on the row lock, then finds the draw completed)."""
    draw = Draw.objects.select_related("perform_requested_by").get(pk=draw_id)
    request = draw.perform_request
    if draw.status != Draw.Status.COMMITTED or not request or _failed_before(draw):
        return draw
    return _perform(
        actor=draw.perform_requested_by,
        draw=draw,
        witnesses=request["witnesses"],
        dice_kind=request["dice_kind"],
        dice=request["dice"],
        from_request=True,
    )


def _perform(
    *, actor: User, draw: Draw, witnesses, dice_kind: str, dice: str, from_request=False
) -> Draw:
    failure = None
    with transaction.atomic():
        draw = Draw.objects.select_for_update().select_related("task").get(pk=draw.pk)
        if from_request and (draw.status != Draw.Status.COMMITTED or _failed_before(draw)):
            return draw  # a second run of the task: already done
        if not from_request and draw.perform_requested_at is not None:
            raise DrawError("该抽取已提交后台计算，请等待结果。")
        _check_performable(draw, dice)
        task = draw.task
        now = timezone.now()
        try:
            doc = draw_document_builder.perform(
                draw_id=draw.pk,
                manifest=bytes(draw.manifest),
                inspectors=bytes(draw.inspectors_manifest),
                experts=bytes(draw.experts_manifest),
                rates={t: info["rate"] for t, info in draw.tiers.items()},
                rounding=draw.rounding,
                k=draw.inspectors_per_enterprise,
                required=draw.required_qualifications,
                specialties=draw.expert_specialties,
                secret=draw.secret,
                dice_kind=dice_kind,
                dice=dice,
                witnesses=[w["name"] for w in witnesses],
                excluded=[{"uscc": e["uscc"], "reason": e["reason"]} for e in draw.excluded],
                extra={
                    "task": {
                        "id": task.pk,
                        "number": task.number,
                        "name": task.name,
                        "plan": task.plan.number if task.plan else "",
                        "kind": task.kind,
                        "check_items": [
                            {"code": i.code, "name": i.name}
                            for i in task.check_items.order_by("code")
                        ],
                        "window": [str(draw.window_start), str(draw.window_end)],
                    },
                    "attempt": draw.attempt,
                    "draw_date": str(draw.draw_date),
                    "operator": actor.full_name or actor.username,
                    "committed_at": draw.committed_at.isoformat(),
                    "completed_at": now.isoformat(),
                    "rate_sources": draw.rate_sources,
                    "attributes": draw.attributes,
                    "witness_details": witnesses,
                },
                workers=_ticket_workers(draw),
                progress=_progress_recorder(draw.pk) if from_request else None,
            )
        except engine.Shortfall as exc:
            failure = (_shortfall_message(exc), dice_kind, dice)
        except engine.DrawError as exc:
            failure = (str(exc), dice_kind, dice)
        if failure is None:
            _record_completion(draw=draw, doc=doc, witnesses=witnesses, now=now)
            draw.status = Draw.Status.COMPLETED
            draw.dice_kind, draw.dice = dice_kind, dice
            draw.seed_string = doc["seed_string"]
            draw.document = doc
            draw.completed_at = now
            draw.save()
            audit_record(
                event_type="draw.completed",
                actor=actor,
                obj=draw,
                detail={
                    "task": task.number,
                    "seed_string": draw.seed_string,
                    "witnesses": [w["name"] for w in witnesses],
                    "selected": len(doc["selected"]),
                    "counts": {t: i["count"] for t, i in doc["tiers"].items()},
                },
            )
    if failure is not None:
        # Recorded outside the rolled-back work: the failed inputs stay visible, and this
        # draw can only be voided (no second try with other dice on the same commitment).
        audit_record(
            event_type="draw.perform_failed",
            actor=actor,
            obj=draw,
            outcome=AuditEvent.Outcome.FAILURE,
            reason=failure[0],
            detail={"dice_kind": failure[1], "dice": failure[2]},
        )
        raise DrawError(failure[0])
    return draw


def _record_completion(*, draw: Draw, doc: dict, witnesses, now) -> None:
    DrawWitness.objects.bulk_create(
        DrawWitness(draw=draw, order=i, name=w["name"], organisation=w["organisation"])
        for i, w in enumerate(witnesses, start=1)
    )
    usccs = [s["uscc"] for s in doc["selected"]]
    ids = dict(Enterprise.objects.filter(uscc__in=usccs).values_list("uscc", "pk"))
    ordered = engine.ticket_order(doc["selected"])
    selections = DrawSelection.objects.bulk_create(
        DrawSelection(
            draw=draw,
            enterprise_id=ids[s["uscc"]],
            uscc=s["uscc"],
            tier=s["tier"],
            ticket=s["ticket"],
            order=i,
        )
        for i, s in enumerate(ordered, start=1)
    )
    by_uscc = {s.uscc: s for s in selections}
    if any(s.pk is None for s in selections):  # backends without RETURNING
        by_uscc = {s.uscc: s for s in DrawSelection.objects.filter(draw=draw)}
    staff = {t for team in doc["teams"] for t in team["drawn"]}
    inspector_ids = dict(
        Inspector.objects.filter(staff_number__in=staff).values_list("staff_number", "pk")
    )
    DrawTeamMember.objects.bulk_create(
        DrawTeamMember(
            selection=by_uscc[team["uscc"]],
            inspector_id=inspector_ids[member],
            staff_number=member,
            position=position,
        )
        for team in doc["teams"]
        for position, member in enumerate(team["drawn"], start=1)
    )


# --- Two-person rules: void and post-draw replacement run through ``approvals`` -------------
# The operator asks (``draw_void_request`` / ``draw_replace_request``); another person of the
# approver roles approves in their own session (approvals.views), and only then does
# ``*_perform`` change the draw, inside the approval's transaction. The kinds are declared in
# inspections/approval_kinds.py; approvals checks requester ≠ decider, the role, the state
# and audits every step.
VOID_KIND = selectors.VOID_KIND
REPLACE_KIND = selectors.REPLACE_KIND
VOID_APPROVER_ROLES = frozenset({Role.LEAD_SECTION})
REPLACE_APPROVER_ROLES = frozenset({Role.LEAD_SECTION, Role.SECTION_HEAD})
# Said when the draw changed between the request and its approval.
STALE = "本申请已失效，请拒绝后按现状重新申请。"


def draw_void_request(*, actor: User, draw: Draw, reason: str, approver=None) -> ApprovalRequest:
    """Ask to void ``draw``: a reason, approved later by another 牵头股室 member who is neither
    the requester nor the draw's operator (``approver`` names one, or any of them)."""
    if approver is not None and approver.pk == draw.operator_id:
        raise DrawError("批准人必须是操作人以外的另一名牵头股室人员。")
    return approval_request(
        actor=actor,
        kind=VOID_KIND,
        object_id=draw.pk,
        reason=reason,
        payload={"link": reverse("inspections:draw_detail", args=[draw.pk])},
        approver=approver,
    )


def draw_void_check_request(*, actor: User, obj: Draw) -> None:
    _require_lead(actor)
    if obj.status == Draw.Status.VOIDED:
        raise DrawError("该抽取已作废。")


def draw_void_approver_roles(*, actor: User, obj: Draw) -> frozenset[str]:
    return VOID_APPROVER_ROLES


def draw_void_check_decider(*, actor: User, obj: Draw, request) -> None:
    if actor.pk == obj.operator_id:
        raise PermissionDenied("批准人必须是操作人以外的另一名牵头股室人员。")


def draw_void_perform(*, actor: User, obj: Draw, request) -> dict:
    """The approved void: ``actor`` approved ``request`` (asked by the one recorded as
    ``voided_by``). The voided draw stays visible."""
    draw = Draw.objects.select_for_update().get(pk=obj.pk)
    if draw.status == Draw.Status.VOIDED:
        raise DrawError(f"该抽取已作废，{STALE}")
    before = draw.status
    draw.status = Draw.Status.VOIDED
    draw.void_reason = request.reason
    draw.voided_by = request.requested_by
    draw.void_approver = actor
    draw.voided_at = timezone.now()
    draw.save()
    audit_record(
        event_type="draw.voided",
        actor=actor,
        obj=draw,
        reason=request.reason,
        detail={
            "before": {"status": before},
            "after": {"status": draw.status},
            "requested_by": request.requested_by.username,
            "approver": actor.username,
            "approval": request.pk,
            "task": draw.task.number,
        },
    )
    return {}


def _check_replaceable(selection: DrawSelection, out) -> dict:
    """The frozen document's team of ``selection`` when ``out`` may be replaced in it now."""
    draw = selection.draw
    if draw.status != Draw.Status.COMPLETED:
        raise DrawError("只有已完成且未作废的抽取可以回避替补。")
    team = {t["uscc"]: t for t in selectors.draw_document(draw)["teams"]}[selection.uscc]
    if out.staff_number not in team["inspectors"]:
        raise DrawError(f"{out} 不在该企业的当前检查组中。")
    return team


def draw_replace_request(
    *, actor: User, selection: DrawSelection, out, reason: str, approver=None
) -> ApprovalRequest:
    """Ask that ``out`` leave the team of ``selection`` (post-draw recusal), approved later by a
    牵头股室 member or a 股室负责人 other than the requester."""
    payload = {
        "out": out.pk,
        # A replacement of the same team done meanwhile makes this request stale.
        "replacements": selection.replacements.count(),
        "summary": f"{selection.enterprise.name}（{selection.uscc}）检查组：{out} 回避，"
        "由同一排序中的下一名符合条件的人员替补",
        "link": reverse("inspections:draw_detail", args=[selection.draw_id]),
    }
    return approval_request(
        actor=actor,
        kind=REPLACE_KIND,
        object_id=selection.pk,
        reason=reason,
        payload=payload,
        approver=approver,
    )


def draw_replace_check_request(*, actor: User, obj: DrawSelection) -> None:
    _require_lead(actor)
    if obj.draw.status != Draw.Status.COMPLETED:
        raise DrawError("只有已完成且未作废的抽取可以回避替补。")


def draw_replace_check_payload(*, actor: User, obj: DrawSelection, payload: dict) -> None:
    """The member who leaves must be named, and be in the team now (a request made anywhere but
    the replacement page, e.g. the generic approvals form, has none)."""
    out = payload.get("out")
    inspector = Inspector.objects.filter(pk=out).first() if isinstance(out, int) else None
    if inspector is None:
        raise DrawError("请在抽取页面的“回避替补”中选择需回避的检查人员后提出申请。")
    _check_replaceable(obj, inspector)
    if payload.get("replacements") != obj.replacements.count():
        raise DrawError("申请中的检查组与当前检查组不一致，请刷新页面后重新申请。")


def draw_replace_approver_roles(*, actor: User, obj: DrawSelection) -> frozenset[str]:
    return REPLACE_APPROVER_ROLES


def draw_replace_perform(*, actor: User, obj: DrawSelection, request) -> dict:
    """The approved replacement: made by the requester, approved by ``actor``."""
    Draw.objects.select_for_update().get(pk=obj.draw_id)  # replacements of a draw in turn
    selection = DrawSelection.objects.select_related("draw", "enterprise").get(pk=obj.pk)
    out = Inspector.objects.get(pk=request.payload["out"])
    try:
        if selection.replacements.count() != request.payload["replacements"]:
            raise DrawError("该企业的检查组在申请之后已有回避替补。")
        _check_replaceable(selection, out)
    except DrawError as exc:
        raise DrawError("".join(exc.messages) + STALE) from exc
    replacement = _replace(
        made_by=request.requested_by,
        approver=actor,
        selection=selection,
        out=out,
        reason=request.reason,
        approval=request.pk,
    )
    return {"replacement": replacement}


def _replace(*, made_by, approver, selection: DrawSelection, out, reason: str, approval: int):
    """Post-draw recusal: ``out`` leaves the team; the next eligible in the same ranking joins."""
    draw = Draw.objects.select_for_update().get(pk=selection.draw_id)
    document = selectors.draw_document(draw)
    pool = engine.parse_inspectors(bytes(draw.inspectors_manifest))
    teams = {t["uscc"]: t for t in document["teams"]}
    team = teams[selection.uscc]
    # Capacities after the draw, then every earlier replacement replayed in order.
    remaining = engine.capacity_after(document["teams"], pool)
    for rep in document["replacements"]:
        if remaining.get(rep["in"]) is not None:
            remaining[rep["in"]] -= 1
        if remaining.get(rep["out"]) is not None:
            remaining[rep["out"]] += 1
    removed = {r["out"] for r in document["replacements"] if r["uscc"] == selection.uscc}
    removed.add(out.staff_number)
    try:
        pick = engine.replacement_pick(
            team, out.staff_number, pool, draw.required_qualifications, remaining, removed
        )
    except engine.DrawError as exc:
        raise DrawError(
            f"该企业的排序中已没有符合条件的替补人员（{exc}），请作废后重新抽取。"
        ) from exc
    into = Inspector.objects.get(staff_number=pick)
    replacement = DrawReplacement.objects.create(
        selection=selection, out=out, into=into, reason=reason, approver=approver, made_by=made_by
    )
    audit_record(
        event_type="draw.replacement",
        actor=approver,
        obj=draw,
        reason=reason,
        detail={
            "uscc": selection.uscc,
            "before": {"member": out.staff_number},
            "after": {"member": into.staff_number},
            "requested_by": made_by.username,
            "approver": approver.username,
            "approval": approval,
        },
    )
    # The ranking is frozen, the roster is not: a replacement who has since declared a
    # recusal covering this enterprise leaves at once, through a second recorded (and
    # re-verifiable) replacement under the same approval, instead of joining a team they
    # must not be on.
    recusal = _recusal_in_force(into, selection=selection, start=draw.window_start)
    if recusal is not None:
        _replace(
            made_by=made_by,
            approver=approver,
            selection=selection,
            out=into,
            reason=f"替补人员已申报回避（{recusal.get_reason_display()}：{recusal.target_text()}）",
            approval=approval,
        )
    return replacement


def _recusal_in_force(inspector, *, selection: DrawSelection, start):
    """The inspector's recusal declaration in force for the window that names the selected
    enterprise (directly, by legal representative or by group), or None."""
    enterprise = selection.enterprise
    for recusal in inspector.recusals.all():
        if recusal.is_in_force_for(start) and recusal.matches(enterprise):
            return recusal
    return None


def joint_visit_merge(*, actor: User, selection: DrawSelection) -> JointVisit:
    """One visit for an enterprise selected by several tasks with overlapping windows (art. 3):
    the earliest draw's team, plus the highest-ranked qualified inspector from each other
    task's ranking for a qualification that team lacks."""
    _require_lead(actor)
    with transaction.atomic():
        others = selectors.joint_visit_candidates(selection=selection)
        if not others:
            raise DrawError("该企业没有时间重叠的其他抽查任务，无需合并。")
        group = sorted([selection, *others], key=lambda s: (s.draw.completed_at, s.draw_id))
        base = group[0]
        # Inputs from frozen records only (documents, inspectors.csv), so the evidence
        # package can carry them and verify.py can recompute the merge.
        plan = selectors.joint_visit_plan(group=group)
        merged = engine.joint_visit_merge(
            plan["before"], plan["tasks"], plan["base_qualifications"]
        )
        visit = JointVisit.objects.create(
            enterprise=selection.enterprise,
            base_selection=base,
            team=merged["team"],
            added=merged["added"],
            missing=merged["missing"],
            merged_by=actor,
        )
        visit.selections.set(group)
        audit_record(
            event_type="draw.joint_visit",
            actor=actor,
            obj=visit,
            detail={
                "uscc": selection.uscc,
                "tasks": [s.draw.task.number for s in group],
                "before": {"team": plan["before"]},
                "after": {"team": merged["team"]},
                "team": merged["team"],
                "added": merged["added"],
                "missing": merged["missing"],
            },
        )
    return visit
