"""The one place pages are cut: no page reads a whole table or counts a big one.

- ``rows_and_more(qs, size)``: the first ``size`` rows and whether more follow (one extra row
  fetched) — the step under every pager below. Keyset pages (``before=<key>`` / ``after=``)
  filter on the key first and call it directly.
- ``bounded_page(qs, number, size)``: a numbered page without a total (``BoundedPage``).
- ``page_of(request, fetch=, count=, per_page=)``: Django's Paginator over a count the page
  already knows cheaply (``Pages`` answers ``count()`` and the slice from two callables).
- ``capped_count(qs, cap)``: "N" or "1000+", never more than ``cap`` + 1 rows counted.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import HttpRequest


class Pages:
    def __init__(
        self, *, fetch: Callable[[int, int], Sequence[Any]], count: Callable[[], int]
    ) -> None:
        self._fetch = fetch  # (offset, limit) -> the rows
        self._count = count

    def count(self) -> int:
        return self._count()

    def __getitem__(self, bounds: slice) -> Sequence[Any]:
        return self._fetch(bounds.start, bounds.stop - bounds.start)


def page_of(
    request: HttpRequest,
    *,
    fetch: Callable[[int, int], Sequence[Any]],
    count: Callable[[], int],
    per_page: int,
    param: str = "page",
) -> Page[Any]:
    """The requested page (a number out of range gives the last page, as ``get_page`` does)."""
    # Django pages any object with count() and slicing; the stubs ask for a list-like one.
    pages = Pages(fetch=fetch, count=count)
    return Paginator(pages, per_page).get_page(request.GET.get(param))  # type: ignore[arg-type]


def query_without(request: HttpRequest, param: str = "page") -> str:
    """The query string for a pager link: the filters as they are, without the page number."""
    query = request.GET.copy()
    query.pop(param, None)
    return str(query.urlencode())


def rows_and_more(qs: QuerySet[Any], size: int) -> tuple[list[Any], bool]:
    """The first ``size`` rows of ``qs`` (ordered, already past any cursor) and whether more
    follow: ``size`` + 1 rows are fetched, nothing is counted."""
    rows = list(qs[: size + 1])
    return rows[:size], len(rows) > size


@dataclass
class BoundedPage:
    """A page without a total: fetches ``size`` + 1 rows to know whether a next page exists."""

    object_list: list[Any]
    number: int
    has_next: bool
    paginator = None

    def __iter__(self) -> Iterator[Any]:
        return iter(self.object_list)

    def __len__(self) -> int:
        return len(self.object_list)

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    def has_other_pages(self) -> bool:
        return self.has_next or self.has_previous

    def next_page_number(self) -> int:
        return self.number + 1

    def previous_page_number(self) -> int:
        return self.number - 1


MAX_PAGE = 10_000


def bounded_page(qs: QuerySet[Any], number: Any, size: int) -> BoundedPage:
    try:
        number = min(max(int(number), 1), MAX_PAGE)
    except (TypeError, ValueError):
        number = 1
    start = (number - 1) * size
    rows, more = rows_and_more(qs[start:], size)
    return BoundedPage(rows, number, more)


COUNT_CAP = 1000


def capped_count(qs: QuerySet[Any], cap: int = COUNT_CAP) -> str:
    """ "N" or "1000+": counts at most ``cap`` + 1 rows (SELECT COUNT(*) FROM (… LIMIT))."""
    n = qs.order_by()[: cap + 1].count()
    return f"{cap}+" if n > cap else str(n)
