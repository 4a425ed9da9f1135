"""The satisfaction survey page customers reach from the link in their email, without signing
in. It shows only the ticket's number and subject, in the language the survey was sent in, and
takes one answer. The form keeps Django's CSRF check: it is posted from this same page, never
from another site."""

from django.core import signing
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from crm.pages import form_errors_from_service
from service.forms_public import SurveyAnswerForm
from service.models import SatisfactionSurvey
from service.selectors.surveys import survey_get_by_token
from service.services import surveys as services


def _page(request: HttpRequest, survey: SatisfactionSurvey, state: str, **context) -> HttpResponse:
    status = {"expired": 410, "invalid": 400}.get(state, 200)
    return render(
        request,
        "service/survey_answer.html",
        {"ticket": survey.ticket, "state": state, **context},
        status=status,
    )


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def survey_answer(request: HttpRequest, token: str) -> HttpResponse:
    try:
        link = services.survey_link_token_read(token)
        survey = survey_get_by_token(token=link.token)
    except (signing.BadSignature, SatisfactionSurvey.DoesNotExist) as exc:
        raise Http404(_("No such survey.")) from exc
    with translation.override(survey.language):
        if survey.answered_at is not None:
            return _page(request, survey, "answered")
        if link.signature_expired or services.survey_is_expired(survey):
            return _page(request, survey, "expired")
        if request.method != "POST":
            return _page(request, survey, "open", form=SurveyAnswerForm())
        form = SurveyAnswerForm(request.POST)
        if form.is_valid():
            try:
                stored = services.survey_answer(
                    survey=survey,
                    rating=form.cleaned_data["rating"],
                    comment=form.cleaned_data["comment"],
                )
            except ValidationError as exc:
                form_errors_from_service(form, exc)
            else:
                if stored:
                    return _page(request, survey, "thanks")
                # Another answer won the race, or the link expired meanwhile.
                survey.refresh_from_db(fields=["answered_at", "expires_at"])
                state = "answered" if survey.answered_at is not None else "expired"
                return _page(request, survey, state)
        return _page(request, survey, "invalid", form=form)


urlpatterns = [
    path("survey/<str:token>/", survey_answer, name="survey_answer"),
]
