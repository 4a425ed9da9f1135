"""Production: DEBUG off, secrets required, HTTPS enforced. Only overrides of base.py."""

import os

os.environ["DEBUG"] = "false"

from django.core.exceptions import ImproperlyConfigured

from crm import env
from crm.settings.base import *  # noqa: F403
from crm.settings.base import STORAGES

SECRET_KEY = env.env_str("SECRET_KEY")
ALLOWED_HOSTS = env.env_list("ALLOWED_HOSTS", [])
CRM_FIELD_ENCRYPTION_KEYS = env.env_list("CRM_FIELD_ENCRYPTION_KEYS", [])
if not CRM_FIELD_ENCRYPTION_KEYS:
    raise ImproperlyConfigured(
        "CRM_FIELD_ENCRYPTION_KEYS must be set in production "
        "(make a key with `manage.py generate_encryption_key`)."
    )

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.env_bool("SECURE_SSL_REDIRECT", True)
# The load balancer and the container health check probe over plain HTTP.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = env.env_int("SECURE_HSTS_SECONDS", 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env.env_bool("SECURE_HSTS_PRELOAD", True)
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = False
