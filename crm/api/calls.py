"""Calling a service from an API view: its errors become the API's error shape."""

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, serializers, status

from crm.concurrency import StaleRecordError


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = _("The record was changed by someone else; reload it and try again.")
    default_code = "conflict"


def call_service(function, /, **kwargs):
    """Run a service; a Django ValidationError becomes a 400, a stale version a 409."""
    try:
        return function(**kwargs)
    except DjangoValidationError as exc:
        if hasattr(exc, "error_dict"):
            detail = {
                ("non_field_errors" if name == NON_FIELD_ERRORS else name): messages
                for name, messages in exc.message_dict.items()
            }
        else:
            detail = {"non_field_errors": exc.messages}
        raise serializers.ValidationError(detail) from exc
    except StaleRecordError as exc:
        raise Conflict(str(exc)) from exc
