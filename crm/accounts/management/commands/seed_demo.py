import random
import time

from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS
from django.utils import timezone

from crm.accounts.demo import DEMO_LOGINS_PER_ROLE, DEMO_USERS, seed_users_and_teams
from crm.demo import DemoContext, demo_seeders

DEFAULT_PASSWORD = "crm-demo-2026"
# Totals that can be asked for beside the customers; each is an option of the same name.
VOLUME_KINDS = ("orders", "interactions", "deals", "tickets")


class Command(BaseCommand):
    help = (
        "Fill the database with realistic, reproducible demo data for every app, and print the "
        "demo logins."
    )

    def add_arguments(self, parser):
        parser.add_argument("--customers", type=int, default=2000, help="customers to create")
        for kind in VOLUME_KINDS:
            parser.add_argument(
                f"--{kind}",
                type=int,
                default=None,
                help=f"{kind} to create in all (default: the demo's usual share per customer)",
            )
        parser.add_argument(
            "--seed", type=int, default=42, help="random seed (same seed, same data)"
        )
        parser.add_argument(
            "--password", default=DEFAULT_PASSWORD, help="password of every demo user"
        )
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="seed only when no demo user exists yet; logins are printed anyway",
        )
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS)

    def handle(self, *args, customers, seed, password, if_empty, database, **options):
        from crm.accounts.models import User

        if customers < 0:
            raise CommandError("--customers must be zero or more.")
        volumes = {kind: options[kind] for kind in VOLUME_KINDS if options[kind] is not None}
        for kind, count in volumes.items():
            if count < 0:
                raise CommandError(f"--{kind} must be zero or more.")
        if if_empty and User.objects.using(database).filter(username="admin").exists():
            self.stdout.write("Demo data already present; not seeding again.")
            self._print_logins(password)
            return
        started = time.perf_counter()
        users_by_role = seed_users_and_teams(password=password, using=database)
        context = DemoContext(
            rng=random.Random(seed),
            customers=customers,
            today=timezone.localdate(),
            users_by_role=users_by_role,
            using=database,
            log=self._log(started),
            volumes=volumes,
        )
        context.log(f"users: {len(DEMO_USERS)}")
        for entry in demo_seeders():
            entry.seeder(context)
        context.log("done")
        self._print_logins(password)

    def _log(self, started: float):
        def log(message: str) -> None:
            self.stdout.write(f"[{time.perf_counter() - started:7.1f}s] {message}")

        return log

    def _print_logins(self, password: str) -> None:
        by_username = {demo.username: demo for demo in DEMO_USERS}
        self.stdout.write(self.style.SUCCESS(f"Demo logins (password for all: {password}):"))
        for username in DEMO_LOGINS_PER_ROLE:
            self.stdout.write(f"  {username:<10} {by_username[username].role}")
