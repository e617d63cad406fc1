"""The two PostgreSQL roles (docs/deploy.md §4, docs/decisions.md 110).

The **owner** role runs migrations and restores and owns every table; the application connects
as the **runtime** role, which owns nothing, so it can neither TRUNCATE nor ALTER (disable a
trigger on) any table. Its privileges, granted by ``runtime_grant``:

- append-only tables (every ``AppendOnlyModel``: audit events, draw records, stored files,
  evidence, reviews, archives): SELECT and INSERT only;
- tables whose rows change only under a guard trigger (``GUARDED_COLUMNS``): SELECT, INSERT and
  UPDATE of exactly the columns the guarded transitions write (``select_for_update`` needs an
  UPDATE privilege on some column of the table, which this gives);
- ``django_migrations``: SELECT;
- every other table of a model: SELECT, INSERT, UPDATE, DELETE;
- sequences: USAGE and SELECT (the identity columns); the schema: USAGE, never CREATE.

Idempotent: everything is revoked and granted again in one transaction, so a table that moved
from ordinary to append-only loses its UPDATE at the next grant.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import environ
from django.apps import apps
from django.conf import settings
from django.core.management.base import CommandError
from django.db import connection, transaction

from .append_only import AppendOnlyModel

# model label → the fields its guarded transitions may write (the trigger checks the rest).
GUARDED_COLUMNS = {
    "inspections.draw": lambda model: (
        model.VOID_FIELDS | model.COMPLETE_FIELDS | model.REQUEST_FIELDS
    ),
}
READ_ONLY_TABLES = {"django_migrations"}
_CREDENTIALS = ("USER", "PASSWORD", "HOST", "PORT")


@dataclass
class GrantResult:
    role: str
    append_only: list[str] = field(default_factory=list)
    guarded: dict[str, list[str]] = field(default_factory=dict)
    ordinary: int = 0
    read_only: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)


def two_roles() -> bool:
    return connection.vendor == "postgresql" and bool(settings.DATABASE_OWNER_URL)


def owner_credentials() -> dict[str, Any]:
    config = environ.Env.db_url_config(settings.DATABASE_OWNER_URL)
    return {key: config.get(key, "") for key in _CREDENTIALS}


@contextmanager
def connected_as_owner() -> Iterator[None]:
    """Run the block on the default connection as the owner role (``DATABASE_OWNER_URL``): the
    same database, the owner's credentials. A no-op without an owner URL, on SQLite, or when the
    connection already is the owner's."""
    if not two_roles():
        yield
        return
    owner = owner_credentials()
    current = {key: connection.settings_dict.get(key, "") for key in _CREDENTIALS}
    if current["USER"] == owner["USER"]:
        yield
        return
    if connection.in_atomic_block:
        raise CommandError("不能在事务中切换到数据库所有者角色。")
    connection.close()
    connection.settings_dict.update(owner)
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict.update(current)


def classify_tables() -> dict[str, tuple[str, list[str]]]:
    """table → (kind, columns): kind is append_only, guarded, read_only or ordinary."""
    kinds: dict[str, tuple[str, list[str]]] = {t: ("read_only", []) for t in READ_ONLY_TABLES}
    for model in apps.get_models(include_auto_created=True):
        if model._meta.proxy or not model._meta.managed:
            continue
        table = model._meta.db_table
        if issubclass(model, AppendOnlyModel):
            kinds[table] = ("append_only", [])
        elif model._meta.label_lower in GUARDED_COLUMNS:
            names = GUARDED_COLUMNS[model._meta.label_lower](model)
            # Guarded names are concrete fields, which always have a column.
            columns: list[str] = sorted(model._meta.get_field(name).column for name in names)  # type: ignore[union-attr,misc]
            kinds[table] = ("guarded", columns)
        else:
            kinds[table] = ("ordinary", [])
    return kinds


def runtime_grant(*, role: str | None = None) -> GrantResult:
    """Grant the runtime role exactly its privileges. Runs on the default connection, which
    must be the owner's (``connected_as_owner``)."""
    role = role or settings.DATABASE_RUNTIME_ROLE
    if connection.vendor != "postgresql":
        raise CommandError("数据库角色分离只适用于 PostgreSQL。")
    if not role:
        raise CommandError("未指定运行角色（DATABASE_URL 中没有用户名，也没有 --role）。")
    quote = connection.ops.quote_name
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT current_user")
        (me,) = cursor.fetchone()
        if role == me:
            raise CommandError(
                f"运行角色 {role} 就是当前连接的角色：请以所有者角色连接（DATABASE_OWNER_URL）。"
            )
        cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
        if cursor.fetchone() is None:
            raise CommandError(f"数据库角色 {role} 不存在：先按 docs/deploy.md §4 创建。")
        cursor.execute(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'S', 'v', 'm') "
            "AND pg_get_userbyid(c.relowner) = %s ORDER BY 1",
            [role],
        )
        owned = [name for (name,) in cursor.fetchall()]
        if owned:
            raise CommandError(
                f"运行角色 {role} 拥有 {len(owned)} 个表或序列（如 {owned[:3]}），它就能删改审计日志。"
                f"请以超级用户执行 REASSIGN OWNED BY {role} TO {me}; 后重试。"
            )
        cursor.execute(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') ORDER BY 1"
        )
        tables = [name for (name,) in cursor.fetchall()]
        r = quote(role)
        cursor.execute(f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {r}")
        cursor.execute(f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM {r}")
        cursor.execute(f"REVOKE CREATE ON SCHEMA public FROM {r}")
        cursor.execute(f"GRANT USAGE ON SCHEMA public TO {r}")
        cursor.execute(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {r}")
        result = GrantResult(role=role)
        kinds = classify_tables()
        for table in tables:
            kind, columns = kinds.get(table, ("unknown", []))
            t = quote(table)
            if kind == "append_only":
                cursor.execute(f"GRANT SELECT, INSERT ON {t} TO {r}")
                result.append_only.append(table)
            elif kind == "guarded":
                cols = ", ".join(quote(c) for c in columns)
                cursor.execute(f"GRANT SELECT, INSERT, UPDATE ({cols}) ON {t} TO {r}")
                result.guarded[table] = columns
            elif kind == "read_only":
                cursor.execute(f"GRANT SELECT ON {t} TO {r}")
                result.read_only.append(table)
            elif kind == "ordinary":
                cursor.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {t} TO {r}")
                result.ordinary += 1
            else:
                result.unknown.append(table)  # no model names it: the app never needs it
    return result


def runtime_grant_if_two_roles() -> GrantResult | None:
    """After a migrate or a restore run as the owner: grant the runtime role again."""
    if not two_roles():
        return None
    with connected_as_owner():
        return runtime_grant()
