"""Paging a table whose rows come from a query the page already knows how to count cheaply.

Django's Paginator asks its list for ``count()`` and a slice; ``Pages`` answers both from two
callables, so a page never reads the whole list and never counts a big table when the number
is already known (a figure the page shows anyway) or counted more cheaply another way."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from django.core.paginator import Page, Paginator


class Pages:
    def __init__(self, *, fetch: Callable[[int, int], Sequence], count: Callable[[], int]):
        self._fetch = fetch  # (offset, limit) -> the rows
        self._count = count

    def count(self) -> int:
        return self._count()

    def __getitem__(self, bounds: slice) -> Sequence:
        return self._fetch(bounds.start, bounds.stop - bounds.start)


def page_of(request, *, fetch, count, per_page: int, param: str = "page") -> Page:
    """The requested page (a number out of range gives the last page, as ``get_page`` does)."""
    return Paginator(Pages(fetch=fetch, count=count), per_page).get_page(request.GET.get(param))


def query_without(request, param: str = "page") -> str:
    """The query string for a pager link: the filters as they are, without the page number."""
    query = request.GET.copy()
    query.pop(param, None)
    return query.urlencode()
