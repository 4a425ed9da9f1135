"""Every main page passes axe-core's checks without a serious or critical violation.

axe is injected into the page, which the content security policy would refuse, so these pages
are opened with the policy bypassed; the policy itself is tested elsewhere."""

import re

import pytest

from tests.e2e.server import PROJECT_DIR

AXE_SCRIPT = PROJECT_DIR / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING_IMPACTS = {"serious", "critical"}


def _page(name, user, path, *, link=None):
    """A page to check: `path`, or when `link` is given the first link on `path` whose address
    matches it (a record's page, whatever its id in the demo data)."""
    return pytest.param(user, path, link, id=name)


PAGES = [
    _page("login", None, "/accounts/login/"),
    _page("public-ticket-form", None, "/service/support/"),
    _page("home", "rep", "/"),
    _page("my-day", "rep", "/sales/my-day/"),
    _page("customer-list", "rep", "/customers/"),
    _page("customer-360", "rep", "/customers/", link=r"/customers/\d+/$"),
    _page("customer-new", "rep", "/customers/new/"),
    _page("deal-board", "rep", "/sales/board/"),
    _page("deal", "rep", "/sales/deals/", link=r"/sales/deals/\d+/$"),
    _page("ticket-list", "rep", "/service/tickets/"),
    _page("ticket", "agent", "/service/tickets/", link=r"/service/tickets/\d+/$"),
    _page("tasks", "rep", "/collaboration/tasks/"),
    _page("calendar", "rep", "/collaboration/calendar/"),
    _page("chat-home", "rep", "/collaboration/chat/"),
    _page("chat-room", "rep", "/collaboration/chat/", link=r"/collaboration/chat/\d+/$"),
    _page("activity", "rep", "/collaboration/activity/"),
    _page("notifications", "rep", "/collaboration/notifications/"),
    _page("profile", "rep", "/accounts/profile/"),
    _page("analytics-dashboard", "manager", "/analytics/"),
    _page("analytics-my-dashboard", "manager", "/analytics/me/"),
    _page("customer-analytics", "manager", "/analytics/customers/"),
    _page("service-dashboard", "manager", "/service/dashboard/"),
    _page("customer-import", "manager", "/customers/imports/new/"),
]


def _first_link(page, pattern: str) -> str:
    hrefs = page.eval_on_selector_all("main a[href]", "links => links.map(a => a.pathname)")
    matching = [href for href in hrefs if re.search(pattern, href)]
    assert matching, f"no link matching {pattern} on {page.url}"
    return matching[0]


def _describe(violations: list[dict]) -> str:
    lines = []
    for violation in violations:
        lines.append(f"{violation['id']} ({violation['impact']}): {violation['help']}")
        for node in violation["nodes"][:10]:
            lines.append(f"    {' '.join(map(str, node['target']))}")
            summary = node.get("failureSummary") or ""
            lines.extend(f"        {line}" for line in summary.splitlines()[1:3])
    return "\n".join(lines)


@pytest.mark.parametrize(("user", "path", "link"), PAGES)
def test_page_has_no_serious_accessibility_violation(new_page, screenshot, user, path, link):
    # Given a page as its user meets it
    page = new_page(user, bypass_csp=True)
    page.goto(path)
    if link:
        page.goto(_first_link(page, link))
    page.wait_for_load_state("networkidle")

    # When axe checks it
    page.add_script_tag(path=str(AXE_SCRIPT))
    results = page.evaluate(
        """() => axe.run(document, {resultTypes: ["violations"]})
            .then(results => results.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.map(n => ({target: n.target, failureSummary: n.failureSummary})),
            })))"""
    )

    # Then nothing serious or critical is found
    blocking = [violation for violation in results if violation["impact"] in BLOCKING_IMPACTS]
    if blocking:
        screenshot(page, f"a11y-{re.sub(r'[^a-z0-9]+', '-', page.url.lower())[-60:]}")
    assert not blocking, f"{page.url}\n" + _describe(blocking)
