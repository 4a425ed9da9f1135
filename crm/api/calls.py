"""Calling a service from an API view: its errors become the API's error shape."""

from collections.abc import Callable

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, serializers, status

from crm.concurrency import StaleRecordError

# The code a service gives the ValidationError that refuses to delete a record others use.
IN_USE = "in_use"


class Conflict(exceptions.APIException):
    """409. `extra` goes into the error body beside the message (`current_version`)."""

    status_code = status.HTTP_409_CONFLICT
    default_detail = _("The record was changed by someone else; reload it and try again.")
    default_code = "conflict"

    def __init__(self, detail=None, code=None, **extra):
        super().__init__(detail, code)
        self.extra = extra


class InUse(exceptions.APIException):
    """A deletion refused because other records use this one: its own code, so a client can
    tell it apart from bad input."""

    status_code = status.HTTP_400_BAD_REQUEST
    default_code = IN_USE


def call_service(function, /, **kwargs):
    """Run a service; a Django ValidationError becomes a 400, a stale version a 409."""
    try:
        return function(**kwargs)
    except DjangoValidationError as exc:
        if getattr(exc, "code", None) == IN_USE:
            raise InUse(exc.messages[0]) from exc
        if hasattr(exc, "error_dict"):
            detail = {
                ("non_field_errors" if name == NON_FIELD_ERRORS else name): messages
                for name, messages in exc.message_dict.items()
            }
        else:
            detail = {"non_field_errors": exc.messages}
        raise serializers.ValidationError(detail) from exc
    except StaleRecordError as exc:
        raise Conflict(str(exc), current_version=exc.current_version) from exc


class ServiceWritesMixin:
    """Create, update and delete through the app's services, so the API refuses exactly what the
    pages refuse. A viewset names its three services and the keyword they take the record under;
    `reread` gives the record as the API shows it (with its annotations) after a write."""

    create_service: Callable | None = None
    update_service: Callable | None = None
    delete_service: Callable | None = None
    record_argument = ""

    def reread(self, record):
        return record

    def perform_create(self, serializer):
        record = call_service(
            type(self).create_service, actor=self.request.user, **serializer.validated_data
        )
        serializer.instance = self.reread(record)

    def perform_update(self, serializer):
        record = call_service(
            type(self).update_service,
            actor=self.request.user,
            **{self.record_argument: serializer.instance},
            **serializer.validated_data,
        )
        serializer.instance = self.reread(record)

    def perform_destroy(self, instance):
        call_service(
            type(self).delete_service,
            actor=self.request.user,
            **{self.record_argument: instance},
        )
