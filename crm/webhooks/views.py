"""Webhook pages: the user's subscriptions (an admin sees everyone's), one subscription with its
secret and delivery log, a delivery with its attempts; create, edit, delete, rotate the secret,
send a test ping, switch back on and redeliver."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from crm.accounts.selectors import user_is_admin
from crm.admin_services import error_text
from crm.pages import form_errors_from_service
from crm.webhooks import selectors, services
from crm.webhooks.forms import WebhookSubscriptionForm
from crm.webhooks.models import WebhookDelivery, WebhookSubscription

PAGE_SIZE = 50
DELIVERIES_PER_PAGE = 25


def _subscription_or_404(request: HttpRequest, pk: int) -> WebhookSubscription:
    try:
        return selectors.webhook_subscription_get_visible(user=request.user, pk=pk)
    except WebhookSubscription.DoesNotExist as exc:
        raise Http404(_("No such webhook.")) from exc


def _delivery_or_404(request: HttpRequest, pk: int) -> WebhookDelivery:
    try:
        return selectors.webhook_delivery_get_visible(user=request.user, pk=pk)
    except WebhookDelivery.DoesNotExist as exc:
        raise Http404(_("No such delivery.")) from exc


@login_required
@permission_required("webhooks.view_webhooksubscription", raise_exception=True)
def subscription_list(request: HttpRequest) -> HttpResponse:
    subscriptions = selectors.webhook_subscription_list_visible(user=request.user)
    page = Paginator(subscriptions, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "webhooks/subscription_list.html",
        {"page": page, "show_owner": user_is_admin(request.user)},
    )


def _form_page(request: HttpRequest, *, subscription: WebhookSubscription | None) -> HttpResponse:
    initial = (
        {name: getattr(subscription, name) for name in services.SUBSCRIPTION_EDITABLE_FIELDS}
        if subscription
        else {}
    )
    form = WebhookSubscriptionForm(
        request.POST or None,
        initial=initial,
        may_allow_private_network=user_is_admin(request.user),
    )
    if request.method == "POST" and form.is_valid():
        try:
            if subscription is None:
                saved = services.webhook_subscription_create(
                    actor=request.user, **form.cleaned_data
                )
            else:
                saved = services.webhook_subscription_update(
                    actor=request.user, subscription=subscription, **form.cleaned_data
                )
        except ValidationError as exc:
            form_errors_from_service(form, exc)
        else:
            messages.success(request, _("Webhook “%(name)s” saved.") % {"name": saved.name})
            return redirect("webhooks:subscription_detail", pk=saved.pk)
    return render(
        request,
        "webhooks/subscription_form.html",
        {"form": form, "subscription": subscription},
    )


@login_required
@permission_required("webhooks.add_webhooksubscription", raise_exception=True)
def subscription_create(request: HttpRequest) -> HttpResponse:
    return _form_page(request, subscription=None)


@login_required
@permission_required("webhooks.change_webhooksubscription", raise_exception=True)
def subscription_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return _form_page(request, subscription=_subscription_or_404(request, pk))


@login_required
@permission_required("webhooks.view_webhooksubscription", raise_exception=True)
def subscription_detail(request: HttpRequest, pk: int) -> HttpResponse:
    subscription = _subscription_or_404(request, pk)
    deliveries = selectors.webhook_delivery_list_visible(
        user=request.user, subscription=subscription
    )
    page = Paginator(deliveries, DELIVERIES_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "webhooks/subscription_detail.html",
        {
            "subscription": subscription,
            "page": page,
            "event_labels": selectors.webhook_event_labels(names=subscription.events),
        },
    )


@login_required
@permission_required("webhooks.delete_webhooksubscription", raise_exception=True)
def subscription_delete(request: HttpRequest, pk: int) -> HttpResponse:
    subscription = _subscription_or_404(request, pk)
    if request.method == "POST":
        services.webhook_subscription_delete(actor=request.user, subscription=subscription)
        messages.success(request, _("Webhook “%(name)s” deleted.") % {"name": subscription.name})
        return redirect("webhooks:subscription_list")
    return render(
        request, "webhooks/subscription_confirm_delete.html", {"subscription": subscription}
    )


@require_POST
@login_required
@permission_required("webhooks.change_webhooksubscription", raise_exception=True)
def subscription_rotate_secret(request: HttpRequest, pk: int) -> HttpResponse:
    subscription = _subscription_or_404(request, pk)
    services.webhook_secret_rotate(actor=request.user, subscription=subscription)
    messages.success(
        request, _("A new secret was made; update your receiver to check signatures with it.")
    )
    return redirect("webhooks:subscription_detail", pk=subscription.pk)


@require_POST
@login_required
@permission_required("webhooks.change_webhooksubscription", raise_exception=True)
def subscription_enable(request: HttpRequest, pk: int) -> HttpResponse:
    subscription = _subscription_or_404(request, pk)
    services.webhook_subscription_enable(actor=request.user, subscription=subscription)
    messages.success(request, _("Webhook “%(name)s” is on again.") % {"name": subscription.name})
    return redirect("webhooks:subscription_detail", pk=subscription.pk)


@require_POST
@login_required
@permission_required("webhooks.change_webhooksubscription", raise_exception=True)
def subscription_ping(request: HttpRequest, pk: int) -> HttpResponse:
    subscription = _subscription_or_404(request, pk)
    delivery = services.webhook_test_ping(actor=request.user, subscription=subscription)
    messages.success(request, _("A test ping is on its way."))
    return redirect("webhooks:delivery_detail", pk=delivery.pk)


@login_required
@permission_required("webhooks.view_webhookdelivery", raise_exception=True)
def delivery_detail(request: HttpRequest, pk: int) -> HttpResponse:
    delivery = _delivery_or_404(request, pk)
    return render(
        request,
        "webhooks/delivery_detail.html",
        {
            "delivery": delivery,
            "subscription": delivery.subscription,
            "attempts": selectors.webhook_attempt_list(delivery=delivery),
            "payload": selectors.webhook_delivery_payload_text(delivery=delivery),
        },
    )


@require_POST
@login_required
@permission_required("webhooks.change_webhooksubscription", raise_exception=True)
def delivery_redeliver(request: HttpRequest, pk: int) -> HttpResponse:
    delivery = _delivery_or_404(request, pk)
    try:
        again = services.webhook_delivery_redeliver(actor=request.user, delivery=delivery)
    except ValidationError as exc:
        messages.error(request, error_text(exc))
        return redirect("webhooks:delivery_detail", pk=delivery.pk)
    messages.success(request, _("The event is being delivered again."))
    return redirect("webhooks:delivery_detail", pk=again.pk)
