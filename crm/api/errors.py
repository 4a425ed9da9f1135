"""One JSON shape for every API error.

    {"error": {"code": "validation_error", "message": "...", "fields": {"email": ["..."]}}}

`code` is machine-readable and stable; `message` is for people; `fields` maps a field name to its
messages and is empty when the error is not about a field.
"""

from django.core.exceptions import PermissionDenied
from django.http import Http404
from rest_framework import exceptions
from rest_framework.views import exception_handler as drf_exception_handler


def _flatten(detail) -> list[str]:
    if isinstance(detail, list):
        return [str(item) for entry in detail for item in _flatten(entry)]
    if isinstance(detail, dict):
        return [str(item) for entry in detail.values() for item in _flatten(entry)]
    return [str(detail)]


def _code(exc: exceptions.APIException) -> str:
    if isinstance(exc, exceptions.ValidationError):
        return "validation_error"
    codes = exc.get_codes()
    return codes if isinstance(codes, str) else exc.default_code


def error_body(*, code: str, message: str, fields: dict | None = None, **extra) -> dict:
    """`extra` adds keys beside code, message and fields (a 409's `current_version`)."""
    return {"error": {"code": code, "message": message, "fields": fields or {}, **extra}}


def exception_handler(exc, context):
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError) and isinstance(exc.detail, dict):
        non_field = exc.detail.get("non_field_errors", [])
        fields = {
            name: _flatten(messages)
            for name, messages in exc.detail.items()
            if name != "non_field_errors"
        }
        message = "; ".join(_flatten(non_field)) or "The request has invalid fields."
        body = error_body(code=_code(exc), message=message, fields=fields)
    else:
        body = error_body(
            code=_code(exc),
            message=" ".join(_flatten(exc.detail)),
            **getattr(exc, "extra", {}),
        )
    response.data = body
    return response
