import factory

from analytics.models import ModelVersion, PredictiveModel


class PredictiveModelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PredictiveModel
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"model-{n}")
    title = factory.Sequence(lambda n: f"Model {n}")
    kind = PredictiveModel.Kind.BUILDER


class ModelVersionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ModelVersion

    model = factory.SubFactory(PredictiveModelFactory)
    number = factory.Sequence(lambda n: n + 1)
    trigger = ModelVersion.Trigger.COMMAND
    status = ModelVersion.Status.DONE
