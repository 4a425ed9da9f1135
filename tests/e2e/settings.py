"""Settings of the server and worker the end-to-end tests start: the suite's, with a media folder
they share (the test settings make a new one per process) and mail written to files, where the
tests read what a customer would find in their inbox."""

import os

from crm.settings.test import *  # noqa: F403

MEDIA_ROOT = os.environ["CRM_E2E_MEDIA_ROOT"]
EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
EMAIL_FILE_PATH = os.environ["CRM_E2E_MAIL_DIR"]
