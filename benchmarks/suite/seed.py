"""The suite's data: a fresh PostgreSQL database seeded by `seed_demo` at the asked volumes.

The database named in `DATABASE_URL` is dropped, created, migrated and seeded (customers,
orders, interactions, deals, tickets as `context.volumes` gives them, seed 1), then analysed, so
every later scenario starts from the same data and planner statistics. With `--reuse-seed` a
database that already holds the asked number of customers is kept as it is.

The seeded database is then saved as a template, `<name>_seed`. A later run whose seed would
be the same (same volumes, and the same demo, model, migration and COPY code: the fingerprint,
kept as the template's comment) copies the template's files instead, in a minute where seeding
takes a quarter of an hour; the report gives that copy's time and the seed's own, measured when
the template was made. `--fresh-seed` seeds again, and saves a new template.
"""

import hashlib
import json
import time
from datetime import date
from urllib.parse import urlsplit, urlunsplit

import psycopg2
from psycopg2 import sql

from benchmarks.suite.core import PYTHON, ROOT, BenchContext, Measurement, run_measured

# The budget for the seed at full volumes, within the suite's 30 minutes.
TARGET_SECONDS = 12 * 60
SEED = 1
# Long enough for a full-volume seed on a slow day; a hung seed still ends the run.
SEED_TIMEOUT_SECONDS = 3 * 3600
# What the report reads back after the seed: (label, table).
TABLES = [
    ("customers", "customers_customer"),
    ("orders", "customers_order"),
    ("order_lines", "customers_orderline"),
    ("interactions", "customers_interaction"),
    ("deals", "sales_deal"),
    ("deal_stage_changes", "sales_dealstagechange"),
    ("tickets", "service_ticket"),
    ("ticket_messages", "service_ticketmessage"),
    ("ticket_status_changes", "service_ticketstatuschange"),
]


# The code that decides what a seed writes: the demo seeders and their command, the models and
# migrations that shape the tables, and the COPY writer.
SEED_CODE = (
    "crm/copying.py",
    "crm/demo.py",
    "crm/accounts/management/commands/seed_demo.py",
    "*/demo.py",
    "*/models.py",
    "*/models/*.py",
    "*/migrations/*.py",
    "crm/*/models.py",
    "crm/*/migrations/*.py",
)


def seed_fingerprint(volumes: dict[str, int]) -> str:
    """What a seed at `volumes` would write, as a digest of its volumes and of SEED_CODE."""
    digest = hashlib.sha256(json.dumps({"volumes": volumes, "seed": SEED}, sort_keys=True).encode())
    paths = sorted({path for pattern in SEED_CODE for path in ROOT.glob(pattern)})
    for path in paths:
        digest.update(path.relative_to(ROOT).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _database_name(database_url: str) -> str:
    return urlsplit(database_url).path.lstrip("/")


def _maintenance_url(database_url: str) -> str:
    """The same server's `postgres` database, to drop and create the suite's from."""
    return urlunsplit(urlsplit(database_url)._replace(path="/postgres"))


def _customer_count(database_url: str) -> int | None:
    """Customers in the database, or None when it or its tables do not exist yet."""
    try:
        connection = psycopg2.connect(database_url)
    except psycopg2.OperationalError:
        return None
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT to_regclass('customers_customer') IS NOT NULL")
            if not cursor.fetchone()[0]:
                return None
            cursor.execute("SELECT count(*) FROM customers_customer")
            return cursor.fetchone()[0]
    finally:
        connection.close()


def _snapshot_name(database_url: str) -> str:
    return f"{_database_name(database_url)}_seed"


def _maintenance(database_url: str, statements) -> list:
    """Run `statements` ((SQL, params) pairs) on the server's maintenance database, outside a
    transaction (CREATE and DROP DATABASE need that); the first row of each, or None."""
    connection = psycopg2.connect(_maintenance_url(database_url))
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            rows = []
            for statement, params in statements:
                cursor.execute(statement, params)
                rows.append(cursor.fetchone() if cursor.description else None)
            return rows
    finally:
        connection.close()


def _drop(name: str):
    # FORCE: a server or worker a previous run left behind must not keep the drop waiting.
    return sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)), None


def _database_recreate(database_url: str, *, template: str | None = None) -> None:
    """Drop and create the suite's database: empty, or as a copy of `template`'s files (not
    WAL-logged block by block, which doubles the writes of a 9 GB copy)."""
    name = _database_name(database_url)
    create = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
    if template is not None:
        create = sql.SQL("CREATE DATABASE {} TEMPLATE {} STRATEGY FILE_COPY").format(
            sql.Identifier(name), sql.Identifier(template)
        )
    _maintenance(database_url, [_drop(name), (create, None)])


def _snapshot_record(database_url: str) -> dict | None:
    """The saved seed's record (its fingerprint and figures), or None when there is none."""
    (row,) = _maintenance(
        database_url,
        [
            (
                "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
                [_snapshot_name(database_url)],
            )
        ],
    )
    if row is None or not row[0]:
        return None
    try:
        return json.loads(row[0])
    except ValueError:
        return None


