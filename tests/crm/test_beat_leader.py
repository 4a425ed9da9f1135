"""Scheduled jobs are sent once across the cluster: only the beat holding the leader lock in
Redis sends (crm.beat). Two beat processes on real Redis are in tests/cluster."""

import time

import pytest
import redis
from django.conf import settings

from crm.beat import LOCK_KEY, ClusterScheduler, Leadership
from crm.celery import app as celery_app

pytestmark = pytest.mark.redis


@pytest.fixture
def lock_free():
    client = redis.Redis.from_url(settings.REDIS_URL)
    client.delete(LOCK_KEY)
    yield client
    client.delete(LOCK_KEY)


def test_one_beat_leads_and_the_other_stands_by(lock_free):
    # given two beats
    first = Leadership(settings.REDIS_URL, seconds=30)
    second = Leadership(settings.REDIS_URL, seconds=30)

    # when both try to lead, twice
    rounds = [(first.hold(), second.hold()) for _ in range(2)]

    # then the first leads throughout (it became the leader once) and the second waits
    assert rounds == [((True, True), (False, False)), ((True, False), (False, False))]


def test_a_standby_takes_over_when_the_leader_stops_renewing(lock_free):
    # given a leader whose lock lasts a second, and a standby
    leader = Leadership(settings.REDIS_URL, seconds=1)
    standby = Leadership(settings.REDIS_URL, seconds=1)
    assert leader.hold() == (True, True)
    assert standby.hold() == (False, False)

    # when the leader stops (a lost machine) and its lock runs out
    time.sleep(1.2)

    # then the standby leads, and the old leader, back, finds it taken
    assert standby.hold() == (True, True)
    assert leader.hold() == (False, False)


def test_a_leader_that_stops_cleanly_hands_over_at_once(lock_free):
    leader = Leadership(settings.REDIS_URL, seconds=30)
    standby = Leadership(settings.REDIS_URL, seconds=30)
    leader.hold()

    leader.release()

    assert standby.hold() == (True, True)


@pytest.mark.django_db
def test_a_standby_scheduler_sends_nothing(lock_free, monkeypatch):
    # given another beat holding the lock
    lock_free.set(LOCK_KEY, "another-beat", px=30_000)
    scheduler = ClusterScheduler(app=celery_app, lazy=True)
    sent = []
    monkeypatch.setattr(scheduler, "apply_entry", lambda *args, **kwargs: sent.append(args))

    # when this beat ticks
    wait = scheduler.tick()

    # then it sends nothing and asks again within the lock's lifetime
    assert sent == []
    assert 0 < wait <= settings.CRM_BEAT_LOCK_SECONDS / 3
