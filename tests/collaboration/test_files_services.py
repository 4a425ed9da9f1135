"""Attaching files to records and removing them: who may, what is stored, what is logged."""

from pathlib import Path

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from collaboration.models import Attachment, ChatMembership
from collaboration.selectors.files import attachment_get_visible, attachments_for_record
from collaboration.services.files import attachment_add, attachment_delete
from crm.accounts import roles
from crm.accounts.models import RecordShare
from crm.activity.models import ActivityEvent
from tests.accounts.factories import UserFactory
from tests.collaboration.factories import (
    AttachmentFactory,
    ChatMembershipFactory,
    ChatMessageFactory,
    ChatRoomFactory,
    EventFactory,
    TaskFactory,
)
from tests.customers.factories import CustomerFactory
from tests.sales.factories import DealFactory

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\n"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 48


def pdf(name="quote.pdf"):
    return SimpleUploadedFile(name, PDF, content_type="text/html")


@pytest.fixture
def customer(rep, team):
    return CustomerFactory(owner=rep, team=team, name="Ada Lovelace")


@pytest.fixture
def agent(db):
    return UserFactory(username="agent", roles=[roles.SERVICE_AGENT])


def share(record, user, access):
    return RecordShare.objects.create(
        content_type=ContentType.objects.get_for_model(record),
        object_id=record.pk,
        user=user,
        access=access,
    )


# Adding ------------------------------------------------------------------------------------------


def test_a_rep_attaches_a_file_to_their_customer(rep, team, customer):
    attachment = attachment_add(actor=rep, record=customer, upload=pdf())

    attachment.refresh_from_db()
    assert attachment.related_record == customer
    assert attachment.name == "quote.pdf"
    assert attachment.size == len(PDF)
    # The type read from the bytes, not the browser's claim.
    assert attachment.content_type == "application/pdf"
    assert attachment.uploaded_by == rep
    assert attachment.file.read() == PDF
    event = ActivityEvent.objects.get(verb=ActivityEvent.Verb.FILE_SHARED)
    assert event.actor == rep
    assert event.team == team
    assert event.target_id == customer.pk
    assert event.summary == f"{rep} shared quote.pdf on {customer}"
    assert event.url


def test_only_the_base_name_is_kept(rep, customer):
    attachment = attachment_add(actor=rep, record=customer, upload=pdf("../../etc/quote.pdf"))

    assert attachment.name == "quote.pdf"


def test_a_long_name_is_cut_keeping_its_extension(rep, customer):
    attachment = attachment_add(actor=rep, record=customer, upload=pdf("q" * 300 + ".pdf"))

    assert len(attachment.name) == 255
    assert attachment.name.endswith(".pdf")


def test_a_refused_file_is_not_stored_and_says_why_under_file(rep, customer):
    with pytest.raises(ValidationError) as caught:
        attachment_add(actor=rep, record=customer, upload=SimpleUploadedFile("invoice.pdf", EXE))

    assert "invoice.pdf" in caught.value.message_dict["file"][0]
    assert not Attachment.objects.exists()
    assert not ActivityEvent.objects.exists()


def test_a_rep_of_another_team_cannot_attach_to_the_customer(other_team_rep, customer):
    with pytest.raises(PermissionDenied):
        attachment_add(actor=other_team_rep, record=customer, upload=pdf())


def test_a_service_agent_attaches_to_any_customer_as_they_see_all(agent, customer):
    attachment = attachment_add(actor=agent, record=customer, upload=pdf())

    assert attachment_get_visible(user=agent, pk=attachment.pk) == attachment


def test_a_user_without_the_permission_cannot_attach(user_without_role, customer):
    customer.owner = user_without_role
    customer.save()

    with pytest.raises(PermissionDenied):
        attachment_add(actor=user_without_role, record=customer, upload=pdf())


def test_files_go_on_deals_and_tasks_too(rep, team):
    deal = DealFactory(owner=rep, team=team)
    task = TaskFactory(assignee=rep, team=team)

    attachment_add(actor=rep, record=deal, upload=pdf())
    attachment_add(actor=rep, record=task, upload=pdf())

    assert attachments_for_record(user=rep, record=deal).count() == 1
    assert attachments_for_record(user=rep, record=task).count() == 1


def test_a_record_of_another_kind_takes_no_files(rep):
    event = EventFactory(organizer=rep)

    with pytest.raises(ValidationError) as caught:
        attachment_add(actor=rep, record=event, upload=pdf())

    assert "type" in caught.value.message_dict


# Chat messages -----------------------------------------------------------------------------------


def test_the_author_attaches_a_file_to_their_chat_message(rep):
    room = ChatRoomFactory()
    ChatMembershipFactory(room=room, user=rep)
    message = ChatMessageFactory(room=room, author=rep)

    attachment = attachment_add(actor=rep, record=message, upload=pdf())

    assert attachment.related_record == message
    # A private conversation stays out of the team feed.
    assert not ActivityEvent.objects.exists()


def test_another_member_cannot_attach_to_someone_elses_message(rep, rep_teammate):
    room = ChatRoomFactory()
    ChatMembershipFactory(room=room, user=rep)
    ChatMembershipFactory(room=room, user=rep_teammate)
    message = ChatMessageFactory(room=room, author=rep)

    with pytest.raises(PermissionDenied):
        attachment_add(actor=rep_teammate, record=message, upload=pdf())


