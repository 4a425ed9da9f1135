from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db.models import Count
from django.utils.translation import gettext_lazy as _

from crm.accounts.models import RecordShare, Team, TeamMembership, User


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
