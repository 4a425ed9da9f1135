"""Chat pages: the room list, a room, direct messages, private groups and record discussions.

The pages work without JavaScript: a message is a form POST (with an optional file) and history
is a link. static/js/chat.js adds the live socket on top: new messages, typing, presence and
sending over the socket (or the JSON API while the socket is down). Reads go through
collaboration.selectors.chat (a room the user may not read is a 404, the same as a missing one)
and writes through collaboration.services.chat.
"""

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from collaboration.forms_chat import (
    DirectMessageForm,
    GroupCreateForm,
    GroupMembersAddForm,
    MessageForm,
)
from collaboration.models import ChatMessage, ChatRoom
from collaboration.presence import presence_of
from collaboration.selectors import chat as selectors
from collaboration.selectors.files import record_from_label
from collaboration.selectors.tasks import related_url
from collaboration.services import chat as services
from collaboration.services.files import attachment_add
from crm.accounts.models import User
from crm.accounts.selectors import user_list_active
from crm.pages import form_errors_from_service, is_htmx

MESSAGES_PER_PAGE = 50
MEMBERS_SHOWN = 100
TEAMMATES_PER_PAGE = 100
# The kinds of record that have a discussion room, as "app_label.model".
# The sidebar's sections, in order.
SIDEBAR_SECTIONS = [
    (ChatRoom.Kind.TEAM, gettext_lazy("Teams")),
    (ChatRoom.Kind.DIRECT, gettext_lazy("Direct messages")),
    (ChatRoom.Kind.GROUP, gettext_lazy("Groups")),
    (ChatRoom.Kind.RECORD, gettext_lazy("Records")),
]


def _room_url(room: ChatRoom) -> str:
    return reverse("collaboration:chat_room", args=[room.pk])


def _room_or_404(request: HttpRequest, pk: int) -> ChatRoom:
    try:
        return selectors.chat_room_get_for_user(user=request.user, room_id=pk)
    except ChatRoom.DoesNotExist as exc:
        raise Http404(_("No such conversation.")) from exc


def _message_or_404(request: HttpRequest, pk: int) -> ChatMessage:
    """The message when the user may read its room (a 404 otherwise, as for a missing one)."""
    try:
        return selectors.chat_message_get_for_user(user=request.user, message_id=pk)
    except ChatMessage.DoesNotExist as exc:
        raise Http404(_("No such message.")) from exc


def _int_param(request: HttpRequest, name: str) -> int | None:
    try:
        value = int(request.GET.get(name, ""))
    except ValueError:
        return None
    return value if value > 0 else None


def _sections(rooms: list[ChatRoom]) -> list[tuple[str, list[ChatRoom]]]:
    """The sidebar's rooms in its sections (empty sections left out)."""
    sections = []
    for kind, label in SIDEBAR_SECTIONS:
        in_section = [room for room in rooms if room.kind == kind]
        if in_section:
            sections.append((label, in_section))
    return sections


def _sidebar(user: User) -> list[tuple[str, list[ChatRoom]]]:
    return _sections(selectors.chat_rooms_for_user(user=user))


def message_entries(messages_: list[ChatMessage], *, user: User) -> list[dict]:
    """The messages as the templates show them: the socket's payload (so a page and a pushed
    message look alike), with the send time as a datetime and whether the user wrote it."""
    entries = []
    for message in messages_:
        entry = selectors.chat_message_payload(message)
        entry["sent_at"] = message.created_at
        entry["own"] = message.author_id == user.pk
        entries.append(entry)
    return entries


def _new_message_form(**kwargs) -> MessageForm:
    # A fresh client id in each form, so a double-clicked send stores one message.
    return MessageForm(initial={"client_id": uuid.uuid4().hex}, **kwargs)


def _room_page(
    request: HttpRequest, room: ChatRoom, *, form: MessageForm | None = None, status: int = 200
) -> HttpResponse:
    before = _int_param(request, "before")
    page, has_more = selectors.chat_messages_before(
        user=request.user, room=room, before_id=before, limit=MESSAGES_PER_PAGE
    )
    if before is None:
        services.chat_room_mark_read(user=request.user, room=room)
    members = list(selectors.chat_room_members(room=room).order_by("username")[:MEMBERS_SHOWN])
    presence = presence_of([member.pk for member in members])
    for member in members:
        member.presence = presence.get(member.pk, "offline")
    return render(
        request,
        "collaboration/chat_room.html",
        {
            "room": room,
            "room_label": selectors.chat_room_label(room=room, user=request.user),
            "record_url": related_url(room.related_type, room.related_id)
            if room.kind == ChatRoom.Kind.RECORD
            else "",
            "sections": _sidebar(request.user),
            "entries": message_entries(page, user=request.user),
            "has_more": has_more,
            "older_before": page[0].pk if page else None,
            "showing_history": before is not None,
            "members": members,
            "form": form or _new_message_form(),
            "max_length": services.MAX_MESSAGE_LENGTH,
        },
        status=status,
    )


