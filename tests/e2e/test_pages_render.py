"""Every page of the main navigation opens for a rep and a manager with one h1 and no JavaScript
error, the navigation fits a laptop's width on one line, and a list's filters and paging swap
its results in place while the address stays shareable."""

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import LAPTOP


def nav_links(page) -> list[tuple[str, str]]:
    """(label, address) of every page the main navigation offers, dropdown items included."""
    links = page.get_by_role("navigation", name="Main navigation").locator(
        "a.nav-link, a.dropdown-item"
    )
    entries = []
    for link in links.all():
        href = link.get_attribute("href") or ""
        if href.startswith("/") and not href.startswith(("/admin/", "/api/")):
            entries.append((link.text_content().strip(), href))
    return list(dict.fromkeys(entries))


@pytest.mark.parametrize("user", ["rep", "manager"])
def test_every_main_page_opens_with_one_heading(new_page, screenshot, user):
    page = new_page(user, viewport=LAPTOP)
    page.goto("/")
    screenshot(page, f"pages-{user}-home", full_page=True)
    links = nav_links(page)
    assert len(links) >= 5

    for label, href in links:
        response = page.goto(href)

        assert response is not None and response.ok, (
            f"{label} {href}: {response and response.status}"
        )
        assert page.locator("h1").count() == 1, f"{label} {href}"
        name = re.sub(r"[^a-z0-9]+", "-", href.lower()).strip("-") or "home"
        screenshot(page, f"pages-{user}-{name}")


@pytest.mark.parametrize("user", ["rep", "manager"])
def test_the_navigation_fits_one_line_on_a_laptop(new_page, user):
    page = new_page(user, viewport=LAPTOP)
    page.goto("/")

    items = page.locator("#main-nav .navbar-nav > .nav-item")
    tops = {round(box["y"]) for box in (item.bounding_box() for item in items.all()) if box}
    heights = {round(box["height"]) for box in (item.bounding_box() for item in items.all()) if box}
    assert len(tops) == 1, f"the navigation wraps onto {len(tops)} lines"
    assert max(heights) < 48, "an item of the navigation wraps onto two lines"
    box = page.locator(".user-menu-toggle").bounding_box()
    assert box is not None and box["x"] + box["width"] <= LAPTOP["width"], "the user menu is cut"


def test_customer_filters_and_paging_swap_the_results_and_keep_the_address(new_page, screenshot):
    page = new_page("manager", viewport=LAPTOP)
    page.goto("/customers/")
    heading = page.get_by_role("heading", level=1)
    heading.evaluate("element => element.dataset.untouched = 'yes'")
    count = page.locator("[data-result-count]")
    everyone = count.get_attribute("data-result-count")

    page.get_by_role("link", name="Next").click()

    expect(page).to_have_url(re.compile(r"page=2"))
    expect(page.get_by_text(re.compile(r"Page 2 of"))).to_be_visible()

    page.get_by_role("search", name="Filter customers").get_by_label("Search").fill("a")
    page.get_by_role("button", name="Filter").click()

    expect(page).to_have_url(re.compile(r"q=a"))
    expect(page).not_to_have_url(re.compile(r"page=2"))
    # The page was not reloaded: the heading is the same element, only the results changed.
    expect(heading).to_have_attribute("data-untouched", "yes")
    expect(count).not_to_have_attribute("data-result-count", everyone)
    screenshot(page, "customer-list-filtered")

    page.go_back()

    expect(page).to_have_url(re.compile(r"page=2$"))
    expect(page.get_by_text(re.compile(r"Page 2 of"))).to_be_visible()

    page.reload()

    expect(page.get_by_role("heading", level=1)).to_have_count(1)
    expect(page.get_by_text(re.compile(r"Page 2 of"))).to_be_visible()


def test_a_ticket_reply_is_appended_without_reloading(new_page):
    page = new_page("agent", viewport=LAPTOP)
    page.goto("/service/tickets/?queue=all")
    page.locator("tbody a[href^='/service/tickets/']").first.click()
    breadcrumb = page.get_by_role("navigation", name="Breadcrumb")
    breadcrumb.evaluate("element => element.dataset.untouched = 'yes'")
    thread = page.locator("#ticket-thread-list > li")
    before = thread.count()

    reply = page.get_by_role("region", name="Reply")
    reply.get_by_role("textbox").fill("A technician is on the way.")
    reply.get_by_role("button", name="Send").click()

    expect(thread).to_have_count(before + 1)
    expect(thread.last).to_contain_text("A technician is on the way.")
    expect(reply.get_by_role("textbox")).to_have_value("")
    expect(breadcrumb).to_have_attribute("data-untouched", "yes")
