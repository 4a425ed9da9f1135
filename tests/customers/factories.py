from decimal import Decimal

import factory
from django.utils import timezone

from customers.models import (
    Company,
    Customer,
    CustomerMerge,
    ExportJob,
    ImportJob,
    Interaction,
    Need,
    Order,
    OrderLine,
    PrivacyRequest,
    Product,
    Relationship,
    Segment,
)


class CompanyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Company

    name = factory.Sequence(lambda n: f"Company {n}")
    industry = "Software"
    size = Company.Size.SMALL
    city = "Shanghai"
    country = "CN"
    owner = None
    team = None


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    name = factory.Sequence(lambda n: f"Customer {n:04d}")
    email = factory.Sequence(lambda n: f"customer{n}@example.com")
    phone = factory.Sequence(lambda n: f"+8613{n:09d}")
    city = "Shanghai"
    country = "CN"
    status = Customer.Status.LEAD
    tier = Customer.Tier.NORMAL
    owner = None
    team = None
    company = None


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    sku = factory.Sequence(lambda n: f"SKU-{n:05d}")
    name = factory.Sequence(lambda n: f"Product {n}")
    category = "Hardware"
    unit_price = Decimal("99.00")
    currency = "CNY"


class OrderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Order

    customer = factory.SubFactory(CustomerFactory)
    number = factory.Sequence(lambda n: f"SO-{n:06d}")
    ordered_at = factory.LazyFunction(timezone.now)
    status = Order.Status.COMPLETED
    total_amount = Decimal("198.00")
    currency = "CNY"


class OrderLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OrderLine

    order = factory.SubFactory(OrderFactory)
    product = factory.SubFactory(ProductFactory)
    quantity = 2
    unit_price = Decimal("99.00")


class NeedFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Need

    customer = factory.SubFactory(CustomerFactory)
    text = factory.Sequence(lambda n: f"Needs a quote for item {n}")
    category = "Quote"


class InteractionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Interaction

    customer = factory.SubFactory(CustomerFactory)
    channel = Interaction.Channel.CALL
    direction = Interaction.Direction.OUTBOUND
    subject = factory.Sequence(lambda n: f"Call {n}")
    occurred_at = factory.LazyFunction(timezone.now)


class RelationshipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Relationship

    from_customer = factory.SubFactory(CustomerFactory)
    to_customer = factory.SubFactory(CustomerFactory)
    kind = Relationship.Kind.COLLEAGUE
    strength = 3


class SegmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Segment

    name = factory.Sequence(lambda n: f"Segment {n}")
    filters = factory.LazyFunction(lambda: {"tier": "vip"})


class ImportJobFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ImportJob

    file = factory.django.FileField(
        filename="customers.csv", data=b"name,email\nAda,ada@example.com\n"
    )
    original_name = "customers.csv"


class ExportJobFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ExportJob

    file_format = "csv"


class CustomerMergeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CustomerMerge

    kept = factory.SubFactory(CustomerFactory)
    merged_customer_id = factory.Sequence(lambda n: 900_000 + n)
    merged_snapshot = factory.LazyFunction(lambda: {"name": "Old record"})


class PrivacyRequestFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PrivacyRequest

    customer = factory.SubFactory(CustomerFactory)
    customer_reference = factory.LazyAttribute(lambda request: f"#{request.customer.pk}")
    kind = PrivacyRequest.Kind.EXPORT


def import_people_csv(rows: int) -> str:
    """An import file of `rows` people in which every seventh row is the same person as an
    earlier one (merged) and every eleventh one has no valid email (rejected)."""
    lines = ["Name,Email,Phone,Company"]
    for n in range(rows):
        if n % 11 == 10:
            lines.append(f"Person {n},not-an-email,,")
        elif n % 7 == 6:
            lines.append(f"Person {n - 3},P{n - 3}@example.com,,Company {(n - 3) % 4}")
        else:
            lines.append(f"Person {n},p{n}@example.com,+86138{n:08d},Company {n % 4}")
    return "\n".join(lines) + "\n"
