"""Demo email: templates in English and Simplified Chinese (one name, both languages), a
signature for every demo user, and a handful of sent emails on the demo reps' customers, each
with its interaction on the customer's timeline.

A few dozen rows, written through the ORM with get-or-create where a second seed could clash;
the emails are written as already sent, so seeding never talks to a mail server."""

from datetime import timedelta

from django.utils import timezone

from crm.demo import DemoContext
from customers.models import Customer, Interaction
from customers.services.customers import customer_aggregates_refresh
from mail.models import EmailMessage, EmailSignature, EmailTemplate
from mail.rendering import template_render
from mail.services.outbound import email_interaction_link, message_id_new

EMAILS_AT_MOST = 12

# (name, context, language, subject, body)
TEMPLATES = [
    (
        "Follow-up after call",
        EmailTemplate.Context.CUSTOMER,
        "en",
        "Thank you for your time, {{ customer.first_name }}",
        "Dear {{ customer.name }},\n\nThank you for speaking with me today. As promised, here "
        "is a summary of what we discussed; let me know if anything is missing.\n\n"
        "Best regards,\n{{ sender.name }}",
    ),
    (
        "Follow-up after call",
        EmailTemplate.Context.CUSTOMER,
        "zh-hans",
        "感谢您的时间，{{ customer.name }}",
        "尊敬的{{ customer.name }}：\n\n感谢您今天与我通话。以下是我们讨论内容的摘要，"
        "如有遗漏请告诉我。\n\n此致\n{{ sender.name }}",
    ),
    (
        "Quote",
        EmailTemplate.Context.DEAL,
        "en",
        "Your quote for {{ deal.name }}",
        "Dear {{ customer.first_name }},\n\nPlease find our quote for {{ deal.name }}: "
        "{{ deal.amount }}. It is valid until {{ deal.expected_close_date }}.\n\n"
        "Kind regards,\n{{ sender.name }}",
    ),
    (
        "Quote",
        EmailTemplate.Context.DEAL,
        "zh-hans",
        "{{ deal.name }} 的报价",
        "尊敬的{{ customer.name }}：\n\n{{ deal.name }} 的报价为 {{ deal.amount }}，"
        "有效期至 {{ deal.expected_close_date }}。\n\n此致\n{{ sender.name }}",
    ),
    (
        "Ticket received",
        EmailTemplate.Context.TICKET,
        "en",
        "We have received your request {{ ticket.number }}",
        "Dear {{ customer.first_name }},\n\nThank you for contacting us about "
        "“{{ ticket.subject }}”. Your request is {{ ticket.number }}; we will reply soon.\n\n"
        "{{ sender.name }}",
    ),
    (
        "Ticket received",
        EmailTemplate.Context.TICKET,
        "zh-hans",
        "我们已收到您的请求 {{ ticket.number }}",
        "尊敬的{{ customer.name }}：\n\n感谢您就“{{ ticket.subject }}”联系我们。"
        "您的请求编号为 {{ ticket.number }}，我们会尽快回复。\n\n{{ sender.name }}",
    ),
]


def _seed_templates(context: DemoContext) -> dict[tuple[str, str], EmailTemplate]:
    templates = {}
    for name, template_context, language, subject, body in TEMPLATES:
        template, _created = EmailTemplate.objects.using(context.using).get_or_create(
            name=name,
            language=language,
            defaults={"context": template_context, "subject": subject, "body": body},
        )
        templates[(name, language)] = template
    return templates


def _seed_signatures(context: DemoContext) -> int:
    users = [user for users in context.users_by_role.values() for user in users]
    for user in users:
        EmailSignature.objects.using(context.using).get_or_create(
            user=user,
            defaults={"body": f"{user}\n{user.email}"},
        )
    return len(users)


def _seed_emails(context: DemoContext, templates: dict[tuple[str, str], EmailTemplate]) -> int:
    senders = {user.pk: user for users in context.users_by_role.values() for user in users}
    customers = list(
        Customer.objects.using(context.using)
        .filter(owner_id__in=senders, erased_at__isnull=True)
        .exclude(email="")
        .select_related("company")
        .order_by("-pk")[:EMAILS_AT_MOST]
    )
    now = timezone.now()
    for number, customer in enumerate(customers):
        sender = senders[customer.owner_id]
        language = "zh-hans" if (customer.language or "").lower() == "zh-hans" else "en"
        template = templates[("Follow-up after call", language)]
        subject, body = template_render(template=template, customer=customer, sender=sender)
        sent_at = now - timedelta(days=context.rng.randint(1, 60), minutes=number)
        interaction = Interaction.objects.using(context.using).create(
            customer=customer,
            channel=Interaction.Channel.EMAIL,
            direction=Interaction.Direction.OUTBOUND,
            occurred_at=sent_at,
            subject=subject[:200],
            summary=body,
            handled_by=sender,
        )
        message = EmailMessage.objects.using(context.using).create(
            direction=EmailMessage.Direction.OUTBOUND,
            status=EmailMessage.Status.SENT,
            message_id=message_id_new(),
            from_address=sender.email or "crm@demo.crm.local",
            from_name=str(sender),
            to_addresses=[customer.email],
            subject=subject,
            body_text=body,
            customer=customer,
            interaction=interaction,
            template=template,
            sent_by=sender,
            source="compose",
            attempts=1,
            sent_at=sent_at,
        )
        email_interaction_link(message=message)
    # The mail moved these customers' last contact, which the list pages read from the row.
    customer_aggregates_refresh(customer_ids=[customer.pk for customer in customers])
    return len(customers)


def seed_mail(context: DemoContext) -> None:
    templates = _seed_templates(context)
    context.log(f"email templates: {len(templates)}")
    context.log(f"email signatures: {_seed_signatures(context)}")
    context.log(f"emails: {_seed_emails(context, templates)}")
