"""Reads of the register. Set-based: no per-enterprise queries."""

import datetime as dt
from collections.abc import Iterable

from django.contrib.postgres.fields import ArrayField
from django.db import connection
from django.db.models import Exists, Func, OuterRef, Q, QuerySet, Subquery, TextField
from django.shortcuts import get_object_or_404

from accounts.roles import Role
from core.paging import rows_and_more

from .models import (
    CheckItem,
    Enterprise,
    ImportBatch,
    Licence,
    RiskAssessment,
    group_name_normalise,
)
from .uscc import normalise


def tier_subquery(on: dt.date) -> Subquery:
    """The tier of the day: the latest assessment effective on or before ``on`` (None when
    never assessed). The one definition; the draws' population uses it too."""
    return Subquery(
        RiskAssessment.objects.filter(enterprise=OuterRef("pk"), effective_date__lte=on)
        .order_by("-effective_date", "-id")
        .values("tier")[:1]
    )


def enterprises_with_tier(*, queryset: QuerySet[Enterprise] | None = None, on: dt.date):
    """``queryset`` annotated with ``tier_of_day`` (None when never assessed)."""
    queryset = Enterprise.objects.all() if queryset is None else queryset
    return queryset.annotate(tier_of_day=tier_subquery(on))


def population_with_tiers(*, queryset: QuerySet[Enterprise], on: dt.date):
    """(uscc, tier) rows of the population on a day, one query (a correlated subquery per row
    served by the (enterprise, -effective_date, -id) index). Tier is None if never assessed."""
    return enterprises_with_tier(queryset=queryset, on=on).values_list("uscc", "tier_of_day")


def tier_of_day(
    *,
    on: dt.date,
    enterprise_ids: Iterable[int] | None = None,
    queryset: QuerySet[Enterprise] | None = None,
) -> dict[int, str | None]:
    """{enterprise id: tier on ``on``} — the latest assessment effective on or before it."""
    if queryset is None:
        queryset = Enterprise.objects.filter(pk__in=list(enterprise_ids or []))
    return dict(enterprises_with_tier(queryset=queryset, on=on).values_list("pk", "tier_of_day"))


def current_tier(*, enterprise: Enterprise, on: dt.date) -> str | None:
    return tier_of_day(on=on, enterprise_ids=[enterprise.pk]).get(enterprise.pk)


def tier_history(*, enterprise: Enterprise) -> QuerySet[RiskAssessment]:
    return enterprise.assessments.select_related("entered_by").order_by("-effective_date", "-id")


def enterprise_groups(*, limit: int = 2000) -> list[str]:
    """The distinct group names (所属集团) of the register, sorted; served by ent_group_uscc."""
    return list(
        Enterprise.objects.exclude(group_name="")
        .order_by("group_name")
        .values_list("group_name", flat=True)
        .distinct()[:limit]
    )


def licence_types() -> list[str]:
    return list(Licence.objects.order_by().values_list("licence_type", flat=True).distinct())


# --- the list ---------------------------------------------------------------------------------

LIST_FILTERS = (
    "trade",
    "township",
    "enterprise_type",
    "scale",
    "status",
    "section",
    "tier",
    "licence",
    "group",
)


