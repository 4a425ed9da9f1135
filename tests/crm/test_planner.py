"""Planner settings hold for their block alone, even inside a longer transaction."""

import pytest
from django.db import connection

from crm.planner import planner_settings

pytestmark = pytest.mark.django_db


def _settings() -> tuple[str, str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('jit'), current_setting('enable_seqscan')")
        return cursor.fetchone()


@pytest.mark.postgres
def test_the_settings_hold_inside_the_block_and_the_earlier_ones_come_back_after():
    # given a transaction (the test's) whose settings are its own
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL jit = on; SET LOCAL enable_seqscan = on")

    # when a block runs with others
    with planner_settings(jit="off", enable_seqscan="off"):
        inside = _settings()

    # then they held inside it, and the transaction has its own back
    assert inside == ("off", "off")
    assert _settings() == ("on", "on")


def test_other_databases_run_the_block_as_it_is():
    ran = []
    with planner_settings(jit="off"):
        ran.append(True)
    assert ran == [True]
