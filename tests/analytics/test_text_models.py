"""The ticket text models on labelled tickets in English and Chinese: training both through the
registry, held-out accuracy, the reading of each new ticket (in Celery, after the commit), the
suggestion on the ticket's page with its Apply button, and the classify API."""

import random
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from analytics.models import ModelVersion, PredictiveModel, TicketPrediction
from analytics.services.training import model_retrain_request
from crm.accounts import roles
from service import registry as service_registry
from service.models import Ticket
from service.services.tickets import ticket_create
from tests.accounts.factories import TeamFactory, UserFactory
from tests.customers.factories import CustomerFactory
from tests.service.factories import TicketCategoryFactory, TicketFactory

pytestmark = pytest.mark.django_db

SAMPLES = {
    "Billing": {
        "en": [
            "I was charged twice, please refund the duplicate payment",
            "The invoice amount is wrong, I need a corrected invoice",
            "Refund request for my last payment",
            "My credit card was billed the wrong amount on the invoice",
            "Please send the invoice again, the payment went through",
            "Billing error: double charge on my card, refund please",
        ],
        "zh": [
            "发票金额错误，请重新开发票",
            "重复扣款了，请帮我退款",
            "我要申请退款，付款两次了",
            "付款后没有收到发票",
            "账单金额不对，多扣了钱，请退款",
            "请开具增值税发票，已经付款",
        ],
    },
    "Delivery": {
        "en": [
            "My parcel has not arrived, where is the shipping",
            "The courier lost my package, no delivery yet",
            "Tracking shows no shipping update for a week",
            "Package was delivered to the wrong address",
            "Delivery is late, the parcel is still in transit",
            "Shipping delayed again, when will the courier come",
        ],
        "zh": [
            "快递还没有到，物流信息不更新",
            "物流一直显示运输中，包裹在哪里",
            "快递员把包裹送错地址了",
            "发货太慢了，快递三天没动",
            "包裹丢了，物流查不到",
            "快递单号查不到物流信息",
        ],
    },
    "Account": {
        "en": [
            "I cannot log in, the password is rejected",
            "Password reset email never arrives, cannot login",
            "My account is locked after a wrong password",
            "Forgot my password and the login page fails",
            "The login verification code does not work",
            "Cannot sign in to my account, reset password please",
        ],
        "zh": [
            "无法登录账号，密码错误",
            "忘记密码了，怎么重置密码",
            "账号被锁定，登录不了",
            "收不到登录验证码",
            "登录时一直提示密码不对",
            "修改密码后还是无法登录",
        ],
    },
}
COMMENTS = {
    True: {
        "en": ["Great service, thank you", "Very happy, quick and helpful", "Excellent support"],
        "zh": ["非常满意，谢谢", "服务很好，非常感谢", "处理很快，很满意"],
    },
    False: {
        "en": ["Terrible service, very disappointed", "Awful and slow", "Unhelpful, not happy"],
        "zh": ["太差了，非常失望", "服务很差，很不满意", "问题没解决，很失望"],
    },
}
OPENERS = {"en": ["Hello,", "Hi team,", "Urgent:", ""], "zh": ["你好，", "您好，", "急！", ""]}
PER_CATEGORY_AND_LANGUAGE = 24


@pytest.fixture
def categories():
    return {name: TicketCategoryFactory(name=name) for name in SAMPLES}


@pytest.fixture
def desks():
    return {name: TeamFactory(name=f"{name} desk") for name in SAMPLES}


def labelled_tickets_create(*, categories, desks) -> list[Ticket]:
    """Tickets of three categories in both languages, opened a day apart over the last months
    with the languages and categories interleaved, each rated with a comment in its language."""
    rng = random.Random(7)
    customer = CustomerFactory()
    plan = [
        (name, language, index)
        for index in range(PER_CATEGORY_AND_LANGUAGE)
        for name in SAMPLES
        for language in ("en", "zh")
    ]
    now = timezone.now()
    tickets = []
    for day, (name, language, index) in enumerate(plan):
        satisfied = rng.random() < 0.5
        text = rng.choice(SAMPLES[name][language])
        ticket = TicketFactory(
            customer=customer,
            subject=f"{rng.choice(OPENERS[language])} {text}".strip(),
            description=f"{text} #{index}",
            category=categories[name],
            team=desks[name],
            status=Ticket.Status.CLOSED,
            satisfaction_rating=rng.choice([4, 5]) if satisfied else rng.choice([1, 2]),
            satisfaction_comment=rng.choice(COMMENTS[satisfied][language]),
        )
        tickets.append(ticket)
        Ticket.objects.filter(pk=ticket.pk).update(
            created_at=now - timedelta(days=len(plan) - day, hours=1)
        )
    return tickets


