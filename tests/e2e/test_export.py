"""A manager exports the customer list as CSV: the job's page shows the progress bar reach the
end, then the file downloads with the list's customers. Celery runs the export eagerly, or on a
real worker when REDIS_URL is set."""

import csv
import re

from playwright.sync_api import expect


def test_manager_exports_the_customer_list_and_downloads_the_file(new_page, screenshot):
    page = new_page("manager")
    page.goto("/customers/?status=customer&ordering=name")
    first_name = page.get_by_role("table").get_by_role("row").nth(1).get_by_role("link").first
    expected_first = first_name.inner_text().strip()
    screenshot(page, "export-buttons")

    page.get_by_role("button", name="Export CSV").click()

    expect(page.get_by_role("heading", name="Customer export (CSV)")).to_be_visible()
    progress = page.get_by_role("progressbar", name="Export progress")
    expect(progress).to_be_visible()
    expect(progress).to_have_attribute("aria-valuenow", "100", timeout=60_000)
    expect(page.get_by_role("status").filter(has_text="Export ready")).to_be_visible()
    screenshot(page, "export-done")

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download the CSV file").click()
    download = download_info.value
    assert re.fullmatch(r"customers-\d{8}-\d{4}-\d+\.csv", download.suggested_filename)
    with open(download.path(), encoding="utf-8-sig", newline="") as exported:
        rows = list(csv.DictReader(exported))
    assert rows
    assert {row["Lifecycle status"] for row in rows} == {"Customer"}
    assert rows[0]["Name"] == expected_first

    page.get_by_role("link", name="My exports").click()
    expect(page.get_by_role("heading", name="My exports")).to_be_visible()
    expect(page.get_by_role("cell", name="Done")).to_be_visible()
