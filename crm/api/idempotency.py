"""`Idempotency-Key` on any POST under /api/: a retry with the same key gets the first response.

A key belongs to its caller (`user:<id>`, whether signed in or holding a token), so two callers
may use the same key. The first request with a key runs; its response is kept (unless it is a
5xx, a refusal that ran nothing, or a stream) and given back, with `Idempotent-Replayed: true`,
to every retry with the same method, path and body. A key reused for a different request is a
422; a retry while the first request still runs is a 409 with `Retry-After`.
"""

import hashlib
import tempfile

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext_lazy as _

from crm.api import authentication
from crm.api.errors import error_body
from crm.api.services import (
    idempotency_key_claim,
    idempotency_key_finish,
    idempotency_key_release,
)

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
MAX_KEY_LENGTH = 255
API_PREFIX = "/api/"
# Kept responses are the request's outcome. These are not: the request did nothing, and a
# retry once signed in, permitted or under the rate should run.
NOT_KEPT = {401, 403, 429}
CHUNK_BYTES = 64 * 1024


def _caller_scope(request: HttpRequest) -> str | None:
    # DRF authenticates tokens inside the view, later than this middleware; ask the same code.
    token = authentication.api_token_for_request(request)
    if token is not None:
        return f"user:{token.user_id}"
    if request.user.is_authenticated:
        return f"user:{request.user.pk}"
    return None


def _fingerprint(request: HttpRequest) -> str:
    digest = hashlib.sha256()
    digest.update(request.method.encode() + b"\n" + request.get_full_path().encode() + b"\n")
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    if limit is None or int(request.META.get("CONTENT_LENGTH") or 0) <= limit:
        digest.update(request.body)
        return digest.hexdigest()
    # `request.body` refuses bodies over the in-memory limit (an upload); hash the stream and
    # hand the view a copy to read instead, spilled to disk past the limit. The copy lives as
    # long as the request and is closed (and its file removed) when the request is collected.
    copy = tempfile.SpooledTemporaryFile(max_size=limit)  # noqa: SIM115
    while chunk := request.read(CHUNK_BYTES):
        digest.update(chunk)
        copy.write(chunk)
    copy.seek(0)
    request._stream = copy
    request._read_started = False
    return digest.hexdigest()


def _error(status: int, code: str, message: str, **headers) -> JsonResponse:
    response = JsonResponse(error_body(code=code, message=str(message)), status=status)
    for name, value in headers.items():
        response[name.replace("_", "-")] = value
    return response


def _replay(record) -> HttpResponse:
    response = HttpResponse(bytes(record.response_body), status=record.status_code)
    for name, value in record.response_headers.items():
        response[name] = value
    response[REPLAYED_HEADER] = "true"
    return response


class IdempotencyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        key = request.headers.get(HEADER)
        if key is None or request.method != "POST" or not request.path_info.startswith(API_PREFIX):
            return self.get_response(request)
        if not key.strip() or len(key) > MAX_KEY_LENGTH:
            return _error(
                400,
                "idempotency_key_invalid",
                _("The Idempotency-Key header must be 1 to %(max)d characters long.")
                % {"max": MAX_KEY_LENGTH},
            )
        scope = _caller_scope(request)
        if scope is None:
            return self.get_response(request)

        fingerprint = _fingerprint(request)
        claim = idempotency_key_claim(scope=scope, key=key, fingerprint=fingerprint)
        record = claim.record
        if not claim.claimed:
            if record.fingerprint != fingerprint:
                return _error(
                    422,
                    "idempotency_key_reused",
                    _("This Idempotency-Key was used for a different request; use a new key."),
                )
            if record.status_code is None:
                return _error(
                    409,
                    "idempotency_in_progress",
                    _("A request with this Idempotency-Key is still being processed."),
                    Retry_After="1",
                )
            return _replay(record)

        try:
            response = self.get_response(request)
        except BaseException:
            idempotency_key_release(record=record)
            raise
        if response.streaming or response.status_code >= 500 or response.status_code in NOT_KEPT:
            idempotency_key_release(record=record)
        else:
            idempotency_key_finish(
                record=record,
                status_code=response.status_code,
                body=response.content,
                headers=response.headers,
            )
        return response