def test_an_author_who_left_the_room_cannot_attach(rep):
    room = ChatRoomFactory()
    message = ChatMessageFactory(room=room, author=rep)

    with pytest.raises(PermissionDenied):
        attachment_add(actor=rep, record=message, upload=pdf())


def test_a_chat_file_is_visible_to_the_room_only(rep, rep_teammate, other_team_rep):
    room = ChatRoomFactory()
    ChatMembershipFactory(room=room, user=rep)
    ChatMembershipFactory(room=room, user=rep_teammate)
    message = ChatMessageFactory(room=room, author=rep)
    attachment = attachment_add(actor=rep, record=message, upload=pdf())

    assert attachment_get_visible(user=rep_teammate, pk=attachment.pk) == attachment
    with pytest.raises(Attachment.DoesNotExist):
        attachment_get_visible(user=other_team_rep, pk=attachment.pk)
    ChatMembership.objects.filter(user=rep_teammate).delete()
    with pytest.raises(Attachment.DoesNotExist):
        attachment_get_visible(user=rep_teammate, pk=attachment.pk)


# Reading -----------------------------------------------------------------------------------------


def test_a_rep_of_another_team_sees_no_files_on_the_customer(rep, other_team_rep, customer):
    attachment = AttachmentFactory(related_record=customer, uploaded_by=rep)

    assert not attachments_for_record(user=other_team_rep, record=customer).exists()
    with pytest.raises(Attachment.DoesNotExist):
        attachment_get_visible(user=other_team_rep, pk=attachment.pk)


def test_a_file_whose_record_is_gone_is_not_found(rep, customer):
    attachment = AttachmentFactory(related_record=customer, uploaded_by=rep)
    customer.delete()

    with pytest.raises(Attachment.DoesNotExist):
        attachment_get_visible(user=rep, pk=attachment.pk)


# Deleting ----------------------------------------------------------------------------------------


def test_the_uploader_deletes_their_file_and_the_stored_file_goes_on_commit(
    rep, customer, django_capture_on_commit_callbacks
):
    attachment = attachment_add(actor=rep, record=customer, upload=pdf())
    storage, name = attachment.file.storage, attachment.file.name

    with django_capture_on_commit_callbacks(execute=True):
        attachment_delete(actor=rep, attachment=attachment)

    assert not Attachment.objects.exists()
    assert not storage.exists(name)


def test_a_teammate_who_may_edit_the_record_deletes_anyones_file(rep, rep_teammate, customer):
    attachment = attachment_add(actor=rep, record=customer, upload=pdf())

    attachment_delete(actor=rep_teammate, attachment=attachment)

    assert not Attachment.objects.exists()


def test_a_read_only_share_does_not_let_one_delete_others_files(rep, other_team_rep, customer):
    share(customer, other_team_rep, RecordShare.Access.READ)
    attachment = attachment_add(actor=rep, record=customer, upload=pdf())

    with pytest.raises(PermissionDenied):
        attachment_delete(actor=other_team_rep, attachment=attachment)


def test_a_read_only_share_lets_one_delete_ones_own_file(other_team_rep, customer):
    share(customer, other_team_rep, RecordShare.Access.READ)
    attachment = attachment_add(actor=other_team_rep, record=customer, upload=pdf())

    attachment_delete(actor=other_team_rep, attachment=attachment)

    assert not Attachment.objects.exists()


def test_seeing_all_customers_does_not_let_an_agent_delete_others_files(rep, agent, customer):
    attachment = attachment_add(actor=rep, record=customer, upload=pdf())

    with pytest.raises(PermissionDenied):
        attachment_delete(actor=agent, attachment=attachment)


def test_an_admin_deletes_any_file(rep, admin_user, customer):
    attachment = attachment_add(actor=rep, record=customer, upload=pdf())

    attachment_delete(actor=admin_user, attachment=attachment)

    assert not Attachment.objects.exists()


def test_only_an_admin_deletes_anothers_file_on_a_chat_message(rep, rep_teammate, admin_user):
    room = ChatRoomFactory()
    ChatMembershipFactory(room=room, user=rep)
    ChatMembershipFactory(room=room, user=rep_teammate)
    attachment = attachment_add(
        actor=rep, record=ChatMessageFactory(room=room, author=rep), upload=pdf()
    )

    with pytest.raises(PermissionDenied):
        attachment_delete(actor=rep_teammate, attachment=attachment)
    attachment_delete(actor=admin_user, attachment=attachment)


def test_a_failed_save_leaves_no_stored_file_behind(rep, customer, monkeypatch, settings):
    def broken(**kwargs):
        raise RuntimeError("the activity log is down")

    monkeypatch.setattr("collaboration.services.files.activity_record", broken)
    stored_before = set(Path(settings.MEDIA_ROOT).rglob("*"))

    with pytest.raises(RuntimeError):
        attachment_add(actor=rep, record=customer, upload=pdf())

    assert not Attachment.objects.exists()
    new_files = {path for path in Path(settings.MEDIA_ROOT).rglob("*") if path.is_file()}
    assert not new_files - stored_before
