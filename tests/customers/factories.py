import factory

from customers.models import Company, Customer


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
