"""Export of the register and the import templates (same headers, so an export re-imports)."""

from collections.abc import Iterator

from django.db.models import QuerySet

from core.spreadsheets import write_xlsx

from .importers import ENTERPRISE_COLUMNS, IMPORTERS
from .models import Enterprise, Trade

CHUNK = 5000


def enterprise_rows(queryset: QuerySet[Enterprise]) -> Iterator[list]:
    """Rows in template column order, streamed by keyset chunks of ``CHUNK`` (constant
    memory; two queries per chunk: the enterprises and their trades)."""
    types = dict(Enterprise.EnterpriseType.choices)
    scales = dict(Enterprise.Scale.choices)
    statuses = dict(Enterprise.Status.choices)
    trade_names = dict(Trade.objects.values_list("pk", "name"))
    through = Enterprise.trades.through
    fields = (
        "id",
        "uscc",
        "name",
        "legal_representative",
        "contact_person",
        "contact_phone",
        "registered_address",
        "business_address",
        "township__name",
        "enterprise_type",
        "scale",
        "status",
        "section__name",
        "remarks",
        "uscc_override_reason",
    )
    queryset = queryset.order_by("uscc")
    last = None
    while True:
        chunk_qs = queryset if last is None else queryset.filter(uscc__gt=last)
        chunk = list(chunk_qs.values_list(*fields)[:CHUNK])
        if not chunk:
            return
        trades: dict[int, list[str]] = {}
        for eid, tid in (
            through.objects.filter(enterprise_id__in=[r[0] for r in chunk])
            .order_by("enterprise_id", "trade_id")
            .values_list("enterprise_id", "trade_id")
        ):
            trades.setdefault(eid, []).append(trade_names[tid])
        for r in chunk:
            yield [
                r[1],
                r[2],
                r[3],
                r[4],
                r[5],
                r[6],
                r[7],
                r[8],
                "、".join(trades.get(r[0], [])),
                str(types.get(r[9], r[9])),
                str(scales.get(r[10], "")) if r[10] else "",
                str(statuses.get(r[11], r[11])),
                r[12] or "",
                r[13],
                r[14],
            ]
        last = chunk[-1][1]


def enterprise_export(queryset: QuerySet[Enterprise], target) -> int:
    return write_xlsx(
        target,
        headers=[c.header for c in ENTERPRISE_COLUMNS],
        rows=enterprise_rows(queryset),
        sheet_title="监管企业",
        widths=[c.width for c in ENTERPRISE_COLUMNS],
    )


def template_write(kind: str, target) -> None:
    importer = IMPORTERS[kind]
    write_xlsx(
        target,
        headers=[c.header for c in importer.columns],
        rows=[],
        sheet_title=importer.title,
        widths=[c.width for c in importer.columns],
        notes=[
            (c.header, ("必有列。" if c.required else "可选列。") + c.note)
            for c in importer.columns
        ],
    )