def _train(name: str, capture) -> ModelVersion:
    model = PredictiveModel.objects.get(name=name)
    with capture(execute=True):
        version = model_retrain_request(model=model, trigger=ModelVersion.Trigger.COMMAND)
    version.refresh_from_db()
    assert version.status == ModelVersion.Status.DONE, version.error
    return version


@pytest.fixture
def trained(categories, desks, eager_tasks, django_capture_on_commit_callbacks):
    tickets = labelled_tickets_create(categories=categories, desks=desks)
    return {
        "tickets": tickets,
        "category": _train("ticket-category", django_capture_on_commit_callbacks),
        "sentiment": _train("ticket-sentiment", django_capture_on_commit_callbacks),
    }


@pytest.fixture
def agent(desks):
    user = UserFactory(username="agent", roles=[roles.SERVICE_AGENT])
    user.team_memberships.create(team=desks["Account"])
    return user


def _open(actor, *, subject, description, capture, **values) -> Ticket:
    with capture(execute=True):
        ticket = ticket_create(
            actor=actor,
            customer=CustomerFactory(team=None),
            subject=subject,
            description=description,
            **values,
        )
    return ticket


def test_both_models_learn_english_and_chinese_from_the_crms_own_labels(trained):
    # Given 144 categorised and rated tickets, half in Chinese, trained through the registry
    category, sentiment = trained["category"], trained["sentiment"]

    # Then the category model, judged on the newest fifth, is far better than the 1/3 of chance
    assert category.metrics["labels"] == ["Account", "Billing", "Delivery"]
    assert category.metrics["accuracy"] >= 0.9
    assert (category.train_rows, category.test_rows) == (115, 29)
    assert "oldest" in category.metrics["split"]
    assert category.decision == ModelVersion.Decision.PROMOTED
    # and the sentiment model, trained on ticket texts and comments as rows of their own,
    # tells satisfied from unsatisfied held-out texts
    assert sentiment.metrics["roc_auc"] >= 0.7
    assert (sentiment.train_rows, sentiment.test_rows) == (230, 58)
    # and both scored the stored tickets into the same prediction rows
    assert category.scored_rows == sentiment.scored_rows == 144
    predictions = TicketPrediction.objects.filter(ticket__in=trained["tickets"])
    assert predictions.count() == 144
    correct = sum(
        prediction.category_id == prediction.ticket.category_id
        for prediction in predictions.select_related("ticket")
    )
    assert correct / 144 >= 0.9
    assert all(0 <= p.positive_probability <= 1 for p in predictions)


def test_scoring_leaves_the_satisfaction_models_columns_alone(
    categories, desks, eager_tasks, django_capture_on_commit_callbacks
):
    # Given a ticket the satisfaction model has already read
    tickets = labelled_tickets_create(categories=categories, desks=desks)
    satisfaction = ModelVersion.objects.create(
        model=PredictiveModel.objects.get(name="satisfaction"), number=1, trigger="command"
    )
    TicketPrediction.objects.create(
        ticket=tickets[-1],
        satisfaction_probability=0.31,
        satisfaction_reasons=[["priority", "high", -0.2]],
        satisfaction_version=satisfaction,
        predicted_at=timezone.now(),
    )

    # When both text models train and score
    _train("ticket-category", django_capture_on_commit_callbacks)
    _train("ticket-sentiment", django_capture_on_commit_callbacks)

    # Then the row has the text readings and still the satisfaction reading
    prediction = TicketPrediction.objects.get(ticket=tickets[-1])
    assert prediction.category is not None and prediction.positive_probability is not None
    assert prediction.satisfaction_probability == 0.31
    assert prediction.satisfaction_reasons == [["priority", "high", -0.2]]
    assert prediction.satisfaction_version == satisfaction


