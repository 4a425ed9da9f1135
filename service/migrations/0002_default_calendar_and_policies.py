from datetime import time

from django.conf import settings
from django.db import migrations

# Business minutes to first response and to resolution for a Normal-tier customer; VIP gets
# half of these and Premium a quarter.
NORMAL_TARGETS = {
    "urgent": (60, 8 * 60),
    "high": (4 * 60, 16 * 60),
    "normal": (8 * 60, 40 * 60),
    "low": (16 * 60, 80 * 60),
}
TIER_FACTORS = {"normal": 1, "vip": 2, "premium": 4}


def create_defaults(apps, schema_editor):
    BusinessCalendar = apps.get_model("service", "BusinessCalendar")
    SlaPolicy = apps.get_model("service", "SlaPolicy")
    if BusinessCalendar.objects.exists():
        return
    calendar = BusinessCalendar.objects.create(
        name="Office hours",
        time_zone=settings.TIME_ZONE,
        working_days=[1, 2, 3, 4, 5],
        day_starts_at=time(9, 0),
        day_ends_at=time(18, 0),
        is_default=True,
    )
    SlaPolicy.objects.bulk_create(
        SlaPolicy(
            name=f"{tier.capitalize()} / {priority}",
            tier=tier,
            priority=priority,
            first_response_minutes=max(15, response // factor),
            resolution_minutes=max(60, resolution // factor),
            warn_before_minutes=30 if priority == "urgent" else 60,
            calendar=calendar,
            escalate_raise_priority=True,
            escalate_to_manager=priority in ("urgent", "high"),
        )
        for tier, factor in TIER_FACTORS.items()
        for priority, (response, resolution) in NORMAL_TARGETS.items()
    )


class Migration(migrations.Migration):
    dependencies = [("service", "0001_initial")]

    # Unapplying keeps the defaults: they go with the tables when 0001 is unapplied, and an
    # admin may have edited them meanwhile.
    operations = [migrations.RunPython(create_defaults, migrations.RunPython.noop)]
