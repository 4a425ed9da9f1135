"""End-to-end tests: Playwright drives Debian's Chromium (/usr/bin/chromium, headless; no browser
download) against the crm served by `server.CrmServer` on loopback.

Without Chromium the tests skip and say how to install it, unless CRM_E2E_REQUIRED is set (CI
sets it), in which case they fail. Every test saves screenshots under var/e2e/screenshots;
`make screenshots` copies the README's into docs/screenshots."""

import os
import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.e2e.server import DEMO_PASSWORD, PROJECT_DIR, CrmServer

CHROMIUM = os.environ.get("CRM_E2E_CHROMIUM", "/usr/bin/chromium")
SCREENSHOT_DIR = PROJECT_DIR / "var" / "e2e" / "screenshots"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
# A laptop and a phone (the pages a rep uses on the road must work on both).
LAPTOP = {"width": 1366, "height": 860}
PHONE = {"width": 390, "height": 844}


def _browser_missing_reason() -> str | None:
    if not shutil.which(CHROMIUM) and not Path(CHROMIUM).exists():
        return f"needs Chromium at {CHROMIUM}: apt-get install chromium (or `make test` as root)"
    try:
        import playwright  # noqa: F401
    except ImportError:
        return "needs Playwright for Python: make install-dev"
    return None


def pytest_collection_modifyitems(config, items):
    reason = _browser_missing_reason()
    here = Path(__file__).parent
    for item in items:
        if Path(item.fspath).is_relative_to(here):
            item.add_marker(pytest.mark.e2e)
            if reason and not os.environ.get("CRM_E2E_REQUIRED"):
                item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(scope="session")
def crm_server() -> Iterator[CrmServer]:
    server = CrmServer()
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def new_page(browser, crm_server) -> Iterator[Callable[..., "Page"]]:  # noqa: F821
    """Opens a page in a browser context of its own (own cookies), signed in as `user` unless
    None. Every context is closed at the test's end."""
    contexts = []

    def open_page(
        user: str | None = "rep",
        *,
        viewport: dict | None = None,
        locale: str = "en-US",
        bypass_csp: bool = False,
    ):
        context = browser.new_context(
            base_url=crm_server.url,
            viewport=viewport or LAPTOP,
            locale=locale,
            timezone_id="Asia/Shanghai",
            bypass_csp=bypass_csp,
        )
        context.set_default_timeout(15_000)
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda error: page_errors.append(f"{page.url}: {error}"))
        if user is not None:
            log_in(page, user)
        return page

    page_errors: list[str] = []
    yield open_page
    for context in contexts:
        context.close()
    assert not page_errors, "JavaScript errors on the pages:\n" + "\n".join(page_errors)


def log_in(page, username: str, password: str = DEMO_PASSWORD) -> None:
    page.goto("/accounts/login/")
    page.get_by_label(re.compile("username", re.I)).fill(username)
    page.get_by_label(re.compile("password", re.I)).fill(password)
    page.get_by_role("button", name=re.compile("log in|sign in", re.I)).click()
    page.wait_for_url(lambda url: "/accounts/login" not in url)


@pytest.fixture
def screenshot(request) -> Callable[..., Path]:
    """Saves a full-page screenshot as var/e2e/screenshots/<name>.png."""

    def save(page, name: str, *, full_page: bool = False) -> Path:
        SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOT_DIR / f"{name}.png"
        page.screenshot(path=str(path), full_page=full_page)
        return path

    return save
