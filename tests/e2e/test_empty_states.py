"""A list that shows nothing says what to do next."""

import re

from playwright.sync_api import expect


def test_a_search_that_finds_no_deal_offers_to_clear_the_filters(new_page, screenshot):
    # Given the rep searching deals for something no deal has
    page = new_page("rep")
    page.goto("/sales/deals/?q=no-such-deal-anywhere")

    # Then the list says nothing matches, and offers to clear the filters
    empty_state = page.get_by_role("status").filter(has_text="No deals match these filters.")
    expect(empty_state).to_be_visible()
    screenshot(page, "empty-state-deals")

    # When they clear the filters
    empty_state.get_by_role("link", name="Clear the filters").click()

    # Then their deals are listed again
    page.wait_for_url(re.compile(r"/sales/deals/$"))
    expect(page.get_by_role("status").filter(has_text="No deals")).to_have_count(0)
