"""A rep drags one of their deals to another stage on the deal board; after a reload the deal is
still in its new column and the columns' counts follow."""

import re

from playwright.sync_api import expect


def _column(page, stage: str):
    return page.get_by_role("region", name=re.compile(rf"^{stage}\b"))


def _count(column) -> int:
    return int(column.locator("h2 .badge").inner_text())


def test_rep_drags_a_deal_to_another_stage(new_page, screenshot):
    page = new_page("rep")
    page.goto("/")
    page.get_by_role("navigation", name="Main navigation").get_by_role(
        "button", name="Sales"
    ).click()
    page.get_by_role("link", name="Deals", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Deals")

    needs_analysis = _column(page, "Needs analysis")
    negotiation = _column(page, "Negotiation")
    card = needs_analysis.get_by_role("article").filter(has_text="Riley Chen").first
    title = card.get_by_role("heading").inner_text()
    counts_before = (_count(needs_analysis), _count(negotiation))

    card.drag_to(negotiation.locator("[data-board-cards]"))

    moved = negotiation.get_by_role("article", name=title)
    expect(moved).to_be_visible()
    expect(moved).not_to_have_class(re.compile("board-card-saving"))
    expect(needs_analysis.get_by_role("article", name=title)).to_have_count(0)
    expect(negotiation.get_by_label(f"Move {title} to")).to_have_value(
        moved.get_attribute("data-stage-id")
    )

    page.reload()
    expect(_column(page, "Negotiation").get_by_role("article", name=title)).to_be_visible()
    expect(_column(page, "Needs analysis").get_by_role("article", name=title)).to_have_count(0)
    assert (_count(_column(page, "Needs analysis")), _count(_column(page, "Negotiation"))) == (
        counts_before[0] - 1,
        counts_before[1] + 1,
    )
    screenshot(page, "kanban")