# Rooms -------------------------------------------------------------------------------------------


@login_required
@permission_required("collaboration.view_chatroom", raise_exception=True)
def chat_home(request: HttpRequest) -> HttpResponse:
    """Opens the most recently active room; someone with no room yet learns how to start one."""
    services.chat_rooms_ensure_for_teams(user=request.user)
    rooms = selectors.chat_rooms_for_user(user=request.user)
    if rooms:
        # The selector lists the most recently active room first.
        return redirect(_room_url(rooms[0]))
    return render(request, "collaboration/chat_home.html", {"sections": _sections(rooms)})


@login_required
@permission_required("collaboration.view_chatroom", raise_exception=True)
def chat_room(request: HttpRequest, pk: int) -> HttpResponse:
    return _room_page(request, _room_or_404(request, pk))


@login_required
@permission_required("collaboration.view_chatroom", raise_exception=True)
def chat_history(request: HttpRequest, pk: int) -> HttpResponse:
    """Older messages for "Load older": the page before `?before=<id>`, oldest first."""
    room = _room_or_404(request, pk)
    before = _int_param(request, "before")
    page, has_more = selectors.chat_messages_before(
        user=request.user, room=room, before_id=before, limit=MESSAGES_PER_PAGE
    )
    return render(
        request,
        "collaboration/_chat_history.html",
        {
            "room": room,
            "entries": message_entries(page, user=request.user),
            "has_more": has_more,
            "older_before": page[0].pk if page else None,
        },
    )


@login_required
@permission_required("collaboration.add_chatmessage", raise_exception=True)
@require_POST
def chat_post(request: HttpRequest, pk: int) -> HttpResponse:
    """Post a message, with an optional file, from the composer. The message and its file are
    stored together or not at all: a refused file leaves no message behind."""
    room = _room_or_404(request, pk)
    form = MessageForm(request.POST, request.FILES)
    status = 400
    if form.is_valid():
        # Which input a refusal is about: the text (too long, empty) or the file.
        refused_field = "body"
        try:
            with transaction.atomic():
                message = services.chat_message_post(
                    author=request.user,
                    room=room,
                    body=form.message_body(),
                    client_id=form.cleaned_data["client_id"],
                )
                upload = form.cleaned_data.get("file")
                if upload is not None:
                    refused_field = "file"
                    attachment_add(actor=request.user, record=message, upload=upload)
        except ValidationError as exc:
            form.add_error(refused_field, exc.messages)
        except services.ChatRateLimited:
            form.add_error(
                None, _("You are sending messages too fast. Wait a few seconds and try again.")
            )
            status = 429
        except PermissionDenied:
            form.add_error(None, _("You may not post in this conversation."))
            status = 403
        else:
            if is_htmx(request):
                selectors.chat_messages_prepare([message])
                entry = message_entries([message], user=request.user)[0]
                return render(request, "collaboration/_chat_message.html", {"m": entry}, status=201)
            return redirect(f"{_room_url(room)}#message-{message.pk}")
    if is_htmx(request):
        return render(request, "collaboration/_chat_errors.html", {"form": form}, status=status)
    return _room_page(request, room, form=form, status=status)


