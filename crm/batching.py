"""Walking a large queryset in primary-key order, a chunk at a time, so a beat job never holds a
huge result set and rows it changes along the way are not read twice."""

from collections.abc import Iterator
from typing import TypeVar

from django.db.models import Model, QuerySet

M = TypeVar("M", bound=Model)


def in_pk_chunks(queryset: QuerySet[M], *, size: int) -> Iterator[list[M]]:
    last_pk = 0
    while True:
        chunk = list(queryset.filter(pk__gt=last_pk).order_by("pk")[:size])
        if not chunk:
            return
        yield chunk
        last_pk = chunk[-1].pk
