"""Development on a laptop: DEBUG on unless the environment says otherwise."""

import os

os.environ.setdefault("DEBUG", "true")

from crm.settings.base import *  # noqa: F403
