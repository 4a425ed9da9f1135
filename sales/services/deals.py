"""Creating, editing and moving deals: the one path the board, the forms, the API and the demo
all use, so a stage move is validated and recorded the same way wherever it comes from.

Every change names the `version` it was made from and is refused when the deal has moved on
(crm.concurrency); every stage change, the first one included, is a `DealStageChange` row, and
is announced to integrators once committed (deal.stage_changed, and deal.won or deal.lost when
the deal closes).
"""

from collections.abc import Iterable, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from collaboration.models import Notification
from collaboration.services.notifications import notification_send
from crm.accounts.models import User
from crm.accounts.selectors import (
    record_is_editable_by,
    record_is_visible_to,
    user_default_team_id,
)
from crm.activity.models import ActivityEvent
from crm.activity.services import activity_record
from crm.concurrency import version_check
from crm.formatting import format_money
from crm.webhooks.events import event_publish
from customers.models import Customer, Product
from sales.locks import deals_lock
from sales.models import Deal, DealLine, DealStageChange, Pipeline, Stage
from sales.selectors.deals import deals_stale_unnotified
from sales.services.assignment import assignment_choose, assignment_record

DEAL_EDITABLE_FIELDS = (
    "name",
    "customer",
    "company",
    "owner",
    "team",
    "pipeline",
    "stage",
    "amount",
    "currency",
    "expected_close_date",
    "source",
    "campaign",
    "lost_reason",
    "lost_note",
    "next_step",
    "forecast_category",
    "description",
)

LineValues = Mapping[str, Any]


def pipeline_default() -> Pipeline:
    pipeline = Pipeline.objects.filter(is_default=True).first()
    if pipeline is None:
        pipeline = Pipeline.objects.filter(is_active=True).first()
    if pipeline is None:
        raise ValidationError({"pipeline": _("There is no pipeline yet; create one first.")})
    return pipeline


def _first_open_stage(pipeline: Pipeline) -> Stage:
    stage = pipeline.stages.filter(kind=Stage.Kind.OPEN).order_by("position", "pk").first()
    if stage is None:
        raise ValidationError(
            {"stage": _("The pipeline %(name)s has no open stage.") % {"name": pipeline.name}}
        )
    return stage


def _refuse_unknown(values: Mapping[str, Any]) -> None:
    unknown = set(values) - set(DEAL_EDITABLE_FIELDS)
    if unknown:
        raise ValidationError(
            {name: _("This field cannot be set here.") for name in sorted(unknown)}
        )


def _require_visible_customer(*, actor: User | None, customer: Customer | None) -> None:
    if customer is None:
        raise ValidationError({"customer": _("A deal needs a customer.")})
    if actor is not None and not record_is_visible_to(user=actor, record=customer):
        raise ValidationError({"customer": _("No such customer.")})


def _lines_build(deal: Deal, lines: Iterable[LineValues]) -> list[DealLine]:
    built = []
    errors = {}
    for index, values in enumerate(lines, start=1):
        product = values.get("product")
        if isinstance(product, int | str):
            product = Product.objects.filter(pk=product).first()
        if product is None:
            errors[f"lines[{index}].product"] = _("Line %(n)s has no valid product.") % {"n": index}
            continue
        quantity = values.get("quantity", 1)
        unit_price = values.get("unit_price")
        line = DealLine(
            deal=deal,
            product=product,
            quantity=quantity,
            unit_price=product.unit_price if unit_price in (None, "") else unit_price,
            discount_percent=values.get("discount_percent") or Decimal("0"),
        )
        try:
            line.full_clean(exclude=["deal"])
        except ValidationError as exc:
            for field, messages in exc.message_dict.items():
                errors[f"lines[{index}].{field}"] = " ".join(messages)
            continue
        built.append(line)
    if errors:
        raise ValidationError(errors)
    return built


def _check_stage(deal: Deal) -> None:
    if deal.stage.pipeline_id != deal.pipeline_id:
        raise ValidationError(
            {
                "stage": _("The stage %(stage)s is not in the pipeline %(pipeline)s.")
                % {
                    "stage": deal.stage.name,
                    "pipeline": deal.pipeline.name,
                }
            }
        )
    if deal.stage.kind == Stage.Kind.LOST and not deal.lost_reason:
        raise ValidationError({"lost_reason": _("Say why the deal was lost.")})


def _enter_stage(deal: Deal, *, previous: Stage | None, at: datetime) -> None:
    deal.stage_entered_at = at
    deal.stale_notified_at = None
    if deal.stage.kind == Stage.Kind.OPEN:
        deal.closed_at = None
        deal.lost_reason = ""
        deal.lost_note = ""
    elif previous is None or previous.kind == Stage.Kind.OPEN or previous.kind != deal.stage.kind:
        deal.closed_at = at
    if deal.stage.kind == Stage.Kind.WON:
        deal.lost_reason = ""
        deal.lost_note = ""


