from django.db import migrations


def create_roles(apps, schema_editor):
    from crm.accounts.roles import sync_roles

    sync_roles(apps=apps, using=schema_editor.connection.alias)


def delete_roles(apps, schema_editor):
    from crm.accounts.roles import ROLE_PERMISSIONS

    apps.get_model("auth", "Group").objects.using(schema_editor.connection.alias).filter(
        name__in=list(ROLE_PERMISSIONS)
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_roles, delete_roles)]
