"""Keyboard shortcuts: "/" searches, "n" then a letter opens a new record's form, "?" shows the
help dialog; none of them fires while the user types."""

import re

from playwright.sync_api import expect


def test_slash_focuses_the_global_search(new_page):
    # Given the rep on the home page
    page = new_page("rep")
    page.goto("/")

    # When they press "/"
    page.keyboard.press("/")

    # Then the search box has the focus, and the slash was not typed into it
    search = page.get_by_role("searchbox", name="Search customers")
    expect(search).to_be_focused()
    expect(search).to_have_value("")


def test_n_then_c_opens_the_new_customer_form(new_page):
    # Given the rep, who may create customers, on the home page
    page = new_page("rep")
    page.goto("/")

    # When they press "n" then "c"
    page.keyboard.press("n")
    page.keyboard.press("c")

    # Then the new customer form opens
    page.wait_for_url(re.compile(r"/customers/new/$"))
    expect(page.get_by_role("heading", level=1)).to_be_visible()


def test_shortcuts_do_not_fire_while_typing(new_page):
    # Given the rep typing into the global search
    page = new_page("rep")
    page.goto("/sales/my-day/")
    search = page.get_by_role("searchbox", name="Search customers")
    search.click()

    # When the letters of a shortcut are typed
    page.keyboard.type("nc")

    # Then they are text, and the page stays
    expect(search).to_have_value("nc")
    assert page.url.endswith("/sales/my-day/")


def test_a_new_record_shortcut_is_only_offered_with_the_permission(new_page):
    # Given the agent, who handles tickets but has no deals
    page = new_page("agent")
    page.goto("/")

    # When they open the help, close it and press "n" then "d"
    page.keyboard.press("?")
    dialog = page.get_by_role("dialog", name="Keyboard shortcuts")
    expect(dialog.get_by_role("cell", name="New ticket")).to_be_visible()
    expect(dialog.get_by_role("cell", name="New deal")).to_have_count(0)
    expect(dialog).to_be_focused()  # shown: Bootstrap ignores Escape while the dialog fades in
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    page.keyboard.press("n")
    page.keyboard.press("d")

    # Then the deal form does not open
    page.wait_for_timeout(500)
    assert "/sales/" not in page.url


def test_question_mark_opens_the_help_dialog(new_page, screenshot):
    # Given the rep on any page
    page = new_page("rep")
    page.goto("/customers/")

    # When they press "?"
    page.keyboard.press("?")

    # Then an accessible dialog lists the shortcuts the rep may use, and Escape closes it
    dialog = page.get_by_role("dialog", name="Keyboard shortcuts")
    expect(dialog).to_be_visible()
    for action in ("Search customers", "New customer", "Go to the deal board"):
        expect(dialog.get_by_role("cell", name=action)).to_be_visible()
    expect(dialog).to_be_focused()
    screenshot(page, "shortcuts-help")
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
