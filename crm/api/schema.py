"""The OpenAPI schema's house rules: every operation has a summary, documents its errors with the
one error shape of crm.api.errors, and (through crm.api.schema_examples) carries examples.

Set as REST_FRAMEWORK["DEFAULT_SCHEMA_CLASS"]; views keep overriding any of it with
`extend_schema` (their own summary, examples or error descriptions win).
"""

import re
import sys

from django.db import models
from django.utils.translation import gettext_lazy as _
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import force_instance, get_doc, get_view_model
from rest_framework import serializers

from crm.api.errors import error_body


class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField(help_text=_("Machine-readable and stable: validation_error, …"))
    message = serializers.CharField(help_text=_("For people, in the caller's language."))
    fields = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text=_("A field's name to its messages; empty when the error is not about a field."),
    )
    current_version = serializers.IntegerField(
        required=False,
        help_text=_("On a 409 for a stale version: the record's version now."),
    )


class ErrorSerializer(serializers.Serializer):
    """Every API error: {"error": {"code", "message", "fields", …}}."""

    error = ErrorDetailSerializer()


CRUD_ACTIONS = {"list", "create", "retrieve", "update", "partial_update", "destroy"}
# Query parameters that only page through a list: a bad value is not a 400.
PAGING_PARAMETERS = {"page", "page_size", "cursor", "format", "lang"}
SUMMARY_LENGTH = 90

# English needs "a" or "an"; both read the same in languages without articles.
_ACTION_SUMMARIES = {
    "create": (_("Create a %(thing)s"), _("Create an %(thing)s")),
    "retrieve": (_("Retrieve a %(thing)s"), _("Retrieve an %(thing)s")),
    "update": (_("Update a %(thing)s"), _("Update an %(thing)s")),
    "partial_update": (_("Update a %(thing)s (partial)"), _("Update an %(thing)s (partial)")),
    "destroy": (_("Delete a %(thing)s"), _("Delete an %(thing)s")),
}
_VOWEL_SOUNDING_INITIALS = set("AEFHILMNORSX")


def _takes_an(words: str) -> bool:
    first = words.split(" ", 1)[0]
    if first.isupper() and len(first) > 1:  # an acronym is spelled out: "an SLA policy"
        return first[0] in _VOWEL_SOUNDING_INITIALS
    if first.lower().startswith(("us", "uni", "eu")):  # "a user", "a unit"
        return False
    return first[:1].lower() in "aeiou"


def _with_article(templates: tuple, thing, **values) -> str:
    """Fills the "a" or the "an" template, whichever English needs before `thing`."""
    article_a, article_an = templates
    thing = str(thing)
    return str((article_an if _takes_an(thing) else article_a) % {"thing": thing, **values})


def _words(text: str | None) -> str:
    return " ".join((text or "").split())


def first_sentence(text: str) -> str:
    """A docstring's first sentence, short enough for a summary."""
    lines = text.strip().splitlines()
    if lines and re.match(r"(GET|POST|PUT|PATCH|DELETE|/)\S*\s", lines[0]):
        lines = lines[1:]  # a usage line ("GET /api/v1/…?from=&to="), not a sentence
    text = " ".join(" ".join(lines).split())
    sentence = re.split(r"(?<=[.!?;:])\s|\s[—–]\s", text, maxsplit=1)[0].rstrip(".;:")
    if len(sentence) > SUMMARY_LENGTH and ", " in sentence:
        sentence = sentence.split(", ", 1)[0]
    if sentence.count("(") > sentence.count(")"):  # cut inside a parenthesis: drop it
        sentence = sentence.rsplit(" (", 1)[0]
    if re.match(r"[-/]|(GET|POST|PUT|PATCH|DELETE) ", sentence):
        return ""  # a list of endpoints, not a sentence
    return sentence


ERROR_DESCRIPTIONS = {
    "400": _("Invalid input: `fields` names each bad field with its messages."),
    "401": _("No credentials, or a token that is unknown, revoked or expired."),
    "403": _("The caller may not do this (role, record visibility or a read-only token)."),
    "404": _("No such record, or one the caller may not see."),
    "409": _(
        "A conflict: the record changed since `version` (the body gives `current_version`), "
        "or the operation cannot run in the record's state."
    ),
    "422": _("The Idempotency-Key was already used for a different request."),
    "429": _("Too many requests; retry after the seconds in the Retry-After header."),
}


