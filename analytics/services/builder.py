"""The prediction builder: a manager names a yes/no or categorical customer field and the value
that counts as positive; the CRM builds features from every usable field, compares logistic
regression with gradient-boosted trees by cross-validation, registers the better one like any
other model (analytics.services.training) and scores every customer.

Protocol, the same on every data set: a seeded, stratified 20% of the labelled customers is held
out and never seen while choosing or fitting; the two algorithms are compared by stratified
5-fold cross-validated ROC AUC on the other 80%; the better one is refitted on that 80% and
judged on the held-out rows. Customers without a value in the target are not trained on, but
are scored.
"""

from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.text import slugify
from django.utils.translation import gettext as _
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold, cross_val_score, train_test_split

from analytics.ml.pipelines import (
    ALGORITHMS,
    GRADIENT_BOOSTING,
    LOGISTIC_REGRESSION,
    Features,
    pipeline_make,
)
from analytics.models import ModelVersion, PredictiveModel
from analytics.selectors.builder import (
    CATEGORICAL,
    NUMERIC,
    STANDARD_FIELDS,
    UNUSABLE,
    BuilderField,
    builder_fields,
    builder_value_exists,
    column_profile,
    customer_row_chunk_count,
    customer_rows,
    customer_rows_for,
    labelled_customers,
    numeric_values,
)
from analytics.services.scores import customer_scores_finish, customer_scores_store
from analytics.services.training import model_retrain_request
from analytics.specs import Fitted, ModelSpec, NotEnoughData, TrainingSet
from crm.accounts.models import User

TRAIN_PERMISSION = "analytics.train_predictivemodel"
MAX_TRAINING_ROWS = 200_000
HELD_OUT_SHARE = 0.2
CV_FOLDS = 5
SEED = 0
MIN_ROWS_PER_CLASS = 10
# A field that on its own ranks the training rows this well (or this badly) almost surely
# records the outcome itself (a churn date next to a churn flag) and would fake the results.
LEAK_AUC = 0.99
# Only judge a categorical field for leaking when its categories hold this many rows on average;
# below that, in-sample purity is noise.
LEAK_ROWS_PER_CATEGORY = 20


@dataclass(frozen=True)
class BuilderTrainingSet(TrainingSet):
    """A builder's training set, with the fields it left out and why, for the version's record."""

    types: dict[str, str] = field(default_factory=dict)
    excluded: dict[str, str] = field(default_factory=dict)
    labelled_rows: int = 0


def _field_errors(name: str, message: str) -> ValidationError:
    return ValidationError({name: [message]})


def _fields_by_name(user: User | None) -> dict[str, BuilderField]:
    return {item.name: item for item in builder_fields(user=user)}


def _clean_field_list(
    names: list[str] | None, *, form_field: str, known: dict[str, BuilderField], target: str
) -> list[str]:
    names = list(dict.fromkeys(name.strip() for name in names or [] if name.strip()))
    unknown = [name for name in names if name not in known]
    if unknown:
        raise _field_errors(
            form_field,
            _("No customer field is called %(names)s.") % {"names": ", ".join(unknown)},
        )
    if target in names and form_field == "feature_fields":
        raise _field_errors(
            form_field,
            _("“%(name)s” is the field to predict; it cannot also be used to predict it.")
            % {"name": target},
        )
    return names


def _clean_name(name: str, *, target_field: str, positive_value: str) -> str:
    name = slugify(name) if name else slugify(f"builder-{target_field}-{positive_value}")[:60]
    if not name:
        raise _field_errors("name", _("Give the model a name made of letters or digits."))
    clash = PredictiveModel.objects.filter(name=name).exclude(kind=PredictiveModel.Kind.BUILDER)
    if clash.exists():
        raise _field_errors(
            "name", _("“%(name)s” is the name of a built-in model.") % {"name": name}
        )
    return name


