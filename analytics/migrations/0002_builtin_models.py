from django.db import migrations

BUILT_IN = [
    (
        "purchase",
        "Purchase propensity",
        "purchase",
        "customer",
        "The chance a customer places an order in the next 90 days.",
    ),
    (
        "churn",
        "Churn risk",
        "churn",
        "customer",
        "The chance an active customer places no order in the next 180 days.",
    ),
    (
        "satisfaction",
        "Satisfaction",
        "satisfaction",
        "ticket",
        "The chance a ticket ends with a satisfaction rating of 4 or 5.",
    ),
    (
        "ticket-category",
        "Ticket category",
        "ticket_category",
        "ticket",
        "The category a ticket's text most likely belongs to, to suggest its queue.",
    ),
    (
        "ticket-sentiment",
        "Ticket sentiment",
        "ticket_sentiment",
        "ticket",
        "Whether a ticket's or a feedback's text reads as satisfied (rated 4 or 5) or not.",
    ),
]


def create_built_in(apps, schema_editor):
    PredictiveModel = apps.get_model("analytics", "PredictiveModel")
    for name, title, kind, subject, description in BUILT_IN:
        PredictiveModel.objects.get_or_create(
            name=name,
            defaults={"title": title, "kind": kind, "subject": subject, "description": description},
        )


def remove_built_in(apps, schema_editor):
    PredictiveModel = apps.get_model("analytics", "PredictiveModel")
    PredictiveModel.objects.filter(name__in=[row[0] for row in BUILT_IN]).delete()


class Migration(migrations.Migration):
    dependencies = [("analytics", "0001_initial")]

    operations = [migrations.RunPython(create_built_in, remove_built_in)]
