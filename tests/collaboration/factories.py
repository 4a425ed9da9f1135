import factory

from collaboration.models import Notification, Task


class TaskFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Task

    title = factory.Sequence(lambda n: f"Task {n}")
    kind = Task.Kind.CALL
    status = Task.Status.OPEN
    assignee = None
    team = None


class NotificationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Notification

    recipient = factory.SubFactory("tests.accounts.factories.UserFactory")
    title = factory.Sequence(lambda n: f"Notification {n}")
