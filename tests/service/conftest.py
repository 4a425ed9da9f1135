import pytest

from crm.accounts import roles
from tests.accounts.factories import UserFactory


@pytest.fixture
def agent(team):
    user = UserFactory(username="agent", roles=[roles.SERVICE_AGENT])
    user.team_memberships.create(team=team)
    return user


@pytest.fixture
def agent_teammate(team):
    user = UserFactory(username="agent_teammate", roles=[roles.SERVICE_AGENT])
    user.team_memberships.create(team=team)
    return user


@pytest.fixture
def other_team_agent(other_team):
    user = UserFactory(username="other_agent", roles=[roles.SERVICE_AGENT])
    user.team_memberships.create(team=other_team)
    return user


@pytest.fixture
def agent_client(client_for, agent):
    return client_for(agent)
