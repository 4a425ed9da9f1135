"""PostgreSQL planner settings for the queries of one block, where the planner's own choice is
measured to be the slow one (each caller says why).

The values are the transaction's own (set_config(..., true)), in a transaction or savepoint of
the block's, and the previous values are put back when the block ends: a caller inside a longer
transaction, such as an import batch, would otherwise keep them for the rest of it. Other
databases run the block as it is.
"""

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection, transaction


@contextmanager
def planner_settings(**settings: str) -> Iterator[None]:
    if connection.vendor != "postgresql":
        yield
        return
    names = list(settings)
    assignments = "SELECT " + ", ".join(["set_config(%s, %s, true)"] * len(names))
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(["current_setting(%s)"] * len(names)), names)
        previous = cursor.fetchone()
        cursor.execute(assignments, [value for name in names for value in (name, settings[name])])
        try:
            yield
        finally:
            cursor.execute(
                assignments, [value for pair in zip(names, previous, strict=True) for value in pair]
            )