def builder_create(
    *,
    user: User | None,
    target_field: str,
    positive_value: str,
    name: str = "",
    title: str = "",
    feature_fields: list[str] | None = None,
    excluded_fields: list[str] | None = None,
    trigger: str = ModelVersion.Trigger.BUILDER,
    queue: bool = True,
) -> ModelVersion:
    """Check the request, create the builder model (or update the one of that name) and queue
    its training; returns the queued version. `user` None is an operator's command; `queue`
    False leaves the training to the caller (see model_retrain_request).

    Raises ValidationError naming the field at fault (an unknown field, a field that is not
    yes/no or categorical, a positive value no customer has), PermissionDenied without the
    train permission, and ModelBusy while that model is already training."""
    if user is not None and not user.has_perm(TRAIN_PERMISSION):
        raise PermissionDenied(_("You may not build predictive models."))
    target_field = target_field.strip()
    positive_value = positive_value.strip()
    known = _fields_by_name(user)
    target = known.get(target_field)
    if target is None:
        raise _field_errors(
            "target_field", _("No customer field is called “%(name)s”.") % {"name": target_field}
        )
    if not target.can_be_predicted:
        raise _field_errors(
            "target_field",
            _(
                "“%(name)s” is not a yes/no or categorical field (2 to 50 distinct values); "
                "it cannot be predicted."
            )
            % {"name": target_field},
        )
    listed = {value for value, _count in target.profile.values}
    if not positive_value or (
        positive_value not in listed
        and not builder_value_exists(user=user, field_name=target_field, value=positive_value)
    ):
        raise _field_errors(
            "positive_value",
            _("No customer has “%(value)s” in “%(name)s”; its values are %(values)s.")
            % {
                "value": positive_value,
                "name": target_field,
                "values": ", ".join(sorted(listed)),
            },
        )
    features = _clean_field_list(
        feature_fields, form_field="feature_fields", known=known, target=target_field
    )
    excluded = _clean_field_list(
        excluded_fields, form_field="excluded_fields", known=known, target=target_field
    )
    name = _clean_name(name, target_field=target_field, positive_value=positive_value)
    title = title.strip() or f"{target.label} = {positive_value}"
    with transaction.atomic():
        model, _created = PredictiveModel.objects.get_or_create(
            name=name,
            defaults={
                "kind": PredictiveModel.Kind.BUILDER,
                "subject": PredictiveModel.Subject.CUSTOMER,
                "title": title[:120],
                "created_by": user,
            },
        )
        model.title = title[:120]
        model.target_field = target_field
        model.positive_value = positive_value
        model.feature_fields = features
        model.excluded_fields = excluded
        model.save(
            update_fields=[
                "title",
                "target_field",
                "positive_value",
                "feature_fields",
                "excluded_fields",
                "updated_at",
            ]
        )
        return model_retrain_request(model=model, trigger=trigger, user=user, queue=queue)


def _labelled_rows(model: PredictiveModel) -> tuple[pd.DataFrame, np.ndarray]:
    """Customers with a value in the target (a seeded sample of about MAX_TRAINING_ROWS when
    there are more), in primary-key order, and whether each is positive (1) or not (0)."""
    target = model.target_field
    labelled = labelled_customers(field_name=target)
    upper_bound = labelled.count()
    keep_share = min(1.0, MAX_TRAINING_ROWS / upper_bound) if upper_bound else 1.0
    rng = np.random.default_rng(SEED)
    chunks = []
    for chunk in customer_rows(queryset=labelled):
        if target not in chunk.columns:
            continue
        chunk = chunk[chunk[target].notna()]
        if keep_share < 1.0:
            chunk = chunk[rng.random(len(chunk)) < keep_share]
        chunks.append(chunk)
    if not chunks:
        return pd.DataFrame(), np.array([], dtype=int)
    frame = pd.concat(chunks)
    positive = (frame[target] == model.positive_value).to_numpy().astype(int)
    return frame, positive


def _leaks_target(values: pd.Series, kind: str, y: np.ndarray) -> bool:
    if kind == NUMERIC:
        numbers = numeric_values(values)
        if numbers.notna().sum() == 0:
            return False
        # Missing values rank below every number, so "present only for positives" shows too.
        ranked = numbers.fillna(numbers.min() - 1)
    else:
        text = values.fillna("(missing)").astype(str)
        if text.nunique() * LEAK_ROWS_PER_CATEGORY > len(text):
            return False
        ranked = text.map(pd.Series(y, index=values.index).groupby(text).mean())
    auc = roc_auc_score(y, ranked.to_numpy(dtype=float))
    return auc >= LEAK_AUC or auc <= 1 - LEAK_AUC


def _typed(frame: pd.DataFrame, types: dict[str, str]) -> pd.DataFrame:
    """The columns of `types` (missing ones empty), numbers as floats, the rest as text."""
    typed = frame.reindex(columns=list(types))
    for column, kind in types.items():
        if kind == NUMERIC:
            typed[column] = numeric_values(typed[column])
        else:
            typed[column] = typed[column].astype(object).where(typed[column].notna(), None)
    return typed


def _candidate_columns(model: PredictiveModel, frame: pd.DataFrame) -> list[str]:
    columns = model.feature_fields or [*STANDARD_FIELDS, *frame.columns]
    left_out = {model.target_field, *model.excluded_fields}
    return [column for column in dict.fromkeys(columns) if column not in left_out]


