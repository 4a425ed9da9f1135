from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from analytics.models import ModelVersion
from analytics.services.builder import builder_create
from analytics.services.training import ModelBusy, model_train_run


class Command(BaseCommand):
    help = (
        "Build a prediction of a yes/no or categorical customer field (standard or imported "
        "custom attribute): compare logistic regression and gradient-boosted trees by "
        "cross-validated ROC AUC, register the better one and score every customer. Runs in "
        "this process and prints the figures."
    )

    def add_arguments(self, parser):
        parser.add_argument("--target", required=True, help="the field to predict")
        parser.add_argument("--positive", required=True, help="the value that counts as yes")
        parser.add_argument("--name", default="", help="the model's name (a slug)")
        parser.add_argument("--title", default="", help="the model's title")
        parser.add_argument(
            "--field",
            action="append",
            default=[],
            dest="fields",
            help="use only these fields (repeat; default: every usable field)",
        )
        parser.add_argument(
            "--exclude",
            action="append",
            default=[],
            help="leave this field out (repeat)",
        )

    def handle(self, *args, target, positive, name, title, fields, exclude, **options):
        try:
            # Trained here, in this process, rather than queued for a worker.
            version = builder_create(
                user=None,
                target_field=target,
                positive_value=positive,
                name=name,
                title=title,
                feature_fields=fields,
                excluded_fields=exclude,
                trigger=ModelVersion.Trigger.COMMAND,
                queue=False,
            )
            version = model_train_run(version_id=version.pk)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        except ModelBusy as exc:
            raise CommandError(str(exc)) from exc
        if version.status != ModelVersion.Status.DONE:
            raise CommandError(f"{version.model.name} v{version.number} failed: {version.error}")
        self._print(version)

    def _print(self, version: ModelVersion) -> None:
        selection = version.metrics.get("selection", {})
        write = self.stdout.write
        write(f"Model {version.model.name} ({version.model.title}), version {version.number}")
        write(
            f"Rows: {version.train_rows} training, {version.test_rows} held out, "
            f"{version.positive_rate:.1%} positive"
        )
        write(f"Cross-validated ROC AUC ({selection.get('cv_folds')}-fold):")
        for algorithm, auc in selection.get("cv_auc", {}).items():
            write(f"  {algorithm}: {auc:.4f}")
        write(f"Chosen algorithm: {version.algorithm}")
        write(f"Held-out ROC AUC: {version.roc_auc}")
        write(f"Decision: {version.get_decision_display()}")
        write(f"Fields used: {', '.join(version.features)}")
        for field_name, reason in selection.get("excluded", {}).items():
            write(f"Left out {field_name}: {reason}")
        write(f"Customers scored: {version.scored_rows}")
