import json
from collections.abc import Mapping

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers
from rest_framework.renderers import JSONRenderer


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


class StrictModelSerializer(RefuseUnwritableFields, serializers.ModelSerializer):
    """For a resource's create and update: refuses unknown and read-only fields."""


class StrictSerializer(RefuseUnwritableFields, serializers.Serializer):
    """For an action's input: the same refusals as StrictModelSerializer."""


class NoInputSerializer(StrictSerializer):
    """For a POST that takes no fields: any field sent is refused rather than ignored."""


def representation_json(data) -> dict:
    """A serializer's output as the API would send it, in plain JSON values (Decimals, dates and
    lazy strings as the renderer writes them), for a payload kept or sent outside a response:
    a webhook event's record."""
    return json.loads(JSONRenderer().render(data))
