from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from crm.accounts import selectors, services
from crm.accounts.forms import ApiTokenForm, ProfileForm

TEAMS_PER_PAGE = 25


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    form = ProfileForm(request.POST or None, request.FILES or None, instance=request.user)
    if request.method == "POST" and form.is_valid():
        changes = {name: form.cleaned_data[name] for name in form.changed_data}
        try:
            services.user_preferences_update(user=request.user, **changes)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Your profile was saved."))
            return redirect("accounts:profile")
    roles = selectors.user_role_names(user=request.user)
    return render(request, "accounts/profile.html", {"form": form, "roles": roles})


@login_required
@permission_required("accounts.view_team", raise_exception=True)
def team_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(selectors.team_list(), TEAMS_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "accounts/team_list.html", {"page": page})


@login_required
@permission_required("accounts.view_team", raise_exception=True)
def team_detail(request: HttpRequest, pk: int) -> HttpResponse:
    team = get_object_or_404(selectors.team_list(), pk=pk)
    members = selectors.team_members(team=team)
    return render(request, "accounts/team_detail.html", {"team": team, "members": members})


def _api_token_list_page(request: HttpRequest, form: ApiTokenForm, status: int = 200):
    tokens = selectors.api_token_list_for(user=request.user)
    return render(
        request, "accounts/api_token_list.html", {"tokens": tokens, "form": form}, status=status
    )


@login_required
@permission_required("accounts.view_apitoken", raise_exception=True)
def api_token_list(request: HttpRequest) -> HttpResponse:
    return _api_token_list_page(request, ApiTokenForm())


@never_cache
@login_required
@permission_required("accounts.add_apitoken", raise_exception=True)
@require_POST
def api_token_create(request: HttpRequest) -> HttpResponse:
    form = ApiTokenForm(request.POST)
    if form.is_valid():
        try:
            token, plain = services.api_token_create(user=request.user, **form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            # The token is in this response only: it is not kept anywhere it could be read again.
            return render(
                request, "accounts/api_token_created.html", {"token": token, "plain": plain}
            )
    return _api_token_list_page(request, form, status=400)


@login_required
@permission_required("accounts.delete_apitoken", raise_exception=True)
def api_token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    token = get_object_or_404(selectors.api_token_list_for(user=request.user), pk=pk)
    if request.method == "POST":
        services.api_token_revoke(actor=request.user, token=token)
        messages.success(request, _("The token “%(name)s” was revoked.") % {"name": token.name})
        return redirect("accounts:api_token_list")
    return render(request, "accounts/api_token_revoke_confirm.html", {"token": token})
