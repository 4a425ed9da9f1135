from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db.models import Count
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from crm.accounts.models import ApiToken, RecordShare, Team, TeamMembership, User
from crm.accounts.selectors import user_is_admin
from crm.accounts.services import api_token_revoke
from crm.admin_services import ReadOnlyAdmin


class TeamMembershipInline(admin.TabularInline):
    model = TeamMembership
    extra = 1
    autocomplete_fields = ["user"]


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = [
        "username",
        "display_name",
        "email",
        "is_active",
        "is_staff",
        "roles",
        "last_login",
    ]
    list_filter = ["is_active", "is_staff", "is_superuser", "groups", "teams", "language"]
    search_fields = ["username", "display_name", "first_name", "last_name", "email", "phone"]
    fieldsets = (
        *DjangoUserAdmin.fieldsets,
        (_("Profile"), {"fields": ("display_name", "phone", "avatar", "time_zone", "language")}),
    )
    add_fieldsets = (
        *DjangoUserAdmin.add_fieldsets,
        (_("Profile"), {"fields": ("email", "display_name", "groups")}),
    )

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("groups")

    @admin.display(description=_("roles"))
    def roles(self, user: User) -> str:
        return ", ".join(group.name for group in user.groups.all())


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name", "manager", "member_count", "created_at"]
    list_select_related = ["manager"]
    search_fields = ["name", "description", "manager__username"]
    list_filter = ["manager"]
    autocomplete_fields = ["manager"]
    inlines = [TeamMembershipInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(member_total=Count("memberships"))

    @admin.display(description=_("members"), ordering="member_total")
    def member_count(self, team: Team) -> int:
        return team.member_total


@admin.register(TeamMembership)
class TeamMembershipAdmin(admin.ModelAdmin):
    list_display = ["team", "user", "created_at"]
    list_select_related = ["team", "user"]
    list_filter = ["team"]
    search_fields = ["team__name", "user__username", "user__display_name"]
    autocomplete_fields = ["team", "user"]


@admin.register(RecordShare)
class RecordShareAdmin(admin.ModelAdmin):
    list_display = [
        "content_type",
        "object_id",
        "team",
        "user",
        "access",
        "shared_by",
        "created_at",
    ]
    list_select_related = ["content_type", "team", "user", "shared_by"]
    list_filter = ["access", "content_type", "team"]
    search_fields = ["object_id", "team__name", "user__username"]
    autocomplete_fields = ["team", "user", "shared_by"]


@admin.register(ApiToken)
class ApiTokenAdmin(ReadOnlyAdmin):
    """Users make their tokens themselves (the token is shown to them once); the admin sees who
    has which and revokes them. The hash is never shown. Anyone but an admin sees only their
    own tokens here."""

    list_display = [
        "user",
        "name",
        "prefix",
        "read_only",
        "expires_at",
        "last_used_at",
        "revoked_at",
    ]
    list_select_related = ["user"]
    list_filter = ["read_only", ("revoked_at", admin.EmptyFieldListFilter), "expires_at"]
    search_fields = ["name", "prefix", "user__username"]
    fields = [
        "user",
        "name",
        "prefix",
        "read_only",
        "expires_at",
        "created_at",
        "last_used_at",
        "last_used_ip",
        "revoked_at",
    ]
    actions = ["revoke_selected"]

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        return queryset if user_is_admin(request.user) else queryset.filter(user=request.user)

    def has_revoke_permission(self, request) -> bool:
        return request.user.has_perm("accounts.change_apitoken")

    @admin.action(description=_("Revoke selected tokens"), permissions=["revoke"])
    def revoke_selected(self, request, queryset):
        tokens = list(queryset.filter(revoked_at__isnull=True).select_related("user"))
        for token in tokens:
            api_token_revoke(actor=request.user, token=token)
        self.message_user(
            request,
            ngettext("%(count)d token revoked.", "%(count)d tokens revoked.", len(tokens))
            % {"count": len(tokens)},
            messages.SUCCESS,
        )
