"""The five roles, as Django groups, and the model permissions each starts with.

A grant names an app label (every model of the app) or `app_label.model`, with the actions
allowed. Groups only ever gain permissions here, so what an admin adds in the admin is kept,
except writing the audit trail, which no role may hold.
"""

from django.apps import apps as global_apps
from django.contrib.auth.management import create_permissions
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

SALES_REP = "Sales rep"
SERVICE_AGENT = "Service agent"
MARKETING = "Marketing"
MANAGER = "Manager"
ADMIN = "Admin"

ROLE_LABELS = {
    SALES_REP: _("Sales rep"),
    SERVICE_AGENT: _("Service agent"),
    MARKETING: _("Marketing"),
    MANAGER: _("Manager"),
    ADMIN: _("Admin"),
}

WORK = ("view", "add", "change")
ALL = ("view", "add", "change", "delete")
READ = ("view",)

ALL_PERMISSIONS = "__all__"

# Reps work their deals and read how the pipeline, targets and campaigns are set up; shaping
# those (pipelines, targets, rules, forms) is for managers, and campaigns for marketing.
SALES_SETUP_READ = {
    "sales.pipeline": READ,
    "sales.stage": READ,
    "sales.salestarget": READ,
    "sales.assignmentrule": READ,
    "sales.assignment": READ,
}
SALES_REP_GRANTS = {
    "sales.deal": WORK,
    "sales.dealline": ALL,
    "sales.dealstagechange": READ,
    "sales.campaign": READ,
    "sales.campaignmember": READ,
    "sales.campaignmailing": READ,
    **SALES_SETUP_READ,
}
MARKETING_GRANTS = {
    "sales.deal": READ,
    "sales.dealstagechange": READ,
    "sales.campaign": WORK,
    "sales.campaignmember": ALL,
    "sales.campaignmailing": WORK,
    "sales.webform": WORK,
    "sales.webformsubmission": READ,
    **SALES_SETUP_READ,
}

# Agents work tickets and their threads and read how SLAs are set up; shaping the SLAs, their
# calendars and the categories is for managers.
SERVICE_AGENT_GRANTS = {
    "service.ticket": WORK,
    "service.ticketmessage": WORK,
    "service.ticketattachment": WORK,
    "service.ticketstatuschange": READ,
    "service.cannedresponse": ALL,
    "service.satisfactionsurvey": READ,
    "service.ticketcategory": READ,
    "service.slapolicy": READ,
    "service.businesscalendar": READ,
    "service.holiday": READ,
}

# Everyone works together: chats, tasks, meetings and files, sharing what they may edit, and
# reading their teams' activity feed.
COLLABORATION_GRANTS = {
    "collaboration": WORK,
    "collaboration.attachment": ALL,
    "collaboration.event": ALL,
    "collaboration.taskcomment": ALL,
    "collaboration.notificationpreference": ALL,
    "collaboration.calendarfeed": ALL,
    "accounts.recordshare": ALL,
    "activity.activityevent": READ,
}

# Anyone may connect their own tools: personal API tokens, and webhooks that carry only events
# about records their owner may see.
INTEGRATION_GRANTS = {
    "accounts.apitoken": ALL,
    "webhooks.webhooksubscription": ALL,
    "webhooks.webhookdelivery": READ,
    "webhooks.webhookattempt": READ,
}

# Everyone writes to customers from their records, with their own signature, from the shared
# templates; writing the templates is for managers and marketing, and the mailboxes, set-aside
# mail and suppressed addresses are the admins'.
MAIL_GRANTS = {
    "mail.emailmessage": ("view", "add"),
    "mail.emailattachment": READ,
    "mail.emailtemplate": READ,
    "mail.emailsignature": ALL,
}
MAIL_TEMPLATE_GRANTS = {**MAIL_GRANTS, "mail.emailtemplate": ALL}

