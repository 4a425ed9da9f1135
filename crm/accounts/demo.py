"""Demo users, one or more per role, and the teams they work in."""

from dataclasses import dataclass

from django.contrib.auth.models import Group
from django.db import transaction

from crm.accounts import roles
from crm.accounts.models import Team, TeamMembership, User


@dataclass(frozen=True)
class DemoUser:
    username: str
    display_name: str
    role: str
    team: str | None
    is_superuser: bool = False


# The demo manager heads every team, so their dashboards show the whole company; the service
# lead runs the desk day to day as a member of the Service team.
DEMO_TEAMS = {
    "Sales East": "manager",
    "Sales West": "manager",
    "Service": "manager",
    "Marketing": "manager",
}

DEMO_USERS = [
    DemoUser("admin", "Admin", roles.ADMIN, None, is_superuser=True),
    DemoUser("manager", "Morgan Li 李明", roles.MANAGER, None),
    DemoUser("service_lead", "Grace Zhou 周静", roles.MANAGER, "Service"),
    DemoUser("rep", "Riley Chen 陈伟", roles.SALES_REP, "Sales East"),
    DemoUser("rep2", "Jordan Smith", roles.SALES_REP, "Sales West"),
    DemoUser("rep3", "王芳", roles.SALES_REP, "Sales East"),
    DemoUser("rep4", "Emily Brown", roles.SALES_REP, "Sales West"),
    DemoUser("agent", "Avery Wang 王娜", roles.SERVICE_AGENT, "Service"),
    DemoUser("agent2", "Daniel Lee", roles.SERVICE_AGENT, "Service"),
    DemoUser("marketer", "Taylor Liu 刘洋", roles.MARKETING, "Marketing"),
]

# The logins printed after seeding, one per role.
DEMO_LOGINS_PER_ROLE = ["admin", "manager", "rep", "agent", "marketer"]


def seed_users_and_teams(*, password: str, using: str = "default") -> dict[str, list[User]]:
    """Create (or refresh) the demo users and teams; returns the users by role."""
    roles.sync_roles(using=using)
    groups = {group.name: group for group in Group.objects.using(using).all()}
    users_by_role: dict[str, list[User]] = {}
    with transaction.atomic(using=using):
        users = {}
        for demo in DEMO_USERS:
            user, _created = User.objects.using(using).get_or_create(username=demo.username)
            user.display_name = demo.display_name
            user.email = f"{demo.username}@demo.crm.local"
            user.is_staff = demo.role == roles.ADMIN
            user.is_superuser = demo.is_superuser
            user.set_password(password)
            user.save(using=using)
            user.groups.set([groups[demo.role]])
            users[demo.username] = user
            users_by_role.setdefault(demo.role, []).append(user)
        for team_name, manager_username in DEMO_TEAMS.items():
            team, _created = Team.objects.using(using).get_or_create(name=team_name)
            team.manager = users[manager_username]
            team.save(using=using)
        for demo in DEMO_USERS:
            if demo.team:
                TeamMembership.objects.using(using).get_or_create(
                    team=Team.objects.using(using).get(name=demo.team), user=users[demo.username]
                )
    return users_by_role
