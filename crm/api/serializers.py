from collections.abc import Mapping

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers


class StrictModelSerializer(serializers.ModelSerializer):
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