ROLE_PERMISSIONS: dict[str, dict[str, tuple[str, ...]] | str] = {
    SALES_REP: {
        "accounts.team": READ,
        "accounts.user": READ,
        "customers": WORK,
        **SALES_REP_GRANTS,
        **MAIL_GRANTS,
        **COLLABORATION_GRANTS,
        **INTEGRATION_GRANTS,
        "analytics": READ,
    },
    SERVICE_AGENT: {
        "accounts.team": READ,
        "accounts.user": READ,
        "customers": WORK,
        # Anyone may call the service desk, whichever rep owns them.
        "customers.customer": ("see_all",),
        **SERVICE_AGENT_GRANTS,
        **MAIL_GRANTS,
        **COLLABORATION_GRANTS,
        **INTEGRATION_GRANTS,
        "analytics": READ,
    },
    MARKETING: {
        "accounts.team": READ,
        "accounts.user": READ,
        "customers": (*WORK, "import", "export"),
        **MARKETING_GRANTS,
        **MAIL_TEMPLATE_GRANTS,
        **COLLABORATION_GRANTS,
        **INTEGRATION_GRANTS,
        "analytics": READ,
    },
    MANAGER: {
        "accounts.team": ("view", "change"),
        "accounts.teammembership": ALL,
        "accounts.recordshare": ALL,
        "accounts.user": READ,
        "customers": (*ALL, "import", "export", "merge"),
        "sales": ALL,
        "service": ALL,
        **MAIL_TEMPLATE_GRANTS,
        **COLLABORATION_GRANTS,
        **INTEGRATION_GRANTS,
        "collaboration": ALL,
        "activity": READ,
        "analytics": (*WORK, "train", "manage"),
        # Managers automate their teams' work; rules act only on records their owner may see.
        "automation": (*ALL, "test"),
    },
    ADMIN: ALL_PERMISSIONS,
}


# The audit log and every record's history are appended to by the services alone: no role, not
# even Admin, may add, change or delete them, and a role given one in the admin loses it again.
AUDIT_TRAIL_WRITES = (
    Q(content_type__app_label="audit") | Q(content_type__model__startswith="historical")
) & ~Q(codename__startswith="view_")


def _grant_condition(grants: dict[str, tuple[str, ...]]) -> Q:
    condition = Q(pk__in=[])
    for target, actions in grants.items():
        app_label, _dot, model = target.partition(".")
        scope = Q(content_type__app_label=app_label)
        if model:
            scope &= Q(content_type__model=model)
        by_action = Q(pk__in=[])
        for action in actions:
            by_action |= Q(codename__startswith=f"{action}_")
        condition |= scope & by_action
    return condition


def _ensure_permissions(apps, using: str) -> None:
    for app_config in apps.get_app_configs():
        # Historical app registries (inside a migration) leave models_module unset, which makes
        # create_permissions skip the app; the permissions are needed now, not after migrate.
        had_models_module = getattr(app_config, "models_module", None)
        app_config.models_module = had_models_module or True
        try:
            create_permissions(app_config, verbosity=0, using=using, apps=apps)
        finally:
            app_config.models_module = had_models_module


def sync_roles(*, apps=global_apps, using: str = "default") -> None:
    """Create the role groups and grant each its permissions; safe to run any number of times."""
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    _ensure_permissions(apps, using)
    for role, grants in ROLE_PERMISSIONS.items():
        group, _created = Group.objects.using(using).get_or_create(name=role)
        permissions = Permission.objects.using(using).exclude(AUDIT_TRAIL_WRITES)
        if grants != ALL_PERMISSIONS:
            permissions = permissions.filter(_grant_condition(grants))
        group.permissions.add(*permissions.values_list("pk", flat=True))
        audit_writes = Permission.objects.using(using).filter(AUDIT_TRAIL_WRITES)
        group.permissions.remove(*audit_writes.values_list("pk", flat=True))


def sync_roles_after_migrate(sender, using: str = "default", apps=global_apps, **kwargs) -> None:
    # post_migrate is sent once per app with models; the last of them sees every permission.
    apps_with_models = [config for config in global_apps.get_app_configs() if config.models_module]
    if sender.label == apps_with_models[-1].label:
        sync_roles(apps=global_apps, using=using)
