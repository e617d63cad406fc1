"""Extension points collected from every installed app, so apps never edit each other's files.

- ``<app>/navigation.py``: ``NAV_ITEMS = [NavItem(...), ...]``
- ``<app>/dashboard.py``: ``def panels(request) -> list[Panel]``
- ``<app>/demo.py``: ``def seed(*, stdout) -> None`` (called by ``seed_demo`` in app order)
"""

from dataclasses import dataclass, field
from importlib import import_module

from django.apps import apps


@dataclass(frozen=True)
class NavItem:
    label: str
    url_name: str
    roles: frozenset[str]
    group: str = ""
    order: int = 100


@dataclass
class Panel:
    title: str
    template: str
    context: dict = field(default_factory=dict)
    order: int = 100


def app_modules(module_name: str):
    for config in apps.get_app_configs():
        try:
            yield import_module(f"{config.name}.{module_name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"{config.name}.{module_name}":
                raise


def nav_items() -> list[NavItem]:
    items = [item for module in app_modules("navigation") for item in module.NAV_ITEMS]
    return sorted(items, key=lambda item: item.order)
