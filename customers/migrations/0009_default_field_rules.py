from django.db import migrations

# Identity numbers and private notes are for the people who own the relationship; agents and
# marketing work without them, and agents without the customer's income. Admins change these
# rules in the admin; this only sets the starting point.
DEFAULT_RULES = [
    ("Service agent", "annual_income", "hidden"),
    ("Service agent", "identity_number", "hidden"),
    ("Service agent", "private_notes", "hidden"),
    ("Marketing", "identity_number", "hidden"),
    ("Marketing", "private_notes", "hidden"),
]


def default_rules_create(apps, schema_editor):
    from crm.accounts.roles import sync_roles

    using = schema_editor.connection.alias
    sync_roles(apps=apps, using=using)
    ContentType = apps.get_model("contenttypes", "ContentType")
    Group = apps.get_model("auth", "Group")
    FieldRule = apps.get_model("accounts", "FieldRule")
    customer_type, _created = ContentType.objects.using(using).get_or_create(
        app_label="customers", model="customer"
    )
    for role, field_name, access in DEFAULT_RULES:
        FieldRule.objects.using(using).get_or_create(
            content_type=customer_type,
            field_name=field_name,
            role=Group.objects.using(using).get(name=role),
            defaults={"access": access},
        )


def default_rules_delete(apps, schema_editor):
    apps.get_model("accounts", "FieldRule").objects.using(schema_editor.connection.alias).filter(
        content_type__app_label="customers", content_type__model="customer"
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0008_history_sensitive_fields"),
        ("accounts", "0005_history_fieldrule_usersession"),
    ]

    operations = [migrations.RunPython(default_rules_create, default_rules_delete)]