def enterprise_search(*, params: dict, on: dt.date) -> QuerySet[Enterprise]:
    """The register filtered by the list's parameters, ordered by uscc (the keyset)."""
    qs = Enterprise.objects.all()
    q = (params.get("q") or "").strip()
    if q:
        code = normalise(q)
        if code.isalnum() and code.isascii() and len(code) >= 4:
            qs = qs.filter(Q(uscc__startswith=code) | Q(name__contains=q))
        else:
            qs = _name_filter(qs, q)
    if params.get("trade"):
        # EXISTS, not a join: the planner walks the uscc index and probes the (enterprise,
        # trade) unique index, so "page 1 of a trade" never sorts the whole trade.
        through = Enterprise.trades.through.objects.filter(
            enterprise_id=OuterRef("pk"), trade_id=params["trade"]
        )
        qs = qs.filter(Exists(through))
    if params.get("township"):
        qs = qs.filter(township_id=params["township"])
    for name in ("enterprise_type", "scale", "status"):
        if params.get(name):
            qs = qs.filter(**{name: params[name]})
    if params.get("section"):
        qs = qs.filter(section_id=params["section"])
    if params.get("group"):
        # exact (normalised) name, as recusals match it; index ent_group_uscc
        qs = qs.filter(group_name=group_name_normalise(params["group"]))
    if params.get("licence"):
        qs = qs.filter(
            pk__in=Licence.objects.filter(licence_type=params["licence"]).values("enterprise_id")
        )
    if params.get("tier"):
        qs = qs.alias(tier_of_day=tier_subquery(on)).filter(tier_of_day=params["tier"])
    return qs.order_by("uscc")


def name_bigrams(text: str) -> list[str]:
    return sorted({text[i : i + 2] for i in range(len(text) - 1)})


def _name_filter(qs: QuerySet[Enterprise], q: str) -> QuerySet[Enterprise]:
    """Substring search on names. PostgreSQL: the query's bigrams must all be in the name's
    (GIN index ``ent_name_bigrams``, migration 0004), re-checked with LIKE; a 2-character
    query is one index lookup. SQLite and 1-character queries: LIKE alone."""
    if connection.vendor == "postgresql" and len(q) >= 2:

        class NameBigrams(Func):
            function = "enterprise_name_bigrams"
            output_field = ArrayField(TextField())

        # The plugin types the alias's lookup as text; output_field says it is an array.
        qs = qs.alias(name_bigrams=NameBigrams("name")).filter(  # type: ignore[misc]
            name_bigrams__contains=name_bigrams(q)
        )
    return qs.filter(name__contains=q)


def keyset_page(
    queryset: QuerySet[Enterprise], *, after: str = "", before: str = "", size: int = 50
):
    """One page by keyset on uscc: (rows, next_after, prev_before). One query, no COUNT(*)."""
    if before:
        rows, has_more = rows_and_more(queryset.filter(uscc__lt=before).order_by("-uscc"), size)
        rows.reverse()
        prev_before = rows[0].uscc if rows and has_more else ""
        next_after = rows[-1].uscc if rows else ""
        return rows, next_after, prev_before
    if after:
        queryset = queryset.filter(uscc__gt=after)
    rows, has_next = rows_and_more(queryset, size)
    return rows, (rows[-1].uscc if has_next else ""), (rows[0].uscc if after and rows else "")


def check_items(*, params: dict | None = None) -> QuerySet[CheckItem]:
    params = params or {}
    qs = CheckItem.objects.select_related("section").prefetch_related("trades")
    if params.get("status"):
        qs = qs.filter(status=params["status"])
    if params.get("q"):
        qs = qs.filter(Q(name__contains=params["q"]) | Q(code__contains=params["q"]))
    return qs.order_by("code")


def can_maintain_check_item(user, section) -> bool:
    """业务股室 maintain their own section's check items (``section``: the item's 责任股室); the
    lead section, which compiles the list, maintains all of them."""
    if user.has_role(Role.LEAD_SECTION):
        return True
    return bool(user.has_role(Role.SECTION_STAFF) and section and user.section_id == section.pk)


# --- import batches: bound to their uploader -----------------------------------------------------


def import_batches_for(user):
    """The import batches ``user`` may open: only their own uploads. A batch holds one person's
    file (its rows, errors and personal data) and is confirmed by that person; a colleague of
    the same role — of the same section or not — uploads their own."""
    return ImportBatch.objects.filter(created_by_id=user.pk)


def import_batch_for(user, pk: int) -> ImportBatch:
    """The batch if ``user`` uploaded it, else 404 (another's batch is not revealed)."""
    return get_object_or_404(import_batches_for(user), pk=pk)
