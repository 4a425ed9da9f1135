from django.contrib.auth.models import AbstractUser
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from crm.audit.history import audited_history
from crm.timestamps import TimeStampedModel

# The languages a user may pick for the interface, each named in itself.
INTERFACE_LANGUAGES = [("en", "English"), ("zh-hans", "简体中文")]


class User(AbstractUser):
    display_name = models.CharField(_("display name"), max_length=150, blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    avatar = models.ImageField(_("avatar"), upload_to="avatars/", blank=True)
    time_zone = models.CharField(
        _("time zone"),
        max_length=64,
        blank=True,
        help_text=_("Leave blank to use the server's time zone."),
    )
    language = models.CharField(
        _("language"),
        max_length=16,
        blank=True,
        choices=INTERFACE_LANGUAGES,
        help_text=_("Leave blank to follow the browser."),
    )

    history = audited_history(excluded_fields=["password", "last_login"])

    class Meta(AbstractUser.Meta):
        ordering = ["username"]

    def __str__(self) -> str:
        return self.display_name or self.get_full_name() or self.username

    @property
    def label(self) -> str:
        return str(self)


class Team(TimeStampedModel):
    name = models.CharField(_("name"), max_length=100, unique=True)
    description = models.TextField(_("description"), blank=True)
    manager = models.ForeignKey(
        User,
        verbose_name=_("manager"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="managed_teams",
    )
    members = models.ManyToManyField(
        User,
        verbose_name=_("members"),
        through="TeamMembership",
        related_name="teams",
        blank=True,
    )

    history = audited_history()

    class Meta:
        ordering = ["name"]
        verbose_name = _("team")
        verbose_name_plural = _("teams")

    def __str__(self) -> str:
        return self.name


class TeamMembership(TimeStampedModel):
    team = models.ForeignKey(
        Team, verbose_name=_("team"), on_delete=models.CASCADE, related_name="memberships"
    )
    user = models.ForeignKey(
        User, verbose_name=_("user"), on_delete=models.CASCADE, related_name="team_memberships"
    )

    class Meta:
        ordering = ["team__name", "user__username"]
        verbose_name = _("team membership")
        verbose_name_plural = _("team memberships")
        constraints = [
            models.UniqueConstraint(fields=["team", "user"], name="team_membership_unique"),
        ]
        indexes = [models.Index(fields=["user", "team"], name="team_membership_user_idx")]

    def __str__(self) -> str:
        return f"{self.user} in {self.team}"


class RecordShare(TimeStampedModel):
    """A record shared with a team or a single user beyond what ownership already allows.

    Lives in the ground floor because the visibility rule reads it for every kind of record.
    """

    content_type = models.ForeignKey(
        ContentType, verbose_name=_("record type"), on_delete=models.CASCADE
    )
    object_id = models.PositiveBigIntegerField(_("record id"))
    record = GenericForeignKey("content_type", "object_id")
    team = models.ForeignKey(
        Team,
        verbose_name=_("team"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="shares",
    )
    user = models.ForeignKey(
        User,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="shares",
    )

    class Access(models.TextChoices):
        READ = "read", _("Can view")
        EDIT = "edit", _("Can edit")

    access = models.CharField(
        _("access"), max_length=4, choices=Access.choices, default=Access.READ
    )
    shared_by = models.ForeignKey(
        User,
        verbose_name=_("shared by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    history = audited_history()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("record share")
        verbose_name_plural = _("record shares")
        constraints = [
            models.CheckConstraint(
                condition=(Q(team__isnull=False) & Q(user__isnull=True))
                | (Q(team__isnull=True) & Q(user__isnull=False)),
                name="record_share_team_xor_user",
            ),
            models.UniqueConstraint(
                fields=["content_type", "object_id", "team"],
                condition=Q(team__isnull=False),
                name="record_share_team_unique",
            ),
            models.UniqueConstraint(
                fields=["content_type", "object_id", "user"],
                condition=Q(user__isnull=False),
                name="record_share_user_unique",
            ),
        ]
        indexes = [
            models.Index(fields=["content_type", "team", "object_id"], name="share_team_idx"),
            models.Index(fields=["content_type", "user", "object_id"], name="share_user_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.content_type.model} #{self.object_id} → {self.team or self.user}"


class ApiToken(models.Model):
    """A personal API token: `Authorization: Bearer crm_<prefix>_<secret>`.

    Only the SHA-256 of the whole token is stored, so a copy of the database does not give
    access; the prefix finds the row and is what lists show. The token itself is shown once,
    when it is made. A revoked or expired token authenticates nobody."""

    user = models.ForeignKey(
        User, verbose_name=_("user"), on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(_("prefix"), max_length=16, unique=True)
    key_hash = models.CharField(_("key hash"), max_length=64, unique=True)
    read_only = models.BooleanField(
        _("read only"), default=False, help_text=_("Allow only GET, HEAD and OPTIONS requests.")
    )
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)
    last_used_ip = models.GenericIPAddressField(_("last used from"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        indexes = [models.Index(fields=["user", "-created_at"], name="apitoken_user_created")]

    def __str__(self) -> str:
        return f"{self.name} (crm_{self.prefix}_…)"


class FieldRule(TimeStampedModel):
    """One field of customers, deals or tickets hidden from, or read-only for, one role.

    A user with several roles gets the most open access any of them has; admins always see all.
    Which fields may be restricted is listed in crm.accounts.field_security.
    """

    class Access(models.TextChoices):
        HIDDEN = "hidden", _("Hidden")
        READ_ONLY = "read_only", _("Read-only")

    content_type = models.ForeignKey(
        ContentType, verbose_name=_("record type"), on_delete=models.CASCADE
    )
    field_name = models.CharField(_("field"), max_length=64)
    role = models.ForeignKey(
        "auth.Group", verbose_name=_("role"), on_delete=models.CASCADE, related_name="field_rules"
    )
    access = models.CharField(_("access"), max_length=10, choices=Access.choices)

    history = audited_history()

    class Meta:
        ordering = ["content_type", "field_name", "role__name"]
        verbose_name = _("field rule")
        verbose_name_plural = _("field rules")
        constraints = [
            models.UniqueConstraint(
                fields=["content_type", "field_name", "role"], name="field_rule_unique"
            ),
        ]
        indexes = [models.Index(fields=["role", "content_type"], name="field_rule_role_idx")]

    def __str__(self) -> str:
        return f"{self.content_type.model}.{self.field_name}: {self.get_access_display()}"


class UserSession(models.Model):
    """A signed-in browser session, so people can see where they are signed in and end it.

    The session itself lives in the session store; this row is its visible side and is deleted
    with it.
    """

    user = models.ForeignKey(
        User, verbose_name=_("user"), on_delete=models.CASCADE, related_name="browser_sessions"
    )
    session_key = models.CharField(_("session key"), max_length=40, unique=True)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    user_agent = models.CharField(_("user agent"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("signed in at"), auto_now_add=True)
    last_seen_at = models.DateTimeField(_("last active"))

    class Meta:
        ordering = ["-last_seen_at", "-id"]
        verbose_name = _("browser session")
        verbose_name_plural = _("browser sessions")
        indexes = [models.Index(fields=["user", "-last_seen_at"], name="user_session_user_idx")]

    def __str__(self) -> str:
        return f"{self.user} from {self.ip_address or '?'}"
