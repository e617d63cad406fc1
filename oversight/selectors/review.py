"""Reads behind the discipline group's audit views (纪检派驻组审计视图, issue 8).

Every function takes the shared :class:`oversight.filters.Scope` (period, section, task) and
aggregates in the database. Nothing here writes, except :func:`draw_failure_note`, which adds
one audit event the first time a draw is seen failing its verification (so that the dashboard's
red-flags panel can count failing draws without re-verifying every draw on every page load).

Draws are verified with the one existing function, ``inspections.selectors.draws.
draw_verification`` (which calls the engine's verifier on the stored manifest and seed string
and compares the database rows with draw.json); this module never re-implements it.
"""

from __future__ import annotations

import datetime
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.db import connection
from django.db.models import (
    BooleanField,
    Case,
    CharField,
    Count,
    Exists,
    F,
    Model,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.functions import Cast, TruncMonth
from django.utils import timezone

from accounts.models import Section, User
from audit.models import AuditEvent
from audit.services import audit_record
from core.paging import rows_and_more
from disclosure.models import Objection, PublicationRecord, PublicationVersion
from inspections.drawing import verify as engine
from inspections.models import (
    Draw,
    DrawReplacement,
    DrawSelection,
    DrawTeamMember,
    DrawWitness,
    JointVisit,
    Task,
    Visit,
    VisitReview,
)
from inspections.selectors import draws as draw_selectors
from inspections.selectors.draws import draw_verification
from inspectors.models import Inspector
from workdays.calendar import CalendarYearNotPublished, WorkingCalendar

from ..filters import Scope
from ..reports import cached_figures

PAGE_SIZE = 20  # draws verified per page view
LIST_LIMIT = 200  # rows of the secondary tables on a page
EXPORT_LIMIT = 5000  # rows of an xlsx export
DRAW_EXPORT_LIMIT = 500  # draws verified for one export

VISIT_OBJECT = "inspections.visit"
DRAW_OBJECT = "inspections.draw"
VERIFICATION_FAILED = "oversight.draw_verification_failed"
# Audit events that change the content of an inspection record (its fields, members, results,
# signature, signed page, evidence, non-cooperation). The workflow transitions (submit, return,
# approve, archive) and the later additions of follow-ups and lead transfers are not edits.
EDIT_EVENTS = (
    "visit.draft_saved",
    "visit.signature",
    "visit.signed_page",
    "visit.evidence_add",
    "visit.non_cooperation",
)
DUE_SOON_WORKING_DAYS = 5  # as disclosure.publication.REMINDER_WORKING_DAYS


# --------------------------------------------------------------------------------- the scope
def aware_range(scope: Scope) -> tuple[datetime.datetime, datetime.datetime]:
    """[start 00:00, end+1 00:00) in local time, for datetime columns."""
    start = timezone.make_aware(datetime.datetime.combine(scope.start, datetime.time.min))
    end = timezone.make_aware(
        datetime.datetime.combine(scope.end + datetime.timedelta(days=1), datetime.time.min)
    )
    return start, end


def _section_tasks(section: Section) -> QuerySet[Task, Any]:
    return Task.objects.filter(Q(lead_section=section) | Q(cooperating_sections=section)).values(
        "pk"
    )


def _scoped_visits(scope: Scope) -> QuerySet[Visit] | None:
    """The visits of the scope's section/task, or None when neither is chosen."""
    if scope.section is None and scope.task is None:
        return None
    visits = Visit.objects.all()
    if scope.section is not None:
        visits = visits.filter(section=scope.section)
    if scope.task is not None:
        visits = visits.filter(task=scope.task)
    return visits


# ------------------------------------------------------------------------------------ draws
def draws_in_scope(scope: Scope, *, status: str = "") -> QuerySet[Draw]:
    """Every draw (any status) committed in the period, of the task, or of a task the section
    leads or cooperates in; newest first."""
    start, end = aware_range(scope)
    qs = Draw.objects.filter(committed_at__gte=start, committed_at__lt=end)
    if scope.task is not None:
        qs = qs.filter(task=scope.task)
    if scope.section is not None:
        qs = qs.filter(task__in=_section_tasks(scope.section))
    if status in Draw.Status.values:
        qs = qs.filter(status=status)
    elif status == "failing":
        qs = qs.filter(pk__in=[int(i) for i in failing_draw_ids() if i.isdigit()])
    return qs.order_by("-id")


@dataclass
class DrawRow:
    draw: Draw
    witnesses: list[DrawWitness]
    selected: int
    replacements: int
    joint_visits: int
    problems: list[str] | None  # None: nothing to verify yet (committed, or voided before)

    @property
    def verified(self) -> bool | None:
        return None if self.problems is None else not self.problems


def _counts(model: Any, field_name: str, draw_ids: list[int]) -> dict[int, int]:  # a model
    return dict(
        model.objects.filter(**{f"{field_name}__in": draw_ids})
        .values_list(field_name)
        .annotate(n=Count("pk"))
        .order_by()
    )


# ------------------------------------------------------------ verification memo (PostgreSQL)
# Verifying a draw recomputes it from its stored bytes: ~0.1 s for a population of a few
# thousand, seconds at 10^6. The result is a pure function of the stored inputs, so it is
# memoised under a SHA-256 fingerprint of every stored value ``draw_verification`` reads — the
# draw row (incl. the hashes of its three files), its selections, team members and
# replacements (with the staff numbers and user names they are shown with) — computed by
# PostgreSQL from the rows themselves, never from the stored hashes. Any change to any of them
# (an UPDATE with the triggers off, a deleted or inserted row) gives another fingerprint and a
# full verification. The memo is signed with SECRET_KEY, so writing to the cache cannot forge
# "verified"; it also names the verifier's code version. Off with OVERSIGHT_VERIFY_MEMO=False.
MEMO_SECONDS = 24 * 3600


def _code_version() -> str:
    digest = hashlib.sha256()
    for module in (engine, draw_selectors):
        digest.update(Path(str(module.__file__)).read_bytes())
    return digest.hexdigest()[:16]


CODE_VERSION = _code_version()


def _fingerprint_sql() -> str:
    t = {
        "draw": Draw._meta.db_table,
        "sel": DrawSelection._meta.db_table,
        "mem": DrawTeamMember._meta.db_table,
        "rep": DrawReplacement._meta.db_table,
        "insp": Inspector._meta.db_table,
        "user": User._meta.db_table,
    }

    # Only names from the models' metadata are formatted in; values are bound.
    t = {key: connection.ops.quote_name(name) for key, name in t.items()}
    # Every column of the draw: the three files and draw.json by their SHA-256, the rest as text.
    binary = {"manifest", "inspectors_manifest", "experts_manifest"}
    columns = []
    for f in Draw._meta.concrete_fields:
        column = "d." + connection.ops.quote_name(f.column)  # type: ignore[arg-type]  # concrete: has one
        if f.name in binary:
            columns.append(f"encode(sha256({column}), 'hex')")
        elif f.name == "document":
            columns.append(
                f"encode(sha256(convert_to(coalesce({column}::text, '-'), 'UTF8')), 'hex')"
            )
        else:
            columns.append(f"coalesce('v' || {column}::text, 'n')")  # NULL ≠ any value
    t["columns"] = ",\n        ".join(columns)
    template = """
    SELECT d.id, encode(sha256(convert_to(concat_ws(chr(30),
        {columns},
        coalesce((SELECT u.full_name || chr(31) || u.username FROM {user} u
                  WHERE u.id = d.voided_by_id), '-'),
        coalesce((SELECT u.full_name || chr(31) || u.username FROM {user} u
                  WHERE u.id = d.void_approver_id), '-'),
        coalesce((SELECT string_agg(s::text, chr(31) ORDER BY s.id)
                  FROM {sel} s WHERE s.draw_id = d.id), '-'),
        coalesce((SELECT string_agg(m::text, chr(31) ORDER BY m.id)
                  FROM {mem} m JOIN {sel} s ON s.id = m.selection_id
                  WHERE s.draw_id = d.id), '-'),
        coalesce((SELECT string_agg(concat_ws(chr(29), r::text, s.uscc,
                      i1.staff_number, i2.staff_number, a.full_name, a.username,
                      b.full_name, b.username), chr(31) ORDER BY r.id)
                  FROM {rep} r JOIN {sel} s ON s.id = r.selection_id
                  JOIN {insp} i1 ON i1.id = r.out_id JOIN {insp} i2 ON i2.id = r.into_id
                  JOIN {user} a ON a.id = r.approver_id JOIN {user} b ON b.id = r.made_by_id
                  WHERE s.draw_id = d.id), '-')
    ), 'UTF8')), 'hex')
    FROM {draw} d WHERE d.id = ANY(%s)
    """
    return template.format(**t)


def draw_fingerprints(draw_ids: list[int]) -> dict[int, str]:
    """{draw id: fingerprint of everything its verification reads}; {} unless PostgreSQL."""
    if (
        not draw_ids
        or connection.vendor != "postgresql"
        or not getattr(settings, "OVERSIGHT_VERIFY_MEMO", True)
    ):
        return {}
    with connection.cursor() as cursor:
        cursor.execute(_fingerprint_sql(), [list(draw_ids)])
        return dict(cursor.fetchall())


def _memo_key(draw_id: int) -> str:
    return f"oversight:draw-verification:{draw_id}"


def _memo_get(draw_id: int, fingerprint: str) -> list[str] | None:
    value = cache.get(_memo_key(draw_id))
    if not value:
        return None
    try:
        data = signing.loads(value, salt="oversight.draw-verification")
    except signing.BadSignature:
        return None
    if data.get("id") != draw_id or data.get("fp") != fingerprint or data.get("v") != CODE_VERSION:
        return None
    return list(data["problems"])


def _memo_set(draw_id: int, fingerprint: str, problems: list[str]) -> None:
    value = signing.dumps(
        {"id": draw_id, "fp": fingerprint, "v": CODE_VERSION, "problems": problems},
        salt="oversight.draw-verification",
    )
    cache.set(_memo_key(draw_id), value, MEMO_SECONDS)


def _has_document(draw: Draw) -> bool:
    if hasattr(draw, "has_document"):
        return bool(draw.has_document)
    return draw.document is not None


def verify_draws(draws: list[Draw]) -> dict[int, list[str] | None]:
    """{draw id: problems ([] = verified) or None (nothing drawn yet)} by the one verifier,
    ``draw_verification``, memoised on the fingerprint of the stored inputs (PostgreSQL)."""
    performed = [d for d in draws if _has_document(d)]
    fingerprints = draw_fingerprints([d.pk for d in performed])
    out: dict[int, list[str] | None] = {d.pk: None for d in draws}
    misses = []
    for draw in performed:
        fingerprint = fingerprints.get(draw.pk)
        problems = _memo_get(draw.pk, fingerprint) if fingerprint else None
        if problems is None:
            misses.append(draw.pk)
        out[draw.pk] = problems
    # The listed draws come without their large fields (files, draw.json): load them in one
    # query for the draws that must be recomputed.
    for draw in Draw.objects.filter(pk__in=misses).order_by("-id"):
        problems = draw_verification(draw)
        fingerprint = fingerprints.get(draw.pk)
        if fingerprint:
            _memo_set(draw.pk, fingerprint, problems)
        out[draw.pk] = problems
    return out


def draw_rows(draws: list[Draw]) -> list[DrawRow]:
    """The draws with witnesses and counts fetched in a constant number of queries, each draw
    verified with ``draw_verification`` (a constant number of queries per draw, or none when
    the memo of the same stored inputs holds, see above)."""
    ids = [d.pk for d in draws]
    selected = _counts(DrawSelection, "draw_id", ids)
    replacements = _counts(DrawReplacement, "selection__draw_id", ids)
    joint = dict(
        JointVisit.selections.through.objects.filter(drawselection__draw_id__in=ids)
        .values_list("drawselection__draw_id")
        .annotate(n=Count("jointvisit_id", distinct=True))
        .order_by()
    )
    verified = verify_draws(draws)
    rows = []
    for draw in draws:
        problems = verified[draw.pk]
        rows.append(
            DrawRow(
                draw=draw,
                witnesses=list(draw.witnesses.all()),
                selected=selected.get(draw.pk, 0),
                replacements=replacements.get(draw.pk, 0),
                joint_visits=joint.get(draw.pk, 0),
                problems=problems,
            )
        )
    return rows


LARGE_FIELDS = ("manifest", "inspectors_manifest", "experts_manifest", "document", "excluded")


def _with_related(qs: QuerySet[Draw]) -> QuerySet[Draw]:
    """What the list shows, without the large fields (loaded again only to recompute)."""
    return (
        qs.select_related("task", "task__lead_section", "operator", "voided_by", "void_approver")
        .defer(*LARGE_FIELDS)
        .annotate(
            has_document=Case(
                When(document__isnull=True, then=Value(False)),
                default=Value(True),
                output_field=BooleanField(),
            )
        )
        .prefetch_related(Prefetch("witnesses", queryset=DrawWitness.objects.order_by("order")))
    )


def draw_page(
    scope: Scope, *, actor: User | None = None, status: str = "", before: int | None = None
) -> tuple[list[DrawRow], int | None]:
    """One page (keyset on the id, newest first): ``(rows, next_before)``. Only the draws of
    this page are verified."""
    qs = draws_in_scope(scope, status=status)
    if before is not None:
        qs = qs.filter(pk__lt=before)
    draws, has_next = rows_and_more(_with_related(qs), PAGE_SIZE)
    rows = draw_rows(draws)
    for row in rows:
        if row.problems:
            draw_failure_note(row.draw, row.problems, actor=actor)
    return rows, (draws[-1].pk if has_next else None)


def draw_export_rows(scope: Scope, *, actor: User | None = None, status: str = "") -> list[DrawRow]:
    draws = list(_with_related(draws_in_scope(scope, status=status))[:DRAW_EXPORT_LIMIT])
    rows = draw_rows(draws)
    for row in rows:
        if row.problems:
            draw_failure_note(row.draw, row.problems, actor=actor)
    return rows


def draw_failure_note(draw: Draw, problems: list[str], *, actor: User | None = None) -> bool:
    """Record (once per distinct set of problems) that a draw failed its verification when
    ``actor`` viewed it. Returns True if an event was written."""
    last = (
        AuditEvent.objects.filter(
            event_type=VERIFICATION_FAILED, object_type=DRAW_OBJECT, object_id=str(draw.pk)
        )
        .order_by("-seq")
        .values_list("detail", flat=True)
        .first()
    )
    if last is not None and last.get("problems") == problems:
        return False
    audit_record(
        event_type=VERIFICATION_FAILED,
        actor=actor,
        object_type=DRAW_OBJECT,
        object_id=draw.pk,
        outcome=AuditEvent.Outcome.FAILURE,
        detail={"problems": problems, "task": draw.task.number},
    )
    return True


def failing_draw_ids() -> QuerySet[Any]:
    """Draws ever seen failing their verification (distinct ids, as text)."""
    return (
        AuditEvent.objects.filter(event_type=VERIFICATION_FAILED, object_type=DRAW_OBJECT)
        .values_list("object_id", flat=True)
        .distinct()
    )


def replacements_in_scope(scope: Scope) -> QuerySet[DrawReplacement]:
    start, end = aware_range(scope)
    qs = DrawReplacement.objects.filter(made_at__gte=start, made_at__lt=end)
    if scope.task is not None:
        qs = qs.filter(selection__draw__task=scope.task)
    if scope.section is not None:
        qs = qs.filter(selection__draw__task__in=_section_tasks(scope.section))
    return qs.select_related(
        "selection__draw__task", "selection__enterprise", "out", "into", "approver", "made_by"
    ).order_by("-made_at", "-id")


def joint_visits_in_scope(scope: Scope) -> QuerySet[JointVisit]:
    start, end = aware_range(scope)
    qs = JointVisit.objects.filter(merged_at__gte=start, merged_at__lt=end)
    through = JointVisit.selections.through.objects
    if scope.task is not None:
        qs = qs.filter(
            pk__in=through.filter(drawselection__draw__task=scope.task).values("jointvisit_id")
        )
    if scope.section is not None:
        qs = qs.filter(
            pk__in=through.filter(
                drawselection__draw__task__in=_section_tasks(scope.section)
            ).values("jointvisit_id")
        )
    return (
        qs.select_related("enterprise", "merged_by", "base_selection__draw__task")
        .prefetch_related(
            Prefetch(
                "selections",
                queryset=DrawSelection.objects.select_related("draw__task").order_by("draw_id"),
            )
        )
        .order_by("-merged_at", "-id")
    )


# ---------------------------------------------------------------------------------- records
def _visit_ids_text(visits: QuerySet[Visit]) -> QuerySet[Visit, Any]:
    return visits.annotate(text_id=Cast("pk", CharField())).values("text_id")


def record_edits(scope: Scope, *, stage: str = "") -> QuerySet[AuditEvent]:
    """Content edits of inspection records made after the record had been submitted (i.e. after
    a return) or after it had been approved, from the audit log: each row is one audit event
    with ``after_submission`` / ``after_approval`` annotations and its before/after detail.
    ``stage`` = "approved" keeps only the edits after approval."""
    start, end = aware_range(scope)
    earlier = AuditEvent.objects.filter(
        object_type=VISIT_OBJECT, object_id=OuterRef("object_id"), seq__lt=OuterRef("seq")
    )
    qs = AuditEvent.objects.filter(
        object_type=VISIT_OBJECT,
        event_type__in=EDIT_EVENTS,
        occurred_at__gte=start,
        occurred_at__lt=end,
    ).annotate(
        after_submission=Exists(earlier.filter(event_type="visit.submit")),
        after_approval=Exists(earlier.filter(event_type="visit.approve")),
    )
    visits = _scoped_visits(scope)
    if visits is not None:
        qs = qs.filter(object_id__in=_visit_ids_text(visits))
    if stage == "approved":
        qs = qs.filter(after_approval=True)
    else:
        qs = qs.filter(Q(after_submission=True) | Q(after_approval=True))
    edits: QuerySet[AuditEvent] = qs.order_by("-seq")
    return edits


def visits_by_id(events: Iterable[AuditEvent]) -> dict[str, Visit]:
    ids = {e.object_id for e in events if e.object_id.isdigit()}
    return {
        str(v.pk): v
        for v in Visit.objects.filter(pk__in=[int(i) for i in ids]).select_related(
            "enterprise", "task", "section"
        )
    }


def returned_reviews(scope: Scope) -> QuerySet[VisitReview]:
    start, end = aware_range(scope)
    qs = VisitReview.objects.filter(
        decision=VisitReview.Decision.RETURN, reviewed_at__gte=start, reviewed_at__lt=end
    )
    if scope.section is not None:
        qs = qs.filter(visit__section=scope.section)
    if scope.task is not None:
        qs = qs.filter(visit__task=scope.task)
    return qs.select_related(
        "visit__enterprise", "visit__task", "visit__section", "reviewer"
    ).order_by("-reviewed_at", "-id")


_M = TypeVar("_M", bound=Model)


def _record_scope(qs: QuerySet[_M], scope: Scope, prefix: str = "record__") -> QuerySet[_M]:
    if scope.section is not None:
        qs = qs.filter(**{f"{prefix}section": scope.section})
    if scope.task is not None:
        qs = qs.filter(**{f"{prefix}task": scope.task})
    return qs


def corrections(scope: Scope) -> QuerySet[PublicationVersion]:
    start, end = aware_range(scope)
    qs = PublicationVersion.objects.filter(
        is_correction=True, created_at__gte=start, created_at__lt=end
    )
    return (
        _record_scope(qs, scope)
        .select_related("record", "created_by", "approved_by", "objection")
        .order_by("-created_at", "-id")
    )


def objections(scope: Scope) -> QuerySet[Objection]:
    qs = Objection.objects.filter(received_on__gte=scope.start, received_on__lte=scope.end)
    return (
        _record_scope(qs, scope)
        .select_related("record", "recorded_by", "recheck_by")
        .order_by("-received_on", "-id")
    )


# -------------------------------------------------------------------------------- deadlines
def due_soon_limit(today: datetime.date) -> datetime.date:
    """The first day that is no longer "due soon": deadlines before it have at most
    ``DUE_SOON_WORKING_DAYS`` working days left (the daily scan's reminder level). Without a
    published calendar for the days ahead, a week."""
    try:
        return WorkingCalendar().add_working_days(today, DUE_SOON_WORKING_DAYS + 1)
    except CalendarYearNotPublished:
        return today + datetime.timedelta(days=8)


def _publication_scope(scope: Scope, prefix: str = "") -> Q:
    """The records of results whose check ended in the period (抽查完成日期), in the scope's
    section and task; ``prefix`` reaches the record from a related model."""
    q = Q(**{f"{prefix}check_end__gte": scope.start, f"{prefix}check_end__lte": scope.end})
    if scope.section is not None:
        q &= Q(**{f"{prefix}section": scope.section})
    if scope.task is not None:
        q &= Q(**{f"{prefix}task": scope.task})
    return q


def publications_in_scope(scope: Scope) -> QuerySet[PublicationRecord]:
    """Publication records of results whose check ended in the period (抽查完成日期)."""
    return PublicationRecord.objects.filter(_publication_scope(scope))


@dataclass
class DeadlineFigures:
    today: datetime.date
    soon_limit: datetime.date
    overdue: int = 0
    due_soon: int = 0
    by_section: list[dict[str, Any]] = field(default_factory=list)
    by_inspector: list[dict[str, Any]] = field(default_factory=list)
    monthly: list[dict[str, Any]] = field(default_factory=list)


def _open_filters(today: datetime.date, soon_limit: datetime.date) -> tuple[Q, Q]:
    overdue = Q(deadline__lt=today)
    soon = Q(deadline__gte=today, deadline__lt=soon_limit)
    return overdue, soon


def open_publications(
    scope: Scope,
    *,
    which: str = "",
    today: datetime.date | None = None,
    soon_limit: datetime.date | None = None,
) -> QuerySet[PublicationRecord]:
    """Not yet published (first publication missing) and either overdue or due soon."""
    today = today or timezone.localdate()
    soon_limit = soon_limit or due_soon_limit(today)
    overdue, soon = _open_filters(today, soon_limit)
    qs = publications_in_scope(scope).filter(
        first_published_on__isnull=True, deadline__isnull=False
    )
    if which == "overdue":
        qs = qs.filter(overdue)
    elif which == "soon":
        qs = qs.filter(soon)
    else:
        qs = qs.filter(deadline__lt=soon_limit)  # = overdue | soon
    return qs.select_related("section").prefetch_related("inspectors").order_by("deadline", "id")


def deadline_figures(scope: Scope) -> DeadlineFigures:
    """The deadline page's figures, kept in the cache like the reports' (under the data
    fingerprint: any recorded change, a new day or another scope makes a new key), since with
    10^5 open records the three groupings take 0.2–0.3 s."""
    today = timezone.localdate()
    figures: DeadlineFigures = cached_figures(
        "deadlines", lambda: _deadline_figures(scope, today), today, scope.as_detail()
    )
    return figures


def _deadline_figures(scope: Scope, today: datetime.date) -> DeadlineFigures:
    soon_limit = due_soon_limit(today)
    overdue, soon = _open_filters(today, soon_limit)
    records = publications_in_scope(scope)
    open_ = records.filter(first_published_on__isnull=True, deadline__isnull=False)
    figures = DeadlineFigures(today=today, soon_limit=soon_limit)
    late_or_soon = Q(deadline__lt=soon_limit)  # = overdue | soon
    # The plugin types .values() rows as TypedDicts (not dicts), here and in `monthly` below.
    figures.by_section = list(
        open_.filter(late_or_soon)  # type: ignore[arg-type]
        .values("section__name")
        .annotate(overdue=Count("pk", filter=overdue), due_soon=Count("pk", filter=soon))
        .order_by("-overdue", "-due_soon", "section__name")
    )
    # Each open record has one section (or none): the totals are the sums of the rows.
    figures.overdue = sum(r["overdue"] for r in figures.by_section)
    figures.due_soon = sum(r["due_soon"] for r in figures.by_section)
    # Grouped on the inspector link table, joined to the records (a plain inner join: asking
    # for "has an inspector" from the records' side adds a NOT NULL test that makes PostgreSQL
    # build the link table's hash once per parallel worker, half as slow again at 10^5), on
    # the inspector id alone; the few inspectors' names are read afterwards.
    record = "publicationrecord__"
    counts = list(
        # The plugin does not see annotations of an auto-created through model.
        PublicationRecord.inspectors.through.objects.filter(  # type: ignore[misc]
            _publication_scope(scope, record),
            Q(**{f"{record}first_published_on__isnull": True, f"{record}deadline__lt": soon_limit}),
        )
        .values("user_id")
        .annotate(
            overdue=Count("publicationrecord_id", filter=Q(**{f"{record}deadline__lt": today})),
            due_soon=Count("publicationrecord_id", filter=Q(**{f"{record}deadline__gte": today})),
        )
        .values_list("user_id", "overdue", "due_soon")
    )
    users = {
        pk: (username, full_name)
        for pk, username, full_name in User.objects.filter(
            pk__in=[user_id for user_id, _late, _near in counts]
        ).values_list("pk", "username", "full_name")
    }
    figures.by_inspector = sorted(
        (
            {
                "user_id": user_id,
                "user__full_name": users[user_id][1],
                "user__username": users[user_id][0],
                "overdue": late,
                "due_soon": near,
            }
            for user_id, late, near in counts
        ),
        key=lambda row: (-row["overdue"], -row["due_soon"], row["user__username"]),
    )
    # On time per month of the deadline, over the records that are decided: published, or not
    # published with the deadline passed (those count as late).
    published_late = Q(first_published_on__gt=F("deadline"))
    monthly = (
        # The plugin takes the on_time annotation for the model's on_time property.
        records.filter(deadline__isnull=False)  # type: ignore[no-redef]
        .filter(Q(first_published_on__isnull=False) | Q(deadline__lt=today))
        .annotate(month=TruncMonth("deadline"))
        .values("month")
        .annotate(
            decided=Count("pk"),
            on_time=Count("pk", filter=Q(first_published_on__lte=F("deadline"))),
            late_published=Count("pk", filter=published_late),
            overdue_open=Count("pk", filter=Q(first_published_on__isnull=True)),
        )
        .order_by("month")
    )
    for row in monthly:
        row["rate"] = round(row["on_time"] * 100 / row["decided"], 1) if row["decided"] else None  # type: ignore[misc]
        figures.monthly.append(row)  # type: ignore[arg-type]
    return figures


# ------------------------------------------------------------------------------- red flags
@dataclass
class RedFlags:
    failing_draws: int
    voided_draws: int
    overdue_publications: int
    edits_after_approval: int
    scope_recent: Scope
    scope_all: Scope


def red_flags(*, days: int = 30) -> RedFlags:
    """Counts for the discipline group's dashboard: four cheap COUNT queries. Failing draws are
    those ever seen failing (an audit event written when a verification fails); voided draws and
    edits after approval over the last ``days``; overdue publications: every one still open."""
    today = timezone.localdate()
    recent = Scope(
        start=today - datetime.timedelta(days=days - 1), end=today, section=None, task=None
    )
    everything = Scope(start=datetime.date(2000, 1, 1), end=today, section=None, task=None)
    return RedFlags(
        failing_draws=failing_draw_ids().count(),
        voided_draws=draws_in_scope(recent, status=Draw.Status.VOIDED).count(),
        overdue_publications=publications_in_scope(everything)
        .filter(first_published_on__isnull=True, deadline__lt=today)
        .count(),
        edits_after_approval=record_edits(recent, stage="approved").count(),
        scope_recent=recent,
        scope_all=everything,
    )
