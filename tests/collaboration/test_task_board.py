"""The task board (columns by status for me or my teams, cards moved with their version) and the
task list's assignee and team filters."""

from datetime import timedelta

import pytest
from django.utils import timezone

from collaboration.models import Task
from collaboration.selectors.task_board import BOARD_CARDS_PER_COLUMN
from tests.accounts.factories import TeamFactory
from tests.collaboration.factories import TaskFactory

pytestmark = pytest.mark.django_db

BOARD_URL = "/collaboration/tasks/board/"
JSON = {"HTTP_ACCEPT": "application/json"}


def move_url(task, query="scope=mine"):
    return f"/collaboration/tasks/{task.pk}/move/?{query}"


def columns(response):
    return {column.status: column for column in response.context["columns"]}


def card_titles(response, status):
    return [task.title for task in columns(response)[status].cards]


def test_the_board_counts_each_column_and_leaves_out_old_closed_tasks(
    rep_client, rep, team, django_assert_max_num_queries
):
    # given the rep's tasks in every status, some closed long ago
    now = timezone.now()
    TaskFactory.create_batch(3, assignee=rep, team=team, status=Task.Status.OPEN)
    TaskFactory(assignee=rep, team=team, status=Task.Status.IN_PROGRESS, title="Going")
    TaskFactory(assignee=rep, team=team, status=Task.Status.DONE, completed_at=now, title="Done")
    TaskFactory(
        assignee=rep,
        team=team,
        status=Task.Status.DONE,
        completed_at=now - timedelta(days=30),
        title="Done long ago",
    )
    TaskFactory(assignee=rep, team=team, status=Task.Status.CANCELLED, title="Dropped")
    old = TaskFactory(assignee=rep, team=team, status=Task.Status.CANCELLED, title="Old drop")
    Task.objects.filter(pk=old.pk).update(updated_at=now - timedelta(days=30))
    rep_client.get(BOARD_URL)

    # when
    with django_assert_max_num_queries(16):
        response = rep_client.get(BOARD_URL)

    # then
    assert response.status_code == 200
    counts = {status: column.count for status, column in columns(response).items()}
    assert counts == {"open": 3, "in_progress": 1, "done": 1, "cancelled": 1}
    assert card_titles(response, "done") == ["Done"]
    assert card_titles(response, "cancelled") == ["Dropped"]
    assert "js/task_board.js" in response.content.decode()


def test_a_column_shows_its_first_cards_and_links_to_the_rest(rep_client, rep, team):
    TaskFactory.create_batch(BOARD_CARDS_PER_COLUMN + 2, assignee=rep, team=team)

    response = rep_client.get(BOARD_URL)

    column = columns(response)["open"]
    assert column.count == BOARD_CARDS_PER_COLUMN + 2
    assert len(column.cards) == BOARD_CARDS_PER_COLUMN
    assert column.has_more
    assert "/collaboration/tasks/?tab=all&amp;status=open&amp;mine=true" in (
        response.content.decode()
    )


def test_mine_and_team_scopes_hide_other_teams_tasks(
    rep_client, rep, team, rep_teammate, other_team_rep, other_team
):
    # given tasks of the rep, a teammate and someone in another team
    TaskFactory(assignee=rep, team=team, title="Mine")
    TaskFactory(assignee=rep_teammate, team=team, title="Teammate's")
    TaskFactory(assignee=other_team_rep, team=other_team, title="Other team's")

    # when the rep looks at their own board, their teams' board and the other team's
    mine = rep_client.get(BOARD_URL)
    teams = rep_client.get(BOARD_URL, {"scope": "team"})
    one_team = rep_client.get(BOARD_URL, {"scope": "team", "team": team.pk})
    other = rep_client.get(BOARD_URL, {"scope": "team", "team": other_team.pk})

    # then the other team's task is never on it
    assert card_titles(mine, "open") == ["Mine"]
    assert sorted(card_titles(teams, "open")) == ["Mine", "Teammate's"]
    assert sorted(card_titles(one_team, "open")) == ["Mine", "Teammate's"]
    assert card_titles(other, "open") == []
    assert list(teams.context["teams"]) == [team]


