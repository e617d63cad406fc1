"""PostgreSQL fast path for big registers: COPY instead of INSERT.

Rows reach here already validated and classified as new inside the import transaction, so
they are COPYed straight into the table (a concurrent insert of the same code makes the unique
index refuse the COPY, and the whole import rolls back: all or nothing). Trades follow with a
second COPY into the M2M table after one ``uscc = ANY(...)`` id lookup per 50,000 codes.
"""

from django.db import connection

from .models import Enterprise

_DEFAULTS = {
    "uscc_override_reason": "",
    "legal_representative": "",
    "contact_person": "",
    "contact_phone": "",
    "registered_address": "",
    "business_address": "",
    "enterprise_type": Enterprise.EnterpriseType.COMPANY,
    "scale": "",
    "status": Enterprise.Status.ACTIVE,
    "section_id": None,
    "remarks": "",
}
COLUMNS = ["uscc", "name", "township_id", *_DEFAULTS, "created_at", "updated_at"]


def pg_insert_enterprises(rows: list[dict], *, now) -> None:
    table = Enterprise._meta.db_table
    through = Enterprise.trades.through._meta.db_table
    with connection.cursor() as cursor:
        raw = cursor.cursor  # the psycopg 3 cursor
        with raw.copy(f"COPY {table} ({', '.join(COLUMNS)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(
                    [
                        row["uscc"],
                        row["name"],
                        row["township_id"],
                        *(
                            row.get(k, d) if row.get(k) is not None else d
                            for k, d in _DEFAULTS.items()
                        ),
                        now,
                        now,
                    ]
                )
        ids: dict[str, int] = {}
        codes = [row["uscc"] for row in rows]
        for start in range(0, len(codes), 50000):
            cursor.execute(
                f"SELECT uscc, id FROM {table} WHERE uscc = ANY(%s)",  # noqa: S608 - table name from the model
                [codes[start : start + 50000]],
            )
            ids.update(cursor.fetchall())
        with raw.copy(f"COPY {through} (enterprise_id, trade_id) FROM STDIN") as copy:
            for row in rows:
                eid = ids[row["uscc"]]
                for trade in sorted(row["trades"]):
                    copy.write_row([eid, trade])
