"""``manage.py migrate``, run as the owner role when there are two (docs/deploy.md §4).

With ``DATABASE_OWNER_URL`` set (the operator's shell), the migrations run on the default
connection with the owner's credentials — so the tables they create are the owner's — and the
runtime role of ``DATABASE_URL`` is then granted its privileges (``core.dbroles``), since a new
table has none. Without it (SQLite, one development role) this is Django's ``migrate``.
"""

from typing import Any

from django.core.management.commands import migrate
from django.db import DEFAULT_DB_ALIAS

from core.dbroles import connected_as_owner, runtime_grant, two_roles


class Command(migrate.Command):
    help = migrate.Command.help + "（两角色部署：以所有者角色执行，随后为运行角色授权。）"

    def handle(self, *args: Any, **options: Any) -> None:
        if options["database"] != DEFAULT_DB_ALIAS or options["plan"] or options["check_unapplied"]:
            super().handle(*args, **options)  # returns None: it prints as it goes
            return
        with connected_as_owner():
            super().handle(*args, **options)
            if two_roles():
                result = runtime_grant()
                if options["verbosity"] >= 1:
                    self.stdout.write(
                        f"已为运行角色 {result.role} 授权：{len(result.append_only)} 个只追加表，"
                        f"{len(result.guarded)} 个受触发器保护的表，{result.ordinary} 个普通表。"
                    )
