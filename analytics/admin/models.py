"""Admin of the model registry. Versions are the record of what training did, so every field is
read-only; the actions go through the training services, like the model pages and the API:
"Retrain" queues a run (one per model at a time) and "Activate this version" overrides the AUC
rule or rolls back."""

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from analytics.models import ModelVersion, PredictiveModel
from analytics.services.training import (
    ModelBusy,
    model_retrain_request,
    model_version_activate,
)
from crm.admin_services import ReadOnlyAdmin, error_text

TRAIN_PERMISSION = "analytics.train_predictivemodel"


class TrainPermissionMixin:
    def has_train_permission(self, request) -> bool:
        return request.user.has_perm(TRAIN_PERMISSION)


@admin.register(PredictiveModel)
class PredictiveModelAdmin(TrainPermissionMixin, admin.ModelAdmin):
    """Built-in models come from the first migrate and builder models from the prediction
    builder, so the admin adds and deletes none; it may retitle and describe them."""

    list_display = ["name", "title", "kind", "subject", "active_version", "training_version"]
    list_select_related = ["active_version__model", "training_version__model"]
    list_filter = ["kind", "subject"]
    search_fields = ["name", "title"]
    fields = [
        "name",
        "title",
        "kind",
        "subject",
        "description",
        "target_field",
        "positive_value",
        "feature_fields",
        "excluded_fields",
        "active_version",
        "training_version",
        "training_started_at",
        "created_by",
    ]
    readonly_fields = [
        "name",
        "kind",
        "subject",
        "target_field",
        "positive_value",
        "feature_fields",
        "excluded_fields",
        "active_version",
        "training_version",
        "training_started_at",
        "created_by",
    ]
    actions = ["retrain"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.action(description=_("Retrain"), permissions=["train"])
    def retrain(self, request, queryset):
        queued = 0
        for model in queryset:
            try:
                model_retrain_request(
                    model=model, trigger=ModelVersion.Trigger.BUTTON, user=request.user
                )
            except ModelBusy as error:
                self.message_user(request, f"{model}: {error}", messages.WARNING)
            else:
                queued += 1
        if queued:
            self.message_user(
                request,
                ngettext("%(count)d retrain queued.", "%(count)d retrains queued.", queued)
                % {"count": queued},
                messages.SUCCESS,
            )


@admin.register(ModelVersion)
class ModelVersionAdmin(TrainPermissionMixin, ReadOnlyAdmin):
    list_display = [
        "__str__",
        "status",
        "progress",
        "trigger",
        "started_by",
        "algorithm",
        "held_out_auc",
        "decision",
        "is_active",
        "finished_at",
    ]
    list_select_related = ["model", "started_by"]
    list_filter = ["model", "status", "trigger", "decision"]
    search_fields = ["model__name", "model__title"]
    actions = ["activate"]
    show_full_result_count = False

    @admin.display(description=_("held-out AUC"))
    def held_out_auc(self, version: ModelVersion):
        return version.roc_auc

    @admin.display(description=_("active"), boolean=True)
    def is_active(self, version: ModelVersion) -> bool:
        return version.model.active_version_id == version.pk

    @admin.action(description=_("Activate this version"), permissions=["train"])
    def activate(self, request, queryset):
        if len(queryset) != 1:
            self.message_user(request, _("Select exactly one version."), messages.ERROR)
            return
        version = queryset[0]
        try:
            model_version_activate(version=version, user=request.user)
        except ValidationError as error:
            self.message_user(request, error_text(error), messages.ERROR)
        else:
            self.message_user(
                request,
                _("%(version)s is now active.") % {"version": version},
                messages.SUCCESS,
            )
