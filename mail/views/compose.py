"""Writing an email from a customer, deal or ticket page (`?customer=`, `?deal=`, `?ticket=`):
To filled with the customer's address, a template picker that fills subject and text for this
customer and record, attachments and the signature. Sending queues the mail and goes back to
the record; the mail server is never waited on."""

from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db.models import Model
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from crm.pages import form_errors_from_service
from customers.models import Customer
from customers.registry import record_url
from customers.selectors.customers import customer_get_visible
from mail import rendering, selectors
from mail.forms import ComposeForm, TemplatePickForm
from mail.models import EmailTemplate
from mail.services.outbound import addresses_clean, email_send


@dataclass(frozen=True)
class ComposeTarget:
    customer: Customer | None
    record: Model | None
    context: str
    # The query string naming the record, kept by the form's action and the template picker.
    query: str

    @property
    def url(self) -> str:
        if self.record is not None:
            return record_url(model_label=self.record._meta.label_lower, pk=self.record.pk)
        return record_url(model_label="customers.customer", pk=self.customer.pk)


def _pk(value: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError) as exc:
        raise Http404(_("No such record.")) from exc


def _target_or_404(request: HttpRequest) -> ComposeTarget:
    """The record named in the query string, when the user sees it; a hidden one is a 404
    like one that does not exist."""
    try:
        for context in (EmailTemplate.Context.DEAL, EmailTemplate.Context.TICKET):
            if context in request.GET:
                pk = _pk(request.GET[context])
                record = selectors.mail_record_get_visible(
                    user=request.user, context=context, pk=pk
                )
                return ComposeTarget(
                    customer=selectors.mail_record_customer(record=record),
                    record=record,
                    context=context,
                    query=f"{context}={pk}",
                )
        if "customer" in request.GET:
            pk = _pk(request.GET["customer"])
            customer = customer_get_visible(user=request.user, pk=pk)
            return ComposeTarget(
                customer=customer,
                record=None,
                context=EmailTemplate.Context.CUSTOMER,
                query=f"customer={pk}",
            )
    except ObjectDoesNotExist as exc:
        raise Http404(_("No such record.")) from exc
    raise Http404(_("Say which customer, deal or ticket the email is about."))


def _customer_address(request: HttpRequest, customer: Customer | None) -> str:
    """The customer's address, unless the user's field rules hide it from them."""
    if customer is None or not selectors.email_addresses_visible(user=request.user):
        return ""
    return customer.email


def _suppressed_warnings(form: ComposeForm) -> list:
    """Addresses the provider told us bounced or complained: one-to-one mail still goes, but
    the sender should know."""
    values = [form["to"].value() or "", form["cc"].value() or ""]
    addresses = []
    for value in values:
        try:
            addresses += addresses_clean(value, field="to")
        except ValidationError:
            continue
    return selectors.addresses_suppressed_among(addresses=addresses)


@login_required
@permission_required("mail.add_emailmessage", raise_exception=True)
def compose(request: HttpRequest) -> HttpResponse:
    target = _target_or_404(request)
    template_names = selectors.email_template_names(context=target.context)
    status = 200
    if request.method == "POST":
        form = ComposeForm(request.POST, request.FILES, template_names=template_names)
        if form.is_valid():
            data = form.cleaned_data
            template = (
                rendering.template_version(
                    name=data["template_name"],
                    language=data["template_language"] or rendering.language_for(target.customer),
                )
                if data["template_name"]
                else None
            )
            try:
                email_send(
                    actor=request.user,
                    to=data["to"],
                    cc=data["cc"],
                    subject=data["subject"],
                    body=data["body"],
                    customer=target.customer if target.record is None else None,
                    record=target.record,
                    attachments=data["attachments"],
                    template=template,
                    signature=data["signature"],
                )
            except ValidationError as exc:
                form_errors_from_service(form, exc)
            else:
                messages.success(request, _("Your email is queued and will be sent in a moment."))
                return redirect(target.url)
        status = 400
    else:
        form = ComposeForm(
            initial={
                "to": _customer_address(request, target.customer),
                "template_language": rendering.language_for(target.customer),
                "signature": True,
            },
            template_names=template_names,
        )
    return render(
        request,
        "mail/compose.html",
        {
            "form": form,
            "target": target,
            "suppressed": _suppressed_warnings(form),
            "resubmit_files": status == 400,
        },
        status=status,
    )


@login_required
@permission_required("mail.add_emailmessage", raise_exception=True)
@require_GET
def compose_template(request: HttpRequest) -> HttpResponse:
    """The subject and text fields filled from the chosen template (htmx), for the compose
    page's customer, record and user; nothing to swap (204) when no template is chosen."""
    target = _target_or_404(request)
    pick = TemplatePickForm(request.GET)
    if not pick.is_valid() or not pick.cleaned_data["template_name"]:
        return HttpResponse(status=204)
    template = rendering.template_version(
        name=pick.cleaned_data["template_name"],
        language=pick.cleaned_data["template_language"] or rendering.language_for(target.customer),
    )
    if template is None or template.context != target.context:
        raise Http404(_("No such template."))
    subject, body = rendering.template_render(
        template=template, customer=target.customer, sender=request.user, record=target.record
    )
    form = ComposeForm(
        initial={"subject": subject, "body": body},
        template_names=[template.name],
    )
    return render(request, "mail/_compose_message.html", {"form": form, "template": template})
