"""``manage.py db_grant_runtime [--role NAME]``: grant the runtime role exactly its privileges.

PostgreSQL only. Connects as the owner (``DATABASE_OWNER_URL``, or the default connection when
that already is the owner) and grants the runtime role (default: the user of ``DATABASE_URL``)
SELECT + INSERT on the append-only tables, column-level UPDATE behind the guard triggers, and
the ordinary DML elsewhere (``core.dbroles``). Idempotent. ``migrate`` and ``restore_backup``
do the same. Exit 0 granted, 1 refused (e.g. the runtime role owns a table).
"""

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from core.dbroles import connected_as_owner, runtime_grant


class Command(BaseCommand):
    help = "为运行角色授予应用所需的最小权限（只追加表只可读与插入）。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--role", default=None, help="运行角色名（默认：DATABASE_URL 的用户）")

    def handle(self, *args: Any, role: str | None = None, **options: Any) -> None:
        with connected_as_owner():
            result = runtime_grant(role=role)
        self.stdout.write(
            f"已为运行角色 {result.role} 授权：只追加表（SELECT, INSERT）{len(result.append_only)} 个，"
            f"受触发器保护的表（列级 UPDATE）{len(result.guarded)} 个，普通表 {result.ordinary} 个，"
            f"只读表 {len(result.read_only)} 个。"
        )
        for table, columns in sorted(result.guarded.items()):
            self.stdout.write(f"  {table}: UPDATE ({', '.join(columns)})")
        if result.unknown:
            self.stderr.write(f"未授权（没有模型）：{', '.join(result.unknown)}")
