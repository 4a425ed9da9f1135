"""Settings of the Celery workers the fault tests start and kill: the suite's, sharing the test
process's media folder (the test settings make a new one per process), and a broker that hands a
killed worker's unacknowledged task to the next worker within seconds instead of an hour."""

import os

from crm.settings.test import *  # noqa: F403

MEDIA_ROOT = os.environ["CRM_TEST_WORKER_MEDIA_ROOT"]
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": 2,
    "unacked_restore_interval": 1,
    "unacked_restore_throttle": 1,
}
