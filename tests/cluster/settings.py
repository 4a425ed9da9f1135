"""Settings of the processes the scale-out test starts: the suite's, sharing the test process's
media folder (the test settings make a new one per process), as every host of a cluster shares
one file storage."""

import os

from crm.settings.test import *  # noqa: F403

MEDIA_ROOT = os.environ["CRM_TEST_WORKER_MEDIA_ROOT"]
