"""Field-level security: which fields of customers, deals and tickets a role may not see or change.

Apps register the fields an admin may restrict (`securable_fields_register`, from their
AppConfig.ready); admins write `FieldRule` rows; everything that shows, accepts, exports, searches
or aggregates those fields asks `field_access` first. A user with several roles gets the most open
access any of them has; superusers and admins are never restricted.
"""

from dataclasses import dataclass

from django.db import models

from crm.accounts.models import FieldRule
from crm.accounts.roles import ADMIN

_SECURABLE: dict[str, tuple[str, ...]] = {}

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


def securable_fields_register(model: type[models.Model], field_names: list[str]) -> None:
    for name in field_names:
        model._meta.get_field(name)
    _SECURABLE[model._meta.label_lower] = tuple(field_names)


def securable_fields(model: type[models.Model]) -> tuple[str, ...]:
    return _SECURABLE.get(model._meta.label_lower, ())


def securable_models() -> list[str]:
    return sorted(_SECURABLE)


def _rules_by_model(user) -> dict[str, FieldAccess]:
    """Every restriction that applies to `user`, read once per user object (one query)."""
    cached = getattr(user, "_field_access_cache", None)
    if cached is not None:
        return cached
    access: dict[str, FieldAccess] = {}
    role_ids = list(user.groups.values_list("id", flat=True))
    if role_ids and not user.groups.filter(name=ADMIN).exists():
        levels: dict[tuple[str, str], dict[int, int]] = {}
        rules = FieldRule.objects.filter(role_id__in=role_ids).values_list(
            "content_type__app_label", "content_type__model", "field_name", "role_id", "access"
        )
        for app_label, model_name, field_name, role_id, rule_access in rules:
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
