from datetime import timedelta

import factory
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from collaboration.models import (
    Attachment,
    ChatMembership,
    ChatMessage,
    ChatRoom,
    Event,
    EventAttendee,
    Notification,
    Task,
    TaskComment,
)


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


class TaskCommentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TaskComment

    task = factory.SubFactory(TaskFactory)
    author = factory.SubFactory("tests.accounts.factories.UserFactory")
    body = factory.Sequence(lambda n: f"Comment {n}")


class ChatRoomFactory(factory.django.DjangoModelFactory):
    """A private group room; add members with ChatMembershipFactory."""

    class Meta:
        model = ChatRoom

    kind = ChatRoom.Kind.GROUP
    name = factory.Sequence(lambda n: f"Room {n}")


class ChatMembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ChatMembership

    room = factory.SubFactory(ChatRoomFactory)
    user = factory.SubFactory("tests.accounts.factories.UserFactory")


class ChatMessageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ChatMessage

    room = factory.SubFactory(ChatRoomFactory)
    author = factory.SubFactory("tests.accounts.factories.UserFactory")
    body = factory.Sequence(lambda n: f"Message {n}")


class AttachmentFactory(factory.django.DjangoModelFactory):
    """A small text file on `related_record` (required)."""

    class Meta:
        model = Attachment
        exclude = ["related_record"]

    related_record = None
    related_type = factory.LazyAttribute(
        lambda o: ContentType.objects.get_for_model(o.related_record)
    )
    related_id = factory.LazyAttribute(lambda o: o.related_record.pk)
    file = factory.django.FileField(filename="notes.txt", data=b"hello")
    name = "notes.txt"
    size = 5
    content_type = "text/plain"
    uploaded_by = factory.SubFactory("tests.accounts.factories.UserFactory")


class EventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Event

    title = factory.Sequence(lambda n: f"Meeting {n}")
    starts_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=1))
    ends_at = factory.LazyAttribute(lambda o: o.starts_at + timedelta(hours=1))
    organizer = factory.SubFactory("tests.accounts.factories.UserFactory")


class EventAttendeeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EventAttendee

    event = factory.SubFactory(EventFactory)
    user = factory.SubFactory("tests.accounts.factories.UserFactory")
