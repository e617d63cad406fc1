"""Each event's ``mac`` (HMAC under a key outside the database), and the TRUNCATE guard without
its switch.

0002 let any connection lift the TRUNCATE guard by setting ``audit.allow_truncate`` — and any
role can set a custom setting, so the guard stopped nobody who owned the table. Now the function
is built with that switch only when the settings say so (``AUDIT_TRUNCATE_SWITCH``, true only in
``config.settings.test``, whose flushes TRUNCATE); elsewhere it refuses every TRUNCATE. The
column is nullable so that SQLite adds it in place (a table rebuild would drop the trigger).
"""

from django.conf import settings
from django.db import migrations, models

PG_FUNCTION = """
CREATE OR REPLACE FUNCTION audit_event_append_only() RETURNS trigger AS $$
BEGIN
{switch}    RAISE EXCEPTION 'audit_auditevent is append-only (% refused)', TG_OP;
END;
$$ LANGUAGE plpgsql;
"""
TEST_SWITCH = """    IF TG_OP = 'TRUNCATE' AND current_setting('audit.allow_truncate', true) = 'on' THEN
        RETURN NULL;
    END IF;
"""


def function_sql(*, switch: bool) -> str:
    return PG_FUNCTION.format(switch=TEST_SWITCH if switch else "")


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        switch = bool(getattr(settings, "AUDIT_TRUNCATE_SWITCH", False))
        schema_editor.execute(function_sql(switch=switch), params=None)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(function_sql(switch=True), params=None)


class Migration(migrations.Migration):
    dependencies = [("audit", "0002_append_only_trigger")]
    operations = [
        migrations.AddField(
            model_name="auditevent",
            name="mac",
            field=models.CharField(
                blank=True, editable=False, max_length=64, null=True, verbose_name="密钥签名"
            ),
        ),
        migrations.RunPython(forward, backward),
    ]
