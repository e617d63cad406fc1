"""Reads of the roster, above all THE eligibility selector the inspector draw calls.

``inspector_eligibility`` answers "who may inspect enterprise E for items X during [start, end]"
with a reason for every refusal. For a draw over many enterprises build one
``EligibilityContext`` (a fixed number of queries) and call ``.evaluate`` per enterprise: it
runs no further query.
"""

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.db.models import Prefetch, Q, QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone

from audit.models import AuditEvent
from enterprises.models import (
    CheckItem,
    Enterprise,
    ImportBatch,
    ProfessionalQualification,
    group_name_normalise,
)

from .models import Agency, Certificate, Expert, Inspector, Recusal, StatusPeriod, Training

QUALIFICATION_LABELS = dict(ProfessionalQualification.choices)


@dataclass(slots=True)
class EligibilityResult:
    inspector: Inspector
    eligible: bool
    reasons: list[str] = field(default_factory=list)
    qualifications: set[str] = field(default_factory=set)


@dataclass(slots=True)
class MemberEligibilityResult:
    """The same answer for an expert or an agency (``member``)."""

    member: Expert | Agency
    eligible: bool
    reasons: list[str] = field(default_factory=list)
    qualifications: set[str] = field(default_factory=set)


def _d(day: date) -> str:
    return f"{day:%Y-%m-%d}"


def _check_window(start: date, end: date) -> None:
    if start > end:
        raise ValueError(f"检查期起始日 {start} 晚于结束日 {end}")


def _ids(objects) -> list[int] | None:
    if objects is None:
        return None
    if isinstance(objects, QuerySet):
        return list(objects.values_list("pk", flat=True))
    return [getattr(o, "pk", o) for o in objects]


def _recusal_reason(recusal: Recusal) -> str:
    return f"已申报回避（{recusal.get_reason_display()}：{recusal.target_text()}）"


def certificate_reason(certificates: Iterable[Certificate], start: date, end: date) -> str | None:
    """None when one certificate covers the whole window; otherwise why not (Chinese)."""
    certificates = list(certificates)
    if any(c.covers(start, end) for c in certificates):
        return None
    if not certificates:
        return "无执法证"
    started = [c for c in certificates if c.issued_on <= start]
    if not started:
        first = min(c.issued_on for c in certificates)
        return f"执法证自{_d(first)}起有效，未覆盖检查期"
    best = max(started, key=lambda c: c.valid_through())
    last = best.valid_through()
    if best.revoked_on and best.revoked_on <= best.expires_on:
        if best.revoked_on <= start:
            return f"执法证已于{_d(best.revoked_on)}收回"
        return f"执法证于{_d(best.revoked_on)}收回，未覆盖检查期"
    if last < start:
        return f"执法证已于{_d(last)}到期"
    return f"执法证于{_d(last)}到期，未覆盖检查期"


