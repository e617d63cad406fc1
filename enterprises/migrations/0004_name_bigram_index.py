"""PostgreSQL: a GIN index over the 2-character substrings of enterprise names.

pg_trgm cannot use its index for Chinese queries shorter than 3 characters, and most searches
for Chinese names are 2–4 characters. ``enterprise_name_bigrams(name)`` is an immutable SQL
function; the list filters with ``enterprise_name_bigrams(name) @> <the query's bigrams>``
(served by this index) and re-checks with LIKE. SQLite: nothing (LIKE only)."""

from django.db import migrations

CREATE = [
    """
    CREATE OR REPLACE FUNCTION enterprise_name_bigrams(name text) RETURNS text[]
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
        SELECT coalesce(array_agg(DISTINCT substr(name, i, 2)), '{}')
        FROM generate_series(1, char_length(name) - 1) AS i
    $$
    """,
    "CREATE INDEX IF NOT EXISTS ent_name_bigrams ON enterprises_enterprise "
    "USING gin (enterprise_name_bigrams(name))",
]
DROP = [
    "DROP INDEX IF EXISTS ent_name_bigrams",
    "DROP FUNCTION IF EXISTS enterprise_name_bigrams(text)",
]


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for sql in CREATE:
            schema_editor.execute(sql)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for sql in DROP:
            schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("enterprises", "0003_importbatch_confirmed_by")]
    operations = [migrations.RunPython(forwards, backwards)]
