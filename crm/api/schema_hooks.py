"""drf-spectacular postprocessing hooks: what the schema says about every operation at once."""

from django.conf import settings
from django.utils.translation import gettext as _

from crm.api.idempotency import HEADER, MAX_KEY_LENGTH


def idempotency_header_hook(result, generator, request, public):
    """Every POST takes an optional `Idempotency-Key` header (crm.api.idempotency)."""
    parameter = {
        "in": "header",
        "name": HEADER,
        "required": False,
        "schema": {"type": "string", "minLength": 1, "maxLength": MAX_KEY_LENGTH},
        "description": _(
            "Any unique string (a UUID) chosen by the client. A retry with the same key and the "
            "same request gets the first response back, with the header "
            "`Idempotent-Replayed: true`, and does nothing twice. Reusing the key for another "
            "request is a 422 (`idempotency_key_reused`); retrying while the first request is "
            "still running is a 409 (`idempotency_in_progress`). A key is kept for %(hours)d "
            "hours."
        )
        % {"hours": settings.CRM_IDEMPOTENCY_TTL_HOURS},
    }
    for operations in result.get("paths", {}).values():
        operation = operations.get("post")
        if operation is None:
            continue
        parameters = operation.setdefault("parameters", [])
        if not any(p.get("in") == "header" and p.get("name") == HEADER for p in parameters):
            parameters.append(parameter)
    return result
