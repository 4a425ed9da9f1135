"""A rep switches to Chinese with the switcher and meets no English on the main pages; the choice
is saved on them, so it follows them to another browser.

A string counts as left in English when it is a message of our catalogue or of Django's (with a
Chinese translation that was not used), or when it is made of two or more English words and no
Chinese. Text that is not the interface's is skipped where the markup says so: inside
`translate="no"` (names, addresses: the hint browser translators follow too) or
`data-user-content` (what people wrote), or inside an element in another language (`lang`). And
records are listed in the cells of tables, the details of description lists, the options of
choices and the links to them: text there is taken for data, and the interface's own words there
(column headers, labels, empty states) are checked where they are."""

import re
from pathlib import Path

import django
from babel.messages.pofile import read_po
from playwright.sync_api import expect

from tests.e2e.server import PROJECT_DIR

CHINESE = "zh-hans"
DJANGO_DIR = Path(django.__file__).parent
CATALOGUES = [
    PROJECT_DIR / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po",
    DJANGO_DIR / "conf" / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po",
    *(
        DJANGO_DIR / "contrib" / app / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
        for app in ("admin", "auth", "contenttypes", "humanize", "sessions")
    ),
]
# Abbreviations, codes and names that are the same in Chinese.
SAME_IN_CHINESE = {
    "crm", "api", "csv", "json", "url", "id", "ip", "sla", "rfm", "roi", "csat", "nps", "kpi",
    "ical", "ics", "html", "png", "jpeg", "gif", "webp", "pdf", "xlsx", "ok", "am", "pm",
    "cny", "usd", "eur", "gbp", "jpy", "hkd", "rest", "get", "post", "http", "https", "utc",
    "webhook", "webhooks", "totp", "smtp", "imap", "ses", "faq",
}  # fmt: skip
CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]")
WORD = re.compile(r"[A-Za-z][A-Za-z'’]*")
NOT_WORDS = re.compile(r"\S+@\S+|https?://\S+|(?<!\w)/\S*")

# Every text node the reader can see, and the attributes read out or shown on hover, with where
# they are; skipping what the markup says is not the interface's text.
COLLECT_TEXTS = """() => {
  const pageLanguage = document.documentElement.lang;
  const isSkipped = (element) => {
    const notInterface = '[translate="no"], [data-user-content], script, style, noscript, template';
    if (element.closest(notInterface)) return true;
    if (element.closest("main td, main dd, option, main a:not(.btn, .nav-link, .dropdown-item)")) {
      return true;
    }
    const withLanguage = element.closest("[lang]");
    return withLanguage !== null && withLanguage.getAttribute("lang") !== pageLanguage;
  };
  const isVisible = (element) => element.closest("select") !== null
    || (element.getClientRects().length > 0 && getComputedStyle(element).visibility !== "hidden");
  const describe = (element) => {
    const id = element.id ? "#" + element.id : "";
    const classes = [...element.classList].slice(0, 2).map((name) => "." + name).join("");
    return element.tagName.toLowerCase() + id + classes;
  };
  const found = [{text: document.title, where: "title"}];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const text = walker.currentNode.textContent.replace(/\\s+/g, " ").trim();
    const element = walker.currentNode.parentElement;
    if (text && !isSkipped(element) && isVisible(element)) {
      found.push({text, where: describe(element)});
    }
  }
  const labelled = "[placeholder], [title], [aria-label], [alt]";
  for (const element of document.body.querySelectorAll(labelled)) {
    if (isSkipped(element)) continue;
    for (const name of ["placeholder", "title", "aria-label", "alt"]) {
      const value = (element.getAttribute(name) || "").replace(/\\s+/g, " ").trim();
      if (value) found.push({text: value, where: describe(element) + "@" + name});
    }
  }
  return found;
}"""


def _english_messages() -> set[str]:
    """The msgids that have a Chinese translation different from themselves."""
    messages = set()
    for path in CATALOGUES:
        with path.open("rb") as po_file:
            catalogue = read_po(po_file)
        for message in catalogue:
            ids = message.id if isinstance(message.id, tuple) else (message.id,)
            strings = message.string if isinstance(message.string, tuple) else (message.string,)
            if message.id and any(strings) and not message.fuzzy and ids[0] not in strings:
                messages.update(" ".join(text.split()) for text in ids)
    return messages


def _is_english(text: str, where: str, messages: set[str]) -> bool:
    if text in messages or text.rstrip(":：") in messages:
        return True
    # A record's page is titled with its name.
    if CJK.search(text) or where == "title":
        return False
    words = [
        word
        for word in WORD.findall(NOT_WORDS.sub(" ", text))
        if word.lower() not in SAME_IN_CHINESE
    ]
    return len(words) >= 2


