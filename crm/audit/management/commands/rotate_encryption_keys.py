from django.core.management.base import BaseCommand, CommandError

from crm.encryption import RotationFailed, encrypted_values_rotate


class Command(BaseCommand):
    help = (
        "Re-encrypt every stored encrypted value (history included) under the first key of "
        "CRM_FIELD_ENCRYPTION_KEYS. Safe to run again: values already under that key are skipped."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--batch-size", type=int, default=500, help="rows per transaction (default 500)"
        )

    def handle(self, *args, batch_size, **options):
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        try:
            result = encrypted_values_rotate(batch_size=batch_size, progress=self._progress)
        except RotationFailed as exc:
            raise CommandError(str(exc)) from exc
        for table, count in result.by_table.items():
            self.stdout.write(f"{table}: {count} values re-encrypted")
        self.stdout.write(
            self.style.SUCCESS(
                f"Done: {result.rotated} values re-encrypted, "
                f"{result.current} already under the first key."
            )
        )

    def _progress(self, table: str, rows_done: int) -> None:
        self.stdout.write(f"{table}: {rows_done} rows read")
