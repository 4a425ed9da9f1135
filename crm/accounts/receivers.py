"""Sign-ins, sign-outs, failed sign-ins and lockouts, as Django and django-axes announce them:
each is recorded in the audit log, and a sign-in or sign-out keeps the list of sessions in step."""

from django.utils import timezone

from crm.accounts import services


def login_recorded(sender, request, user, **kwargs) -> None:
    services.user_login_record(request=request, user=user)


def logout_recorded(sender, request, user, **kwargs) -> None:
    services.user_logout_record(request=request, user=user)


def login_failure_recorded(sender, credentials, request=None, **kwargs) -> None:
    services.user_login_failed_record(
        request=request,
        username=credentials.get("username", ""),
        two_factor=credentials.get("two_factor", False),
    )


def lockout_recorded(sender, request, username, **kwargs) -> None:
    services.user_locked_out_record(request=request, username=username or "")


def last_login_stamp(sender, request, user, **kwargs) -> None:
    """Stands in for Django's update_last_login, which saves the whole user and so would add a
    history row (with no visible change: last_login is not kept) on every login. Logins are
    audit events instead."""
    user.last_login = timezone.now()
    type(user).objects.filter(pk=user.pk).update(last_login=user.last_login)
