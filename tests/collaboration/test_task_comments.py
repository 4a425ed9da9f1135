"""Comments on a task: the service (visibility, limits, who hears of it, @mentions), the task page
with its htmx form, the API and the admin."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from collaboration.models import Notification, TaskComment
from collaboration.services.task_comments import (
    MAX_COMMENT_LENGTH,
    task_comment_add,
    task_comment_delete,
)
from crm.accounts import roles
from tests.accounts.factories import TeamMembershipFactory, UserFactory
from tests.collaboration.factories import TaskCommentFactory, TaskFactory

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def detail_url(task):
    return f"/collaboration/tasks/{task.pk}/"


def notices(user, kind=None):
    notifications = Notification.objects.filter(recipient=user)
    if kind is not None:
        notifications = notifications.filter(kind=kind)
    return list(notifications)


# The service -------------------------------------------------------------------------------------


def test_a_comment_tells_the_assignee_and_the_creator_but_not_the_author(
    rep, rep_teammate, manager, team
):
    # given a task the manager created for the rep
    task = TaskFactory(assignee=rep, team=team, created_by=manager, title="Call Acme")

    # when the teammate comments on it
    comment = task_comment_add(actor=rep_teammate, task=task, body="I spoke to them already.")

    # then the assignee and the creator hear of it, with a link to the comment; the author does not
    assert comment.author == rep_teammate
    for recipient in (rep, manager):
        [notice] = notices(recipient)
        assert notice.kind == Notification.Kind.OTHER
        assert "Call Acme" in notice.title
        assert notice.url == f"{detail_url(task)}#comment-{comment.pk}"
        assert notice.body == "I spoke to them already."
    assert notices(rep_teammate) == []


def test_the_assignee_commenting_on_their_own_task_tells_only_the_creator(rep, manager, team):
    task = TaskFactory(assignee=rep, team=team, created_by=rep)

    task_comment_add(actor=rep, task=task, body="Note to self")

    assert notices(rep) == []


def test_a_mention_tells_those_who_may_see_the_task_once(
    rep, rep_teammate, other_team_rep, manager, team
):
    # given a task of the rep that the manager created
    task = TaskFactory(assignee=rep, team=team, created_by=manager)

    # when the rep mentions the teammate, the manager, someone of another team and nobody
    task_comment_add(
        actor=rep,
        task=task,
        body="@rep_teammate and @manager, please look. cc @other_rep @nobody me@rep.",
    )

    # then the teammate and the manager get a mention (the manager not also the plain notice);
    # the other team's rep cannot see the task and hears nothing
    assert [n.kind for n in notices(rep_teammate)] == [Notification.Kind.MENTION]
    assert [n.kind for n in notices(manager)] == [Notification.Kind.MENTION]
    assert notices(other_team_rep) == []
    assert notices(rep) == []


def test_a_mention_at_the_end_of_a_sentence_counts(rep, rep_teammate, team):
    task = TaskFactory(assignee=rep, team=team)

    task_comment_add(actor=rep, task=task, body="Over to @rep_teammate.")

    assert [n.kind for n in notices(rep_teammate)] == [Notification.Kind.MENTION]


def test_one_who_cannot_see_the_task_cannot_comment(rep, other_team_rep, team):
    task = TaskFactory(assignee=rep, team=team)

    with pytest.raises(PermissionDenied):
        task_comment_add(actor=other_team_rep, task=task, body="Hello")

    assert not TaskComment.objects.exists()


@pytest.mark.parametrize("body", ["", "   ", "x" * (MAX_COMMENT_LENGTH + 1)])
def test_an_empty_or_too_long_comment_is_refused(rep, team, body):
    task = TaskFactory(assignee=rep, team=team)

    with pytest.raises(ValidationError) as error:
        task_comment_add(actor=rep, task=task, body=body)

    assert "body" in error.value.message_dict
    assert not TaskComment.objects.exists()


def test_the_author_or_an_admin_deletes_a_comment_nobody_else(rep, rep_teammate, admin_user, team):
    task = TaskFactory(assignee=rep, team=team)
    first = TaskCommentFactory(task=task, author=rep)
    second = TaskCommentFactory(task=task, author=rep)

    with pytest.raises(PermissionDenied):
        task_comment_delete(actor=rep_teammate, comment=first)
    task_comment_delete(actor=rep, comment=first)
    task_comment_delete(actor=admin_user, comment=second)

    assert not TaskComment.objects.exists()


# The task page -----------------------------------------------------------------------------------


def test_the_task_page_lists_the_comments_in_few_queries(
    client_for, rep, rep_teammate, team, django_assert_max_num_queries
):
    # given a task with many comments by several people
    task = TaskFactory(assignee=rep, team=team)
    authors = [rep, rep_teammate, *UserFactory.create_batch(3, roles=[roles.SALES_REP])]
    for number in range(40):
        TaskCommentFactory(task=task, author=authors[number % len(authors)], body=f"Note {number}")
    client = client_for(rep)
    client.get(detail_url(task))

    # when
    with django_assert_max_num_queries(20):
        response = client.get(detail_url(task))

    # then every comment is there, oldest first, the rep may delete only their own
    assert response.status_code == 200
    body = response.content.decode()
    assert body.index("Note 0") < body.index("Note 39")
    assert body.count("hx-confirm=") == 8


def test_add_a_comment_with_htmx(rep_client, rep, rep_teammate, team):
    task = TaskFactory(assignee=rep_teammate, team=team)

    response = rep_client.post(
        f"{detail_url(task)}comments/", {"body": "Ping @rep_teammate"}, **HTMX
    )

    assert response.status_code == 200
    assert "Ping @rep_teammate" in response.content.decode()
    assert 'id="task-comments"' in response.content.decode()
    assert [n.kind for n in notices(rep_teammate)] == [Notification.Kind.MENTION]


def test_an_empty_comment_comes_back_with_the_error(rep_client, rep, team):
    task = TaskFactory(assignee=rep, team=team)

    htmx = rep_client.post(f"{detail_url(task)}comments/", {"body": ""}, **HTMX)
    plain = rep_client.post(f"{detail_url(task)}comments/", {"body": ""})

    assert htmx.status_code == 200
    assert "is-invalid" in htmx.content.decode()
    assert plain.status_code == 400
    assert not TaskComment.objects.exists()


def test_without_htmx_a_comment_goes_back_to_the_task(rep_client, rep, team):
    task = TaskFactory(assignee=rep, team=team)

    response = rep_client.post(f"{detail_url(task)}comments/", {"body": "Plain form"})

    assert response.status_code == 302
    assert response.url == f"{detail_url(task)}#task-comments"
    assert TaskComment.objects.get().body == "Plain form"


def test_comments_on_a_hidden_task_are_404(client_for, other_team_rep, rep, team):
    task = TaskFactory(assignee=rep, team=team)
    comment = TaskCommentFactory(task=task, author=rep)
    client = client_for(other_team_rep)

    assert client.post(f"{detail_url(task)}comments/", {"body": "Hi"}).status_code == 404
    assert client.post(f"/collaboration/tasks/comments/{comment.pk}/delete/").status_code == 404


def test_delete_a_comment_from_the_page(rep_client, rep, team):
    task = TaskFactory(assignee=rep, team=team)
    comment = TaskCommentFactory(task=task, author=rep)

    response = rep_client.post(f"/collaboration/tasks/comments/{comment.pk}/delete/", **HTMX)

    assert response.status_code == 200
    assert not TaskComment.objects.exists()


def test_someone_elses_comment_cannot_be_deleted(client_for, rep, rep_teammate, team):
    task = TaskFactory(assignee=rep, team=team)
    comment = TaskCommentFactory(task=task, author=rep)

    response = client_for(rep_teammate).post(f"/collaboration/tasks/comments/{comment.pk}/delete/")

    assert response.status_code == 403
    assert TaskComment.objects.exists()


# The API -----------------------------------------------------------------------------------------


def test_api_list_and_add_comments(
    rep_client, rep, rep_teammate, team, django_assert_max_num_queries
):
    task = TaskFactory(assignee=rep, team=team)
    for number in range(15):
        TaskCommentFactory(task=task, author=rep_teammate, body=f"Note {number}")
    url = f"/api/v1/tasks/{task.pk}/comments/"

    with django_assert_max_num_queries(12):
        listed = rep_client.get(url)
    added = rep_client.post(url, {"body": "From the API"}, content_type="application/json")

    assert listed.status_code == 200
    assert [row["body"] for row in listed.json()["results"]][:2] == ["Note 0", "Note 1"]
    assert listed.json()["results"][0]["author_name"] == str(rep_teammate)
    assert added.status_code == 201
    assert added.json()["author"] == rep.pk
    assert added.json()["task"] == task.pk
    assert [n.kind for n in notices(rep_teammate)] == []


def test_api_refuses_an_empty_comment_and_a_hidden_task(client_for, rep, other_team_rep, team):
    task = TaskFactory(assignee=rep, team=team)
    url = f"/api/v1/tasks/{task.pk}/comments/"

    empty = client_for(rep).post(url, {"body": ""}, content_type="application/json")
    hidden = client_for(other_team_rep).post(url, {"body": "Hi"}, content_type="application/json")

    assert empty.status_code == 400
    assert "body" in empty.json()["error"]["fields"]
    assert hidden.status_code == 404
    assert client_for(other_team_rep).get(url).status_code == 404


def test_api_delete_a_comment(client_for, rep, rep_teammate, team):
    task = TaskFactory(assignee=rep, team=team)
    mine = TaskCommentFactory(task=task, author=rep)
    theirs = TaskCommentFactory(task=task, author=rep_teammate)
    client = client_for(rep)

    assert client.delete(f"/api/v1/task-comments/{theirs.pk}/").status_code == 403
    assert client.delete(f"/api/v1/task-comments/{mine.pk}/").status_code == 204
    assert list(TaskComment.objects.all()) == [theirs]


def test_api_a_comment_on_a_hidden_task_is_404(client_for, rep, other_team_rep, team):
    comment = TaskCommentFactory(task=TaskFactory(assignee=rep, team=team), author=rep)

    client = client_for(other_team_rep)

    assert client.get(f"/api/v1/task-comments/{comment.pk}/").status_code == 404
    assert client.delete(f"/api/v1/task-comments/{comment.pk}/").status_code == 404


# The admin ---------------------------------------------------------------------------------------


def test_the_admin_shows_comments_on_the_task_and_adds_through_the_service(
    client_for, superuser, rep, team
):
    task = TaskFactory(assignee=rep, team=team, title="Admin task")
    TaskCommentFactory(task=task, author=rep, body="Seen in the inline")
    client = client_for(superuser)

    change_page = client.get(f"/admin/collaboration/task/{task.pk}/change/")
    added = client.post(
        "/admin/collaboration/taskcomment/add/", {"task": task.pk, "body": "From the admin"}
    )

    assert change_page.status_code == 200
    assert "Seen in the inline" in change_page.content.decode()
    assert added.status_code == 302
    comment = TaskComment.objects.get(body="From the admin")
    assert comment.author == superuser
    assert [n.kind for n in notices(rep)] == [Notification.Kind.OTHER]
    assert client.get("/admin/collaboration/taskcomment/").status_code == 200


def test_a_team_member_added_later_sees_the_comments(client_for, rep, team):
    task = TaskFactory(assignee=rep, team=team)
    TaskCommentFactory(task=task, author=rep, body="Before you joined")
    newcomer = UserFactory(roles=[roles.SALES_REP])
    TeamMembershipFactory(team=team, user=newcomer)

    response = client_for(newcomer).get(detail_url(task))

    assert "Before you joined" in response.content.decode()
