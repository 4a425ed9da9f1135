"""The pages a rep and an agent use on the road fit a phone's width: the page itself never
scrolls sideways (a wide table or board scrolls inside its own box)."""

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import PHONE


def _first_link_in(page, list_url: str, container: str) -> str:
    page.goto(list_url)
    return page.locator(container).get_by_role("link").first.get_attribute("href")


def _customer_360(page) -> str:
    return _first_link_in(page, "/customers/", "#results tbody")


def _my_day(page) -> str:
    return "/sales/my-day/"


def _deal_detail(page) -> str:
    return _first_link_in(page, "/sales/deals/", "#results tbody")


def _ticket_detail(page) -> str:
    return _first_link_in(page, "/service/tickets/?queue=all", "#results tbody")


def _chat_room(page) -> str:
    return _first_link_in(page, "/collaboration/chat/", "[data-chat-sidebar] ul")


PAGES = {
    "customer_360": ("rep", _customer_360),
    "my_day": ("rep", _my_day),
    "deal_detail": ("rep", _deal_detail),
    "ticket_detail": ("agent", _ticket_detail),
    "chat_room": ("rep", _chat_room),
}


@pytest.mark.parametrize("name", PAGES)
def test_page_fits_a_phone(new_page, screenshot, name):
    user, find_url = PAGES[name]
    page = new_page(user, viewport=PHONE)
    page.goto(find_url(page))
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    page.wait_for_load_state("networkidle")
    widths = page.evaluate(
        "({page: document.documentElement.scrollWidth, window: window.innerWidth})"
    )
    screenshot(page, f"phone_{name}", full_page=True)
    wider = page.evaluate(
        """() => [...document.querySelectorAll("body *")]
            .filter((element) => element.getBoundingClientRect().right > window.innerWidth + 1)
            .filter((element) => !element.closest(".table-responsive, .board, .visually-hidden"))
            .slice(0, 5)
            .map((element) => element.outerHTML.slice(0, 120))"""
    )
    assert widths["page"] <= widths["window"], f"{name} scrolls sideways: {wider}"
