import base64

import qrcode
import qrcode.image.svg
from axes.handlers.proxy import AxesProxyHandler
from django.apps import apps
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required, permission_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import check_for_language, ngettext
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST
from django_otp import login as otp_login

from crm.accounts import selectors, services
from crm.accounts.field_security import securable_fields, securable_models
from crm.accounts.forms import ApiTokenForm, FieldRulesForm, ProfileForm, TwoFactorCodeForm
from crm.accounts.models import User
from crm.accounts.roles import ROLE_LABELS
from crm.pages import form_errors_from_service, safe_next_url

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
    roles = [ROLE_LABELS.get(name, name) for name in selectors.user_role_names(user=request.user)]
    two_factor = selectors.two_factor_device_for(user=request.user)
    return render(
        request,
        "accounts/profile.html",
        {"form": form, "roles": roles, "two_factor": two_factor},
    )


@require_POST
def language_set(request: HttpRequest) -> HttpResponse:
    """The language switcher. A signed-in user's choice is saved on them, since their saved
    language wins over the cookie; the cookie is set for everyone, so that the sign-in page and
    the public forms speak the language too."""
    response = redirect(safe_next_url(request, reverse("home")))
    language = request.POST.get("language", "")
    if language not in dict(settings.LANGUAGES) or not check_for_language(language):
        return response
    if request.user.is_authenticated:
        services.user_preferences_update(user=request.user, language=language)
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        path=settings.LANGUAGE_COOKIE_PATH,
        domain=settings.LANGUAGE_COOKIE_DOMAIN,
        secure=settings.LANGUAGE_COOKIE_SECURE,
        httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE,
    )
    return response


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


# Signing in, with a second step for users who set up two-factor authentication: the password
# step leaves only the pending user's id in the session, for TWO_FACTOR_PENDING_SECONDS.
TWO_FACTOR_PENDING_KEY = "crm_two_factor_pending"
TWO_FACTOR_PENDING_SECONDS = 5 * 60


class LoginView(auth_views.LoginView):
    def form_valid(self, form):
        user = form.get_user()
        if selectors.two_factor_device_for(user=user) is None:
            return super().form_valid(form)
        self.request.session[TWO_FACTOR_PENDING_KEY] = {
            "user_id": user.pk,
            "backend": user.backend,
            "started_at": timezone.now().timestamp(),
            "next": self.get_success_url(),
        }
        return redirect("accounts:two_factor_verify")


def _pending_sign_in(request: HttpRequest) -> tuple[User, dict] | None:
    pending = request.session.get(TWO_FACTOR_PENDING_KEY)
    if pending is None:
        return None
    if timezone.now().timestamp() - pending["started_at"] > TWO_FACTOR_PENDING_SECONDS:
        del request.session[TWO_FACTOR_PENDING_KEY]
        return None
    user = selectors.user_list_active().filter(pk=pending["user_id"]).first()
    return (user, pending) if user is not None else None


@never_cache
@sensitive_post_parameters("code")
def two_factor_verify(request: HttpRequest) -> HttpResponse:
    found = _pending_sign_in(request)
    if found is None:
        messages.info(request, _("Your sign-in took too long. Please log in again."))
        return redirect("login")
    user, pending = found
    credentials = {"username": user.get_username()}
    if settings.AXES_ENABLED and not AxesProxyHandler.is_allowed(request, credentials):
        return login_locked_out(request, None, credentials)
    form = TwoFactorCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            device = services.two_factor_verify(
                request=request, user=user, code=form.cleaned_data["code"]
            )
        except ValidationError as exc:
            form_errors_from_service(form, exc)
        else:
            del request.session[TWO_FACTOR_PENDING_KEY]
            login(request, user, backend=pending["backend"])
            otp_login(request, device)
            return redirect(pending["next"])
    return render(
        request,
        "registration/two_factor_verify.html",
        {"form": form},
        status=400 if form.is_bound else 200,
    )


def login_locked_out(request: HttpRequest, response=None, credentials=None) -> HttpResponse:
    """django-axes' answer to a locked-out login: the site's page, saying when to try again."""
    return render(
        request,
        "registration/locked_out.html",
        {"cooloff_minutes": round(settings.AXES_COOLOFF_TIME * 60)},
        status=429,
    )


def admin_login(request: HttpRequest) -> HttpResponse:
    """The admin signs in through the site's login, so it gets the second step and the lockout
    too."""
    return redirect_to_login(request.GET.get("next") or reverse("admin:index"))


class PasswordChangeView(auth_views.PasswordChangeView):
    def form_valid(self, form):
        previous_session_key = self.request.session.session_key
        response = super().form_valid(form)
        services.user_password_changed(
            request=self.request, user=form.user, previous_session_key=previous_session_key
        )
        return response


