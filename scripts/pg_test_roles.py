"""The two PostgreSQL roles of docs/deploy.md §4, for `make test` (and so `.ci/run`).

Given only DATABASE_URL naming PostgreSQL (a role that may create roles, e.g. ``postgres``),
creates — idempotently — ``<db>_owner`` (LOGIN CREATEDB: builds, migrates and flushes the test
databases) and ``<db>_app`` (LOGIN only: the runtime role), and prints the shell lines that
point DATABASE_URL at the runtime role and DATABASE_OWNER_URL at the owner (and keep the given
URL as TEST_DATABASE_ADMIN_URL, for a test that writes planner statistics). Prints nothing
(the suite runs as it is) for SQLite, or when DATABASE_OWNER_URL is already set.

Usage (the Makefile): eval "$(.venv/bin/python scripts/pg_test_roles.py)"
"""

import os
import shlex
import sys
from urllib.parse import quote, unquote, urlsplit

# Test-only passwords: these roles exist on development and CI machines, never in production.
PASSWORDS = {"owner": "test-only-owner-password", "app": "test-only-app-password"}


def main() -> int:
    url = os.environ.get("DATABASE_URL", "")
    parts = urlsplit(url)
    if parts.scheme not in ("postgres", "postgresql", "pgsql") or os.environ.get(
        "DATABASE_OWNER_URL"
    ):
        return 0
    import psycopg
    from psycopg import sql

    database = unquote(parts.path.lstrip("/")) or "postgres"
    host, port = parts.hostname or "127.0.0.1", parts.port or 5432
    roles = {kind: f"{database}_{kind}"[:63] for kind in PASSWORDS}
    with psycopg.connect(
        dbname="postgres",
        host=host,
        port=port,
        user=unquote(parts.username or "postgres"),
        password=unquote(parts.password) if parts.password else None,
        autocommit=True,
    ) as conn:
        for kind, role in roles.items():
            exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role]).fetchone()
            verb = "ALTER" if exists else "CREATE"
            attributes = "LOGIN CREATEDB" if kind == "owner" else "LOGIN NOCREATEDB"
            conn.execute(
                sql.SQL("{} ROLE {} " + attributes + " PASSWORD {}").format(
                    sql.SQL(verb), sql.Identifier(role), sql.Literal(PASSWORDS[kind])
                )
            )
        # Test databases left behind by an interrupted run of the one-role suite belong to the
        # admin role; the owner, who creates and drops them now, must be able to drop them.
        leftovers = conn.execute(
            "SELECT datname FROM pg_database WHERE datname LIKE %s "
            "AND pg_get_userbyid(datdba) <> %s",
            [f"test\\_{database}%", roles["owner"]],
        ).fetchall()
        for (name,) in leftovers:
            conn.execute(
                sql.SQL("ALTER DATABASE {} OWNER TO {}").format(
                    sql.Identifier(name), sql.Identifier(roles["owner"])
                )
            )
    for kind, variable in (("app", "DATABASE_URL"), ("owner", "DATABASE_OWNER_URL")):
        netloc = f"{quote(roles[kind])}:{quote(PASSWORDS[kind])}@{host}:{port}"
        print(f"export {variable}={shlex.quote(f'postgres://{netloc}/{database}')}")
    # The role that created them, for the one test that must write a system catalog
    # (tests/test_draws_commit_background.py: planner statistics in pg_class).
    print(f"export TEST_DATABASE_ADMIN_URL={shlex.quote(url)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
