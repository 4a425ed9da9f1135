from django.contrib import admin
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext_lazy as _

from collaboration.models import ChatMembership, ChatMessage, ChatRoom
from collaboration.services.chat import chat_message_delete, chat_message_edit
from crm.admin_services import ServiceAdmin


class ChatMembershipInline(admin.TabularInline):
    """Who is in the room and how far they have read. Joining and leaving go through the chat
    pages, which check who may join, so the rows are shown, not edited."""

    model = ChatMembership
    fields = ["user", "last_read_message_id", "joined_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(ChatRoom)
class ChatRoomAdmin(admin.ModelAdmin):
    """Rooms are created by the chat (a team's room, a direct message, a group, a record's
    discussion), each with the memberships its kind needs; here an admin may only rename one."""

    list_display = ["__str__", "kind", "team", "last_message_at", "created_at"]
    list_select_related = ["team"]
    list_filter = ["kind"]
    search_fields = ["name"]
    fields = [
        "kind",
        "name",
        "team",
        "related_type",
        "related_id",
        "direct_key",
        "created_by",
        "last_message_at",
    ]
    readonly_fields = [
        "kind",
        "team",
        "related_type",
        "related_id",
        "direct_key",
        "created_by",
        "last_message_at",
    ]
    inlines = [ChatMembershipInline]
    date_hierarchy = "last_message_at"
    show_full_result_count = False

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(ChatMessage)
class ChatMessageAdmin(ServiceAdmin):
    """An edit or a deletion goes through chat_message_edit / chat_message_delete, so it is
    checked (the author's own message only) and pushed live to the open rooms; messages are
    written in the chat, not here."""

    list_display = ["created_at", "room", "author", "short_body", "edited_at", "deleted_at"]
    list_select_related = ["room", "author"]
    list_filter = ["room__kind"]
    search_fields = ["body", "author__username"]
    fields = ["room", "author", "body", "client_id", "created_at", "edited_at", "deleted_at"]
    readonly_fields = ["room", "author", "client_id", "created_at", "edited_at", "deleted_at"]
    date_hierarchy = "created_at"
    show_full_result_count = False

    @admin.display(description=_("message"))
    def short_body(self, message: ChatMessage) -> str:
        return message.body[:80]

    def has_add_permission(self, request) -> bool:
        return False

    def service_save(self, request, form, formsets, change):
        if "body" not in form.changed_data:
            return None
        try:
            return chat_message_edit(
                actor=request.user, message=form.instance, body=form.cleaned_data["body"]
            )
        except PermissionDenied as exc:
            raise ValidationError(_("Only its author may change a message.")) from exc

    def service_delete(self, request, obj):
        try:
            chat_message_delete(actor=request.user, message=obj)
        except PermissionDenied as exc:
            raise ValidationError(_("Only its author may delete a message.")) from exc


@admin.register(ChatMembership)
class ChatMembershipAdmin(admin.ModelAdmin):
    """Read positions and memberships, for looking into "why does X not see this room"."""

    list_display = ["room", "user", "last_read_message_id", "joined_at"]
    list_select_related = ["room", "user"]
    list_filter = ["room__kind"]
    search_fields = ["room__name", "user__username"]
    readonly_fields = ["room", "user", "last_read_message_id", "joined_at"]
    show_full_result_count = False

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
