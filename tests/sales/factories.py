from datetime import date
from decimal import Decimal

import factory
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from sales.models import (
    Assignment,
    AssignmentRule,
    Campaign,
    CampaignMailing,
    CampaignMember,
    Deal,
    DealLine,
    DealStageChange,
    Pipeline,
    SalesTarget,
    Stage,
    WebForm,
    WebFormSubmission,
)
from tests.customers.factories import CustomerFactory, ProductFactory


class PipelineFactory(factory.django.DjangoModelFactory):
    """A pipeline with no stages; use `pipeline_with_stages` for a usable one."""

    class Meta:
        model = Pipeline

    name = factory.Sequence(lambda n: f"Pipeline {n}")


class StageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Stage

    pipeline = factory.SubFactory(PipelineFactory)
    name = factory.Sequence(lambda n: f"Stage {n}")
    position = factory.Sequence(lambda n: n)
    kind = Stage.Kind.OPEN
    probability = 20


def pipeline_with_stages(**kwargs) -> Pipeline:
    """Lead 10% (stale after 7 days), Proposal 50%, Won, Lost."""
    pipeline = PipelineFactory(**kwargs)
    StageFactory(pipeline=pipeline, name="Lead", position=0, probability=10, stale_after_days=7)
    StageFactory(pipeline=pipeline, name="Proposal", position=1, probability=50)
    StageFactory(pipeline=pipeline, name="Won", position=2, kind=Stage.Kind.WON, probability=100)
    StageFactory(pipeline=pipeline, name="Lost", position=3, kind=Stage.Kind.LOST, probability=0)
    return pipeline


def stage_named(pipeline: Pipeline, name: str) -> Stage:
    return pipeline.stages.get(name=name)


class CampaignFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Campaign

    name = factory.Sequence(lambda n: f"Campaign {n}")
    type = Campaign.Type.EMAIL
    status = Campaign.Status.ACTIVE
    start_date = date(2026, 1, 1)
    budget = Decimal("1000.00")
    actual_cost = Decimal("800.00")
    currency = "CNY"


class CampaignMemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CampaignMember

    campaign = factory.SubFactory(CampaignFactory)
    customer = factory.SubFactory(CustomerFactory)


class CampaignMailingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CampaignMailing

    campaign = factory.SubFactory(CampaignFactory)
    template_name = "Newsletter"
    status = CampaignMailing.Status.SENT
    started_at = factory.LazyFunction(timezone.now)


class DealFactory(factory.django.DjangoModelFactory):
    """A deal written straight to the table (no history row); tests of moves and history go
    through sales.services.deals."""

    class Meta:
        model = Deal

    name = factory.Sequence(lambda n: f"Deal {n}")
    customer = factory.SubFactory(CustomerFactory)
    pipeline = factory.LazyAttribute(lambda deal: deal.stage.pipeline)
    stage = factory.LazyFunction(
        lambda: Pipeline.objects.get(is_default=True).stages.order_by("position").first()
    )
    amount = Decimal("1000.00")
    currency = "CNY"
    stage_entered_at = factory.LazyFunction(timezone.now)
    owner = None
    team = None


class DealLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DealLine

    deal = factory.SubFactory(DealFactory)
    product = factory.SubFactory(ProductFactory)
    quantity = 1
    unit_price = Decimal("99.00")


class DealStageChangeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DealStageChange

    deal = factory.SubFactory(DealFactory)
    from_stage = None
    to_stage = factory.LazyAttribute(lambda change: change.deal.stage)
    changed_at = factory.LazyFunction(timezone.now)


class SalesTargetFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SalesTarget

    period = SalesTarget.Period.MONTH
    period_start = date(2026, 11, 1)
    amount = Decimal("10000.00")
    currency = "CNY"


class AssignmentRuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AssignmentRule

    name = factory.Sequence(lambda n: f"Rule {n}")
    strategy = AssignmentRule.Strategy.FIXED


class AssignmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Assignment

    content_type = factory.LazyFunction(lambda: ContentType.objects.get_for_model(Deal))
    object_id = factory.LazyFunction(lambda: DealFactory().pk)


class WebFormFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WebForm

    name = factory.Sequence(lambda n: f"Form {n}")
    slug = factory.Sequence(lambda n: f"form-{n}")
    fields = ["name", "email", "phone", "message"]
    thank_you_text = "Thank you, we will be in touch."


class WebFormSubmissionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WebFormSubmission

    form = factory.SubFactory(WebFormFactory)
    data = factory.LazyFunction(lambda: {"name": "Ada", "email": "ada@example.com"})
