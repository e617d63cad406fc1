"""Extension points collected from every installed app, so apps never edit each other's files.

- ``<app>/navigation.py``: ``NAV_ITEMS = [NavItem(...), ...]``
- ``<app>/dashboard.py``: ``def panels(request) -> list[Panel]``
- ``<app>/demo.py``: ``def seed(*, stdout) -> None`` (called by ``seed_demo`` in app order)
- ``<app>/approval_kinds.py``: ``APPROVAL_KINDS = [ApprovalKind(...), ...]`` (the two-person
  rules the ``approvals`` app runs; an app below ``approvals`` declares its kinds here without
  importing it)
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from importlib import import_module
from types import ModuleType
from typing import Any

from django.apps import apps
from django.db.models import QuerySet


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
    context: dict[str, Any] = field(default_factory=dict)
    order: int = 100


def _no_check(**kwargs: Any) -> None:
    return None


def _nobody(obj: Any) -> list[Any]:
    return []


def load_by_pk(queryset: QuerySet[Any]) -> Callable[[str], Any]:
    """An ``ApprovalKind.load``: the object of ``queryset`` with the request's ``object_id`` as
    its primary key, or None (an id that is not ASCII digits is no object, never an error)."""

    def load(object_id: str) -> Any:
        if not (object_id.isascii() and object_id.isdigit()):
            return None
        return queryset.filter(pk=object_id).first()

    return load


@dataclass(frozen=True)
class ApprovalKind:
    """One two-person rule: who may ask, which roles approve, what approval does. Every callable
    takes keyword arguments and refuses with ``PermissionDenied`` / ``ValidationError`` (a
    Chinese reason); ``approvals.services`` checks requester ≠ decider, the decider's role and
    the state, runs ``perform`` inside the approval's transaction and audits every step."""

    code: str  # "<app>.<what>", stored on each request
    label: str  # shown to people, Chinese
    object_type: str  # "app_label.model" of the object the request is about
    load: Callable[[str], Any]  # the object for an id, or None
    check_request: Callable[..., None]  # (*, actor, obj)
    approver_roles: Callable[..., frozenset[str]]  # (*, actor, obj) -> role names
    perform: Callable[
        ..., dict[str, Any]
    ]  # (*, actor, obj, request) -> what to show the approver once
    check_decider: Callable[..., None] = _no_check  # (*, actor, obj, request)
    # (*, actor, obj, payload): a kind whose change needs parameters refuses a request without
    # them (e.g. one made through the generic approvals:create form instead of the object's page)
    check_payload: Callable[..., None] = _no_check
    # (*, actor, obj): refuses someone who would see the request only through an approver role
    # (e.g. a head of another section); the requester, the decider and the readers of every
    # request (``approvals.selectors.SEE_ALL``) always see it
    check_viewer: Callable[..., None] = _no_check
    watchers: Callable[[Any], list[Any]] = _nobody  # (obj) -> users told of every step
    result_template: str = ""  # renders perform's result for the approver (once)
    describe: Callable[[Any], str] = str  # (obj) -> the object as the approver reads it


def app_modules(module_name: str) -> Iterator[ModuleType]:
    for config in apps.get_app_configs():
        try:
            yield import_module(f"{config.name}.{module_name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"{config.name}.{module_name}":
                raise


def nav_items() -> list[NavItem]:
    items = [item for module in app_modules("navigation") for item in module.NAV_ITEMS]
    return sorted(items, key=lambda item: item.order)
