"""The prediction builder's page: pick the field to predict, the value that counts as yes and
optionally the fields to use; the build is queued and the browser goes to the model's page,
which follows its progress. Below, the fields with their types and values, and the models built
so far."""

from django import forms
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext_lazy

from analytics.models import ModelVersion
from analytics.selectors.builder import BuilderField, builder_fields, builder_model_list
from analytics.services.builder import TRAIN_PERMISSION, builder_create
from analytics.services.training import ModelBusy
from crm.pages import form_errors_from_service

MODELS_PER_PAGE = 20


def _values_text(field: BuilderField) -> str:
    return ", ".join(value for value, _count in field.profile.values)


class BuilderForm(forms.Form):
    target_field = forms.ChoiceField(label=gettext_lazy("Field to predict"))
    positive_value = forms.CharField(
        label=gettext_lazy("Value that counts as yes"),
        max_length=200,
        help_text=gettext_lazy("One of the values listed with the field."),
    )
    feature_fields = forms.MultipleChoiceField(
        label=gettext_lazy("Fields to use"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy("None ticked: every usable field."),
    )
    name = forms.SlugField(
        label=gettext_lazy("Name"),
        max_length=60,
        required=False,
        help_text=gettext_lazy("Building again under a model's name retrains that model."),
    )
    title = forms.CharField(label=gettext_lazy("Title"), max_length=120, required=False)

    def __init__(self, *args, fields: list[BuilderField], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["target_field"].choices = [
            (item.name, f"{item.label} ({_values_text(item)})")
            for item in fields
            if item.can_be_predicted
        ]
        self.fields["feature_fields"].choices = [
            (item.name, item.label) for item in fields if item.can_be_used
        ]


@login_required
@permission_required(TRAIN_PERMISSION, raise_exception=True)
def builder(request: HttpRequest) -> HttpResponse:
    fields = builder_fields(user=request.user)
    form = BuilderForm(request.POST or None, fields=fields)
    if request.method == "POST" and form.is_valid():
        try:
            version = builder_create(
                user=request.user,
                trigger=ModelVersion.Trigger.BUILDER,
                **form.cleaned_data,
            )
        except ValidationError as error:
            form_errors_from_service(form, error)
        except ModelBusy as error:
            form.add_error(None, str(error))
        else:
            return redirect("analytics:model_detail", name=version.model.name)
    page = Paginator(builder_model_list(), MODELS_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "analytics/builder/builder.html",
        {"form": form, "fields": fields, "page": page},
    )


urlpatterns = [path("builder/", builder, name="builder")]
