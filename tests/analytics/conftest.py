import pytest


@pytest.fixture(autouse=True)
def _analytics_tasks_run_in_the_test(request):
    """Jobs queued by a test (a graph build, a retrain) run in the test's process even when
    REDIS_URL points at a real broker; the tests marked `redis` want the real worker and queue
    through the broker."""
    if not request.node.get_closest_marker("redis"):
        request.getfixturevalue("eager_tasks")
