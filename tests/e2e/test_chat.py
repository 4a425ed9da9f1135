"""A rep and their manager discuss a deal in its chat room, each in a browser of their own: each
message shows up on the other's page as it is sent (over the WebSocket), without a reload."""

from playwright.sync_api import expect


def _open_discussion(page, deal_url: str) -> None:
    page.goto(deal_url)
    page.get_by_role("navigation", name="Work on this record together").get_by_role(
        "link", name="Discussion"
    ).click()
    expect(page.get_by_label("Message", exact=True)).to_be_visible()
    # The live socket is up: from here on, messages arrive without a reload.
    page.wait_for_function("window.crmLive && window.crmLive.status === 'open'")


def _send(page, text: str) -> None:
    composer = page.get_by_label("Message", exact=True)
    composer.fill(text)
    composer.press("Enter")
    expect(composer).to_have_value("")


def test_rep_and_manager_chat_about_a_deal(new_page, screenshot):
    rep = new_page("rep")
    rep.goto("/sales/board/")
    card = rep.get_by_role("article").filter(has_text="Riley Chen").first
    deal_name = card.get_by_role("heading").inner_text()
    card.get_by_role("link", name=deal_name).click()
    expect(rep.get_by_role("heading", level=1)).to_contain_text(deal_name)
    deal_url = rep.url
    _open_discussion(rep, deal_url)
    expect(rep.get_by_role("heading", level=1)).to_have_text(deal_name)

    manager = new_page("manager")
    _open_discussion(manager, deal_url)
    assert manager.url == rep.url, "both are in the deal's one room"

    rep_messages = rep.get_by_label("Messages", exact=True)
    manager_messages = manager.get_by_label("Messages", exact=True)

    question = f"Can we give {deal_name} a 5% discount on the tea sets?"
    _send(rep, question)
    expect(rep_messages.get_by_role("article").filter(has_text=question)).to_have_count(1)
    expect(manager_messages.get_by_role("article").filter(has_text=question)).to_have_count(1)

    answer = f"Fine by me if {deal_name} signs before Friday."
    _send(manager, answer)
    expect(manager_messages.get_by_role("article").filter(has_text=answer)).to_have_count(1)
    expect(rep_messages.get_by_role("article").filter(has_text=answer)).to_have_count(1)
    # The message ends the manager's "is typing…" on the rep's page at once.
    expect(rep.get_by_text("is typing")).to_have_count(0, timeout=1000)
    screenshot(rep, "chat")
