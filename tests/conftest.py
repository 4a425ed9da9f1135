"""Fixtures shared by every test: people in their roles and teams, and clients signed in as them.

The embedded default (SQLite in memory, no Redis) runs everything except the tests marked
`postgres` or `redis`; those skip with a reason saying what to set, and run in CI.
"""

from collections.abc import Callable

import pytest
from django.conf import settings
from django.test import Client
from django.utils import translation

from crm.accounts import roles
from crm.celery import app as celery_app
from tests.accounts.factories import TeamFactory, TeamMembershipFactory, UserFactory

NEEDS_POSTGRES = "needs PostgreSQL: set DATABASE_URL=postgres://..."
NEEDS_REDIS = "needs Redis: set REDIS_URL"


def database_is_postgresql() -> bool:
    return "postgresql" in settings.DATABASES["default"]["ENGINE"]


def redis_is_configured() -> bool:
    return bool(settings.REDIS_URL)


def pytest_collection_modifyitems(config, items):
    skips = {
        "postgres": None if database_is_postgresql() else pytest.mark.skip(reason=NEEDS_POSTGRES),
        "redis": None if redis_is_configured() else pytest.mark.skip(reason=NEEDS_REDIS),
    }
    for item in items:
        for marker_name, skip in skips.items():
            if skip is not None and item.get_closest_marker(marker_name):
                item.add_marker(skip)


@pytest.fixture(autouse=True)
def site_language():
    """Each test starts in the site's language: a request by a user with another language
    activates it for the thread, which would otherwise leak into the next test."""
    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.deactivate()


@pytest.fixture
def eager_tasks():
    """Run Celery tasks in the test's process even when REDIS_URL points at a real broker (the
    real worker has its own tests)."""
    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = eager


@pytest.fixture
def team(db):
    return TeamFactory(name="Sales East")


@pytest.fixture
def other_team(db):
    return TeamFactory(name="Sales West")


@pytest.fixture
def rep(team):
    user = UserFactory(username="rep", display_name="Riley Chen", roles=[roles.SALES_REP])
    TeamMembershipFactory(team=team, user=user)
    return user


@pytest.fixture
def rep_teammate(team):
    user = UserFactory(username="rep_teammate", roles=[roles.SALES_REP])
    TeamMembershipFactory(team=team, user=user)
    return user


@pytest.fixture
def other_team_rep(other_team):
    user = UserFactory(username="other_rep", roles=[roles.SALES_REP])
    TeamMembershipFactory(team=other_team, user=user)
    return user


@pytest.fixture
def manager(team):
    """Manages `team` without being a member of it: their reach comes from Team.manager."""
    user = UserFactory(username="manager", roles=[roles.MANAGER], is_staff=True)
    team.manager = user
    team.save(update_fields=["manager"])
    return user


@pytest.fixture
def admin_user(db):
    """A user in the Admin role (not a superuser); see `superuser` for the other kind of admin."""
    return UserFactory(username="admin", roles=[roles.ADMIN], is_staff=True)


@pytest.fixture
def superuser(db):
    return UserFactory(username="root", is_staff=True, is_superuser=True)


@pytest.fixture
def user_without_role(db):
    return UserFactory(username="norole")


@pytest.fixture
def client_for(db) -> Callable[..., Client]:
    """client_for(user) -> a test Client signed in as user (a fresh one each call)."""

    def make(user) -> Client:
        client = Client()
        client.force_login(user)
        return client

    return make


@pytest.fixture
def rep_client(client_for, rep) -> Client:
    return client_for(rep)


@pytest.fixture
def smtp_server(settings):
    """A local SMTP server the CRM's SMTP backend sends to; `.received` is what arrived."""
    from tests.smtp_server import LocalSmtpServer

    server = LocalSmtpServer()
    server.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = server.port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_TIMEOUT = 5
    yield server
    server.stop()
