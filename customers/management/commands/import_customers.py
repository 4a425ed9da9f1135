from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.management.base import BaseCommand, CommandError

from crm.accounts.models import User
from customers.importing.report import StreamReport
from customers.services import importing


class Command(BaseCommand):
    help = (
        "Import customers from a CSV file (UTF-8 or GB18030, comma or semicolon separated), "
        "matching existing customers by external id, email and phone. Runs as an operator, "
        "who sees every customer."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path, help="the CSV file")
        parser.add_argument(
            "--dry-run", action="store_true", help="go through the file and write nothing"
        )
        parser.add_argument("--report", type=Path, help="write the row-by-row report here")
        parser.add_argument(
            "--owner",
            help="username owning the customers created (default: none, seen by admins only)",
        )
        parser.add_argument(
            "--keep-extra-columns",
            action="store_true",
            help="keep columns that map to no field as custom attributes",
        )
        parser.add_argument(
            "--overwrite",
            action="store_true",
            help="let the file replace values customers already have (default: fill blanks)",
        )
        parser.add_argument(
            "--date-order",
            choices=importing.DATE_ORDERS,
            help="how 03/02/1985 reads: dmy (2 March) or mdy (3 February)",
        )

    def handle(self, *args, file: Path, dry_run, report, owner, **options):
        if not file.is_file():
            raise CommandError(f"No such file: {file}")
        owner_user = None
        if owner:
            owner_user = User.objects.filter(username=owner, is_active=True).first()
            if owner_user is None:
                raise CommandError(f"No active user named {owner!r}.")
        import_options = {
            "keep_extra_columns": options["keep_extra_columns"],
            "overwrite": options["overwrite"],
        }
        if options["date_order"]:
            import_options["date_order"] = options["date_order"]
        try:
            if dry_run:
                summary = self._dry_run(file, owner_user, import_options, report)
            else:
                summary = self._run(file, owner_user, import_options, report)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        self._print(summary, dry_run=dry_run, report=report)

    def _dry_run(self, file, owner, options, report_path):
        if report_path is None:
            return importing.import_file_dry_run(path=file, owner=owner, options=options)
        with report_path.open("w", encoding="utf-8-sig", newline="") as stream:
            return importing.import_file_dry_run(
                path=file, owner=owner, options=options, report=StreamReport(stream)
            )

    def _run(self, file, owner, options, report_path):
        with file.open("rb") as stream:
            job = importing.import_job_create(
                actor=None,
                owner=owner,
                file=File(stream, name=file.name),
                original_name=file.name,
                options=options,
            )
        summary = importing.import_job_run(job_id=job.pk)
        job.refresh_from_db()
        if summary is None:
            raise CommandError(job.error or f"Import #{job.pk} did not run.")
        if report_path is not None:
            with job.report.open("rb") as source, report_path.open("wb") as target:
                while chunk := source.read(1 << 20):
                    target.write(chunk)
        self.stdout.write(f"Import #{job.pk} {job.get_status_display().lower()}.")
        return summary

    def _print(self, summary, *, dry_run: bool, report: Path | None) -> None:
        counts = summary.counts
        if dry_run:
            self.stdout.write("Dry run: nothing was written.")
        self.stdout.write(
            f"rows: {counts.rows}  created: {counts.created}  updated: {counts.updated}  "
            f"unchanged: {counts.unchanged}  merged: {counts.merged}  "
            f"rejected: {counts.rejected}"
        )
        if summary.ignored_columns:
            self.stdout.write("Ignored columns: " + ", ".join(summary.ignored_columns))
        if report is not None:
            self.stdout.write(f"Report: {report}")
