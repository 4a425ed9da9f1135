from typing import ClassVar

from django.db.models import Model
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.permissions import SAFE_METHODS, BasePermission, DjangoModelPermissions

from crm.accounts.models import ApiToken

READ_ONLY_TOKEN = "read_only_token"
READ_ONLY_TOKEN_MESSAGE = _("This API token is read-only: it may only use GET, HEAD and OPTIONS.")


def token_may_not_write(*, token, method: str) -> bool:
    """True when `token` is a read-only ApiToken and `method` would change something."""
    return isinstance(token, ApiToken) and token.read_only and method not in SAFE_METHODS


class ReadOnlyToken(exceptions.PermissionDenied):
    default_detail = READ_ONLY_TOKEN_MESSAGE
    default_code = READ_ONLY_TOKEN


class ReadOnlyTokenPermission(BasePermission):
    """A read-only token may only read. ApiTokenAuthentication already refuses such a request
    before any view's own `permission_classes` run; this names the rule among the defaults."""

    message = READ_ONLY_TOKEN_MESSAGE
    code = READ_ONLY_TOKEN

    def has_permission(self, request, view) -> bool:
        return not token_may_not_write(token=request.auth, method=request.method)


class ModelPermissions(DjangoModelPermissions):
    """Role permissions on every verb, reads included: a role without `view_<model>` sees no list.

    Which records of a model a user sees is the visibility rule's job, applied by the selectors.
    """

    perms_map = {
        **DjangoModelPermissions.perms_map,
        "GET": ["%(app_label)s.view_%(model_name)s"],
        "HEAD": ["%(app_label)s.view_%(model_name)s"],
    }

    # The model each view serves, per action, learnt from its first request. DRF finds it by
    # calling the view's get_queryset(), which runs the visibility rule; the view then builds
    # that queryset again for its own work, a tenth of a list request's time spent twice.
    _models: ClassVar[dict[tuple[type, str | None], type[Model]]] = {}

    def _queryset(self, view):
        key = (type(view), getattr(view, "action", None))
        model = self._models.get(key)
        if model is None:
            model = self._models[key] = super()._queryset(view).model
        return model._default_manager.none()
