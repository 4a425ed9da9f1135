from django.db import models
from django.utils.translation import gettext_lazy as _


class IdempotencyKey(models.Model):
    """The first response to a POST sent with an `Idempotency-Key` header, so that a retry with
    the same key gets that response back instead of doing the work twice.

    `scope` is whose key it is (`user:<id>`): two callers may use the same key. `fingerprint` is
    the SHA-256 of the method, path and body, so a key reused for a different request is refused.
    `status_code` is null while the first request is still being served."""

    scope = models.CharField(_("scope"), max_length=64)
    key = models.CharField(_("key"), max_length=255)
    fingerprint = models.CharField(_("request fingerprint"), max_length=64)
    status_code = models.PositiveSmallIntegerField(_("status code"), null=True, blank=True)
    response_body = models.BinaryField(_("response body"), default=b"", blank=True)
    response_headers = models.JSONField(_("response headers"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("idempotency key")
        verbose_name_plural = _("idempotency keys")
        constraints = [
            models.UniqueConstraint(fields=["scope", "key"], name="idempotencykey_scope_key")
        ]

    def __str__(self) -> str:
        return f"{self.scope} {self.key}"
