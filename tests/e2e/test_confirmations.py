"""Destructive actions ask first, under the content security policy: htmx's hx-confirm and the
plain forms marked data-confirm both show the browser's confirmation, and nothing is sent when
the user says no."""

import re

from playwright.sync_api import expect


def _open_first_task(page) -> None:
    page.goto("/collaboration/tasks/")
    hrefs = page.eval_on_selector_all("main a[href]", "links => links.map(a => a.pathname)")
    page.goto(next(href for href in hrefs if re.fullmatch(r"/collaboration/tasks/\d+/", href)))


def test_deleting_a_comment_asks_first(new_page):
    # Given the rep's comment on one of their tasks
    page = new_page("rep")
    _open_first_task(page)
    comments = page.locator("#task-comments")
    comments.get_by_label("Add a comment").fill("A comment to remove again")
    comments.get_by_role("button", name="Comment", exact=True).click()
    comment = comments.get_by_text("A comment to remove again")
    expect(comment).to_be_visible()
    questions = []

    # When they delete it and say no
    page.once("dialog", lambda dialog: (questions.append(dialog.message), dialog.dismiss()))
    comments.get_by_role("button", name="Delete comment").last.click()

    # Then they were asked, and the comment stays
    page.wait_for_timeout(300)
    assert questions == ["Delete this comment?"]
    expect(comment).to_be_visible()

    # When they delete it and say yes
    page.once("dialog", lambda dialog: dialog.accept())
    comments.get_by_role("button", name="Delete comment").last.click()

    # Then it is gone
    expect(comment).to_have_count(0)


def test_logging_out_everywhere_asks_first(new_page):
    # Given the rep on their sessions page
    page = new_page("rep")
    page.goto("/accounts/profile/sessions/")
    questions = []

    # When they ask to log out everywhere and say no
    page.once("dialog", lambda dialog: (questions.append(dialog.message), dialog.dismiss()))
    page.get_by_role("button", name="Log out everywhere").click()

    # Then they were asked and are still signed in on the same page
    page.wait_for_timeout(300)
    assert questions == ["Log out everywhere, this session too?"]
    assert page.url.endswith("/accounts/profile/sessions/")
    expect(page.get_by_role("button", name="Log out everywhere")).to_be_visible()
