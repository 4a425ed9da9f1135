"""A manager goes through the pages with charts (the manager dashboard, customer analytics, the
service dashboard, a predictive model, the sales forecast), and every chart is drawn with data;
then a demo customer's 360 page draws their spend and relationship network. Screenshots for the
README: `dashboard` and `customer_spend`."""

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import LAPTOP

# For each Chart.js chart on the canvas: its datasets' values as numbers (a scatter point's y).
CHART_VALUES = """canvas => {
  const chart = window.Chart.getChart(canvas);
  return chart.data.datasets.map(dataset => dataset.data.map(value =>
    value !== null && typeof value === "object" ? Number(value.y) : Number(value)));
}"""
CHART_DRAWN = "canvas => Boolean(window.Chart && window.Chart.getChart(canvas))"

# (user, url, level-one heading). The demo's manager heads every team, sales and service.
CHART_PAGES = [
    ("manager", "/analytics/", "Manager dashboard"),
    ("manager", "/analytics/customers/", None),
    ("manager", "/service/dashboard/", "Service dashboard"),
]

FIND_CUSTOMER = """
from crm.accounts.models import User
from crm.accounts.selectors import records_visible_to
from customers.models import Customer
from customers.selectors.network import customer_relationship_network

manager = User.objects.get(username="manager")
customers = records_visible_to(user=manager, queryset=Customer.objects.filter(order_count__gt=2))
for customer in customers.order_by("-total_spend", "pk"):
    if len(customer_relationship_network(user=manager, customer=customer).customers) >= 3:
        print(customer.pk)
        break
"""


def charts_drawn_with_data(page) -> int:
    """Waits for every canvas on the page to hold a Chart.js chart and checks each has a value
    other than zero; returns how many there were."""
    canvases = page.locator("canvas")
    expect(canvases.first).to_be_attached()
    count = canvases.count()
    for index in range(count):
        canvas = canvases.nth(index)
        page.wait_for_function(CHART_DRAWN, arg=canvas.element_handle())
        values = canvas.evaluate(CHART_VALUES)
        label = canvas.get_attribute("aria-label") or canvas.get_attribute("id")
        has_data = any(value for dataset in values for value in dataset)
        assert has_data, f"{page.url}: the chart {label} is empty"
    return count


@pytest.mark.parametrize(("user", "url", "heading"), CHART_PAGES)
def test_every_chart_on_the_dashboards_has_data(new_page, user, url, heading):
    page = new_page(user)
    page.goto(url)
    if heading:
        expect(page.get_by_role("heading", name=heading, level=1)).to_be_visible()

    assert charts_drawn_with_data(page) >= 1


def test_the_manager_dashboard_for_the_readme(new_page, screenshot):
    page = new_page("manager", viewport=LAPTOP)
    page.goto("/analytics/")
    charts_drawn_with_data(page)
    # Chart.js animates its first draw; the picture should show the finished bars.
    page.wait_for_timeout(1200)
    screenshot(page, "dashboard")


def test_a_model_page_charts_its_versions(new_page):
    page = new_page("manager")
    page.goto("/analytics/models/")
    page.get_by_role("table").get_by_role("link").first.click()

    assert charts_drawn_with_data(page) >= 1


def test_the_sales_forecast_shows_the_pipeline(new_page):
    page = new_page("manager")
    page.goto("/sales/forecast/")

    expect(page.get_by_role("heading", level=1)).to_be_visible()
    expect(page.get_by_role("table").first.get_by_role("row").nth(1)).to_be_visible()


def test_a_customer_360_draws_spend_and_relationships(new_page, crm_server, screenshot):
    customer_pk = crm_server.manage("shell", "-c", FIND_CUSTOMER).strip().splitlines()[-1]
    page = new_page("manager", viewport=LAPTOP)
    page.goto(f"/customers/{customer_pk}/")

    spend = page.get_by_role("region", name="Spend by month")
    expect(spend.get_by_role("img")).to_be_visible()
    assert charts_drawn_with_data(page) == 1

    network = page.get_by_role("region", name="Relationship network")
    picture = network.get_by_role("img")
    expect(picture).to_be_visible()
    expect(picture.locator("[data-centre]")).to_have_count(1)
    contacts = picture.get_by_role("link")
    assert contacts.count() >= 3
    page.wait_for_timeout(1200)
    spend.scroll_into_view_if_needed()
    screenshot(page, "customer_spend")
    network.scroll_into_view_if_needed()
    screenshot(page, "customer_network")

    contact = contacts.first
    name = contact.get_attribute("aria-label")
    contact.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(name)
