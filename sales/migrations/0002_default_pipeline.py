from django.db import migrations
from django.utils.translation import gettext_noop

# Names are stored in English and marked so the catalogues carry them; pages show stage names
# through gettext, so the default pipeline reads in the user's language.
DEFAULT_STAGES = [
    (gettext_noop("Qualification"), "open", 10, 14),
    (gettext_noop("Needs analysis"), "open", 25, 14),
    (gettext_noop("Proposal"), "open", 50, 10),
    (gettext_noop("Negotiation"), "open", 75, 10),
    (gettext_noop("Won"), "won", 100, None),
    (gettext_noop("Lost"), "lost", 0, None),
]


def create_default_pipeline(apps, schema_editor):
    Pipeline = apps.get_model("sales", "Pipeline")
    Stage = apps.get_model("sales", "Stage")
    if Pipeline.objects.filter(is_default=True).exists():
        return
    pipeline = Pipeline.objects.create(name=gettext_noop("Sales"), is_default=True, position=0)
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
