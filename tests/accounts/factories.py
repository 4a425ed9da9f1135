import factory
from django.contrib.auth.models import Group

from crm.accounts.models import Team, TeamMembership, User

DEFAULT_PASSWORD = "correct-horse-battery-staple"


class UserFactory(factory.django.DjangoModelFactory):
    """A user; `roles=[roles.SALES_REP]` puts them in the role groups the migrations created."""

    class Meta:
        model = User
        django_get_or_create = ["username"]
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.com")
    display_name = factory.LazyAttribute(lambda user: user.username.title())
    password = factory.django.Password(DEFAULT_PASSWORD)

    @factory.post_generation
    def roles(user, create, extracted, **kwargs):
        if not create or not extracted:
            return
        groups = list(Group.objects.filter(name__in=extracted))
        missing = set(extracted) - {group.name for group in groups}
        assert not missing, f"no group for roles {sorted(missing)}; did the migrations run?"
        user.groups.add(*groups)


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team

    name = factory.Sequence(lambda n: f"Team {n}")
    description = ""
    manager = None


class TeamMembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TeamMembership

    team = factory.SubFactory(TeamFactory)
    user = factory.SubFactory(UserFactory)