class EligibilityContext:
    """Everything eligibility needs for one draw, loaded once.

    Queries: inspectors, certificates, status periods, recusals, item and trade grants (6),
    plus one for the trades of the check items (at construction if ``check_items`` is given,
    otherwise the first time new items are seen). ``evaluate`` itself runs none.
    """

    def __init__(
        self,
        *,
        start: date,
        end: date,
        load: Mapping[int, tuple[int, int]] | None = None,
        inspectors=None,
        check_items=None,
    ):
        _check_window(start, end)
        self.start, self.end = start, end
        self.load = load or {}
        qs = Inspector.objects.select_related("section").order_by("staff_number")
        ids = _ids(inspectors)
        if ids is not None:
            qs = qs.filter(pk__in=ids)
        qs = qs.prefetch_related(
            Prefetch("certificates", queryset=Certificate.objects.order_by("-expires_on")),
            Prefetch(
                "status_periods",
                queryset=StatusPeriod.objects.filter(
                    Q(end__isnull=True) | Q(end__gte=start), start__lte=end
                ).order_by("start"),
                to_attr="window_periods",
            ),
            Prefetch(
                "recusals",
                queryset=Recusal.objects.filter(
                    Q(ended_on__isnull=True) | Q(ended_on__gt=start)
                ).select_related("enterprise"),
                to_attr="open_recusals",
            ),
        )
        self.inspectors = list(qs)
        pks = [i.pk for i in self.inspectors]
        self.item_grants: dict[int, set[int]] = defaultdict(set)
        for inspector_id, item_id in Inspector.check_items.through.objects.filter(
            inspector_id__in=pks
        ).values_list("inspector_id", "checkitem_id"):
            self.item_grants[inspector_id].add(item_id)
        self.trade_grants: dict[int, set[int]] = defaultdict(set)
        for inspector_id, trade_id in Inspector.trades.through.objects.filter(
            inspector_id__in=pks
        ).values_list("inspector_id", "trade_id"):
            self.trade_grants[inspector_id].add(trade_id)
        self._item_trades: dict[int, set[int]] = {}
        self._item_reasons: dict[tuple[int, ...], dict[int, list[str]]] = {}
        # The per-inspector parts that do not depend on the enterprise, computed once.
        self._base: dict[int, list[str]] = {i.pk: self._base_reasons(i) for i in self.inspectors}
        self._quals = {i.pk: frozenset(i.professional_qualifications) for i in self.inspectors}
        # Recusals indexed by what they name, so an enterprise costs three dict look-ups.
        self._recused_enterprise: dict[int, list[tuple[int, str]]] = defaultdict(list)
        self._recused_representative: dict[str, list[tuple[int, str]]] = defaultdict(list)
        self._recused_group: dict[str, list[tuple[int, str]]] = defaultdict(list)
        for inspector in self.inspectors:
            for recusal in inspector.open_recusals:
                entry = (inspector.pk, _recusal_reason(recusal))
                if recusal.enterprise_id:
                    self._recused_enterprise[recusal.enterprise_id].append(entry)
                elif recusal.group:
                    self._recused_group[recusal.group].append(entry)
                else:
                    self._recused_representative[recusal.legal_representative.strip()].append(entry)
        if check_items is not None:
            self._load_item_trades(check_items)

    def _load_item_trades(self, check_items) -> None:
        missing = [i.pk for i in check_items if i.pk not in self._item_trades]
        if not missing:
            return
        for item_id in missing:
            self._item_trades[item_id] = set()
        for item_id, trade_id in CheckItem.trades.through.objects.filter(
            checkitem_id__in=missing
        ).values_list("checkitem_id", "trade_id"):
            self._item_trades[item_id].add(trade_id)

    def _base_reasons(self, inspector: Inspector) -> list[str]:
        # window_periods: a Prefetch(to_attr=...), which the plugin cannot see.
        periods = inspector.window_periods  # type: ignore[attr-defined]
        reasons = [f"{p.get_status_display()} {p.period_text()}" for p in periods]
        cert = certificate_reason(inspector.certificates.all(), self.start, self.end)
        if cert:
            reasons.append(cert)
        task_count, year_count = self.load.get(inspector.pk, (0, 0))
        if task_count >= inspector.task_limit:
            reasons.append(f"本任务检查户数已达上限（{inspector.task_limit}户）")
        if year_count >= inspector.year_limit:
            reasons.append(f"本年度检查次数已达上限（{inspector.year_limit}次）")
        return reasons

    def _qualification_reasons(self, check_items) -> dict[int, list[str]]:
        """Per inspector, the items it may not inspect; cached per set of items."""
        key = tuple(sorted(item.pk for item in check_items))
        cached = self._item_reasons.get(key)
        if cached is None:
            self._load_item_trades(check_items)
            cached = {}
            for inspector in self.inspectors:
                items, trades = self.item_grants[inspector.pk], self.trade_grants[inspector.pk]
                missing = [
                    f"无检查事项“{item.code} {item.name}”的检查资格"
                    for item in check_items
                    if item.pk not in items and not (self._item_trades[item.pk] & trades)
                ]
                if missing:
                    cached[inspector.pk] = missing
            self._item_reasons[key] = cached
        return cached

    def evaluate(self, enterprise, check_items) -> list[EligibilityResult]:
        """One result per inspector, in staff-number order (the order the draw ranks by)."""
        check_items = list(check_items)
        unqualified = self._qualification_reasons(check_items)
        recused: dict[int, list[str]] = defaultdict(list)
        for inspector_id, reason in self._recused_enterprise.get(enterprise.pk, ()):
            recused[inspector_id].append(reason)
        representative = (enterprise.legal_representative or "").strip()
        if representative:
            for inspector_id, reason in self._recused_representative.get(representative, ()):
                recused[inspector_id].append(reason)
        group = group_name_normalise(getattr(enterprise, "group_name", ""))
        if group:
            for inspector_id, reason in self._recused_group.get(group, ()):
                recused[inspector_id].append(reason)
        results = []
        for inspector in self.inspectors:
            pk = inspector.pk
            reasons = self._base[pk]
            if pk in recused or pk in unqualified:
                reasons = reasons + recused.get(pk, []) + unqualified.get(pk, [])
            else:
                reasons = list(reasons)
            results.append(
                EligibilityResult(
                    inspector=inspector,
                    eligible=not reasons,
                    reasons=reasons,
                    qualifications=set(self._quals[pk]),
                )
            )
        return results


