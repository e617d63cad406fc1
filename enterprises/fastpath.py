"""PostgreSQL fast path for big registers: COPY into a staging table, then set-based inserts.

The import (``EnterpriseWriter``) COPYs each validated chunk of new enterprises into a
temporary staging table while it reads the file, so the rows never pile up in Python memory.
Each staged row draws its id from the register's sequence as it is COPYed. When the whole
file has been read without an error, ``pg_insert_staged`` moves them with two set-based
statements, in uscc order (index pages are then filled in order, not at random):

    INSERT INTO enterprises_enterprise (id, …) SELECT id, … FROM stage ORDER BY uscc
    INSERT INTO enterprises_enterprise_trades SELECT s.id, unnest(s.trades) FROM stage s

(Tried and dropped: COPYing each chunk straight into the register in bulk-load mode — each
COPY waits for the server's unique-index inserts, and the 10^6 import came out 5 % slower.)

Everything happens in the import's transaction: a concurrent insert of the same code makes the
unique index refuse the INSERT and the whole import rolls back (all or nothing).

**Bulk-load mode** — when the import adds at least ``BULK_MIN_ROWS`` enterprises and at least
as many as the register already holds (a first load, or a register rebuilt from a provincial
export), maintaining a dozen indexes row by row costs more than building them afresh; so inside
the same transaction the secondary indexes and the foreign keys of the two tables are dropped,
the rows inserted, and the indexes rebuilt from their own definitions
(``pg_get_indexdef``) and the foreign keys re-added (validated in one pass instead of one
deferred check per row). The unique constraint on uscc and the primary keys stay. A failure
anywhere rolls the drops back with the rest. The price: until the import commits, readers of
the register wait (DROP INDEX takes an exclusive lock) — acceptable for a first load of 10^5+
rows, which is why smaller imports never use it.
"""

import json

from django.db import connection

from .models import Enterprise

BULK_MIN_ROWS = 100_000
STAGE = "enterprises_import_stage"

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
    "group_name": "",  # 所属集团 (written when the import carries it, else its default)
    "group_uscc": "",
}
COLUMNS = ["uscc", "name", "township_id", *_DEFAULTS]


def _column_types() -> list[str]:
    fields = {f.column: f for f in Enterprise._meta.concrete_fields}
    return [f"{name} {fields[name].db_type(connection)}" for name in COLUMNS]


def pg_stage(rows: list[dict], *, created: bool) -> None:
    """COPY validated new rows into the staging table (created on the first call)."""
    with connection.cursor() as cursor:
        if not created:
            # Each staged row takes its id from the register's own sequence as it is COPYed,
            # so the trades can be inserted from the staging table without a join.
            cursor.execute(f"DROP TABLE IF EXISTS {STAGE}")
            cursor.execute(
                "SELECT quote_literal(pg_get_serial_sequence(%s, 'id'))",
                [Enterprise._meta.db_table],
            )
            sequence = cursor.fetchone()[0]
            cursor.execute(
                f"CREATE TEMP TABLE {STAGE} (id bigint NOT NULL DEFAULT "
                f"nextval({sequence}::regclass), {', '.join(_column_types())}, trades bigint[]) "
                "ON COMMIT DROP"
            )
        raw = cursor.cursor  # the psycopg 3 cursor
        with raw.copy(f"COPY {STAGE} ({', '.join(COLUMNS)}, trades) FROM STDIN") as copy:
            copy.write("".join(_copy_line(row) for row in rows))


_DEFAULT_ITEMS = list(_DEFAULTS.items())
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_value(value) -> str:
    """One field in COPY's text format (NULL is \\N; backslash, tab and line ends escaped)."""
    if value is None:
        return "\\N"
    if isinstance(value, str):  # also the choices' enum members: their value
        return str.translate(value, _COPY_ESCAPES)
    return str(value)


def _copy_line(row: dict) -> str:
    """A staging row as one line of COPY text — built here rather than by ``write_row`` (about
    3× faster in Python, which is the bottleneck of a 10^6-row import)."""
    get = row.get
    fields = [
        _copy_value(row["uscc"]),
        _copy_value(row["name"]),
        str(row["township_id"]),
        *(_copy_value(d if get(k) is None else row[k]) for k, d in _DEFAULT_ITEMS),
        "{" + ",".join(str(t) for t in sorted(row["trades"])) + "}",
    ]
    return "\t".join(fields) + "\n"


