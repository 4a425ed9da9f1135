"""Time `seed_demo` at a given size on the configured database and print rows per second.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/crm_bench \
        .venv/bin/python benchmarks/seed_demo.py --customers 1000000

The database must be migrated and empty of demo data; the script flushes nothing itself.
Results go to benchmarks/results/ by hand, with the machine and the date.
"""

import argparse
import os
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings.local")


def main() -> None:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from customers.models import Company, Customer

    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    options = parser.parse_args()

    started = time.perf_counter()
    call_command("seed_demo", customers=options.customers, seed=options.seed, verbosity=0)
    elapsed = time.perf_counter() - started
    customers = Customer.objects.count()
    companies = Company.objects.count()
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"{connection.vendor}: {customers} customers, {companies} companies in {elapsed:.1f}s "
        f"({customers / elapsed:,.0f} customers/s), peak memory {peak_mib:.0f} MiB"
    )


if __name__ == "__main__":
    main()