NEW_TICKETS = [
    ("Double charge", "My invoice shows a double charge, please refund it", "Billing", None),
    ("快递", "快递三天了还没到，物流没有更新", "Delivery", None),
    ("Login", "I forgot my password and cannot log in", "Account", None),
    ("谢谢", "非常满意，谢谢", None, True),
    ("投诉", "太差了，非常失望", None, False),
    ("Thanks", "Excellent support, very happy", None, True),
    ("Complaint", "Terrible service, very disappointed", None, False),
]


def test_a_new_ticket_is_read_in_celery_once_it_is_committed(
    trained, agent, django_capture_on_commit_callbacks
):
    for subject, description, category, positive in NEW_TICKETS:
        # When an agent opens a ticket in English or Chinese
        ticket = _open(
            agent,
            subject=subject,
            description=description,
            capture=django_capture_on_commit_callbacks,
        )

        # Then the task queued on commit has read it with both active models
        prediction = TicketPrediction.objects.select_related("category").get(ticket=ticket)
        assert prediction.category_version == trained["category"], description
        assert prediction.sentiment_version == trained["sentiment"], description
        if category:
            assert prediction.category.name == category, description
            assert prediction.category_confidence > 0.4, description
        if positive is not None:
            assert (prediction.positive_probability >= 0.5) is positive, description


def test_tickets_open_as_before_while_no_text_model_is_active(
    agent, eager_tasks, django_capture_on_commit_callbacks
):
    # Given no text model was ever trained; when a ticket is opened
    ticket = _open(
        agent,
        subject="Invoice",
        description="Wrong invoice",
        capture=django_capture_on_commit_callbacks,
    )

    # Then it is saved and simply has no prediction
    assert Ticket.objects.filter(pk=ticket.pk).exists()
    assert not TicketPrediction.objects.filter(ticket=ticket).exists()


def test_a_broker_that_refuses_the_task_does_not_break_ticket_creation(
    agent, monkeypatch, django_capture_on_commit_callbacks
):
    # Given the broker refuses work
    from analytics.tasks.text import ticket_text_predict_task

    def refuse(*args, **kwargs):
        raise ConnectionError("broker down")

    monkeypatch.setattr(ticket_text_predict_task, "delay", refuse)

    # When a ticket is opened, then it is saved all the same
    ticket = _open(
        agent, subject="Hello", description="Hi", capture=django_capture_on_commit_callbacks
    )
    assert Ticket.objects.filter(pk=ticket.pk).exists()


def test_training_with_too_few_labelled_tickets_fails_saying_why(
    categories, eager_tasks, django_capture_on_commit_callbacks
):
    # Given only three categorised tickets
    for name in ("Billing", "Delivery", "Account"):
        TicketFactory(category=categories[name], subject=name)
    model = PredictiveModel.objects.get(name="ticket-category")

    # When the model is retrained
    with django_capture_on_commit_callbacks(execute=True):
        version = model_retrain_request(model=model, trigger=ModelVersion.Trigger.COMMAND)

    # Then the run failed with the reason and no version became active
    version.refresh_from_db()
    model.refresh_from_db()
    assert version.status == ModelVersion.Status.FAILED
    assert "Only 3 tickets have a category" in version.error
    assert model.active_version is None


# The ticket's page -----------------------------------------------------------------------------


def test_the_ticket_page_shows_the_suggestion_and_apply_routes_the_ticket(
    trained, agent, desks, client_for, django_capture_on_commit_callbacks
):
    # Given a new Chinese ticket about a parcel, filed by the agent in the Account desk
    ticket = _open(
        agent,
        subject="包裹",
        description="包裹丢了，快递一直没有物流信息",
        capture=django_capture_on_commit_callbacks,
    )
    assert ticket.team == desks["Account"] and ticket.category is None
    client = client_for(agent)

    # When the agent opens it
    page = client.get(reverse("service:ticket_detail", args=[ticket.pk]))

    # Then the panel suggests Delivery and the desk Delivery tickets usually go to
    body = page.content.decode()
    assert page.status_code == 200
    assert "data-suggested-category>Delivery (" in body
    assert "data-suggested-team>Delivery desk<" in body
    assert "data-apply-suggestion" in body

    # When they apply it
    response = client.post(
        reverse("analytics:ticket_suggestion_apply", args=[ticket.pk]),
        {"version": ticket.version},
    )

    # Then the ticket went through the update service: new category, team and version
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.category.name == "Delivery"
    assert ticket.team == desks["Delivery"]
    assert ticket.version == 2
    # and the agent, still its assignee, sees it with nothing left to apply
    body = client.get(reverse("service:ticket_detail", args=[ticket.pk])).content.decode()
    assert "data-suggested-category>Delivery (" in body
    assert "data-apply-suggestion" not in body


