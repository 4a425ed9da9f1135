import json
from collections.abc import Mapping

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers
from rest_framework.renderers import JSONRenderer

from crm.accounts.field_security import (
    OPEN_ACCESS,
    UNWRITABLE_FIELD_MESSAGE,
    FieldAccess,
    field_access,
    securable_fields,
    secured_field_name,
)


class FieldSecurityMixin:
    """Applies the caller's field rules (crm.accounts.field_security) to a model serializer.

    A field hidden from the caller is not among the serializer's fields at all: it is absent
    from every response, `?fields=` naming it is refused as an unknown name, and nothing is
    expanded from it. A write naming a hidden or read-only field is refused with that field
    named. A value derived from a field (a customer's age is its birthday, registered with the
    field) follows that field's rule.
    """

    def field_access(self) -> FieldAccess:
        model = getattr(getattr(self, "Meta", None), "model", None)
        if model is None or not securable_fields(model):
            return OPEN_ACCESS
        request = self.context.get("request")
        return field_access(user=getattr(request, "user", None), model=model)

    def _secured_name(self, name: str, field) -> str:
        source = getattr(field, "source", None) or name
        own = name if source == "*" else source.split(".", 1)[0]
        return secured_field_name(self.Meta.model, own)

    def get_fields(self):
        fields = super().get_fields()
        access = self.field_access()
        if access is OPEN_ACCESS:
            return fields
        for name, field in list(fields.items()):
            secured = self._secured_name(name, field)
            if not access.can_see(secured):
                del fields[name]
            elif not access.can_write(secured):
                field.read_only = True
                field.required = False
        return fields

    def to_internal_value(self, data):
        access = self.field_access()
        if isinstance(data, Mapping) and access is not OPEN_ACCESS:
            model = self.Meta.model
            refused = {
                name for name in data if secured_field_name(model, name) in access.unwritable
            }
            if refused:
                raise serializers.ValidationError(
                    {name: [UNWRITABLE_FIELD_MESSAGE] for name in sorted(refused)}
                )
        return super().to_internal_value(data)


class RefuseUnwritableFields:
    """Refuses fields it does not know and fields it does not let callers write.

    DRF silently drops both by default, which hides typos from integrators and lets a caller
    believe it set an owner, a version or a score that it may not set.
    """

    def to_internal_value(self, data):
        if isinstance(data, Mapping):
            known = set(self.fields)
            writable = {name for name, field in self.fields.items() if not field.read_only}
            errors = {name: [_("Unknown field.")] for name in sorted(set(data) - known)}
            errors |= {
                name: [_("This field is read-only.")]
                for name in sorted((set(data) & known) - writable)
            }
            if errors:
                raise serializers.ValidationError(errors)
        return super().to_internal_value(data)


class StrictModelSerializer(
    FieldSecurityMixin, RefuseUnwritableFields, serializers.ModelSerializer
):
    """For a resource's create and update: refuses unknown and read-only fields, and applies the
    caller's field rules."""


class SecuredModelSerializer(FieldSecurityMixin, serializers.ModelSerializer):
    """For a record's read-only summary (what `?expand=` shows): the caller's field rules apply."""


class StrictSerializer(RefuseUnwritableFields, serializers.Serializer):
    """For an action's input: the same refusals as StrictModelSerializer."""


class NoInputSerializer(StrictSerializer):
    """For a POST that takes no fields: any field sent is refused rather than ignored."""


def representation_json(data) -> dict:
    """A serializer's output as the API would send it, in plain JSON values (Decimals, dates and
    lazy strings as the renderer writes them), for a payload kept or sent outside a response:
    a webhook event's record."""
    return json.loads(JSONRenderer().render(data))