def _history_add(
    deal: Deal, *, previous: Stage | None, previous_entered_at: datetime | None, actor, at
) -> DealStageChange:
    seconds = None
    if previous is not None and previous_entered_at is not None:
        seconds = max(0, int((at - previous_entered_at).total_seconds()))
    return DealStageChange.objects.create(
        deal=deal,
        from_stage=previous,
        to_stage=deal.stage,
        changed_by=actor if actor is not None and actor.is_authenticated else None,
        changed_at=at,
        seconds_in_from_stage=seconds,
    )


def _customer_mark_won(deal: Deal) -> None:
    # A won deal makes a lead or prospect a customer; churned customers are left to people.
    changed = Customer.objects.filter(
        pk=deal.customer_id, status__in=[Customer.Status.LEAD, Customer.Status.PROSPECT]
    ).update(status=Customer.Status.CUSTOMER, updated_at=timezone.now())
    if changed:
        event_publish(
            event="customer.updated", record=deal.customer, extra={"changed_fields": ["status"]}
        )


_CLOSING_EVENTS = {Stage.Kind.WON: "deal.won", Stage.Kind.LOST: "deal.lost"}


def _stage_events_publish(deal: Deal, *, previous: Stage | None) -> None:
    """Announce a move between stages (none for a new deal) and a deal just won or lost."""
    if previous is not None:
        event_publish(
            event="deal.stage_changed",
            record=deal,
            extra={
                "from_stage": {"id": previous.pk, "name": previous.name},
                "to_stage": {"id": deal.stage.pk, "name": deal.stage.name},
            },
        )
    closing = _CLOSING_EVENTS.get(deal.stage.kind)
    if closing and (previous is None or previous.kind != deal.stage.kind):
        event_publish(event=closing, record=deal)


def _notify_new_owner(deal: Deal, actor: User | None) -> None:
    if deal.owner is None or deal.owner == actor:
        return
    notification_send(
        recipient=deal.owner,
        kind=Notification.Kind.RECORD_ASSIGNED,
        title=_("Deal assigned to you: %(name)s") % {"name": deal.name},
        url=reverse("sales:deal_detail", args=[deal.pk]),
        related=deal,
    )


def _activity_closed(deal: Deal, *, actor: User | None) -> None:
    """Log a deal just won or lost in its team's feed."""
    won = deal.stage.kind == Stage.Kind.WON
    values = {
        "actor": actor or _("Someone"),
        "name": deal.name,
        "amount": format_money(deal.amount, deal.currency),
    }
    if won:
        summary = _("%(actor)s won %(name)s (%(amount)s)") % values
    else:
        summary = _("%(actor)s lost %(name)s (%(amount)s)") % values
    activity_record(
        verb=ActivityEvent.Verb.DEAL_WON if won else ActivityEvent.Verb.DEAL_LOST,
        summary=summary,
        actor=actor if actor is not None and actor.is_authenticated else None,
        team=deal.team,
        target=deal,
        url=reverse("sales:deal_detail", args=[deal.pk]),
        data={"amount": str(deal.amount), "currency": deal.currency, "stage": deal.stage.name},
    )


def deal_create(*, actor: User | None, lines: Iterable[LineValues] | None = None, **values) -> Deal:
    """Create a deal. Unless told otherwise it goes in the default pipeline's first open stage,
    in the default currency, with the customer's company, and is owned by whom the assignment
    rules pick (else by `actor`); with line items its amount is their total."""
    _refuse_unknown(values)
    if actor is not None and not actor.has_perm("sales.add_deal"):
        raise PermissionDenied
    deal = Deal(**values)
    _require_visible_customer(actor=actor, customer=values.get("customer"))
    if "pipeline" not in values or deal.pipeline_id is None:
        deal.pipeline = deal.stage.pipeline if deal.stage_id else pipeline_default()
    if "stage" not in values or deal.stage_id is None:
        deal.stage = _first_open_stage(deal.pipeline)
    if not deal.currency:
        deal.currency = settings.CRM_DEFAULT_CURRENCY
    if "company" not in values:
        deal.company_id = deal.customer.company_id
    if not deal.source:
        deal.source = deal.customer.source
    choice = None
    if "owner" not in values:
        choice = assignment_choose(
            applies_to="deals",
            attributes={
                "city": deal.customer.city,
                "province": deal.customer.province,
                "source": deal.source,
            },
        )
        deal.owner = choice.owner if choice and choice.owner else actor
        if choice and choice.team and "team" not in values:
            deal.team = choice.team
    if "team" not in values and deal.team_id is None:
        deal.team_id = user_default_team_id(deal.owner)
    _check_stage(deal)
    now = timezone.now()
    _enter_stage(deal, previous=None, at=now)
    built_lines = _lines_build(deal, lines) if lines is not None else []
    if built_lines:
        deal.amount = sum((line.line_total for line in built_lines), Decimal("0"))
    deal.full_clean(exclude=["stage_entered_at"])
    with transaction.atomic():
        deal.save()
        for line in built_lines:
            line.deal = deal
        DealLine.objects.bulk_create(built_lines)
        _history_add(deal, previous=None, previous_entered_at=None, actor=actor, at=now)
        if choice is not None:
            assignment_record(record=deal, choice=choice)
        if deal.stage.kind == Stage.Kind.WON:
            _customer_mark_won(deal)
        event_publish(event="deal.created", record=deal)
        _stage_events_publish(deal, previous=None)
        transaction.on_commit(lambda: _notify_new_owner(deal, actor))
    return deal


