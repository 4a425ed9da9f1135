"""The audit trail.

Changes to business records are kept by django-simple-history in one historical table per model;
each historical row also carries where the change came from (`AuditedChange`). Events that are
not a change of a record (logins, exports, permission changes, privacy requests, tokens) are
`AuditEvent` rows. Neither can be edited through the UI or the API.
"""

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditedChange(models.Model):
    """Fields every historical row has besides simple-history's own: where the change came from."""

    history_ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    history_user_agent = models.CharField(_("user agent"), max_length=300, blank=True)
    history_api_token = models.CharField(
        _("API token"),
        max_length=32,
        blank=True,
        help_text=_("The prefix of the API token the change was made with, if any."),
    )

    class Meta:
        abstract = True


class AuditEvent(models.Model):
    class Kind(models.TextChoices):
        LOGIN = "login", _("Login")
        LOGIN_FAILED = "login_failed", _("Failed login")
        LOCKED_OUT = "locked_out", _("Locked out")
        LOGOUT = "logout", _("Logout")
        SESSIONS_REVOKED = "sessions_revoked", _("Sessions logged out")
        TWO_FACTOR_ENABLED = "two_factor_enabled", _("Two-factor authentication enabled")
        TWO_FACTOR_DISABLED = "two_factor_disabled", _("Two-factor authentication disabled")
        TWO_FACTOR_FAILED = "two_factor_failed", _("Wrong two-factor code")
        PASSWORD_CHANGED = "password_changed", _("Password changed")
        PERMISSION_CHANGED = "permission_changed", _("Permissions changed")
        FIELD_RULE_CHANGED = "field_rule_changed", _("Field access changed")
        EXPORT = "export", _("Export")
        PRIVACY_REQUEST = "privacy_request", _("Privacy request")
        TOKEN_CREATED = "token_created", _("API token created")
        TOKEN_REVOKED = "token_revoked", _("API token revoked")
        KEYS_ROTATED = "keys_rotated", _("Encryption keys rotated")

    kind = models.CharField(_("kind"), max_length=32, choices=Kind.choices)
    occurred_at = models.DateTimeField(_("when"), auto_now_add=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("who"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    # Kept as text too: failed logins name users that may not exist, and users can be deleted.
    username = models.CharField(_("username"), max_length=150, blank=True)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    user_agent = models.CharField(_("user agent"), max_length=300, blank=True)
    api_token = models.CharField(_("API token"), max_length=32, blank=True)
    target_type = models.ForeignKey(
        ContentType,
        verbose_name=_("record type"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    target_id = models.PositiveBigIntegerField(_("record id"), null=True, blank=True)
    target_label = models.CharField(_("record"), max_length=200, blank=True)
    details = models.JSONField(_("details"), default=dict, blank=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        # The audit log is append-only: nobody gets add, change or delete, not even admins.
        default_permissions = ("view",)
        indexes = [
            models.Index(fields=["-occurred_at", "-id"], name="audit_event_time_idx"),
            models.Index(fields=["kind", "-occurred_at"], name="audit_event_kind_idx"),
            models.Index(fields=["actor", "-occurred_at"], name="audit_event_actor_idx"),
            models.Index(fields=["target_type", "target_id"], name="audit_event_target_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.username}"
