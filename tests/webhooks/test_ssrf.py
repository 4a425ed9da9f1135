"""Webhooks may only call public addresses unless an admin allowed a subscription to call
private ones: refused when the subscription is saved and again when an event is sent."""

import ipaddress

import pytest
from django.core.exceptions import ValidationError

from crm.webhooks import services, ssrf
from crm.webhooks.models import WebhookDelivery

pytestmark = pytest.mark.django_db

REFUSED = [
    "http://127.0.0.1/hook",
    "http://10.1.2.3/hook",
    "http://169.254.169.254/latest/meta-data/",
    "http://[::1]/hook",
    "http://[::ffff:127.0.0.1]/hook",
    "http://192.168.0.10/hook",
    "http://0.0.0.0/hook",
    "http://100.64.0.1/hook",
    "http://[fe80::1]/hook",
    "http://224.0.0.1/hook",
]


def create(actor, url, **kwargs):
    return services.webhook_subscription_create(
        actor=actor, name="Hook", target_url=url, events=["customer.created"], **kwargs
    )


@pytest.mark.parametrize("url", REFUSED)
def test_a_non_public_address_is_refused_when_saved(rep, url):
    # given  # when
    with pytest.raises(ValidationError) as refused:
        create(rep, url)

    # then the refusal names the address
    message = refused.value.message_dict["target_url"][0]
    assert "non-public address" in message
    assert url.split("//")[1].split("/")[0].strip("[]") in message


@pytest.mark.parametrize(
    "address", ["::ffff:10.0.0.1", "2002:7f00:1::1", "64:ff9b::a00:1", "::7f00:1", "fc00::1"]
)
def test_ipv6_forms_of_private_addresses_are_not_public(address):
    # given  # when  # then
    assert not ssrf.address_is_public(ipaddress.ip_address(address))


def test_a_host_name_resolving_to_loopback_is_refused(rep, resolve_to):
    # given a name whose DNS answer includes a loopback address
    resolve_to("93.184.215.14", "127.0.0.1")

    # when  # then
    with pytest.raises(ValidationError, match=r"127\.0\.0\.1"):
        create(rep, "https://hooks.example.com/crm")


def test_a_host_name_resolving_to_public_addresses_is_accepted(rep, resolve_to):
    # given
    resolve_to("93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c")

    # when
    subscription = create(rep, "https://hooks.example.com/crm")

    # then
    assert subscription.allow_private_network is False
    assert len(subscription.secret) == 64


def test_a_name_that_does_not_resolve_is_refused(rep, resolve_to):
    # given
    resolve_to()

    # when  # then
    with pytest.raises(ValidationError, match="could not be resolved"):
        create(rep, "https://nowhere.invalid/crm")


@pytest.mark.parametrize("url", ["ftp://example.com/x", "file:///etc/passwd", "not a url"])
def test_only_http_and_https_addresses_are_accepted(rep, url):
    # given  # when  # then
    with pytest.raises(ValidationError) as refused:
        create(rep, url)
    assert "target_url" in refused.value.message_dict


def test_an_admin_may_allow_a_private_address(admin_user, rep):
    # given  # when
    subscription = create(
        admin_user, "http://127.0.0.1:8080/hook", allow_private_network=True, owner=rep
    )

    # then
    assert (subscription.owner, subscription.allow_private_network) == (rep, True)


def test_a_non_admin_may_not_allow_private_addresses(rep):
    # given  # when  # then
    with pytest.raises(ValidationError) as refused:
        create(rep, "http://127.0.0.1:8080/hook", allow_private_network=True)
    assert "allow_private_network" in refused.value.message_dict


def test_changing_the_address_loses_the_admins_leave(admin_user, rep):
    # given a subscription an admin allowed to call a private address
    subscription = create(
        admin_user, "http://127.0.0.1:8080/hook", allow_private_network=True, owner=rep
    )

    # when its owner points it at another private address
    with pytest.raises(ValidationError) as refused:
        services.webhook_subscription_update(
            actor=rep, subscription=subscription, target_url="http://10.0.0.8/hook"
        )

    # then it is refused; renaming it keeps the leave
    assert "target_url" in refused.value.message_dict
    services.webhook_subscription_update(actor=rep, subscription=subscription, name="Renamed")
    subscription.refresh_from_db()
    assert (subscription.name, subscription.allow_private_network) == ("Renamed", True)


def test_a_name_that_now_resolves_to_a_private_address_is_refused_at_send_time(
    rep, resolve_to, eager_tasks
):
    # given a subscription saved while its host resolved to a public address
    resolve_to("93.184.215.14")
    subscription = create(rep, "https://hooks.example.com/crm")
    delivery = services.webhook_test_ping(actor=rep, subscription=subscription)

    # when DNS now answers with a loopback address and the delivery is sent
    resolve_to("127.0.0.1")
    delivery = services.webhook_delivery_send(delivery=delivery)

    # then nothing was sent, and the attempt says why
    attempt = delivery.attempts.get()
    assert attempt.status_code is None
    assert "127.0.0.1" in attempt.error
    assert delivery.status == WebhookDelivery.Status.FAILED
