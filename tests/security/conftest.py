"""One world for a whole module: built once inside a transaction that is rolled back at the end,
each test running in a savepoint of it, so the matrix stays fast."""

import pytest
from django.core.cache import cache
from django.db import transaction
from django.test import Client

from tests.security.world import ANONYMOUS, World, world_build


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker) -> World:
    with django_db_blocker.unblock(), transaction.atomic():
        built = world_build()
        yield built
        transaction.set_rollback(True)


@pytest.fixture
def client_as(world, db):
    """client_as(persona) -> a Client signed in as that persona (anonymous: not signed in)."""
    cache.clear()

    def make(persona: str) -> Client:
        client = Client()
        if persona != ANONYMOUS:
            client.force_login(world.users[persona])
        return client

    return make