def _qr_code_data_uri(text: str) -> str:
    # An <img> with a data: URI, as the content security policy allows no inline script.
    svg = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage).to_string()
    return "data:image/svg+xml;base64," + base64.b64encode(svg).decode()


@never_cache
@login_required
@sensitive_post_parameters("code")
def two_factor_setup(request: HttpRequest) -> HttpResponse:
    device = selectors.two_factor_device_for(user=request.user)
    if device is not None:
        return render(
            request,
            "accounts/two_factor.html",
            {"device": device, "form": TwoFactorCodeForm()},
        )
    form = TwoFactorCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.two_factor_enable(
                request=request, user=request.user, code=form.cleaned_data["code"]
            )
        except ValidationError as exc:
            form_errors_from_service(form, exc)
        else:
            messages.success(request, _("Two-factor authentication is on."))
            return redirect("accounts:profile")
    pending = services.two_factor_setup_start(user=request.user)
    return render(
        request,
        "accounts/two_factor_setup.html",
        {
            "form": form,
            "qr_code": _qr_code_data_uri(pending.config_url),
            "secret": base64.b32encode(pending.bin_key).decode(),
        },
        status=400 if form.is_bound else 200,
    )


@login_required
@require_POST
@sensitive_post_parameters("code")
def two_factor_disable(request: HttpRequest) -> HttpResponse:
    form = TwoFactorCodeForm(request.POST)
    if form.is_valid():
        try:
            services.two_factor_disable(
                request=request, user=request.user, code=form.cleaned_data["code"]
            )
        except ValidationError as exc:
            form_errors_from_service(form, exc)
        else:
            messages.success(request, _("Two-factor authentication is off."))
            return redirect("accounts:profile")
    device = selectors.two_factor_device_for(user=request.user)
    return render(request, "accounts/two_factor.html", {"device": device, "form": form}, status=400)


@login_required
def session_list(request: HttpRequest) -> HttpResponse:
    sessions = selectors.user_session_list_for(user=request.user)
    return render(
        request,
        "accounts/session_list.html",
        {"sessions": sessions, "current_key": request.session.session_key},
    )


@login_required
@require_POST
def session_end(request: HttpRequest, pk: int) -> HttpResponse:
    user_session = get_object_or_404(selectors.user_session_list_for(user=request.user), pk=pk)
    if user_session.session_key == request.session.session_key:
        logout(request)
        return redirect("login")
    services.user_sessions_end(
        user=request.user,
        actor=request.user,
        sessions=selectors.user_session_list_for(user=request.user).filter(pk=pk),
    )
    messages.success(request, _("That session was logged out."))
    return redirect("accounts:session_list")


@login_required
@require_POST
def session_end_others(request: HttpRequest) -> HttpResponse:
    count = services.user_sessions_end(
        user=request.user,
        actor=request.user,
        sessions=selectors.user_session_list_for(user=request.user).exclude(
            session_key=request.session.session_key
        ),
    )
    messages.success(
        request,
        ngettext(
            "%(count)d other session was logged out.",
            "%(count)d other sessions were logged out.",
            count,
        )
        % {"count": count},
    )
    return redirect("accounts:session_list")


@login_required
@require_POST
def session_end_all(request: HttpRequest) -> HttpResponse:
    services.user_sessions_end(
        user=request.user,
        actor=request.user,
        sessions=selectors.user_session_list_for(user=request.user).exclude(
            session_key=request.session.session_key
        ),
    )
    logout(request)
    return redirect("login")


def _field_rule_forms(data=None) -> list[FieldRulesForm]:
    roles = list(selectors.field_rule_roles())
    forms = []
    for label in securable_models():
        model = apps.get_model(label)
        forms.append(
            FieldRulesForm(
                data,
                model=model,
                fields=securable_fields(model),
                roles=roles,
                matrix=selectors.field_rule_matrix(model=model),
            )
        )
    return forms


@login_required
@permission_required(services.FIELD_RULE_PERMISSION, raise_exception=True)
def field_rules(request: HttpRequest) -> HttpResponse:
    """Every securable field of customers, deals and tickets against every role, saved at once."""
    forms = _field_rule_forms(request.POST if request.method == "POST" else None)
    if request.method == "POST" and all(form.is_valid() for form in forms):
        try:
            services.field_rules_save(
                actor=request.user,
                changes_by_model={form.model._meta.label_lower: form.changes() for form in forms},
            )
        except ValidationError as exc:
            forms[0].add_error(None, exc)
        else:
            messages.success(request, _("The field rules were saved."))
            return redirect("accounts:field_rules")
    status = 400 if request.method == "POST" else 200
    return render(request, "accounts/field_rules.html", {"forms": forms}, status=status)