def builder_training_set(model: PredictiveModel) -> BuilderTrainingSet:
    frame, y = _labelled_rows(model)
    positives = int(y.sum())
    negatives = len(y) - positives
    if min(positives, negatives) < MIN_ROWS_PER_CLASS:
        raise NotEnoughData(
            _(
                "%(positives)s customers have “%(value)s” in “%(field)s” and %(negatives)s "
                "another value; at least %(minimum)s of each are needed."
            )
            % {
                "positives": positives,
                "negatives": negatives,
                "value": model.positive_value,
                "field": model.target_field,
                "minimum": MIN_ROWS_PER_CLASS,
            }
        )
    train, test, y_train, y_test = train_test_split(
        frame, y, test_size=HELD_OUT_SHARE, stratify=y, random_state=SEED
    )
    types: dict[str, str] = {}
    excluded: dict[str, str] = {}
    for column in _candidate_columns(model, frame):
        if column not in train.columns:
            excluded[column] = _("no labelled customer has a value")
            continue
        standard = STANDARD_FIELDS.get(column)
        profile = column_profile(train[column], kind=standard.kind if standard else None)
        if profile.kind == UNUSABLE:
            excluded[column] = profile.reason
        elif _leaks_target(train[column], profile.kind, y_train):
            excluded[column] = _("on its own it tells the outcome apart: likely derived from it")
        else:
            types[column] = profile.kind
    if not types:
        raise NotEnoughData(
            _("No field is usable to predict “%(field)s”.") % {"field": model.target_field}
        )
    return BuilderTrainingSet(
        train=_typed(train, types),
        y_train=y_train,
        test=_typed(test, types),
        y_test=y_test,
        features=Features(
            numeric=[column for column, kind in types.items() if kind == NUMERIC],
            categorical=[column for column, kind in types.items() if kind == CATEGORICAL],
        ),
        split=_(
            "A stratified %(share)s%% of %(rows)s labelled customers held out (seed %(seed)s); "
            "algorithms compared by %(folds)s-fold cross-validation on the rest."
        )
        % {"share": int(HELD_OUT_SHARE * 100), "rows": len(y), "seed": SEED, "folds": CV_FOLDS},
        types=types,
        excluded=excluded,
        labelled_rows=len(y),
    )


def _json_parameters(pipeline) -> dict:
    parameters = pipeline.named_steps["estimate"].get_params()
    return {
        name: value
        for name, value in parameters.items()
        if isinstance(value, (bool, int, float, str)) or value is None
    }


def builder_fit(training: BuilderTrainingSet, model: PredictiveModel) -> Fitted:
    """Compare the algorithms by cross-validated ROC AUC on the training rows, refit the better
    one on all of them. A tie goes to logistic regression, the simpler to explain."""
    folds = StratifiedKFold(n_splits=CV_FOLDS, shuffle=True, random_state=SEED)
    cv_auc = {}
    for algorithm in ALGORITHMS:
        scores = cross_val_score(
            pipeline_make(training.features, algorithm),
            training.train,
            training.y_train,
            cv=folds,
            scoring="roc_auc",
        )
        cv_auc[algorithm] = round(float(scores.mean()), 4)
    chosen = max((LOGISTIC_REGRESSION, GRADIENT_BOOSTING), key=lambda name: cv_auc[name])
    pipeline = pipeline_make(training.features, chosen)
    pipeline.fit(training.train, training.y_train)
    return Fitted(
        pipeline=pipeline,
        algorithm=chosen,
        parameters=_json_parameters(pipeline),
        selection={
            "target": model.target_field,
            "positive": model.positive_value,
            "cv_folds": CV_FOLDS,
            "cv_auc": cv_auc,
            "chosen": chosen,
            "labelled_rows": training.labelled_rows,
            "types": training.types,
            "excluded": training.excluded,
        },
    )


def _active_types(model: PredictiveModel) -> dict[str, str]:
    version = ModelVersion.objects.get(pk=model.active_version_id)
    return version.metrics["selection"]["types"]


def builder_feature_rows(model: PredictiveModel, ids: list[int]) -> pd.DataFrame:
    return _typed(customer_rows_for(ids=ids), _active_types(model))


def builder_scoring_batches(model: PredictiveModel) -> Iterator[pd.DataFrame]:
    """Every non-erased customer, labelled or not, in chunks, with the active version's columns."""
    types = _active_types(model)
    for chunk in customer_rows():
        yield _typed(chunk, types)


BUILDER_SPEC = ModelSpec(
    kind=PredictiveModel.Kind.BUILDER,
    training_set=builder_training_set,
    feature_rows=builder_feature_rows,
    scoring_batches=builder_scoring_batches,
    store_scores=customer_scores_store,
    finish_scoring=customer_scores_finish,
    scoring_batch_count=lambda _model: customer_row_chunk_count(),
    fit=builder_fit,
)
