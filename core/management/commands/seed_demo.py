from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction

from accounts.demo import DEMO_PASSWORD, DEMO_USERS
from accounts.models import User
from core.extensions import app_modules


class Command(BaseCommand):
    help = "载入舞钢市演示数据（仅当数据库为空时）。Loads demo data into an empty database."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--quiet-logins", action="store_true", help="do not print the demo logins"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if User.objects.exists():
            self.stdout.write(
                "数据库已有用户，跳过演示数据。Database not empty; demo data skipped."
            )
        else:
            with transaction.atomic():
                for module in app_modules("demo"):
                    self.stdout.write(f"{module.__name__} …")
                    module.seed(stdout=self.stdout)
            self.stdout.write(self.style.SUCCESS("演示数据已载入。Demo data loaded."))
        if not options["quiet_logins"]:
            self.stdout.write(f"演示账户 Demo logins (password / 密码: {DEMO_PASSWORD}):")
            for username, full_name, _section, roles in DEMO_USERS:
                self.stdout.write(f"  {username:<12} {full_name}  {'、'.join(roles)}")
