"""Scenario 3: CSV imports of dirty rows, with cleaning and de-duplication on.

For 100,000 and 1,000,000 rows (times the scale) the file of benchmarks/import_customers.py is
generated (mixed formats, ~3% repeats, ~1% bad rows) and imported by the `import_customers`
command in a child process (import_job_create and import_job_run, the real path) into the
suite's database, so matching and the duplicate search run against the seeded customers. The
child's wall time and peak memory are measured.

Baseline: the same rows already clean, as PostgreSQL COPY loads them. The customers the import
created are exported in the table's columns (COPY ... TO a CSV file) and loaded with
`COPY ... FROM STDIN` into a scratch copy of the table (LIKE customers_customer INCLUDING ALL,
so with the same indexes), which is dropped afterwards.

The imported customers (and their jobs) are left in the database: the suite runs imports last,
and deleting a million customers with their history would take longer than the import. Each size
uses its own seed, so the larger file does not match the smaller one's customers.
"""

import os
import re
import time

from benchmarks.import_customers import BENCH_SECRET_KEY, generate
from benchmarks.suite.core import PYTHON, BenchContext, Measurement, django_setup, run_measured

SCENARIO = "imports"
SIZES = (100_000, 1_000_000)
FIRST_SEED = 101
RATE_TARGET = 0.25
WALL_TARGET_SECONDS = 120
MEMORY_TARGET_MIB = 1024
_SCRATCH_TABLE = "bench_import_copy"
_COUNTS = re.compile(r"(rows|created|updated|unchanged|merged|rejected): (\d+)")


def run(context: BenchContext) -> list[Measurement]:
    django_setup(context)
    measurements = []
    for index, full_rows in enumerate(SIZES):
        rows = max(500, round(full_rows * context.scale))
        measurements += _measure(context, rows=rows, seed=FIRST_SEED + index, largest=index == 1)
    return measurements


def _measure(context: BenchContext, *, rows: int, seed: int, largest: bool) -> list[Measurement]:
    path = context.workdir / f"import-{rows}.csv"
    context.log(f"imports: generating {rows:,} rows")
    generate(path, rows, seed)
    first_new_id = _next_customer_id()
    context.log(f"imports: importing {rows:,} rows")
    overrides = {"DEBUG": "false", "MEDIA_ROOT": str(context.workdir / "media")}
    if not os.environ.get("SECRET_KEY"):
        overrides["SECRET_KEY"] = BENCH_SECRET_KEY
    seconds, peak_mib, output = run_measured(
        [PYTHON, "manage.py", "import_customers", str(path)],
        env=context.environment(**overrides),
        timeout=max(900, rows / 300),
    )
    path.unlink()
    counts = {name: int(value) for name, value in _COUNTS.findall(output)}
    copy_rows, copy_seconds = _copy_baseline(context, first_new_id=first_new_id)
    rate = rows / seconds
    copy_rate = copy_rows / copy_seconds if copy_seconds else None
    details = {
        "rows": rows,
        "counts": counts,
        "copy_rows": copy_rows,
        "copy_seconds": round(copy_seconds, 2),
        "note": "wall time of the whole command, Django's start included",
    }
    case = f"import {rows:,} dirty rows"
    return [
        Measurement(
            scenario=SCENARIO,
            case=case,
            unit="rows/s",
            value=rate,
            baseline_case="COPY of the same rows, clean",
            baseline_value=copy_rate,
            higher_is_better=True,
            target=f"≥ {RATE_TARGET}× COPY",
            target_met=copy_rate is not None and rate >= RATE_TARGET * copy_rate,
            details=details,
        ),
        Measurement(
            scenario=SCENARIO,
            case=f"{case}: wall time",
            unit="s",
            value=seconds,
            baseline_case="COPY of the same rows, clean",
            baseline_value=copy_seconds,
            target=f"< {WALL_TARGET_SECONDS} s" if largest else "",
            target_met=seconds < WALL_TARGET_SECONDS if largest else None,
        ),
        Measurement(
            scenario=SCENARIO,
            case=f"{case}: peak memory",
            unit="MiB",
            value=peak_mib,
            target=f"< {MEMORY_TARGET_MIB} MiB",
            target_met=peak_mib < MEMORY_TARGET_MIB,
        ),
    ]


def _next_customer_id() -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT coalesce(max(id), 0) + 1 FROM customers_customer")
        return cursor.fetchone()[0]


def _copy_baseline(context: BenchContext, *, first_new_id: int) -> tuple[int, float]:
    """COPY the customers the import created, exported clean, into a scratch copy of the table:
    (rows, seconds of the COPY and its commit)."""
    from django.db import connection, transaction

    from customers.models import Customer

    columns = ", ".join(f'"{field.column}"' for field in Customer._meta.concrete_fields)
    clean = context.workdir / "import-clean.csv"
    with connection.cursor() as cursor, clean.open("w", encoding="utf-8") as stream:
        cursor.copy_expert(
            f"COPY (SELECT {columns} FROM customers_customer WHERE id >= {int(first_new_id)} "
            "ORDER BY id) TO STDOUT WITH (FORMAT csv)",
            stream,
        )
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {_SCRATCH_TABLE}")
        cursor.execute(f"CREATE TABLE {_SCRATCH_TABLE} (LIKE customers_customer INCLUDING ALL)")
    try:
        with clean.open("r", encoding="utf-8") as stream:
            started = time.perf_counter()
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.copy_expert(
                    f"COPY {_SCRATCH_TABLE} ({columns}) FROM STDIN WITH (FORMAT csv)", stream
                )
                copied = cursor.rowcount
            seconds = time.perf_counter() - started
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {_SCRATCH_TABLE}")
        clean.unlink()
    context.log(f"imports: COPY of {copied:,} clean rows took {seconds:.1f}s")
    return copied, seconds
