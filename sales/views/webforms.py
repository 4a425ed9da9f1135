"""Web form pages: the builder (list, create, edit, delete), a form's page with its embed snippet
and recent submissions, and the hosted page visitors fill in at /sales/f/<address>/.

The hosted page is the only page of the site that other sites may frame (the embed snippet is
an iframe), and the only form posted without a CSRF token: embedded on another site, the browser
withholds our cookies from the frame, so a token could never be checked. It acts for nobody (it
never looks at who is signed in), so a forged post can do nothing a direct one cannot; bots are
kept out by a honeypot field and a rate limit per address instead.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.forms.models import model_to_dict
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.html import escape
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from crm.pages import form_errors_from_service
from crm.security import embeddable
from sales.forms_leads import WebFormForm, WebFormPublicForm
from sales.models import WebForm
from sales.selectors import webforms as selectors
from sales.services import webforms as services

PAGE_SIZE = 50
SUBMISSIONS_PER_PAGE = 25
EMBED_HEIGHT = 640


def _webform_or_404(request: HttpRequest, pk: int) -> WebForm:
    try:
        return selectors.webform_get_visible(user=request.user, pk=pk)
    except WebForm.DoesNotExist as exc:
        raise Http404(_("No such web form.")) from exc


@login_required
@permission_required("sales.view_webform", raise_exception=True)
def webform_list(request: HttpRequest) -> HttpResponse:
    forms = selectors.webform_list_visible(user=request.user)
    page = Paginator(forms, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "sales/webform_list.html", {"page": page})


def _builder_page(request: HttpRequest, *, webform: WebForm | None) -> HttpResponse:
    initial = (
        model_to_dict(webform, fields=list(services.WEBFORM_EDITABLE_FIELDS)) if webform else {}
    )
    form = WebFormForm(request.POST or None, initial=initial, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            if webform is None:
                saved = services.webform_create(actor=request.user, **form.cleaned_data)
            else:
                saved = services.webform_update(
                    actor=request.user, form=webform, **form.cleaned_data
                )
        except ValidationError as exc:
            form_errors_from_service(form, exc)
        else:
            messages.success(request, _("Web form “%(name)s” saved.") % {"name": saved.name})
            return redirect("sales:webform_detail", pk=saved.pk)
    return render(
        request,
        "sales/webform_form.html",
        {"form": form, "webform": webform},
    )


@login_required
@permission_required("sales.add_webform", raise_exception=True)
def webform_create(request: HttpRequest) -> HttpResponse:
    return _builder_page(request, webform=None)


@login_required
@permission_required("sales.change_webform", raise_exception=True)
def webform_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return _builder_page(request, webform=_webform_or_404(request, pk))


def _embed_snippet(*, url: str, title: str) -> str:
    # Shown as text for people to paste into their own site, so its style attribute is theirs.
    return (
        f'<iframe src="{escape(url)}" title="{escape(title)}" width="100%" '
        f'height="{EMBED_HEIGHT}" style="border:0;max-width:40rem" loading="lazy"></iframe>'
    )


@login_required
@permission_required("sales.view_webform", raise_exception=True)
def webform_detail(request: HttpRequest, pk: int) -> HttpResponse:
    webform = _webform_or_404(request, pk)
    submissions = selectors.webform_submissions_visible(user=request.user, form=webform)
    page = Paginator(submissions, SUBMISSIONS_PER_PAGE).get_page(request.GET.get("page"))
    hosted_url = request.build_absolute_uri(reverse("sales:webform_public", args=[webform.slug]))
    labels = dict(WebForm.Field.choices)
    return render(
        request,
        "sales/webform_detail.html",
        {
            "webform": webform,
            "page": page,
            "hosted_url": hosted_url,
            "embed_snippet": _embed_snippet(url=hosted_url, title=webform.title or webform.name),
            "field_labels": [labels[name] for name in webform.fields if name in labels],
        },
    )


@login_required
@permission_required("sales.delete_webform", raise_exception=True)
def webform_delete(request: HttpRequest, pk: int) -> HttpResponse:
    webform = _webform_or_404(request, pk)
    if request.method == "POST":
        services.webform_delete(actor=request.user, form=webform)
        messages.success(request, _("Web form “%(name)s” deleted.") % {"name": webform.name})
        return redirect("sales:webform_list")
    return render(
        request,
        "sales/webform_confirm_delete.html",
        {"webform": webform},
    )


def _public_response(request: HttpRequest, context: dict, *, status: int = 200) -> HttpResponse:
    return render(request, "sales/webform_public.html", context, status=status)


# Embedded on other sites, whose visitors' browsers do not send our SameSite csrftoken cookie
# into a cross-site frame; the view never acts as a signed-in user, so a forged post can do
# nothing a direct one cannot. The honeypot and the rate limit keep bots out.
@csrf_exempt
@embeddable
@require_http_methods(["GET", "HEAD", "POST"])
def webform_public(request: HttpRequest, slug: str) -> HttpResponse:
    try:
        webform = selectors.webform_get_public(slug=slug)
    except WebForm.DoesNotExist as exc:
        raise Http404(_("This form does not exist or no longer takes submissions.")) from exc
    context = {"webform": webform}
    if request.method != "POST":
        return _public_response(request, {**context, "form": WebFormPublicForm(webform=webform)})
    ip_address = request.META.get("REMOTE_ADDR")
    if services.webform_rate_limit_reached(form=webform, ip_address=ip_address):
        return _public_response(request, {**context, "limited": True}, status=429)
    form = WebFormPublicForm(request.POST, webform=webform)
    if form.is_valid():
        try:
            services.webform_submit(
                form=webform,
                data=form.submitted(),
                ip_address=ip_address,
                honeypot=form.cleaned_data.get("website", ""),
            )
        except ValidationError as exc:
            form_errors_from_service(form, exc)
        else:
            return _public_response(request, {**context, "sent": True})
    return _public_response(request, {**context, "form": form}, status=400)


urlpatterns = [
    path("web-forms/", webform_list, name="webform_list"),
    path("web-forms/new/", webform_create, name="webform_create"),
    path("web-forms/<int:pk>/", webform_detail, name="webform_detail"),
    path("web-forms/<int:pk>/edit/", webform_edit, name="webform_edit"),
    path("web-forms/<int:pk>/delete/", webform_delete, name="webform_delete"),
    path("f/<slug:slug>/", webform_public, name="webform_public"),
]