def _secondary_objects(cursor, tables: list[str]) -> tuple[list[str], list[str]]:
    """(drop statements, re-create statements) for the secondary indexes and foreign keys."""
    drops, creates = [], []
    cursor.execute(
        """
        SELECT c.conrelid::regclass::text, quote_ident(c.conname), pg_get_constraintdef(c.oid)
        FROM pg_constraint c
        WHERE c.contype = 'f' AND c.conrelid = ANY(%s::regclass[])
        ORDER BY c.conname
        """,
        [tables],
    )
    for table, name, definition in cursor.fetchall():
        drops.append(f"ALTER TABLE {table} DROP CONSTRAINT {name}")
        creates.append(f"ALTER TABLE {table} ADD CONSTRAINT {name} {definition}")
    cursor.execute(
        """
        SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
        FROM pg_index i
        WHERE i.indrelid = ANY(%s::regclass[]) AND NOT i.indisprimary
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
        ORDER BY 1
        """,
        [tables],
    )
    for name, definition in cursor.fetchall():
        drops.append(f"DROP INDEX {name}")
        creates.insert(0, definition)  # indexes first, then the foreign keys that use them
    return drops, creates


def _reltuples(cursor) -> float:
    """PostgreSQL's own row estimate of the register (kept by autovacuum and ANALYZE; the
    bulk-load import runs ANALYZE); -1 for a table never analysed."""
    cursor.execute(
        "SELECT reltuples FROM pg_class WHERE oid = %s::regclass", [Enterprise._meta.db_table]
    )
    return cursor.fetchone()[0]


def register_size_estimate() -> int:
    """About how many enterprises the register holds, without counting them (a COUNT(*) of
    10^6 rows is itself a scan): PostgreSQL's statistics, or for a table never analysed the
    planner's estimate of a scan (from the table's current size). Other databases — the small
    embedded SQLite set-up — simply count."""
    if connection.vendor != "postgresql":
        return Enterprise.objects.count()
    with connection.cursor() as cursor:
        estimate = _reltuples(cursor)
        if estimate < 0:
            cursor.execute(
                f"EXPLAIN (FORMAT JSON) SELECT 1 FROM {Enterprise._meta.db_table}"  # noqa: S608 - name from the model
            )
            plan = cursor.fetchone()[0]
            if isinstance(plan, str):
                plan = json.loads(plan)
            estimate = plan[0]["Plan"]["Plan Rows"]
    return max(int(estimate), 0)


def _bulk_wanted(cursor, count: int) -> bool:
    if count < BULK_MIN_ROWS:
        return False
    # Dropping indexes and foreign keys and ANALYZE need the table's owner: the application's
    # runtime role owns nothing (docs/deploy.md §4) and takes the ordinary path instead.
    cursor.execute(
        "SELECT pg_has_role(current_user, relowner, 'USAGE') FROM pg_class WHERE oid = %s::regclass",
        [Enterprise._meta.db_table],
    )
    if not cursor.fetchone()[0]:
        return False
    return count >= max(_reltuples(cursor), 0)


def _bulk_begin(cursor) -> list[str]:
    """Drop the secondary indexes and foreign keys; return the statements that re-create them."""
    # Earlier statements of the transaction may have queued deferred foreign-key checks;
    # ALTER TABLE refuses to run with checks pending, so run them now.
    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    cursor.execute("SET CONSTRAINTS ALL DEFERRED")
    tables = [Enterprise._meta.db_table, Enterprise.trades.through._meta.db_table]
    drops, creates = _secondary_objects(cursor, tables)
    for statement in drops:
        cursor.execute(statement)
    return creates


def _bulk_end(cursor, creates: list[str]) -> None:
    cursor.execute("SET LOCAL maintenance_work_mem = '1GB'")  # index builds sort in memory
    for statement in creates:
        cursor.execute(statement)
    for model in (Enterprise, Enterprise.trades.through):
        cursor.execute(f"ANALYZE {model._meta.db_table}")


def pg_insert_staged(*, now, count: int) -> bool:
    """Move the staged rows into the register; returns True when bulk-load mode was used."""
    table = Enterprise._meta.db_table
    through = Enterprise.trades.through._meta.db_table
    columns = ", ".join(COLUMNS)
    with connection.cursor() as cursor:
        bulk = _bulk_wanted(cursor, count)
        creates = _bulk_begin(cursor) if bulk else []
        # In uscc order when the indexes are live (their pages then fill in order); in
        # bulk-load mode the indexes are built afterwards by sorting, so no need.
        order = "" if bulk else " ORDER BY uscc"
        cursor.execute(
            f"INSERT INTO {table} (id, {columns}, created_at, updated_at) "  # noqa: S608 - names from the model
            f"SELECT id, {columns}, %s, %s FROM {STAGE}{order}",
            [now, now],
        )
        cursor.execute(
            f"INSERT INTO {through} (enterprise_id, trade_id) "  # noqa: S608
            f"SELECT s.id, t.trade_id FROM {STAGE} s "
            f"CROSS JOIN LATERAL unnest(s.trades) AS t(trade_id){' ORDER BY 1, 2' if order else ''}"
        )
        if bulk:
            _bulk_end(cursor, creates)
        cursor.execute(f"DROP TABLE {STAGE}")
    return bulk
