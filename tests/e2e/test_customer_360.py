"""A rep adds a customer, logs a call on it from its 360 page and finds the call on the timeline;
then opens their biggest customer's 360 page for the README's screenshot."""

import re

from playwright.sync_api import expect


def test_rep_creates_a_customer_and_logs_a_call(new_page, screenshot):
    page = new_page("rep")
    page.goto("/customers/")
    page.get_by_role("link", name="New customer").click()

    page.get_by_label("Name", exact=True).fill("Wen Jiahui")
    page.get_by_label("Email").fill("wen.jiahui@example.com")
    page.get_by_label("Phone").fill("+86 138 0013 8000")
    page.get_by_role("button", name="Add customer").click()

    expect(page.get_by_role("heading", level=1)).to_contain_text("Wen Jiahui")
    expect(page.get_by_role("status").filter(has_text="Wen Jiahui added")).to_be_visible()
    expect(page.locator("[data-figure=last-contact]")).to_have_text("Never")
    timeline = page.get_by_role("region", name="Timeline")
    expect(timeline).not_to_contain_text("Discussed the spring order")

    page.get_by_role("link", name="Log interaction").click()
    form = page.locator("form").filter(
        has=page.get_by_role("heading", name="Log an interaction with Wen Jiahui")
    )
    form.get_by_label("Channel").select_option(label="Phone call")
    form.get_by_label("Subject").fill("Discussed the spring order")
    form.get_by_label("Summary").fill("Wants 40 tea sets before the holiday.")
    form.get_by_label("Duration (minutes)").fill("12")
    form.get_by_label("Outcome").select_option(label="Positive")
    # A mark on the page that a reload would wipe: the call is logged in place.
    page.evaluate("window.loggedInPlace = true")
    form.get_by_role("button", name="Log interaction").click()

    entry = timeline.get_by_role("listitem").filter(has_text="Discussed the spring order")
    expect(entry).to_be_visible()
    expect(entry).to_contain_text("Phone call")
    expect(entry).to_contain_text("Wants 40 tea sets before the holiday.")
    expect(form).to_be_hidden()
    expect(page.get_by_role("status").filter(has_text="Interaction logged.")).to_be_visible()
    expect(page.locator("[data-figure=last-contact]")).not_to_have_text("Never")
    assert page.evaluate("window.loggedInPlace === true")


def test_customer_360_of_a_busy_customer(new_page, screenshot):
    # Emily Lewis, one of the rep's demo customers, has orders, a deal and many interactions.
    page = new_page("rep")
    page.goto("/customers/")
    filters = page.get_by_role("search", name="Filter customers")
    filters.get_by_label("Search").fill("Emily Lewis")
    filters.get_by_label("Owner").select_option(label="Riley Chen 陈伟")
    filters.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(r"q=Emily(\+|%20)Lewis"))
    page.locator("#results").get_by_role("link", name="Emily Lewis").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Emily Lewis")
    expect(page.get_by_role("region", name="Timeline").get_by_role("listitem")).not_to_have_count(0)
    expect(page.get_by_role("region", name="Recent orders").get_by_role("row")).not_to_have_count(0)
    screenshot(page, "customer_360")
