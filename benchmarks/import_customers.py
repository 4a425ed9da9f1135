"""Time a customer import of N rows through the import service and print rows/s and memory.

    createdb -h 127.0.0.1 -U postgres crm_import_bench
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/crm_import_bench \
        .venv/bin/python manage.py migrate
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/crm_import_bench \
        .venv/bin/python benchmarks/import_customers.py --rows 1000000

The file is generated first (streamed to a temporary folder): Chinese and English names, emails
and phones written in several ways, birthdays and incomes in the formats people export, a
company for every ~20 rows, tags; about 3% of the rows repeat an earlier customer (another case
of the email, another format of the phone) and about 1% are bad (an invalid email, a birthday in
the future). Then the file goes through import_job_create and import_job_run, as the command
does, and the script prints the counts, the wall time of the import, rows per second and the
peak memory of the process (ru_maxrss). --again imports the same file a second time (nothing
should be created). Results go to benchmarks/results/ by hand, with the machine and the date.
"""

import argparse
import csv
import os
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

BENCH_SECRET_KEY = "benchmark-only-secret-key-0123456789abcdefghijklmnopqrstuv"
SURNAMES = ["王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱"]
GIVEN = ["伟", "芳", "娜", "敏", "静", "磊", "强", "洋", "艳", "勇", "军", "杰", "秀英", "志强"]
FIRST = ["James", "Mary", "Robert", "Linda", "David", "Susan", "Emily", "Daniel", "Sarah", "Alex"]
LAST = ["Smith", "Johnson", "Brown", "Garcia", "Miller", "Davis", "Wilson", "Taylor", "Lee"]
CITIES = [
    ("上海", "上海市", "CN"),
    ("北京", "北京市", "CN"),
    ("深圳", "广东省", "CN"),
    ("杭州", "浙江省", "CN"),
    ("成都", "四川省", "CN"),
    ("Austin", "TX", "US"),
    ("Chicago", "IL", "US"),
    ("London", "England", "GB"),
]
SOURCES = ["Web", "Trade Show", "Partner Referral", "广告", "微信", ""]
TAGS = ["newsletter", "key-account", "trade-show-2026", "price-sensitive", ""]
HEADER = [
    "External Id",
    "Full Name",
    "Email Address",
    "Mobile",
    "Birthdate",
    "Gender",
    "Mailing Street",
    "Mailing City",
    "Mailing State/Province",
    "Mailing Country",
    "Annual Income",
    "Account Name",
    "Title",
    "Lead Source",
    "Tags",
    "Notes",
]


def _phone(rng: random.Random, n: int, country: str) -> str:
    if country == "US":
        digits = f"{n % 10_000_000:07d}"
        return rng.choice([f"(512) {digits[:3]}-{digits[3:]}", f"+1 512 {digits}"])
    if country == "GB":
        digits = f"{n % 100_000_000:08d}"
        return rng.choice([f"020 {digits[:4]} {digits[4:]}", f"+44 20{digits}"])
    digits = f"{n % 100_000_000:08d}"
    return rng.choice([f"139{digits}", f"139 {digits[:4]} {digits[4:]}", f"+86-139-{digits}"])


def _birthday(rng: random.Random) -> str:
    year, month, day = rng.randint(1950, 2004), rng.randint(1, 12), rng.randint(1, 28)
    return rng.choice(
        [
            f"{year}-{month:02d}-{day:02d}",
            f"{day:02d}/{month:02d}/{year}",
            f"{year}年{month}月{day}日",
            f"{day} {['Jan', 'Mar', 'May', 'Jul', 'Sep', 'Nov'][month % 6]} {year}",
            "",
        ]
    )


def _income(rng: random.Random) -> str:
    amount = rng.randint(50, 2000) * 100
    return rng.choice(
        [f"¥{amount:,}.00", f"{amount}", f"{amount // 10_000}万", f"${amount:,}", "", ""]
    )