def test_move_a_card_with_its_version(rep_client, rep, team):
    # given an open task on the board
    task = TaskFactory(assignee=rep, team=team)

    # when the board's script moves it to "in progress"
    response = rep_client.post(
        move_url(task), {"status": "in_progress", "version": task.version}, **JSON
    )

    # then it moved, its version went up and the columns' counts come back
    assert response.status_code == 200
    task.refresh_from_db()
    assert task.status == Task.Status.IN_PROGRESS
    assert response.json() == {
        "status": "in_progress",
        "version": task.version,
        "counts": {"open": 0, "in_progress": 1, "done": 0, "cancelled": 0},
    }


def test_move_to_done_completes_the_task(rep_client, rep, team):
    task = TaskFactory(assignee=rep, team=team)

    response = rep_client.post(
        move_url(task), {"status": "done", "version": task.version, "next": BOARD_URL}
    )

    assert response.status_code == 302
    assert response.url == BOARD_URL
    task.refresh_from_db()
    assert task.status == Task.Status.DONE
    assert task.completed_at is not None


def test_a_stale_version_is_a_409_and_nothing_moves(rep_client, rep, team):
    # given a task someone changed after the board was loaded
    task = TaskFactory(assignee=rep, team=team, version=3)

    # when the board moves it from the old version, by script and by the plain form
    by_script = rep_client.post(move_url(task), {"status": "done", "version": 2}, **JSON)
    by_form = rep_client.post(move_url(task), {"status": "done", "version": 2})

    # then both are refused with 409; the plain form gets the board back with the reason
    assert by_script.status_code == 409
    assert "changed by someone else" in by_script.json()["error"]
    assert by_form.status_code == 409
    assert "changed by someone else" in by_form.context["error"]
    task.refresh_from_db()
    assert task.status == Task.Status.OPEN
    assert task.version == 3


def test_a_bad_status_is_a_400(rep_client, rep, team):
    task = TaskFactory(assignee=rep, team=team)

    response = rep_client.post(move_url(task), {"status": "lost", "version": 1}, **JSON)

    assert response.status_code == 400
    assert response.json()["error"]


def test_another_teams_task_cannot_be_moved(rep_client, other_team_rep, other_team):
    task = TaskFactory(assignee=other_team_rep, team=other_team)

    response = rep_client.post(move_url(task), {"status": "done", "version": 1}, **JSON)

    assert response.status_code == 404
    task.refresh_from_db()
    assert task.status == Task.Status.OPEN


def test_the_list_and_the_board_link_to_each_other(rep_client):
    board = rep_client.get(BOARD_URL).content.decode()
    task_list = rep_client.get("/collaboration/tasks/").content.decode()

    assert 'href="/collaboration/tasks/"' in board
    assert 'href="/collaboration/tasks/board/"' in task_list


# The list's assignee and team filters ------------------------------------------------------------


def titles(response):
    return sorted(task.title for task in response.context["tasks"])


def test_the_list_filters_by_assignee_and_team(
    rep_client, rep, team, rep_teammate, django_assert_max_num_queries
):
    # given tasks of the rep and a teammate, in two of the rep's teams
    second_team = TeamFactory(name="Key accounts")
    second_team.manager = rep
    second_team.save(update_fields=["manager"])
    TaskFactory(assignee=rep, team=team, title="Mine")
    TaskFactory(assignee=rep_teammate, team=team, title="Teammate's")
    TaskFactory(assignee=rep, team=second_team, title="Key account")

    # when the "all" tab is filtered by assignee and by team
    by_assignee = rep_client.get(
        "/collaboration/tasks/", {"tab": "all", "assignee": rep_teammate.pk}
    )
    with django_assert_max_num_queries(20):
        by_team = rep_client.get("/collaboration/tasks/", {"tab": "team", "team": second_team.pk})

    # then
    assert titles(by_assignee) == ["Teammate's"]
    assert titles(by_team) == ["Key account"]
    page = by_team.content.decode()
    assert f'<option value="{second_team.pk}" selected>Key accounts</option>' in page
    assert f'<option value="{rep_teammate.pk}">' in page


def test_the_api_filters_by_assignee_team_and_mine(rep_client, rep, team, rep_teammate):
    mine = TaskFactory(assignee=rep, team=team)
    theirs = TaskFactory(assignee=rep_teammate, team=team)

    def ids(**params):
        response = rep_client.get("/api/v1/tasks/", params)
        return sorted(row["id"] for row in response.json()["results"])

    assert ids(assignee=rep_teammate.pk) == [theirs.pk]
    assert ids(team=team.pk) == sorted([mine.pk, theirs.pk])
    assert ids(my_teams="true", mine="true") == [mine.pk]
