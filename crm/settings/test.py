"""The test suite: fast hashing, eager Celery unless REDIS_URL is set, a fixed test secret."""

import os

os.environ.setdefault("DEBUG", "false")
os.environ.setdefault("SECRET_KEY", "test-only-secret-key-for-the-suite-0123456789abcdefghijkl")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")
# The suite sends thousands of API requests as a few users from one address; the throttling
# tests set their own low rates.
os.environ.setdefault("CRM_API_RATE_TOKEN", "100000/minute")
os.environ.setdefault("CRM_API_RATE_USER", "100000/minute")
os.environ.setdefault("CRM_API_RATE_ANONYMOUS", "100000/minute")

from crm.settings.base import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Test users sign in with short passwords through the test client, which passes no request and
# so cannot go through django-axes; the lockout tests switch it back on.
AXES_ENABLED = False
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True

import tempfile  # noqa: E402

# Uploaded files (imports, avatars) written by the suite go to a throwaway folder.
MEDIA_ROOT = tempfile.mkdtemp(prefix="crm-test-media-")
