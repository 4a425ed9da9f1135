"""The API's two ways to page a list.

`PageNumberPagination` (the default) for lists whose total is cheap to count: setup tables,
a user's own records. `CursorPagination` for the lists that grow with the business (customers,
deals, tickets, activity...): a page follows a cursor down an index instead of counting and
skipping every row before it, so page 2,000 costs what page 1 does. It has no `count`.
"""

from django.core.exceptions import FieldDoesNotExist
from rest_framework import pagination

from crm.sort_keys import nulls_last_key

PAGE_SIZE = 50
MAX_PAGE_SIZE = 500


class PageNumberPagination(pagination.PageNumberPagination):
    page_size = PAGE_SIZE
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE


class CursorPagination(pagination.CursorPagination):
    """Pages in the order `?ordering=` asks for (among the view's `ordering_fields`), else the
    view's `ordering`, else the list's own order; the id breaks ties, so rows that share a value
    keep one order from page to page. Follow `next` and `previous`."""

    page_size = PAGE_SIZE
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE

    def paginate_queryset(self, queryset, request, view=None):
        """A cursor holds the value of the first ordering field, and NULL compares with nothing:
        a nullable first field (a ticket's due time, a deal's close date) is paged by a key that
        puts the empty ones last in either direction, the same on PostgreSQL and SQLite."""
        ordering = self.requested_ordering(request, queryset, view)
        descending = ordering[0].startswith("-")
        sort_key = _null_last_key(queryset.model, ordering[0].lstrip("-"), descending=descending)
        if sort_key is not None:
            queryset = queryset.annotate(**{NULL_SAFE_KEY: sort_key})
            ordering = (("-" if descending else "") + NULL_SAFE_KEY, *ordering[1:])
        self.resolved_ordering = ordering
        return super().paginate_queryset(queryset, request, view)

    def get_ordering(self, request, queryset, view):
        return self.resolved_ordering

    def requested_ordering(self, request, queryset, view) -> tuple[str, ...]:
        ordering = None
        for backend in getattr(view, "filter_backends", ()):
            if hasattr(backend, "get_ordering"):
                ordering = backend().get_ordering(request, queryset, view)
                break
        if not ordering:
            ordering = getattr(view, "ordering", None) or _plain_ordering(queryset)
        ordering = [ordering] if isinstance(ordering, str) else list(ordering)
        if not any(name.lstrip("-") in ("id", "pk") for name in ordering):
            ordering.append("-id" if ordering[0].startswith("-") else "id")
        return tuple(ordering)


NULL_SAFE_KEY = "cursor_sort_key"


def _null_last_key(model, name: str, *, descending: bool):
    """`name` with its NULLs replaced by a value beyond every real one in the sort's direction,
    when the field may be NULL; None when it may not (or is not a plain field)."""
    try:
        field = model._meta.get_field(name)
    except FieldDoesNotExist:
        return None
    if not getattr(field, "concrete", False):
        return None
    return nulls_last_key(field, descending=descending)


def _plain_ordering(queryset) -> tuple[str, ...]:
    """The queryset's own order when it is by fields (not expressions), else newest first."""
    ordering = queryset.query.order_by or queryset.model._meta.ordering
    if ordering and all(isinstance(name, str) for name in ordering):
        return tuple(ordering)
    return ("-id",)
