from django.db import migrations

# Names are stored in English; the board translates the default stage names on display.
DEFAULT_STAGES = [
    ("Qualification", "open", 10, 14),
    ("Needs analysis", "open", 25, 14),
    ("Proposal", "open", 50, 10),
    ("Negotiation", "open", 75, 10),
    ("Won", "won", 100, None),
    ("Lost", "lost", 0, None),
]


def create_default_pipeline(apps, schema_editor):
    Pipeline = apps.get_model("sales", "Pipeline")
    Stage = apps.get_model("sales", "Stage")
    if Pipeline.objects.filter(is_default=True).exists():
        return
    pipeline = Pipeline.objects.create(name="Sales", is_default=True, position=0)
    Stage.objects.bulk_create(
        Stage(
            pipeline=pipeline,
            name=name,
            kind=kind,
            probability=probability,
            stale_after_days=stale_after_days,
            position=position,
        )
        for position, (name, kind, probability, stale_after_days) in enumerate(DEFAULT_STAGES)
    )


def remove_default_pipeline(apps, schema_editor):
    Pipeline = apps.get_model("sales", "Pipeline")
    Pipeline.objects.filter(is_default=True, name="Sales", deals__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("sales", "0001_initial")]

    operations = [migrations.RunPython(create_default_pipeline, remove_default_pipeline)]
