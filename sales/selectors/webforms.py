"""Reads of web forms, their submissions, the assignment rules that route new leads and deals,
and the record of what those rules assigned.

Web forms follow the visibility rule through their target owner and team, and submissions
through their form. Assignment rules are settings of the whole sales process: everyone allowed
to view them sees all of them, in the order they are tried.
"""

from django.contrib.contenttypes.models import ContentType
from django.db.models import Count, Q, QuerySet

from crm.accounts.models import User
from crm.accounts.selectors import records_visible_to, user_is_admin
from customers.models import Customer
from customers.selectors.customers import customer_find_same
from sales.models import Assignment, AssignmentRule, Deal, WebForm, WebFormSubmission

# The kinds of record assignment rules hand out, by the `applies_to` they answer to.
ASSIGNED_MODELS = (Customer, Deal)


def webform_list_visible(*, user: User) -> QuerySet[WebForm]:
    forms = WebForm.objects.select_related("owner", "team", "campaign").annotate(
        submission_count=Count("submissions")
    )
    return records_visible_to(user=user, queryset=forms).order_by("name", "pk")


def webform_get_visible(*, user: User, pk: int) -> WebForm:
    forms = WebForm.objects.select_related("owner", "team", "campaign")
    return records_visible_to(user=user, queryset=forms).get(pk=pk)


def webform_get_public(*, slug: str) -> WebForm:
    """An active form by its address, for anyone on the internet."""
    return WebForm.objects.select_related("owner", "team", "campaign").get(
        slug=slug, is_active=True
    )


def webform_submissions_visible(
    *, user: User, form: WebForm | None = None
) -> QuerySet[WebFormSubmission]:
    submissions = WebFormSubmission.objects.select_related("form", "customer")
    if form is not None:
        submissions = submissions.filter(form=form)
    return records_visible_to(user=user, queryset=submissions).order_by("-submitted_at", "-pk")


def lead_match_existing(*, email: str, phone: str) -> Customer | None:
    """The customer a submission is about, by the import's rules (a form has no external id).
    Matching looks at every customer, whoever owns them, so a form never makes a second copy
    of a known person."""
    return customer_find_same(email=email, phone=phone)


def customer_other_has_phone(*, customer: Customer, phone: str) -> bool:
    return Customer.objects.filter(phone=phone).exclude(pk=customer.pk).exists()


# Assignment rules --------------------------------------------------------------------------------


def assignment_rule_list() -> QuerySet[AssignmentRule]:
    """Every rule in the order they are tried, with how many records each assigned."""
    return (
        AssignmentRule.objects.select_related("team", "owner", "fallback_owner")
        .annotate(assignment_count=Count("assignments"))
        .order_by("position", "pk")
    )


def assignment_rule_get(*, pk: int) -> AssignmentRule:
    return AssignmentRule.objects.select_related("team", "owner", "fallback_owner").get(pk=pk)


def assignment_list_visible(
    *, user: User, record_type: ContentType | None = None, record_id: int | None = None
) -> QuerySet[Assignment]:
    """Assignments of the leads and deals the user may see, newest first."""
    assignments = Assignment.objects.select_related("content_type", "rule", "assigned_to")
    if record_type is not None:
        assignments = assignments.filter(content_type=record_type)
    if record_id is not None:
        assignments = assignments.filter(object_id=record_id)
    if not user_is_admin(user):
        condition = Q(pk__in=[])
        for model in ASSIGNED_MODELS:
            visible = records_visible_to(user=user, queryset=model._default_manager.all())
            condition |= Q(
                content_type=ContentType.objects.get_for_model(model),
                object_id__in=visible.values("pk"),
            )
        assignments = assignments.filter(condition)
    return assignments.order_by("-assigned_at", "-pk")
