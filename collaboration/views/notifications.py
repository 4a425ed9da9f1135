"""Pages for the user's notifications: the list, the bell's menu and the preferences.

Marking read is a POST that htmx sends from the list or the bell's menu (the changed part comes
back, with the bell's badge swapped out of band) and a plain form sends otherwise (the browser
goes back to the list).
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from collaboration.context_processors import unread_count_for
from collaboration.forms_notifications import NotificationPreferencesForm
from collaboration.models import Notification
from collaboration.selectors import notifications as selectors
from collaboration.services.notifications import (
    notification_preferences_save,
    notifications_mark_read,
)
from crm.pages import is_htmx

NOTIFICATIONS_PER_PAGE = 50
MENU_SIZE = 8
LIST_FILTERS = ("all", "unread")


def _list_filter(request: HttpRequest) -> str:
    value = request.GET.get("filter") or request.POST.get("filter") or "all"
    return value if value in LIST_FILTERS else "all"


def _list_context(request: HttpRequest) -> dict:
    current = _list_filter(request)
    notifications = selectors.notification_list_for(
        user=request.user, unread_only=current == "unread"
    )
    page = Paginator(notifications, NOTIFICATIONS_PER_PAGE).get_page(request.GET.get("page"))
    return {
        "page": page,
        "notifications": page.object_list,
        "filter": current,
        "filters": [("all", _("All")), ("unread", _("Unread"))],
        "unread_count": unread_count_for(request),
    }


def _menu_context(request: HttpRequest) -> dict:
    return {
        "notifications": selectors.notification_list_for(user=request.user)[:MENU_SIZE],
        "unread_count": unread_count_for(request),
    }


@login_required
@permission_required("collaboration.view_notification", raise_exception=True)
def notification_list(request: HttpRequest) -> HttpResponse:
    return render(request, "collaboration/notification_list.html", _list_context(request))


@login_required
@permission_required("collaboration.view_notification", raise_exception=True)
@require_GET
def notification_menu(request: HttpRequest) -> HttpResponse:
    """The bell's dropdown: the latest notifications, read or not."""
    return render(request, "collaboration/notification_menu.html", _menu_context(request))


@login_required
@permission_required("collaboration.change_notification", raise_exception=True)
@require_POST
def notification_mark_all_read(request: HttpRequest) -> HttpResponse:
    count = notifications_mark_read(recipient=request.user)
    if is_htmx(request):
        if request.POST.get("part") == "menu":
            return render(request, "collaboration/notification_menu.html", _menu_context(request))
        return render(
            request,
            "collaboration/notification_items.html",
            {**_list_context(request), "badge_oob": True},
        )
    messages.success(request, _("%(count)d notifications marked read.") % {"count": count})
    return redirect("collaboration:notification_list")


def _notification_or_404(request: HttpRequest, pk: int) -> Notification:
    try:
        return selectors.notification_get_for(user=request.user, pk=pk)
    except Notification.DoesNotExist as exc:
        raise Http404(_("No such notification.")) from exc


@login_required
@permission_required("collaboration.change_notification", raise_exception=True)
@require_POST
def notification_mark_read(request: HttpRequest, pk: int) -> HttpResponse:
    notification = _notification_or_404(request, pk)
    notifications_mark_read(recipient=request.user, notification_ids=[notification.pk])
    if is_htmx(request):
        notification.refresh_from_db(fields=["read_at"])
        return render(
            request,
            "collaboration/notification_row.html",
            {
                "notification": notification,
                "unread_count": unread_count_for(request),
                "badge_oob": True,
            },
        )
    return redirect("collaboration:notification_list")


@login_required
@permission_required("collaboration.view_notification", raise_exception=True)
@require_POST
def notification_open(request: HttpRequest, pk: int) -> HttpResponse:
    """Mark the notification read and go where it points."""
    notification = _notification_or_404(request, pk)
    notifications_mark_read(recipient=request.user, notification_ids=[notification.pk])
    target = notification.url
    allowed = url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()})
    return redirect(target if target and allowed else "collaboration:notification_list")


@login_required
@permission_required("collaboration.view_notificationpreference", raise_exception=True)
def notification_preferences(request: HttpRequest) -> HttpResponse:
    preferences = selectors.notification_preferences_for(user=request.user)
    if request.method == "POST":
        if not request.user.has_perm("collaboration.change_notificationpreference"):
            raise PermissionDenied
        form = NotificationPreferencesForm(request.POST, preferences=preferences)
        if form.is_valid():
            notification_preferences_save(user=request.user, values=form.service_values())
            messages.success(request, _("Notification preferences saved."))
            return redirect("collaboration:notification_preferences")
    else:
        form = NotificationPreferencesForm(preferences=preferences)
    return render(request, "collaboration/notification_preferences.html", {"form": form})


urlpatterns = [
    path("notifications/", notification_list, name="notification_list"),
    path("notifications/menu/", notification_menu, name="notification_menu"),
    path("notifications/read/", notification_mark_all_read, name="notification_mark_all_read"),
    path(
        "notifications/preferences/",
        notification_preferences,
        name="notification_preferences",
    ),
    path("notifications/<int:pk>/read/", notification_mark_read, name="notification_mark_read"),
    path("notifications/<int:pk>/open/", notification_open, name="notification_open"),
]