@login_required
@permission_required("collaboration.change_chatmessage", raise_exception=True)
@require_POST
def chat_message_edit(request: HttpRequest, pk: int) -> HttpResponse:
    message = _message_or_404(request, pk)
    try:
        services.chat_message_edit(
            actor=request.user, message=message, body=request.POST.get("body", "")
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    except PermissionDenied:
        messages.error(request, _("Only its author may change a message."))
    return redirect(f"{_room_url(message.room)}#message-{message.pk}")


@login_required
@permission_required("collaboration.change_chatmessage", raise_exception=True)
@require_POST
def chat_message_delete(request: HttpRequest, pk: int) -> HttpResponse:
    message = _message_or_404(request, pk)
    try:
        services.chat_message_delete(actor=request.user, message=message)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    except PermissionDenied:
        messages.error(request, _("Only its author may delete a message."))
    return redirect(f"{_room_url(message.room)}#message-{message.pk}")


# Direct messages and groups ----------------------------------------------------------------------


@login_required
@permission_required("collaboration.add_chatroom", raise_exception=True)
def chat_direct(request: HttpRequest) -> HttpResponse:
    """GET: pick a teammate (with a search box); POST: open the direct room with them."""
    if request.method == "POST":
        form = DirectMessageForm(request.POST, user=request.user)
        if form.is_valid():
            try:
                room = services.chat_room_direct(user=request.user, other=form.cleaned_data["user"])
            except ValidationError as exc:
                messages.error(request, " ".join(exc.messages))
            else:
                return redirect(_room_url(room))
        else:
            messages.error(request, _("Choose an active teammate."))
        return redirect("collaboration:chat_direct")
    query = request.GET.get("q", "").strip()
    people = user_list_active().exclude(pk=request.user.pk)
    if query:
        people = people.filter(username__icontains=query) | people.filter(
            display_name__icontains=query
        )
    return render(
        request,
        "collaboration/chat_direct.html",
        {
            "people": list(people[:TEAMMATES_PER_PAGE]),
            "query": query,
            "sections": _sidebar(request.user),
        },
    )


@login_required
@permission_required("collaboration.add_chatroom", raise_exception=True)
def chat_group_create(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        form = GroupCreateForm(request.POST, user=request.user)
        if form.is_valid():
            try:
                room = services.chat_room_group_create(
                    creator=request.user,
                    name=form.cleaned_data["name"],
                    members=form.cleaned_data["members"],
                )
            except ValidationError as exc:
                form_errors_from_service(form, exc)
            else:
                messages.success(request, _("Group “%(name)s” created.") % {"name": room.name})
                return redirect(_room_url(room))
    else:
        form = GroupCreateForm(user=request.user)
    return render(
        request,
        "collaboration/chat_group_form.html",
        {"form": form, "sections": _sidebar(request.user)},
    )


@login_required
@permission_required("collaboration.change_chatroom", raise_exception=True)
def chat_group_members(request: HttpRequest, pk: int) -> HttpResponse:
    """A private group's members: add some (`action=add`) or leave it (`action=leave`)."""
    room = _room_or_404(request, pk)
    if room.kind != ChatRoom.Kind.GROUP:
        raise Http404(_("Only private groups have members to change."))
    members = list(selectors.chat_room_members(room=room).order_by("username"))
    form = GroupMembersAddForm(current_member_ids=[member.pk for member in members])
    if request.method == "POST":
        if request.POST.get("action") == "leave":
            services.chat_room_leave(user=request.user, room=room)
            messages.success(request, _("You left “%(name)s”.") % {"name": room.name})
            return redirect("collaboration:chat_home")
        form = GroupMembersAddForm(
            request.POST, current_member_ids=[member.pk for member in members]
        )
        if form.is_valid():
            try:
                services.chat_room_members_add(
                    actor=request.user, room=room, users=form.cleaned_data["members"]
                )
            except ValidationError as exc:
                form_errors_from_service(form, exc)
            else:
                messages.success(request, _("Members added."))
                return redirect("collaboration:chat_group_members", pk=room.pk)
    return render(
        request,
        "collaboration/chat_group_members.html",
        {"room": room, "members": members, "form": form, "sections": _sidebar(request.user)},
    )


# Record discussions ------------------------------------------------------------------------------


@login_required
@permission_required("collaboration.view_chatroom", raise_exception=True)
def record_discussion(request: HttpRequest, type_label: str, record_id: int) -> HttpResponse:
    """The discussion room of a customer, deal or ticket (`customers.customer`), opened from the
    record's page; a record the user may not see is a 404, as a missing one is."""
    try:
        record = record_from_label(
            type_label=type_label, record_id=record_id, allowed=selectors.DISCUSSION_TYPES
        )
        room = services.chat_room_for_record(user=request.user, record=record)
    except (ObjectDoesNotExist, PermissionDenied) as exc:
        raise Http404(_("No such record.")) from exc
    return redirect(_room_url(room))


urlpatterns = [
    path("chat/", chat_home, name="chat_home"),
    path("chat/direct/", chat_direct, name="chat_direct"),
    path("chat/groups/new/", chat_group_create, name="chat_group_create"),
    path("chat/<int:pk>/", chat_room, name="chat_room"),
    path("chat/<int:pk>/history/", chat_history, name="chat_history"),
    path("chat/<int:pk>/messages/", chat_post, name="chat_post"),
    path("chat/<int:pk>/members/", chat_group_members, name="chat_group_members"),
    path("chat/messages/<int:pk>/edit/", chat_message_edit, name="chat_message_edit"),
    path("chat/messages/<int:pk>/delete/", chat_message_delete, name="chat_message_delete"),
    path(
        "records/<str:type_label>/<int:record_id>/discussion/",
        record_discussion,
        name="record_discussion",
    ),
]