def _snapshot_save(database_url: str, record: dict) -> float:
    """Save the seeded database as the template later runs copy; the seconds that took."""
    snapshot = sql.Identifier(_snapshot_name(database_url))
    started = time.perf_counter()
    _maintenance(
        database_url,
        [
            _drop(_snapshot_name(database_url)),
            (
                sql.SQL("CREATE DATABASE {} TEMPLATE {} STRATEGY FILE_COPY").format(
                    snapshot, sql.Identifier(_database_name(database_url))
                ),
                None,
            ),
            (
                sql.SQL("COMMENT ON DATABASE {} IS {}").format(
                    snapshot, sql.Literal(json.dumps(record))
                ),
                None,
            ),
        ],
    )
    return time.perf_counter() - started


def _analyze_and_count(database_url: str) -> dict[str, int]:
    connection = psycopg2.connect(database_url)
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
            counts = {}
            for label, table in TABLES:
                cursor.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table)))
                counts[label] = cursor.fetchone()[0]
            # Ticket threads are interactions too; the rest are the customers' own history.
            cursor.execute(
                "SELECT count(*) FROM customers_interaction JOIN django_content_type kind"
                " ON kind.id = related_type_id"
                " WHERE kind.app_label = 'service' AND kind.model = 'ticket'"
            )
            counts["interactions_of_tickets"] = cursor.fetchone()[0]
            cursor.execute("SELECT pg_database_size(current_database())")
            counts["database_mib"] = round(cursor.fetchone()[0] / 2**20)
    finally:
        connection.close()
    return counts


def _seed_measurement(context: BenchContext, record: dict, *, saved_on: str = "") -> Measurement:
    volumes = context.volumes
    full = context.scale >= 1
    seconds = record["seconds"]
    case = f"seed_demo --customers {volumes['customers']:,}"
    return Measurement(
        scenario="seed",
        case=f"{case} (measured on {saved_on}, when the saved seed was made)" if saved_on else case,
        unit="s",
        value=seconds,
        # The 12-minute budget is the issue's, for the full volumes only.
        target=f"< {TARGET_SECONDS} s" if full else "",
        target_met=seconds < TARGET_SECONDS if full else None,
        details=record["details"],
    )


def _template_measurement(context: BenchContext, what: str, seconds: float) -> Measurement:
    return Measurement(
        scenario="seed",
        case=f"{what} (CREATE DATABASE ... TEMPLATE)",
        unit="s",
        value=seconds,
        details={"template": _snapshot_name(context.database_url)},
    )


def run(context: BenchContext) -> list[Measurement]:
    volumes = context.volumes
    name = _database_name(context.database_url)
    if context.reuse_seed and _customer_count(context.database_url) == volumes["customers"]:
        context.log(f"seed: {name} already holds {volumes['customers']:,} customers; reused")
        # This code's migrations (its indexes, say) still apply to a database seeded before.
        run_measured(
            [PYTHON, "manage.py", "migrate", "--no-input", "-v", "0"],
            env=context.environment(),
            timeout=1800,
        )
        return [
            Measurement(
                scenario="seed",
                case="seed_demo (reused, not measured)",
                unit="s",
                value=0,
                details={"reused": True, "database": name},
            )
        ]
    fingerprint = seed_fingerprint(volumes)
    saved = None if context.fresh_seed else _snapshot_record(context.database_url)
    if saved is not None and saved.get("fingerprint") == fingerprint:
        context.log(f"seed: copying the saved seed of {saved['date']} into {name}")
        started = time.perf_counter()
        _database_recreate(context.database_url, template=_snapshot_name(context.database_url))
        copy_seconds = time.perf_counter() - started
        context.log(f"seed: copied in {copy_seconds:.0f}s")
        return [
            _seed_measurement(context, saved, saved_on=saved["date"]),
            _template_measurement(context, "copy of the saved seed", copy_seconds),
        ]
    context.log(f"seed: dropping and creating {name}")
    _database_recreate(context.database_url)
    environment = context.environment()
    migrate_seconds, _peak, _output = run_measured(
        [PYTHON, "manage.py", "migrate", "--no-input", "-v", "0"], env=environment, timeout=600
    )
    context.log(f"seed: migrated in {migrate_seconds:.0f}s; seeding {volumes}")
    command = [PYTHON, "manage.py", "seed_demo", "--seed", str(SEED)]
    for kind in ("customers", "orders", "interactions", "deals", "tickets"):
        command += [f"--{kind}", str(volumes[kind])]
    seconds, peak_mib, output = run_measured(command, env=environment, timeout=SEED_TIMEOUT_SECONDS)
    # The whole log, with each step's time, for finding where a slow seed spends it.
    log_path = context.workdir / "seed_demo.log"
    log_path.write_text(output)
    context.log(f"seed: seed_demo took {seconds:.0f}s, peak {peak_mib:.0f} MiB; analysing")
    counts = _analyze_and_count(context.database_url)
    written = sum(counts[label] for label, _table in TABLES)
    context.log(f"seed: {counts}")
    record = {
        "fingerprint": fingerprint,
        "date": date.today().isoformat(),
        "seconds": seconds,
        "details": {
            "asked": dict(volumes),
            "counts": counts,
            "rows_per_second": round(written / seconds) if seconds else None,
            "peak_mib": round(peak_mib),
            "migrate_seconds": round(migrate_seconds, 1),
            "log": str(log_path),
        },
    }
    save_seconds = _snapshot_save(context.database_url, record)
    context.log(f"seed: saved as {_snapshot_name(context.database_url)} in {save_seconds:.0f}s")
    return [
        _seed_measurement(context, record),
        _template_measurement(context, "saving the seed for later runs", save_seconds),
    ]
