"""A customer asks for help on the public support form; an agent answers and resolves the ticket
from its page; the customer follows the survey link in the email that follows and rates the
service, and the agent sees the rating on the ticket."""

import re
import uuid

from playwright.sync_api import expect

SURVEY_LINK = re.compile(r"https?://\S+/service/survey/[^\s\"'<>]+/")


def _survey_link(crm_server, address: str) -> str:
    for message in reversed(crm_server.sent_mail()):
        if address in message["To"]:
            found = SURVEY_LINK.search(message.get_body(preferencelist=("plain",)).get_content())
            if found:
                return found.group(0)
    raise AssertionError(f"no survey was emailed to {address}")


def test_customer_asks_agent_resolves_customer_rates(new_page, crm_server, screenshot):
    subject = f"The kettle I ordered arrived broken ({uuid.uuid4().hex[:6]})"
    address = f"lin.xiaoyu.{uuid.uuid4().hex[:6]}@example.com"

    customer = new_page(None)
    customer.goto("/service/support/")
    expect(customer.get_by_role("heading", name="Contact customer service")).to_be_visible()
    customer.get_by_label("Your name").fill("Lin Xiaoyu")
    customer.get_by_label("Email").fill(address)
    customer.get_by_label("What is it about?").select_option(label="Complaint")
    customer.get_by_label("Subject").fill(subject)
    customer.get_by_label("Message").fill("The spout is cracked. Can you send a new one?")
    customer.get_by_role("button", name="Send").click()
    expect(customer.get_by_role("status")).to_contain_text("We have received your request")

    agent = new_page("agent")
    agent.goto("/service/tickets/")
    agent.get_by_role("link", name=re.compile("^Unassigned")).click()
    filters = agent.get_by_role("search", name="Filter tickets")
    filters.get_by_label("Search").fill(subject)
    filters.get_by_role("button", name="Filter").click()
    agent.get_by_role("row").filter(has_text=subject).get_by_role("link").first.click()
    expect(agent.get_by_role("heading", level=1)).to_contain_text(subject)
    conversation = agent.get_by_role("region", name="Conversation")
    expect(conversation).to_contain_text("The spout is cracked.")

    reply = agent.get_by_role("region", name="Reply")
    reply.get_by_label("Message").fill("Sorry about that! A new kettle is on its way today.")
    reply.get_by_label("Then set the status to").select_option(label="Resolved")
    reply.get_by_role("button", name="Send").click()
    expect(conversation.get_by_role("listitem").last).to_contain_text(
        "A new kettle is on its way today."
    )
    expect(reply.get_by_label("Message")).to_have_value("")
    expect(agent.locator("main")).to_contain_text("Resolved")

    customer.goto(_survey_link(crm_server, address))
    expect(customer.get_by_role("heading", name="How did we do?")).to_be_visible()
    expect(customer.locator("main")).to_contain_text(subject)
    customer.get_by_label("5 – Very satisfied").check()
    customer.get_by_label(re.compile("Anything you would like to tell us")).fill("Quick and kind.")
    customer.get_by_role("button", name="Send").click()
    expect(customer.get_by_role("status")).to_contain_text("Thank you for your answer")

    agent.reload()
    expect(agent.locator("main")).to_contain_text("5/5 — Quick and kind.")
    # The README's picture: the ticket's header, details and conversation, not its history.
    agent.set_viewport_size({"width": 1366, "height": 1180})
    agent.evaluate("window.scrollTo(0, 0)")
    screenshot(agent, "ticket")