def test_apply_from_a_stale_page_changes_nothing(
    trained, agent, client_for, django_capture_on_commit_callbacks
):
    ticket = _open(
        agent,
        subject="Refund",
        description="Please refund the double charge on my invoice",
        capture=django_capture_on_commit_callbacks,
    )
    Ticket.objects.filter(pk=ticket.pk).update(version=5)

    response = client_for(agent).post(
        reverse("analytics:ticket_suggestion_apply", args=[ticket.pk]),
        {"version": 1},
        follow=True,
    )

    ticket.refresh_from_db()
    assert ticket.category is None
    assert "changed by someone else" in response.content.decode()


def test_a_ticket_the_user_cannot_see_answers_404_to_apply(trained, desks, client_for):
    outsider = UserFactory(username="outsider", roles=[roles.SERVICE_AGENT])
    outsider.team_memberships.create(team=TeamFactory(name="Elsewhere"))
    hidden = trained["tickets"][-1]

    response = client_for(outsider).post(
        reverse("analytics:ticket_suggestion_apply", args=[hidden.pk]), {"version": 1}
    )

    assert response.status_code == 404
    assert Ticket.objects.get(pk=hidden.pk).version == 1


def test_the_suggestion_panel_costs_the_ticket_page_three_queries(
    trained, agent, client_for, django_capture_on_commit_callbacks, monkeypatch
):
    # Given a ticket the models have read, and its page without any registered panel
    ticket = _open(
        agent,
        subject="Password",
        description="Cannot log in, password reset fails",
        capture=django_capture_on_commit_callbacks,
    )
    client = client_for(agent)
    url = reverse("service:ticket_detail", args=[ticket.pk])
    client.get(url)
    with monkeypatch.context() as patched:
        patched.setattr(service_registry, "_ticket_panels", {})
        with CaptureQueriesContext(connection) as without_panel:
            client.get(url)

    # When the page is drawn with the panel
    with CaptureQueriesContext(connection) as with_panel:
        page = client.get(url)

    # Then the prediction, the usual team and the edit check are all it added
    assert "data-ticket-suggestion" in page.content.decode()
    assert len(with_panel) - len(without_panel) <= 3


# The classify API ------------------------------------------------------------------------------


def test_classify_answers_409_until_a_text_model_is_active(client_for, agent):
    response = client_for(agent).post(
        "/api/v1/text/classify/", {"text": "非常满意"}, content_type="application/json"
    )

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "no_active_version"


def test_classify_reads_a_text_in_either_language(trained, client_for, agent):
    client = client_for(agent)
    for text, category, positive in [
        ("请帮我退款，发票金额错误", "Billing", None),
        ("Where is my parcel? The courier has no tracking", "Delivery", None),
        ("非常满意，谢谢", None, True),
        ("太差了，非常失望", None, False),
    ]:
        response = client.post(
            "/api/v1/text/classify/", {"text": text}, content_type="application/json"
        )

        assert response.status_code == 200
        data = response.json()
        assert data["category_version"] == trained["category"].number
        assert data["sentiment_version"] == trained["sentiment"].number
        assert 0 <= data["confidence"] <= 1
        if category:
            assert data["category"] == category, text
        if positive is not None:
            assert (data["positive_probability"] >= 0.5) is positive, text


def test_classify_needs_the_analytics_read_permission(client_for, user_without_role):
    response = client_for(user_without_role).post(
        "/api/v1/text/classify/", {"text": "hello"}, content_type="application/json"
    )

    assert response.status_code == 403
