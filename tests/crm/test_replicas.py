"""Which database a read goes to (crm.replicas): the decisions of the router and the pin, with
replicas configured by name. The reads themselves on a real replica are in tests/cluster."""

import pytest
from django.db import OperationalError, transaction
from django.http import HttpResponse
from django.test import RequestFactory

from crm import replicas
from crm.replicas import (
    PIN_COOKIE,
    PrimaryAfterWriteMiddleware,
    ReplicaRouter,
    replica_alias,
    replica_reads,
    replica_reads_when,
)
from customers.models import Customer

router = ReplicaRouter()


@pytest.fixture
def one_replica(settings, monkeypatch):
    settings.CRM_DATABASE_REPLICAS = ["replica_1"]
    monkeypatch.setattr(replicas, "_reachable", lambda alias: True)
    replicas._unreachable_until.clear()


def test_without_replicas_every_read_goes_to_the_primary(settings):
    # given no replica configured
    settings.CRM_DATABASE_REPLICAS = []

    # when reads ask inside and outside a replica block
    with replica_reads():
        inside = (router.db_for_read(Customer), replica_alias())

    # then the primary serves them
    assert inside == ("default", "default")
    assert router.db_for_read(Customer) is None


def test_reads_in_a_replica_block_go_to_the_replica_and_others_to_the_primary(one_replica):
    # given a replica
    # when a block reads from it
    with replica_reads():
        inside = router.db_for_read(Customer)

    # then its reads go to the replica, and reads outside it to the primary (the default)
    assert inside == "replica_1"
    assert router.db_for_read(Customer) is None
    assert router.db_for_write(Customer) == "default"


def test_a_write_in_the_block_sends_its_later_reads_to_the_primary(one_replica):
    # given a replica block that writes
    with replica_reads():
        before = router.db_for_read(Customer)
        router.db_for_write(Customer)
        after = router.db_for_read(Customer)

    # then the reads after the write see it on the primary
    assert (before, after) == ("replica_1", None)


@pytest.mark.django_db
def test_reads_inside_a_transaction_stay_on_the_primary(one_replica):
    # given a replica block inside a transaction on the primary
    with transaction.atomic(), replica_reads():
        # when it reads
        chosen = router.db_for_read(Customer)

    # then the read sees the transaction's own writes and locks
    assert chosen == "default"


def test_an_unreachable_replica_is_skipped_for_a_while(settings, monkeypatch):
    # given a replica that refuses connections
    settings.CRM_DATABASE_REPLICAS = ["replica_1"]
    settings.CRM_REPLICA_RETRY_SECONDS = 30
    replicas._unreachable_until.clear()
    attempts = []

    class Refusing:
        in_atomic_block = False

        def ensure_connection(self):
            attempts.append(1)
            raise OperationalError("connection refused")

    monkeypatch.setattr(replicas, "connections", {"default": Refusing(), "replica_1": Refusing()})

    # when reads ask for a replica twice
    first, second = replica_alias(), replica_alias()

    # then the primary serves both, and the replica was tried once, not on every read
    assert (first, second) == ("default", "default")
    assert len(attempts) == 1
    replicas._unreachable_until.clear()


def test_replica_reads_when_only_for_a_search(one_replica):
    with replica_reads_when(True):
        searched = router.db_for_read(Customer)
    with replica_reads_when(False):
        listed = router.db_for_read(Customer)

    assert (searched, listed) == ("replica_1", None)


def _view_recording(chosen: list):
    def view(request):
        with replica_reads():
            chosen.append(router.db_for_read(Customer))
        return HttpResponse("ok")

    return view


def test_a_save_pins_its_person_to_the_primary_for_a_while(one_replica, settings):
    # given the middleware in front of a view that reads from a replica
    settings.CRM_REPLICA_PIN_SECONDS = 10
    chosen: list = []
    middleware = PrimaryAfterWriteMiddleware(_view_recording(chosen))
    factory = RequestFactory()

    # when a person reads, saves, then reads again with the cookie the save set
    middleware(factory.get("/analytics/"))
    saved = middleware(factory.post("/customers/new/"))
    later = factory.get("/analytics/")
    later.COOKIES[PIN_COOKIE] = saved.cookies[PIN_COOKIE].value
    middleware(later)
    expired = factory.get("/analytics/")
    expired.COOKIES[PIN_COOKIE] = "1"
    middleware(expired)

    # then the save and the read after it use the primary; a read before, or after the pin
    # expired, uses the replica
    assert chosen == ["replica_1", "default", "default", "replica_1"]
    assert saved.cookies[PIN_COOKIE]["max-age"] == 10
    assert saved.cookies[PIN_COOKIE]["httponly"]


def test_without_replicas_the_middleware_sets_no_cookie(settings):
    settings.CRM_DATABASE_REPLICAS = []
    middleware = PrimaryAfterWriteMiddleware(lambda request: HttpResponse("ok"))

    response = middleware(RequestFactory().post("/customers/new/"))

    assert PIN_COOKIE not in response.cookies


def test_migrations_run_on_the_primary_only():
    assert router.allow_migrate("default", "customers")
    assert not router.allow_migrate("replica_1", "customers")