def inspector_eligibility(
    *,
    start: date,
    end: date,
    check_items,
    enterprise,
    load: Mapping[int, tuple[int, int]] | None = None,
    inspectors=None,
) -> list[EligibilityResult]:
    """Who may inspect ``enterprise`` for ``check_items`` on every day of [start, end].

    Ineligible: any 休假/停职/调离/退休 period touching the window; no certificate valid from
    ``start`` through ``end`` (expiry day inclusive); a recusal not ended on or before ``start``
    naming the enterprise, its legal representative or its group (``group_name``); ``load`` (checks in this task, in this
    calendar year) at the inspector's limits; an item the inspector is not authorised for
    (directly or through one of its trades). Professional qualifications are a team-level
    requirement: returned in ``qualifications`` for the draw to cover, never a refusal here.
    """
    context = EligibilityContext(
        start=start, end=end, load=load, inspectors=inspectors, check_items=check_items
    )
    return context.evaluate(enterprise, check_items)


class RecusalTargets:
    """Which enterprises of a draw population each person's open recusals name: the
    ``recusals`` column (USCCs) of the draw's inspector and expert manifests.

    ``ids``: population uscc → enterprise id; ``legal_reps``: legal representative (trimmed)
    → population USCCs; ``people``: inspectors / experts / agencies with ``open_recusals``
    prefetched (as ``EligibilityContext`` and ``expert_eligibility`` leave them). Group
    recusals cost one query for all the groups named, whatever the population size."""

    def __init__(self, *, ids: Mapping[str, int], legal_reps: Mapping[str, list[str]], people):
        self.ids, self.legal_reps = ids, legal_reps
        self.enterprise_usccs: dict[int, str] = {pk: uscc for uscc, pk in ids.items()}
        names = {r.group for p in people for r in getattr(p, "open_recusals", ()) if r.group}
        self.groups: dict[str, list[str]] = defaultdict(list)
        if names:
            for name, uscc in Enterprise.objects.filter(group_name__in=names).values_list(
                "group_name", "uscc"
            ):
                if uscc in ids:
                    self.groups[name].append(uscc)

    def usccs(self, person) -> set[str]:
        recused: set[str] = set()
        for recusal in getattr(person, "open_recusals", ()):
            if recusal.enterprise_id:
                uscc = self.enterprise_usccs.get(recusal.enterprise_id)
                if uscc:
                    recused.add(uscc)
            elif recusal.group:
                recused.update(self.groups.get(recusal.group, ()))
            else:
                recused.update(self.legal_reps.get(recusal.legal_representative.strip(), ()))
        return recused


def _member_reasons(member, *, start, end, enterprise, required: set[str]) -> list[str]:
    reasons = []
    if not member.is_active:
        reasons.append("已出库")
    if isinstance(member, Expert):
        valid_from, valid_until, label = member.valid_from, member.valid_until, "入库有效期"
    else:
        valid_from, valid_until, label = member.contract_start, member.contract_end, "委托合同期"
    if valid_from > start:
        reasons.append(f"{label}自{_d(valid_from)}起，未覆盖检查期")
    if valid_until is not None and valid_until < end:
        reasons.append(f"{label}至{_d(valid_until)}，未覆盖检查期")
    reasons.extend(_recusal_reason(r) for r in member.open_recusals if r.matches(enterprise))
    if required and not (required & set(member.professional_qualifications)):
        labels = "、".join(QUALIFICATION_LABELS.get(q, q) for q in sorted(required))
        reasons.append(f"不具备所需专业资质：{labels}")
    return reasons


def _member_eligibility(model, *, start, end, enterprise, check_items, members):
    _check_window(start, end)
    required = {i.required_qualification for i in check_items if i.required_qualification}
    qs = model.objects.order_by("code").prefetch_related(
        Prefetch(
            "recusals",
            queryset=Recusal.objects.filter(
                Q(ended_on__isnull=True) | Q(ended_on__gt=start)
            ).select_related("enterprise"),
            to_attr="open_recusals",
        )
    )
    ids = _ids(members)
    if ids is not None:
        qs = qs.filter(pk__in=ids)
    results = []
    for member in qs:
        reasons = _member_reasons(
            member, start=start, end=end, enterprise=enterprise, required=required
        )
        results.append(
            MemberEligibilityResult(
                member=member,
                eligible=not reasons,
                reasons=reasons,
                qualifications=set(member.professional_qualifications),
            )
        )
    return results


