"""Settings of the server and worker the end-to-end tests start: the suite's, with a media folder
they share (the test settings make a new one per process)."""

import os

from crm.settings.test import *  # noqa: F403

MEDIA_ROOT = os.environ["CRM_E2E_MEDIA_ROOT"]
