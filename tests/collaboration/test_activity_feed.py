"""The activity feed: what each person may read, the page and the API, and the apps' services
that write to it (deals won and lost, tickets resolved and escalated, imports finished)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from crm.accounts import roles
from crm.activity.models import ActivityEvent
from crm.activity.selectors import activity_feed_for
from crm.activity.services import activity_record
from customers.services.importing import import_job_create, import_job_run
from sales.models import Stage
from sales.services.deals import deal_create, deal_move_stage
from service.models import Ticket
from service.services.escalation import tickets_check_sla
from service.services.tickets import ticket_change_status
from tests.accounts.factories import TeamMembershipFactory, UserFactory
from tests.customers.factories import CustomerFactory
from tests.service.factories import TicketFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("eager_tasks")]

Verb = ActivityEvent.Verb


@pytest.fixture
def events(rep, other_team_rep, team, other_team):
    """One event in each team's feed, and one of each rep's filed under no team."""
    return {
        "team": activity_record(verb=Verb.DEAL_WON, summary="East won", actor=rep, team=team),
        "other": activity_record(
            verb=Verb.DEAL_LOST, summary="West lost", actor=other_team_rep, team=other_team
        ),
        "mine": activity_record(verb=Verb.CUSTOMERS_IMPORTED, summary="My import", actor=rep),
        "theirs": activity_record(
            verb=Verb.CUSTOMERS_IMPORTED, summary="Their import", actor=other_team_rep
        ),
    }


def summaries(queryset) -> set[str]:
    return set(queryset.values_list("summary", flat=True))


# Who reads what ----------------------------------------------------------------------------------


def test_a_member_reads_their_teams_events_and_their_own_teamless_ones(rep, rep_teammate, events):
    assert summaries(activity_feed_for(user=rep)) == {"East won", "My import"}
    assert summaries(activity_feed_for(user=rep_teammate)) == {"East won"}


def test_a_manager_reads_the_teams_they_manage(manager, events):
    assert summaries(activity_feed_for(user=manager)) == {"East won"}


def test_an_admin_reads_everything(admin_user, events):
    assert len(summaries(activity_feed_for(user=admin_user))) == 4


def test_the_feed_narrows_to_a_team_and_verbs_newest_first(admin_user, team, events):
    activity_record(verb=Verb.DEAL_WON, summary="East won again", team=team)

    assert list(
        activity_feed_for(user=admin_user, team=team, verbs=[Verb.DEAL_WON]).values_list(
            "summary", flat=True
        )
    ) == ["East won again", "East won"]


# The page ----------------------------------------------------------------------------------------


def test_the_page_lists_the_feed_with_filters_and_bounded_queries(
    rep_client, rep, team, events, django_assert_max_num_queries
):
    # given a full page of events
    for number in range(30):
        activity_record(
            verb=Verb.TICKET_RESOLVED, summary=f"Resolved {number}", actor=rep, team=team
        )

    ActivityEvent.objects.update(created_at=timezone.now() - timedelta(hours=3, minutes=1))

    # when
    with django_assert_max_num_queries(12):
        response = rep_client.get("/collaboration/activity/")
    filtered = rep_client.get(f"/collaboration/activity/?team={team.pk}&verb=deal_won")

    # then
    assert response.status_code == 200
    body = response.content.decode()
    assert "Resolved 29" in body
    assert "West lost" not in body
    assert "Page 1 of 2" in body
    assert "resolved a ticket" in body
    assert "3\xa0hours ago" in body
    assert filtered.status_code == 200
    assert "East won" in filtered.content.decode()
    assert "Resolved 29" not in filtered.content.decode()


def test_another_teams_feed_stays_hidden_when_asked_for(rep_client, other_team, events):
    response = rep_client.get(f"/collaboration/activity/?team={other_team.pk}")

    assert "West lost" not in response.content.decode()


def test_the_page_needs_the_permission(client_for, user_without_role):
    assert client_for(user_without_role).get("/collaboration/activity/").status_code == 403


# The API -----------------------------------------------------------------------------------------


def test_the_api_lists_the_feed_a_cursor_page_at_a_time(
    rep_client, rep, team, events, django_assert_max_num_queries
):
    for number in range(30):
        activity_record(verb=Verb.TICKET_RESOLVED, summary=f"Resolved {number}", team=team)

    with django_assert_max_num_queries(10):
        first = rep_client.get("/api/v1/activity-events/", {"page_size": 25})
    body = first.json()
    second = rep_client.get(body["next"])

    assert first.status_code == 200, first.content
    assert len(body["results"]) == 25
    assert body["results"][0]["summary"] == "Resolved 29"
    assert body["results"][0]["team_name"] == "Sales East"
    assert body["results"][0]["verb_label"] == "resolved a ticket"
    everything = [row["summary"] for row in body["results"] + second.json()["results"]]
    assert "West lost" not in everything
    assert "My import" in everything


def test_the_api_filters_by_team_and_verb(rep_client, team, events):
    response = rep_client.get("/api/v1/activity-events/", {"team": team.pk, "verb": "deal_won"})

    assert [row["summary"] for row in response.json()["results"]] == ["East won"]


# Writers -----------------------------------------------------------------------------------------


def test_winning_and_losing_a_deal_are_logged_in_its_teams_feed(rep, team):
    # given
    deal = deal_create(
        actor=rep,
        customer=CustomerFactory(owner=rep, team=team),
        name="Oolong",
        amount=Decimal("1250.50"),
    )
    won = Stage.objects.get(pipeline__is_default=True, kind=Stage.Kind.WON)
    lost = Stage.objects.get(pipeline__is_default=True, kind=Stage.Kind.LOST)

    # when
    deal = deal_move_stage(actor=rep, deal=deal, stage=won, version=deal.version)
    deal_move_stage(actor=rep, deal=deal, stage=lost, version=deal.version, lost_reason="price")

    # then
    logged = list(ActivityEvent.objects.order_by("id"))
    assert [event.verb for event in logged] == [Verb.DEAL_WON, Verb.DEAL_LOST]
    assert all(event.team == team and event.actor == rep for event in logged)
    assert "Oolong" in logged[0].summary
    assert "1,250.50" in logged[0].summary
    assert logged[1].data["amount"] == "1250.50"
    assert logged[0].url == f"/sales/deals/{deal.pk}/"


def test_resolving_a_ticket_is_logged(team):
    agent = UserFactory(username="desk", roles=[roles.SERVICE_AGENT])
    TeamMembershipFactory(team=team, user=agent)
    ticket = TicketFactory(team=team, assignee=agent, status=Ticket.Status.OPEN)

    ticket_change_status(
        actor=agent, ticket=ticket, status=Ticket.Status.RESOLVED, version=ticket.version
    )

    event = ActivityEvent.objects.get()
    assert (event.verb, event.team, event.actor, event.target) == (
        Verb.TICKET_RESOLVED,
        team,
        agent,
        ticket,
    )


def test_an_escalated_ticket_is_logged_once(team):
    # given a ticket whose first response is overdue
    ticket = TicketFactory(
        team=team,
        status=Ticket.Status.NEW,
        first_response_due_at=timezone.now() - timedelta(minutes=5),
    )

    # when the SLA watch runs twice
    tickets_check_sla()
    tickets_check_sla()

    # then
    event = ActivityEvent.objects.get()
    assert (event.verb, event.team, event.target) == (Verb.TICKET_ESCALATED, team, ticket)
    assert event.actor is None


def test_a_finished_import_is_logged_with_its_counts_in_the_importers_team(team):
    # given
    marketer = UserFactory(username="marketer", roles=[roles.MARKETING])
    TeamMembershipFactory(team=team, user=marketer)
    upload = SimpleUploadedFile(
        "leads.csv", b"Name,Email\nAnn Lee,ann@example.com\nBo Li,bo@example.com\n"
    )
    job = import_job_create(actor=marketer, file=upload, original_name="leads.csv")

    # when
    import_job_run(job_id=job.pk)

    # then
    event = ActivityEvent.objects.get()
    assert (event.verb, event.team, event.actor) == (Verb.CUSTOMERS_IMPORTED, team, marketer)
    assert event.data["created"] == 2
    assert "leads.csv" in event.summary


def test_a_dry_run_import_is_not_logged(team):
    marketer = UserFactory(username="marketer", roles=[roles.MARKETING])
    upload = SimpleUploadedFile("leads.csv", b"Name,Email\nAnn Lee,ann@example.com\n")
    job = import_job_create(
        actor=marketer, file=upload, original_name="leads.csv", options={"dry_run": True}
    )

    import_job_run(job_id=job.pk)

    assert not ActivityEvent.objects.exists()