def expert_eligibility(
    *, start: date, end: date, enterprise, check_items=(), experts=None
) -> list[MemberEligibilityResult]:
    """Experts (art. 9) who may be drawn or assigned, ranked by ``code``. Same recusal rules
    as inspectors; valid in the roster for the whole window; if any item requires a
    professional qualification, the expert must hold one of them."""
    return _member_eligibility(
        Expert,
        start=start,
        end=end,
        enterprise=enterprise,
        check_items=list(check_items),
        members=experts,
    )


def agency_eligibility(
    *, start: date, end: date, enterprise, check_items=(), agencies=None
) -> list[MemberEligibilityResult]:
    """Agencies (art. 9): contract covers the window, not recused, qualified (as experts)."""
    return _member_eligibility(
        Agency,
        start=start,
        end=end,
        enterprise=enterprise,
        check_items=list(check_items),
        members=agencies,
    )


# --- Roster reads --------------------------------------------------------------------------
def status_on(inspector: Inspector, day: date) -> StatusPeriod | None:
    """The period covering ``day`` (None = 在岗). Uses prefetched ``status_periods``."""
    for period in inspector.status_periods.all():
        if period.covers(day):
            return period
    return None


def roster_list(*, query: str = "", section=None) -> QuerySet[Inspector]:
    qs = Inspector.objects.select_related("section", "user").prefetch_related(
        "status_periods", "certificates"
    )
    if query:
        qs = qs.filter(Q(name__contains=query) | Q(staff_number__contains=query))
    if section:
        qs = qs.filter(section=section)
    return qs.order_by("staff_number")


def certificate_of_day(inspector: Inspector, day: date) -> Certificate | None:
    valid = [c for c in inspector.certificates.all() if c.covers(day, day)]
    return max(valid, key=lambda c: c.valid_through()) if valid else None


def certificates_expiring(*, today: date | None = None, days: int | None = None):
    """Certificates whose last valid day is within [today, today + days], plus those that
    expired in the last 90 days; each inspector's newest certificate only (a renewed one
    supersedes the old)."""
    today = today or timezone.localdate()
    days = settings.CERTIFICATE_EXPIRY_NOTICE_DAYS if days is None else days
    certificates = Certificate.objects.select_related("inspector", "inspector__section").filter(
        expires_on__gte=today - timedelta(days=90), expires_on__lte=today + timedelta(days=days)
    )
    newest = {}
    for c in Certificate.objects.filter(
        inspector_id__in=certificates.values("inspector_id")
    ).order_by("inspector_id", "expires_on"):
        newest[c.inspector_id] = c.expires_on
    return [
        c
        for c in certificates.order_by("expires_on", "inspector__staff_number")
        if newest[c.inspector_id] == c.expires_on
    ]


_RELATED_TYPES = [
    "inspectors.certificate",
    "inspectors.statusperiod",
    "inspectors.training",
    "inspectors.recusal",
]


def inspector_history(inspector: Inspector) -> QuerySet[AuditEvent]:
    """The inspector's own events and those of its certificates, status periods, training and
    recusals (their events carry ``detail.inspector``), newest first."""
    return AuditEvent.objects.filter(
        Q(object_type="inspectors.inspector", object_id=str(inspector.pk))
        | Q(object_type__in=_RELATED_TYPES, detail__inspector=inspector.pk)
    ).order_by("-seq")


def roster_changes() -> QuerySet[AuditEvent]:
    """Every roster change (inspectors, experts, agencies and their rows), newest first."""
    return AuditEvent.objects.filter(object_type__startswith="inspectors.").order_by("-seq")


def training_by_year(*, year: int) -> list[dict]:
    """Per inspector: trainings of ``year`` and total hours (inspectors with none included)."""
    trainings = defaultdict(list)
    for t in Training.objects.filter(held_on__year=year).order_by("held_on"):
        trainings[t.inspector_id].append(t)
    rows = []
    for inspector in Inspector.objects.select_related("section").order_by("staff_number"):
        items = trainings.get(inspector.pk, [])
        rows.append(
            {
                "inspector": inspector,
                "trainings": items,
                "hours": sum((t.hours for t in items), start=Decimal(0)),
            }
        )
    return rows


ROSTER_KIND = "inspectors"  # the roster's ImportBatch kind (enterprises.ImportBatch.KIND_TITLES)


def roster_import_batch_for(user, value) -> ImportBatch:
    """The roster import batch with id ``value`` if ``user`` uploaded it, else 404 (another
    administrator's upload is not revealed; an id that is not ASCII digits is a 404 too)."""
    value = str(value or "")
    if not (value.isascii() and value.isdigit()):
        raise Http404
    return get_object_or_404(ImportBatch, pk=int(value), kind=ROSTER_KIND, created_by_id=user.pk)
