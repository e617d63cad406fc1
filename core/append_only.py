"""Records that can be added and never changed or deleted (audit events, draws, stored files,
reviews, archives). One guard for all of them, at both levels Django offers: the instance
(``save`` of an existing row, ``delete``) and the queryset (``update``, ``delete``). PostgreSQL
triggers add a third level where a table needs it (audit events).

A model names itself for the message with ``append_only_noun`` (e.g. "审计事件") and may raise a
subclass of ``AppendOnlyError`` by setting ``append_only_error``. A model with its own narrow
transitions (a draw may still be voided) uses only ``AppendOnlyQuerySet``."""

from typing import Any, NoReturn

from django.core.exceptions import ValidationError
from django.db import models


class AppendOnlyError(ValidationError):
    """An attempt to change or delete an append-only record. A ``ValidationError`` so that a
    form or view shows the message like any other refusal."""


def append_only_refusal(model: type[models.Model], action: str) -> AppendOnlyError:
    noun = getattr(model, "append_only_noun", "该记录")
    error = getattr(model, "append_only_error", AppendOnlyError)
    if action == "delete":
        message = f"{noun}不能删除{getattr(model, 'append_only_delete_hint', '')}。"
    else:
        message = f"{noun}只能追加，不能修改。"
    return error(message, code=f"append_only_{action}")


class AppendOnlyQuerySet(models.QuerySet[Any]):
    def update(self, **kwargs: Any) -> NoReturn:
        raise append_only_refusal(self.model, "update")

    def delete(self) -> NoReturn:
        raise append_only_refusal(self.model, "delete")


class AppendOnlyModel(models.Model):
    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding or kwargs.get("force_update"):
            raise append_only_refusal(type(self), "update")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise append_only_refusal(type(self), "delete")
