"""A manager imports a CSV file with bad rows: they map the columns, watch the progress bar
reach the end, read the summary and download the report that says why each bad row was
refused. Celery runs the import eagerly, or on a real worker when REDIS_URL is set."""

import csv
import io
import re

from playwright.sync_api import expect

PEOPLE = [
    ("Name", "Email", "Phone", "City"),
    ("Lin Xiaoyu", "lin.xiaoyu.import@example.com", "", "Hangzhou"),
    ("Marco Bellini", "marco.bellini.import@example.com", "", "Milan"),
    ("Broken Email", "not-an-email", "", "Shanghai"),
    ("", "nameless.import@example.com", "", "Beijing"),
    ("Lin Xiaoyu", "lin.xiaoyu.import@example.com", "", "Hangzhou"),
    ("Sara Okafor", "sara.okafor.import@example.com", "", "Lagos"),
]


def people_csv() -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(PEOPLE)
    return buffer.getvalue().encode()


def test_manager_imports_a_file_with_bad_rows_and_downloads_the_report(new_page):
    page = new_page("manager")
    page.goto("/customers/imports/")
    page.get_by_role("link", name="Import a CSV file").click()

    page.get_by_label("CSV file").set_input_files(
        {"name": "trade-fair-leads.csv", "mimeType": "text/csv", "buffer": people_csv()}
    )
    page.get_by_role("button", name="Upload and map columns").click()

    expect(page.get_by_role("heading", name="Which column goes where?")).to_be_visible()
    expect(page.get_by_label("Name", exact=True)).to_have_value("name")
    page.get_by_role("button", name="Start the import").click()

    expect(page.get_by_role("heading", name="Import of trade-fair-leads.csv")).to_be_visible()
    progress = page.get_by_role("progressbar", name="Import progress")
    expect(progress).to_be_visible()
    expect(progress).to_have_attribute("aria-valuenow", "100", timeout=60_000)

    summary = page.get_by_role("status").filter(has_text="Import finished")
    expect(summary).to_contain_text("3 created, 0 updated, 1 merged, 2 rejected")
    expect(page.locator("[data-count=rejected]")).to_have_text("2")

    with page.expect_download() as download_info:
        page.get_by_role("link", name=re.compile("Download the report")).click()
    download = download_info.value
    assert download.suggested_filename.endswith("-report.csv")
    with open(download.path(), encoding="utf-8-sig") as report_file:
        rows = list(csv.DictReader(report_file))

    assert [row["outcome"] for row in rows] == [
        "created",
        "created",
        "rejected",
        "rejected",
        "merged",
        "created",
    ]
    rejected = {row["row"]: row for row in rows if row["outcome"] == "rejected"}
    assert len(rejected) == 2
    bad_email, nameless = (rows[2], rows[3])
    assert bad_email["column"] == "Email"
    assert "email" in bad_email["reason"].lower()
    assert nameless["column"] == "Name"
    assert "name" in nameless["reason"]
    assert rows[4]["merged_into_row"] == rows[0]["row"]
