"""Email template pages: the list, a form listing the placeholders its context offers with a
preview against a customer the user sees, and deletion. Everyone who sends mail reads the
templates; marketing and managers write them."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from crm.pages import form_errors_from_service
from mail import rendering, selectors
from mail.forms import EmailTemplateForm
from mail.models import EmailTemplate
from mail.services.templates import (
    TEMPLATE_EDITABLE_FIELDS,
    email_template_create,
    email_template_delete,
    email_template_update,
)

PAGE_SIZE = 50


def _template_or_404(pk: int) -> EmailTemplate:
    try:
        return selectors.email_template_get(pk=pk)
    except EmailTemplate.DoesNotExist as exc:
        raise Http404(_("No such template.")) from exc


def _placeholders(context: str) -> list[tuple[str, str]]:
    return sorted(rendering.placeholder_labels(context).items())


@login_required
@permission_required("mail.view_emailtemplate", raise_exception=True)
def template_list(request: HttpRequest) -> HttpResponse:
    context = request.GET.get("context", "")
    if context not in EmailTemplate.Context.values:
        context = ""
    templates = selectors.email_template_list(context=context)
    page = Paginator(templates, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "mail/template_list.html",
        {"page": page, "context": context, "contexts": EmailTemplate.Context.choices},
    )


def _form_page(request: HttpRequest, *, template: EmailTemplate | None) -> HttpResponse:
    initial = (
        {name: getattr(template, name) for name in TEMPLATE_EDITABLE_FIELDS}
        if template is not None
        else {"context": request.GET.get("context") or EmailTemplate.Context.CUSTOMER}
    )
    form = EmailTemplateForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                if template is None:
                    saved = email_template_create(actor=request.user, **form.cleaned_data)
                else:
                    saved = email_template_update(
                        actor=request.user, template=template, **form.cleaned_data
                    )
            except ValidationError as exc:
                form_errors_from_service(form, exc)
            else:
                messages.success(request, _("Template “%(name)s” saved.") % {"name": saved})
                return redirect("mail:template_list")
    context = form["context"].value() or EmailTemplate.Context.CUSTOMER
    return render(
        request,
        "mail/template_form.html",
        {"form": form, "template": template, "placeholders": _placeholders(context)},
        status=status,
    )


@login_required
@permission_required("mail.add_emailtemplate", raise_exception=True)
def template_create(request: HttpRequest) -> HttpResponse:
    return _form_page(request, template=None)


@login_required
@permission_required("mail.change_emailtemplate", raise_exception=True)
def template_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return _form_page(request, template=_template_or_404(pk))


@login_required
@permission_required("mail.delete_emailtemplate", raise_exception=True)
def template_delete(request: HttpRequest, pk: int) -> HttpResponse:
    template = _template_or_404(pk)
    if request.method == "POST":
        email_template_delete(actor=request.user, template=template)
        messages.success(request, _("Template “%(name)s” deleted.") % {"name": template})
        return redirect("mail:template_list")
    return render(request, "mail/template_confirm_delete.html", {"template": template})


@login_required
@permission_required("mail.view_emailtemplate", raise_exception=True)
def template_placeholders(request: HttpRequest) -> HttpResponse:
    """The placeholders of the context chosen on the form (htmx swaps the list in)."""
    context = request.GET.get("context", "")
    if context not in EmailTemplate.Context.values:
        raise Http404(_("No such context."))
    return render(
        request, "mail/_template_placeholders.html", {"placeholders": _placeholders(context)}
    )


@login_required
@permission_required("mail.view_emailtemplate", raise_exception=True)
@require_POST
def template_preview(request: HttpRequest) -> HttpResponse:
    """The template on the form as a customer the user sees would get it (htmx); nothing is
    saved. Unknown placeholders are named instead."""
    form = EmailTemplateForm(request.POST)
    if not form.is_valid():
        return render(request, "mail/_template_preview.html", {"form": form})
    data = form.cleaned_data
    unknown = sorted(
        {
            *rendering.placeholders_unknown(data["subject"], context=data["context"]),
            *rendering.placeholders_unknown(data["body"], context=data["context"]),
        }
    )
    customer, record = selectors.template_preview_sample(user=request.user, context=data["context"])
    draft = EmailTemplate(
        context=data["context"],
        language=data["language"],
        subject=data["subject"],
        body=data["body"],
    )
    subject, body = rendering.template_render(
        template=draft, customer=customer, sender=request.user, record=record
    )
    return render(
        request,
        "mail/_template_preview.html",
        {
            "unknown": unknown,
            "customer": customer,
            "record": record,
            "subject": subject,
            "body": body,
        },
    )