def _require_change(actor: User | None, deal: Deal) -> None:
    if actor is None:
        return
    if not actor.has_perm("sales.change_deal") or not record_is_editable_by(
        user=actor, record=deal
    ):
        raise PermissionDenied


def deal_update(
    *,
    actor: User | None,
    deal: Deal,
    version: int | str | None,
    lines: Iterable[LineValues] | None = None,
    **values,
) -> Deal:
    """Change a deal made from `version`; a stage change is recorded in the history. Lines, when
    given, replace the deal's lines and set its amount."""
    _refuse_unknown(values)
    _require_change(actor, deal)
    with transaction.atomic():
        locked = deals_lock(deal_ids=[deal.pk])[deal.pk]
        version_check(record=locked, given_version=version)
        previous_stage = locked.stage
        previous_entered_at = locked.stage_entered_at
        previous_owner_id = locked.owner_id
        changed = {name for name, value in values.items() if getattr(locked, name) != value}
        for name in changed:
            setattr(locked, name, values[name])
        if "customer" in changed:
            _require_visible_customer(actor=actor, customer=locked.customer)
        if "pipeline" in changed and "stage" not in changed:
            locked.stage = _first_open_stage(locked.pipeline)
            changed.add("stage")
        if "stage" in changed and "pipeline" not in values:
            locked.pipeline_id = locked.stage.pipeline_id
        _check_stage(locked)
        now = timezone.now()
        stage_moved = locked.stage_id != previous_stage.pk
        if stage_moved:
            _enter_stage(locked, previous=previous_stage, at=now)
        built_lines = _lines_build(locked, lines) if lines is not None else None
        if built_lines is not None:
            locked.amount = sum((line.line_total for line in built_lines), Decimal("0"))
        locked.full_clean()
        locked.version += 1
        locked.save()
        if built_lines is not None:
            locked.lines.all().delete()
            DealLine.objects.bulk_create(built_lines)
        if stage_moved:
            _history_add(
                locked,
                previous=previous_stage,
                previous_entered_at=previous_entered_at,
                actor=actor,
                at=now,
            )
            if locked.stage.kind == Stage.Kind.WON:
                _customer_mark_won(locked)
            if locked.stage.kind != previous_stage.kind and locked.stage.kind != Stage.Kind.OPEN:
                _activity_closed(locked, actor=actor)
            _stage_events_publish(locked, previous=previous_stage)
        if built_lines is not None:
            changed.add("amount")
        if changed:
            event_publish(
                event="deal.updated", record=locked, extra={"changed_fields": sorted(changed)}
            )
        if locked.owner_id != previous_owner_id:
            transaction.on_commit(lambda: _notify_new_owner(locked, actor))
    return locked


def deal_move_stage(
    *,
    actor: User | None,
    deal: Deal,
    stage: Stage,
    version: int | str | None,
    lost_reason: str = "",
    lost_note: str = "",
) -> Deal:
    """Move a deal to another stage of its pipeline (a card dragged on the board)."""
    if stage.pipeline_id != deal.pipeline_id:
        raise ValidationError(
            {
                "stage": _("The stage %(stage)s is not in this deal's pipeline.")
                % {"stage": stage.name}
            }
        )
    values: dict[str, Any] = {"stage": stage}
    if stage.kind == Stage.Kind.LOST:
        values.update(lost_reason=lost_reason or deal.lost_reason, lost_note=lost_note)
    return deal_update(actor=actor, deal=deal, version=version, **values)


def deal_delete(*, actor: User | None, deal: Deal) -> None:
    if actor is not None and (
        not actor.has_perm("sales.delete_deal")
        or not record_is_editable_by(user=actor, record=deal)
    ):
        raise PermissionDenied
    deal.delete()


def deals_notify_stale(*, now: datetime | None = None) -> int:
    """Tell each owner, once, about their open deals that overstayed their stage's limit.

    Returns how many deals were flagged. Moving the deal to another stage re-arms the notice.
    """
    now = now or timezone.now()
    flagged = 0
    for deal in deals_stale_unnotified(now=now).iterator(chunk_size=500):
        with transaction.atomic():
            updated = Deal.objects.filter(pk=deal.pk, stale_notified_at__isnull=True).update(
                stale_notified_at=now
            )
            if not updated or deal.owner is None:
                continue
            days = (now - deal.stage_entered_at).days
            notification_send(
                recipient=deal.owner,
                kind=Notification.Kind.DEAL_STALE,
                title=_("%(name)s has been in %(stage)s for %(days)s days")
                % {
                    "name": deal.name,
                    "stage": deal.stage.name,
                    "days": days,
                },
                url=reverse("sales:deal_detail", args=[deal.pk]),
                related=deal,
            )
            flagged += 1
    return flagged
