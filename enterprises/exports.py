"""Export of the register and the import templates (same headers, so an export re-imports)."""

from collections.abc import Iterator

from django.db.models import QuerySet

from core.spreadsheets import Column, write_xlsx

from .importers import ENTERPRISE_COLUMNS, IMPORTERS
from .models import Enterprise, Trade

CHUNK = 5000


def export_columns() -> list[Column]:
    """The export's columns: the import template's (``ENTERPRISE_COLUMNS``), so that an export
    re-imports. The group columns (``group_columns.GROUP_COLUMNS``) appear here once the
    import lists them; the rows below already carry their values by key."""
    return list(ENTERPRISE_COLUMNS)


def enterprise_rows(queryset: QuerySet[Enterprise], columns=None) -> Iterator[list]:
    """Rows in ``columns`` order (default ``export_columns()``), streamed by keyset chunks of
    ``CHUNK`` (constant memory; two queries per chunk: the enterprises and their trades)."""
    keys = [c.key for c in (columns or export_columns())]
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
        "group_name",
        "group_uscc",
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
            values = {
                "uscc": r[1],
                "name": r[2],
                "legal_representative": r[3],
                "contact_person": r[4],
                "contact_phone": r[5],
                "registered_address": r[6],
                "business_address": r[7],
                "township": r[8],
                "trades": "、".join(trades.get(r[0], [])),
                "enterprise_type": str(types.get(r[9], r[9])),
                "scale": str(scales.get(r[10], "")) if r[10] else "",
                "status": str(statuses.get(r[11], r[11])),
                "section": r[12] or "",
                "remarks": r[13],
                "uscc_override_reason": r[14],
                "group_name": r[15],
                "group_uscc": r[16],
            }
            yield [values.get(key, "") for key in keys]
        last = chunk[-1][1]


def enterprise_export(queryset: QuerySet[Enterprise], target) -> int:
    columns = export_columns()
    return write_xlsx(
        target,
        headers=[c.header for c in columns],
        rows=enterprise_rows(queryset, columns),
        sheet_title="监管企业",
        widths=[c.width for c in columns],
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
