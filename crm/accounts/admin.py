from django import forms
from django.apps import apps
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.contenttypes.models import ContentType
from django.db.models import Count
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from simple_history.admin import SimpleHistoryAdmin

from crm.accounts.field_security import securable_fields, securable_models
from crm.accounts.models import (
    ApiToken,
    FieldRule,
    RecordShare,
    Team,
    TeamMembership,
    User,
    UserSession,
)
from crm.accounts.selectors import field_rule_roles
from crm.accounts.services import (
    api_token_revoke,
    field_rule_delete,
    field_rule_set,
    user_sessions_end,
)
from crm.admin_services import ReadOnlyAdmin


class TeamMembershipInline(admin.TabularInline):
    model = TeamMembership
    extra = 1
    autocomplete_fields = ["user"]


@admin.register(User)
class UserAdmin(SimpleHistoryAdmin, DjangoUserAdmin):
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
class TeamAdmin(SimpleHistoryAdmin, admin.ModelAdmin):
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
class RecordShareAdmin(SimpleHistoryAdmin, admin.ModelAdmin):
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


@admin.register(UserSession)
class UserSessionAdmin(ReadOnlyAdmin):
    """Where people are signed in. Logging a session out ends it in the session store too."""

    list_display = ["user", "ip_address", "user_agent", "created_at", "last_seen_at"]
    list_select_related = ["user"]
    list_filter = ["last_seen_at"]
    search_fields = ["user__username", "ip_address", "user_agent"]
    fields = ["user", "ip_address", "user_agent", "created_at", "last_seen_at"]
    actions = ["log_out_selected"]

    def has_log_out_permission(self, request) -> bool:
        return request.user.has_perm("accounts.change_usersession")

    @admin.action(description=_("Log out selected sessions"), permissions=["log_out"])
    def log_out_selected(self, request, queryset):
        count = 0
        for user in User.objects.filter(pk__in=queryset.values("user_id")):
            count += user_sessions_end(user=user, actor=request.user, sessions=queryset)
        self.message_user(
            request,
            ngettext("%(count)d session logged out.", "%(count)d sessions logged out.", count)
            % {"count": count},
            messages.SUCCESS,
        )


def _record_type_label(content_type: ContentType) -> str:
    return f"{content_type.app_label}.{content_type.model}"


class FieldRuleAdminForm(forms.ModelForm):
    """Only securable fields of securable record types, for roles rules may restrict."""

    field_name = forms.ChoiceField(label=_("field"))

    class Meta:
        model = FieldRule
        fields = ["content_type", "field_name", "role", "access"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        models = [apps.get_model(label) for label in securable_models()]
        if "content_type" in self.fields:
            content_types = ContentType.objects.get_for_models(*models).values()
            self.fields["content_type"].queryset = ContentType.objects.filter(
                pk__in=[content_type.pk for content_type in content_types]
            )
            self.fields["role"].queryset = field_rule_roles()
            self.fields["field_name"].choices = [
                (
                    model._meta.verbose_name_plural.capitalize(),
                    [
                        (name, model._meta.get_field(name).verbose_name)
                        for name in securable_fields(model)
                    ],
                )
                for model in models
            ]

    def clean(self):
        cleaned = super().clean()
        content_type = cleaned.get("content_type")
        field_name = cleaned.get("field_name")
        if content_type is not None and field_name:
            model = content_type.model_class()
            if field_name not in securable_fields(model):
                self.add_error(
                    "field_name",
                    _("“%(field)s” is not a field of %(model)s that rules can restrict.")
                    % {"field": field_name, "model": model._meta.verbose_name_plural},
                )
        return cleaned


@admin.register(FieldRule)
class FieldRuleAdmin(SimpleHistoryAdmin, admin.ModelAdmin):
    """Rules are written through the services, which check the field and record the change in
    the audit log; the rules page (accounts:field_rules) shows them all as a matrix."""

    form = FieldRuleAdminForm
    list_display = ["content_type", "field_name", "role", "access", "updated_at"]
    list_select_related = ["content_type", "role"]
    list_filter = ["content_type", "role", "access"]
    search_fields = ["field_name", "role__name"]

    def get_readonly_fields(self, request, obj=None):
        # A rule is one cell of the matrix: another field or role is another rule.
        return ["content_type", "field_name", "role"] if obj is not None else []

    def save_model(self, request, obj, form, change):
        rule = field_rule_set(
            actor=request.user,
            model_label=_record_type_label(obj.content_type),
            field_name=obj.field_name,
            role=obj.role,
            access=obj.access,
        )
        obj.pk = rule.pk

    def delete_model(self, request, obj):
        field_rule_delete(
            actor=request.user,
            model_label=_record_type_label(obj.content_type),
            field_name=obj.field_name,
            role=obj.role,
        )

    def delete_queryset(self, request, queryset):
        for rule in queryset.select_related("content_type", "role"):
            self.delete_model(request, rule)
