from django.core.management.base import BaseCommand

from crm.encryption import encryption_key_generate


class Command(BaseCommand):
    help = (
        "Print a new key for CRM_FIELD_ENCRYPTION_KEYS. Put it first in the list to encrypt with "
        "it, then run rotate_encryption_keys."
    )

    def handle(self, *args, **options):
        self.stdout.write(encryption_key_generate())
