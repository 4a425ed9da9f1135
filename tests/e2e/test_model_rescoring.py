"""A manager retrains a model, activates the version that is not active by hand (a rollback when
the retrain was promoted) and watches the re-scoring with it end in the number of customers it
scored."""

from playwright.sync_api import expect

from tests.e2e.conftest import LAPTOP

# Training and scoring run on the worker when there is one; the page polls until they end.
RUN_TIMEOUT = 90_000


def test_activating_a_version_by_hand_shows_the_rescoring_until_it_is_done(new_page, screenshot):
    page = new_page("manager", viewport=LAPTOP)
    page.goto("/analytics/models/churn/")
    page.get_by_role("button", name="Retrain").click()

    versions = page.get_by_role("table").filter(has_text="Decision")
    activate = versions.get_by_role("button", name="Roll back to this version").or_(
        versions.get_by_role("button", name="Activate")
    )
    expect(activate).to_be_visible(timeout=RUN_TIMEOUT)
    activate.click()

    outcome = page.get_by_role("status").filter(has_text="Scored")
    expect(outcome).to_contain_text("customers with version", timeout=RUN_TIMEOUT)
    expect(page.get_by_role("progressbar", name="Scoring progress")).to_have_count(0)
    screenshot(page, "model-rescoring-done")
