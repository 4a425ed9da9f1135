"""Deploy checks for email (`manage.py check --deploy`)."""

from django.conf import settings
from django.core.checks import Tags, Warning, register


def anymail_webhook_secret_check(app_configs, **kwargs) -> list[Warning]:
    # Only a provider posts to these webhooks; with SMTP and IMAP they are not needed.
    uses_provider = settings.EMAIL_BACKEND.startswith("anymail.")
    if not uses_provider or (settings.ANYMAIL or {}).get("WEBHOOK_SECRET"):
        return []
    return [
        Warning(
            "CRM_ANYMAIL_WEBHOOK_SECRET is not set: the provider's inbound and tracking "
            "webhooks refuse every post, so replies and bounces will not reach the CRM.",
            hint='Set CRM_ANYMAIL_WEBHOOK_SECRET to "user:password" and put it in the webhook '
            "URLs given to the provider (https://user:password@host/mail/anymail/...).",
            id="mail.W001",
        )
    ]


def register_checks() -> None:
    register(anymail_webhook_secret_check, Tags.security, deploy=True)