def generate(path: Path, rows: int, seed: int) -> None:
    """Stream a file of `rows` rows to `path` (UTF-8 with BOM, as Excel saves it)."""
    rng = random.Random(seed)
    companies = max(1, rows // 20)
    with path.open("w", encoding="utf-8-sig", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(HEADER)
        for n in range(rows):
            kind = rng.random()
            if kind < 0.03 and n > 100:
                # A repeat of an earlier row: same customer, written differently.
                m = rng.randrange(n)
                name = f"Customer {m}"
                email = f"C{seed}.{m}@Example.COM"
                writer.writerow(["", name, email, *[""] * (len(HEADER) - 3)])
                continue
            city, province, country = rng.choice(CITIES)
            if country == "CN":
                name = rng.choice(SURNAMES) + rng.choice(GIVEN) + f"{n}"
            else:
                name = f"{rng.choice(FIRST)} {rng.choice(LAST)} {n}"
            email = f"c{seed}.{n}@example.com"
            birthday = _birthday(rng)
            if kind > 0.99:
                email, birthday = (f"c{n}@", birthday) if kind > 0.995 else (email, "2999-01-01")
            writer.writerow(
                [
                    f"EXT-{seed}-{n}" if n % 2 else "",
                    f"Customer {n}" if n % 3 == 0 else name,
                    email,
                    _phone(rng, n, country),
                    birthday,
                    rng.choice(["男", "女", "M", "F", "", "未知"]),
                    f"{rng.randint(1, 999)} Example Road" if rng.random() < 0.8 else "",
                    city,
                    province,
                    country,
                    _income(rng),
                    f"Company {rng.randrange(companies)}",
                    rng.choice(["CEO", "Engineer", "采购经理", "", "Consultant"]),
                    rng.choice(SOURCES),
                    rng.choice(TAGS),
                    "Met at the fair.\nCall back." if rng.random() < 0.05 else "",
                ]
            )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--again", action="store_true", help="import the same file twice")
    options = parser.parse_args()
    # Set here, not on import: the suite's imports scenario imports `generate` from this module.
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings.local")
    # As in production: with DEBUG on, Django keeps the text of every query in memory.
    os.environ.setdefault("DEBUG", "false")
    os.environ.setdefault("SECRET_KEY", BENCH_SECRET_KEY)

    workdir = Path(tempfile.mkdtemp(prefix="crm-import-bench-"))
    os.environ.setdefault("MEDIA_ROOT", str(workdir / "media"))
    import django

    django.setup()
    from django.core.files import File
    from django.db import connection

    from customers.models import Company, Customer
    from customers.services import importing

    path = workdir / "customers.csv"
    started = time.perf_counter()
    generate(path, options.rows, options.seed)
    print(
        f"generated {options.rows:,} rows ({path.stat().st_size / 2**20:.0f} MiB) "
        f"in {time.perf_counter() - started:.1f}s"
    )
    base_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    for attempt in range(2 if options.again else 1):
        before = Customer.objects.count()
        started = time.perf_counter()
        with path.open("rb") as stream:
            job = importing.import_job_create(
                actor=None, file=File(stream, name=path.name), original_name=path.name
            )
        summary = importing.import_job_run(job_id=job.pk)
        elapsed = time.perf_counter() - started
        counts = summary.counts
        peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(
            f"{'second' if attempt else 'first'} import on {connection.vendor}: "
            f"{counts.rows:,} rows in {elapsed:.1f}s = {counts.rows / elapsed:,.0f} rows/s; "
            f"created {counts.created:,}, updated {counts.updated:,}, "
            f"unchanged {counts.unchanged:,}, merged {counts.merged:,}, "
            f"rejected {counts.rejected:,}; customers {before:,} -> {Customer.objects.count():,}, "
            f"companies {Company.objects.count():,}; peak memory {peak_mib:.0f} MiB "
            f"(after Django started and the file was written: {base_mib:.0f} MiB)"
        )


if __name__ == "__main__":
    main()
