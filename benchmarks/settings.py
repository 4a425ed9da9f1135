"""The production settings (as docker-compose.yml runs them) plus the suite's baseline view."""

from crm.settings.production import *  # noqa: F403

ROOT_URLCONF = "benchmarks.urls"