class CrmAutoSchema(AutoSchema):
    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        if isinstance(field, serializers.TimeField) and schema.get("format") == "time":
            # JSON Schema's "time" requires an offset ("09:00:00Z"); a time of day in the CRM
            # (a business calendar's opening hours) has none, as RFC 3339's partial-time.
            schema = {**schema, "format": "partial-time", "example": "09:00:00"}
        return schema

    def get_summary(self) -> str | None:
        return super().get_summary() or self._derived_summary()

    def get_description(self) -> str:
        handler = getattr(self.view, self._action() or self.method.lower(), None)
        description = get_doc(handler) or self._class_doc()
        if description:
            return description
        model = self._model()
        if model is not None and model.__doc__ and not model.__doc__.startswith(model.__name__):
            return get_doc(model)
        return ""

    def get_operation(self, path, path_regex, path_prefix, method, registry):
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is not None:
            self._document_errors(operation)
        return operation

    # Summaries.

    def _model(self) -> type[models.Model] | None:
        return get_view_model(self.view, emit_warnings=False)

    def _class_doc(self) -> str:
        """The view's docstring, not one a shared base of crm.api (a mixin) lends it."""
        for cls in type(self.view).__mro__:
            if cls.__module__.startswith(("rest_framework.", "django.", "crm.api.")):
                break
            if cls.__dict__.get("__doc__"):
                return get_doc(cls)
        return ""

    def _action(self) -> str | None:
        action = getattr(self.view, "action", None)
        if action is None:
            action = (getattr(self.view, "action_map", None) or {}).get(self.method.lower())
        return action

    def _derived_summary(self) -> str:
        action = self._action()
        model = self._model()
        if action in CRUD_ACTIONS and model is not None:
            if action == "list":
                summary = str(_("List %(things)s") % {"things": model._meta.verbose_name_plural})
            else:
                summary = _with_article(_ACTION_SUMMARIES[action], model._meta.verbose_name)
            basename = getattr(self.view, "basename", None) or model._meta.model_name
            joined = basename.replace("-", "").replace("_", "")
            names = {model._meta.model_name, str(model._meta.verbose_name).replace(" ", "")}
            if not names & {joined, joined[:-1], joined[:-2], joined[:-3] + "y"}:
                # A second viewset over the same model (customers' influence): name which.
                summary = f"{summary} ({basename.replace('-', ' ').replace('_', ' ')})"
            return summary
        handler_doc = get_doc(getattr(self.view, action or self.method.lower(), None))
        class_doc = self._class_doc()
        description = self.get_description()
        if handler_doc:
            return first_sentence(handler_doc)
        shared_docs = {_words(class_doc), _words(sys.modules[type(self.view).__module__].__doc__)}
        if _words(description) not in shared_docs and first_sentence(description):
            # Written for this operation (extend_schema), not the module's or view's overview.
            return first_sentence(description)
        if action and model is not None:
            return self._action_summary(action, model)
        name = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", type(self.view).__name__.removesuffix("View"))
        summary = first_sentence(class_doc) if class_doc else name.capitalize()
        methods = [m for m in self.view.allowed_methods if m not in ("HEAD", "OPTIONS")]
        if len(methods) > 1:
            # One class docstring for several methods: say which one this is.
            summary = f"{summary} ({self.method})"
        return summary

    def _action_summary(self, action: str, model: type[models.Model]) -> str:
        """A custom action without a docstring: its name and the record it acts on."""
        name = action.replace("_", " ").capitalize()
        if "{" not in self.path:
            summary = str(
                _("%(action)s: %(things)s")
                % {"action": name, "things": model._meta.verbose_name_plural}
            )
        else:
            summary = _with_article(
                (_("%(action)s of a %(thing)s"), _("%(action)s of an %(thing)s")),
                model._meta.verbose_name,
                action=name,
            )
        if self.method != "GET":
            summary = f"{summary} ({self.method})"
        return summary

    # Errors.

    def _is_versioned(self) -> bool:
        model = self._model()
        if model is None:
            return False
        return any(field.name == "version" for field in model._meta.get_fields())

    def _error_statuses(self, operation: dict) -> list[str]:
        # Every operation may answer 400: `fields` and `expand` on reads, filters, bodies, and
        # refusals such as deleting a record still in use.
        statuses = ["400"]
        anonymous_allowed = {} in operation.get("security", [{}])
        if not anonymous_allowed:
            statuses += ["401", "403"]
        query = [
            parameter for parameter in operation.get("parameters", []) if parameter["in"] == "query"
        ]
        paged = any(parameter["name"] in ("page", "cursor") for parameter in query)
        names_a_record = any(parameter.get("required") for parameter in query)
        # A POST, or a read's required parameter (`?target=`, `?type=&id=`), names records that
        # may be invisible; a page or cursor may be past the end or not one the server gave.
        if "{" in self.path or paged or names_a_record or self.method == "POST":
            statuses.append("404")
        action = self._action()
        versioned_change = self.method in ("PUT", "PATCH") and self._is_versioned()
        business_action = action not in (None, *CRUD_ACTIONS) and self.method != "GET"
        # Any POST may carry an Idempotency-Key: 409 while its first request runs, 422 when
        # it was used for another request (crm.api.idempotency).
        if versioned_change or business_action or self.method == "POST":
            statuses.append("409")
        if self.method == "POST":
            statuses.append("422")
        statuses.append("429")
        return statuses

    def _error_example(self, status: str, operation: dict) -> dict:
        if status == "400":
            field = self._example_field(operation)
            return error_body(
                code="validation_error",
                message=str(_("The request has invalid fields.")),
                fields={field: [str(_("This field is required."))]},
            )
        if status == "409" and self._is_versioned():
            return error_body(
                code="conflict",
                message=str(_("The record was changed by someone else; reload it and try again.")),
                current_version=4,
            )
        code, message = {
            "401": ("not_authenticated", _("Authentication credentials were not provided.")),
            "403": ("permission_denied", _("You do not have permission to perform this action.")),
            "404": ("not_found", _("No such record.")),
            "409": ("conflict", _("The record cannot do this in its current state.")),
            "422": (
                "idempotency_key_reused",
                _("This Idempotency-Key was used for a different request; use a new key."),
            ),
            "429": ("throttled", _("Request was throttled. Expected available in 12 seconds.")),
        }.get(status, ("invalid", _("The request cannot be carried out.")))
        return error_body(code=code, message=str(message))

    def _example_field(self, operation: dict) -> str:
        if "requestBody" not in operation:
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "query" and parameter["name"] not in PAGING_PARAMETERS:
                    return parameter["name"]
            return "non_field_errors"
        serializer = force_instance(self.get_request_serializer())
        if isinstance(serializer, serializers.ListSerializer):
            serializer = serializer.child
        fields = serializer.fields if isinstance(serializer, serializers.Serializer) else {}
        writable = [name for name, field in fields.items() if not field.read_only]
        required = [name for name in writable if fields[name].required]
        return (required or writable or ["non_field_errors"])[0]

    def _document_errors(self, operation: dict) -> None:
        error_ref = self.resolve_serializer(ErrorSerializer, "response").ref
        responses = operation["responses"]
        for status in self._error_statuses(operation):
            responses.setdefault(status, {"description": str(ERROR_DESCRIPTIONS[status])})
        for status, response in responses.items():
            if not status.startswith("4"):
                continue
            if not response.get("description"):
                response["description"] = str(ERROR_DESCRIPTIONS.get(status, ""))
            content = response.setdefault("content", {})
            media = content.setdefault("application/json", {})
            schema = media.get("schema")
            if schema is None or schema == {"type": "object", "additionalProperties": {}}:
                media["schema"] = error_ref
            if "example" not in media and "examples" not in media:
                media["example"] = self._error_example(status, operation)
            if status == "429":
                response.setdefault("headers", {})["Retry-After"] = {
                    "schema": {"type": "integer"},
                    "description": str(_("Seconds to wait before the next request.")),
                }
