from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("analytics", "0002_builtin_models")]

    operations = [
        migrations.AddIndex(
            model_name="customerinfluence",
            index=models.Index(fields=["-degree", "customer"], name="influence_degree"),
        ),
        migrations.AddIndex(
            model_name="customerinfluence",
            index=models.Index(fields=["-connections", "customer"], name="influence_connections"),
        ),
    ]