def _english_on(page, messages: set[str]) -> list[str]:
    expect(page.locator("html")).to_have_attribute("lang", CHINESE)
    found = page.evaluate(COLLECT_TEXTS)
    return sorted(
        {
            f"{item['where']}: {item['text']!r}"
            for item in found
            if _is_english(item["text"], item["where"], messages)
        }
    )


def _first_link(page, pattern: str) -> str:
    hrefs = page.eval_on_selector_all("main a[href]", "links => links.map(a => a.pathname)")
    matching = [href for href in hrefs if re.search(pattern, href)]
    assert matching, f"no link matching {pattern} on {page.url}"
    return matching[0]


# (name, path, link): the page at `path`, or the first link on it whose address matches `link`.
REP_PAGES = [
    ("home", "/", None),
    ("my-day", "/sales/my-day/", None),
    ("customer-list", "/customers/", None),
    ("customer-360", "/customers/", r"^/customers/\d+/$"),
    ("deal-board", "/sales/board/", None),
    ("deal-list", "/sales/deals/", None),
    ("deal", "/sales/deals/", r"^/sales/deals/\d+/$"),
    ("tasks", "/collaboration/tasks/", None),
    ("calendar", "/collaboration/calendar/", None),
    ("chat", "/collaboration/chat/", None),
    ("activity", "/collaboration/activity/", None),
    ("notifications", "/collaboration/notifications/", None),
    ("profile", "/accounts/profile/", None),
    ("mail", "/mail/", None),
    ("campaigns", "/sales/campaigns/", None),
    ("forecast", "/sales/forecast/", None),
    ("reports", "/sales/reports/", None),
    ("analytics-my-dashboard", "/analytics/me/", None),
]
# Pages a rep may not open, seen by a service agent and a manager.
AGENT_PAGES = [
    ("ticket-list", "/service/tickets/", None),
    ("ticket", "/service/tickets/", r"^/service/tickets/\d+/$"),
]
MANAGER_PAGES = [
    ("analytics-dashboard", "/analytics/", None),
    ("customer-analytics", "/analytics/customers/", None),
    ("service-dashboard", "/service/dashboard/", None),
    ("automation-rules", "/automation/", None),
]


def _visit(page, pages, messages, screenshot, found: dict[str, list[str]]) -> None:
    for name, path, link in pages:
        page.goto(path)
        if link is not None:
            page.goto(_first_link(page, link))
        english = _english_on(page, messages)
        if english:
            found[name] = english
        screenshot(page, f"language-zh-{name}", full_page=True)


def test_a_rep_switches_to_chinese_and_meets_no_english(new_page, crm_server, screenshot):
    messages = _english_messages()
    found: dict[str, list[str]] = {}
    try:
        # given a rep signed in, in English
        page = new_page("rep")
        expect(page.locator("html")).to_have_attribute("lang", "en")

        # when they pick Chinese with the footer's switcher
        page.get_by_role("combobox", name="Language").select_option(CHINESE)

        # then every page they open is in Chinese, with no English left
        expect(page.locator("html")).to_have_attribute("lang", CHINESE)
        _visit(page, REP_PAGES, messages, screenshot, found)

        # and the choice is theirs: after a reload, and in another browser, it is still Chinese
        page.reload()
        expect(page.locator("html")).to_have_attribute("lang", CHINESE)
        elsewhere = new_page("rep")
        expect(elsewhere.locator("html")).to_have_attribute("lang", CHINESE)

        # and an agent and a manager who pick Chinese in the user menu see their pages in it too
        for user, pages in (("agent", AGENT_PAGES), ("manager", MANAGER_PAGES)):
            colleague = new_page(user)
            colleague.locator("#main-nav .user-menu-toggle").click()
            colleague.get_by_role("button", name="简体中文").click()
            expect(colleague.locator("html")).to_have_attribute("lang", CHINESE)
            _visit(colleague, pages, messages, screenshot, found)
    finally:
        # The demo users are shared by every end-to-end test, which expect English.
        crm_server.manage(
            "shell",
            "-c",
            "from crm.accounts.models import User; "
            "User.objects.filter(username__in=['rep', 'agent', 'manager']).update(language='')",
        )
    assert not found, "English left on the Chinese pages:\n" + "\n".join(
        f"{name}:\n  " + "\n  ".join(texts) for name, texts in found.items()
    )
