"""Field-level security: which fields of customers, deals and tickets a role may not see or change.

Apps register the fields an admin may restrict (`securable_fields_register`, from their
AppConfig.ready); admins write `FieldRule` rows; everything that shows, accepts, exports, searches
or aggregates those fields asks `field_access` first. A user with several roles gets the most open
access any of them has; superusers and admins are never restricted.
"""

from dataclasses import dataclass

from django.db import models
from django.utils.translation import gettext_lazy as _

from crm.accounts.models import FieldRule
from crm.accounts.selectors import user_is_admin

_SECURABLE: dict[str, tuple[str, ...]] = {}
_DERIVED: dict[str, dict[str, str]] = {}

_OPEN, _READ_ONLY, _HIDDEN = 2, 1, 0
_LEVEL = {FieldRule.Access.READ_ONLY: _READ_ONLY, FieldRule.Access.HIDDEN: _HIDDEN}


@dataclass(frozen=True)
class FieldAccess:
    hidden: frozenset[str] = frozenset()
    read_only: frozenset[str] = frozenset()

    @property
    def unwritable(self) -> frozenset[str]:
        return self.hidden | self.read_only

    def can_see(self, field_name: str) -> bool:
        return field_name not in self.hidden

    def can_write(self, field_name: str) -> bool:
        return field_name not in self.hidden and field_name not in self.read_only


OPEN_ACCESS = FieldAccess()

# What a write naming a hidden or read-only field is told, wherever it comes in.
UNWRITABLE_FIELD_MESSAGE = _("You may not change this field.")


def securable_fields_register(
    model: type[models.Model], field_names: list[str], *, derived: dict[str, str] | None = None
) -> None:
    """`derived` names values shown outside the model's own fields that reveal or change one of
    them (a customer's age is its birthday): they follow that field's rule wherever they appear."""
    for name in [*field_names, *(derived or {}).values()]:
        model._meta.get_field(name)
    _SECURABLE[model._meta.label_lower] = tuple(field_names)
    _DERIVED[model._meta.label_lower] = dict(derived or {})


def securable_fields(model: type[models.Model]) -> tuple[str, ...]:
    return _SECURABLE.get(model._meta.label_lower, ())


def secured_field_name(model: type[models.Model], name: str) -> str:
    """The field whose rule governs the value called `name`: itself, or the one it derives from."""
    return _DERIVED.get(model._meta.label_lower, {}).get(name, name)


def securable_models() -> list[str]:
    return sorted(_SECURABLE)


def _rules_by_model(user) -> dict[str, FieldAccess]:
    """Every restriction that applies to `user`, read once per user object (one query)."""
    cached = getattr(user, "_field_access_cache", None)
    if cached is not None:
        return cached
    access: dict[str, FieldAccess] = {}
    if not user_is_admin(user):
        # Each of the user's roles with each of its rules, or once with none: the roles and the
        # rules in one query, as every page asks this once.
        rows = user.groups.values_list(
            "id",
            "field_rules__content_type__app_label",
            "field_rules__content_type__model",
            "field_rules__field_name",
            "field_rules__access",
        )
        role_ids: set[int] = set()
        levels: dict[tuple[str, str], dict[int, int]] = {}
        for role_id, app_label, model_name, field_name, rule_access in rows:
            role_ids.add(role_id)
            if rule_access is not None:
                levels.setdefault((f"{app_label}.{model_name}", field_name), {})[role_id] = _LEVEL[
                    rule_access
                ]
        hidden: dict[str, set[str]] = {}
        read_only: dict[str, set[str]] = {}
        for (label, field_name), by_role in levels.items():
            level = max(by_role.get(role_id, _OPEN) for role_id in role_ids)
            if level == _HIDDEN:
                hidden.setdefault(label, set()).add(field_name)
            elif level == _READ_ONLY:
                read_only.setdefault(label, set()).add(field_name)
        for label in hidden.keys() | read_only.keys():
            access[label] = FieldAccess(
                hidden=frozenset(hidden.get(label, ())),
                read_only=frozenset(read_only.get(label, ())),
            )
    user._field_access_cache = access
    return access


def field_access(*, user, model: type[models.Model]) -> FieldAccess:
    """What `user` may not see or change of `model`'s fields."""
    if user is None or not user.is_authenticated or user.is_superuser:
        return OPEN_ACCESS
    return _rules_by_model(user).get(model._meta.label_lower, OPEN_ACCESS)


def filterset_drop_hidden(filterset, *, user):
    """`filterset` (a django-filter FilterSet) without the filters on fields hidden from `user`,
    so a list cannot be narrowed by a value the user may not see; its form loses them too."""
    access = field_access(user=user, model=filterset._meta.model)
    filterset.hidden_fields = access.hidden
    for name, declared in list(filterset.filters.items()):
        field_name = declared.field_name.split("__")[0].removesuffix("_id")
        if not access.can_see(field_name):
            del filterset.filters[name]
            filterset.form.fields.pop(name, None)
    return filterset
