"""What every form of customers, deals and tickets shares: the user's field rules."""

from django import forms
from django.db.models import Model

from crm.accounts.field_security import OPEN_ACCESS, FieldAccess, field_access


class FieldSecurityFormMixin:
    """Applies the user's field rules (crm.accounts.field_security) to a form of `secured_model`.

    A form calls `fields_secure(user=...)` once its fields are set up: a hidden field is dropped,
    a read-only one is shown disabled. Neither is in `cleaned_data`, so whatever a tampered POST
    sends for them never reaches the service and the stored value stays.
    """

    secured_model: type[Model]
    field_rules: FieldAccess = OPEN_ACCESS

    def fields_secure(self, *, user) -> None:
        self.field_rules = field_access(user=user, model=self.secured_model)
        for name in self.field_rules.hidden:
            self.fields.pop(name, None)
        for name in self.field_rules.read_only:
            if name in self.fields:
                self.fields[name].disabled = True
                self.fields[name].required = False

    def _post_clean(self):
        super()._post_clean()
        for name in self.field_rules.unwritable:
            self.cleaned_data.pop(name, None)


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Any number of files from one input (Django's documented recipe)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single_clean = super().clean
        if isinstance(data, (list, tuple)):
            return [single_clean(item, initial) for item in data if item]
        return [single_clean(data, initial)] if data else []
