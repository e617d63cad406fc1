"""Database guards for the draws (the models and querysets refuse the same in Python):

- PostgreSQL: child rows (witnesses, selections, team members, replacements, joint visits) refuse
  UPDATE and DELETE; a draw refuses DELETE, any change once voided, any change of the frozen
  inputs, and any change of a completed draw other than the void transition.
- SQLite: the same for UPDATE (DELETE stays possible so the test suite can flush tables).
"""

from django.db import migrations

CHILD_TABLES = [
    "inspections_drawwitness",
    "inspections_drawselection",
    "inspections_drawteammember",
    "inspections_drawreplacement",
    "inspections_jointvisit",
]

FROZEN = (
    "task_id, attempt, operator_id, draw_date, window_start, window_end, rounding, "
    "inspectors_per_enterprise, tiers, excluded, required_qualifications, expert_specialties, "
    "manifest, manifest_sha256, population_count, inspectors_manifest, inspectors_sha256, "
    "experts_manifest, experts_sha256, secret, secret_sha256, committed_at"
)
RESULT = "dice_kind, dice, seed_string, document, completed_at"

PG_FORWARD = f"""
CREATE FUNCTION inspections_append_only() RETURNS trigger AS $$
BEGIN
  RAISE EXCEPTION 'draw records are append-only (% on %)', TG_OP, TG_TABLE_NAME;
END $$ LANGUAGE plpgsql;

CREATE FUNCTION inspections_draw_guard() RETURNS trigger AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    RAISE EXCEPTION 'draws cannot be deleted, only voided';
  END IF;
  IF OLD.status = 'voided' THEN
    RAISE EXCEPTION 'a voided draw cannot change';
  END IF;
  IF ROW({FROZEN.replace("task_id", "NEW.task_id").replace(", ", ", NEW.")})
     IS DISTINCT FROM ROW({FROZEN.replace("task_id", "OLD.task_id").replace(", ", ", OLD.")}) THEN
    RAISE EXCEPTION 'the frozen inputs of a draw cannot change';
  END IF;
  IF OLD.status = 'completed' AND (NEW.status <> 'voided' OR
     ROW({RESULT.replace("dice_kind", "NEW.dice_kind").replace(", ", ", NEW.")})
     IS DISTINCT FROM ROW({RESULT.replace("dice_kind", "OLD.dice_kind").replace(", ", ", OLD.")}))
  THEN
    RAISE EXCEPTION 'a completed draw can only be voided';
  END IF;
  RETURN NEW;
END $$ LANGUAGE plpgsql;

CREATE TRIGGER inspections_draw_guard BEFORE UPDATE OR DELETE ON inspections_draw
  FOR EACH ROW EXECUTE FUNCTION inspections_draw_guard();
""" + "".join(
    f"CREATE TRIGGER {t}_append_only BEFORE UPDATE OR DELETE ON {t} "
    f"FOR EACH ROW EXECUTE FUNCTION inspections_append_only();\n"
    for t in CHILD_TABLES
)

PG_REVERSE = "".join(f"DROP TRIGGER IF EXISTS {t}_append_only ON {t};\n" for t in CHILD_TABLES) + (
    "DROP TRIGGER IF EXISTS inspections_draw_guard ON inspections_draw;\n"
    "DROP FUNCTION IF EXISTS inspections_draw_guard();\n"
    "DROP FUNCTION IF EXISTS inspections_append_only();\n"
)

SQLITE_FORWARD = [
    f"CREATE TRIGGER {t}_no_update BEFORE UPDATE ON {t} "
    f"BEGIN SELECT RAISE(ABORT, 'draw records are append-only'); END;"
    for t in CHILD_TABLES
] + [
    "CREATE TRIGGER inspections_draw_no_update_voided BEFORE UPDATE ON inspections_draw "
    "WHEN OLD.status = 'voided' "
    "BEGIN SELECT RAISE(ABORT, 'a voided draw cannot change'); END;",
    "CREATE TRIGGER inspections_draw_completed_only_void BEFORE UPDATE ON inspections_draw "
    "WHEN OLD.status = 'completed' AND (NEW.status <> 'voided' OR NEW.dice IS NOT OLD.dice "
    "OR NEW.seed_string IS NOT OLD.seed_string OR NEW.document IS NOT OLD.document "
    "OR NEW.manifest IS NOT OLD.manifest OR NEW.secret IS NOT OLD.secret) "
    "BEGIN SELECT RAISE(ABORT, 'a completed draw can only be voided'); END;",
]
SQLITE_REVERSE = [f"DROP TRIGGER IF EXISTS {t}_no_update;" for t in CHILD_TABLES] + [
    "DROP TRIGGER IF EXISTS inspections_draw_no_update_voided;",
    "DROP TRIGGER IF EXISTS inspections_draw_completed_only_void;",
]


def forward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_FORWARD, params=None)
    elif vendor == "sqlite":
        for statement in SQLITE_FORWARD:
            schema_editor.execute(statement, params=None)


def reverse(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_REVERSE, params=None)
    elif vendor == "sqlite":
        for statement in SQLITE_REVERSE:
            schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):
    dependencies = [("inspections", "0002_draws")]

    operations = [migrations.RunPython(forward, reverse)]
