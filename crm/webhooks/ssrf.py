"""The guard against server-side request forgery: a webhook may only call the public internet.

A target URL's host is resolved and every address it resolves to must be public; loopback,
private, link-local, multicast, reserved and unspecified addresses are refused, and so are IPv6
addresses that carry one of those IPv4 addresses inside (IPv4-mapped, 6to4, Teredo, NAT64).
The check runs when a subscription is saved and again before every send, since what a name
resolves to may change; the send then connects to the very address that was checked, so a
second, different answer from DNS cannot slip in between the check and the connection.

An administrator may let a subscription call private addresses (`allow_private_network`), for
a receiver inside the company's own network.
"""

import ipaddress
import socket
from urllib.parse import urlsplit

from django.utils.translation import gettext as _

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

ALLOWED_SCHEMES = ("http", "https")
DEFAULT_PORTS = {"http": 80, "https": 443}
NAT64_PREFIX = ipaddress.ip_network("64:ff9b::/96")


class UnsafeTarget(ValueError):
    """The URL may not be called; the message says why, naming the address."""


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    if address in NAT64_PREFIX:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def address_is_public(address: IPAddress) -> bool:
    if isinstance(address, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(address)
        if embedded is not None and not address_is_public(embedded):
            return False
    return address.is_global and not (
        address.is_loopback
        or address.is_private
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
    )


def target_host_port(url: str) -> tuple[str, int]:
    """The host and port a URL names; UnsafeTarget when it is not an http(s) URL with a host."""
    parts = urlsplit(url)
    if parts.scheme not in ALLOWED_SCHEMES:
        raise UnsafeTarget(_("Only http and https addresses can receive webhooks."))
    try:
        port = parts.port or DEFAULT_PORTS[parts.scheme]
    except ValueError as exc:
        raise UnsafeTarget(_("The address has an invalid port.")) from exc
    if not parts.hostname:
        raise UnsafeTarget(_("The address has no host name."))
    return parts.hostname, port


def target_resolve(url: str) -> list[str]:
    """Every address the URL's host resolves to, in the resolver's order."""
    host, port = target_host_port(url)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise UnsafeTarget(
            _("The host name “%(host)s” could not be resolved.") % {"host": host}
        ) from exc
    addresses: list[str] = []
    for info in infos:
        # An IPv6 link-local answer carries its interface after "%".
        address = str(info[4][0]).split("%", 1)[0]
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise UnsafeTarget(_("The host name “%(host)s” has no address.") % {"host": host})
    return addresses


def target_check(*, url: str, allow_private_network: bool) -> list[str]:
    """The addresses to connect to for `url`, once every one of them is found safe to call.

    Raises UnsafeTarget naming the first address that is not public, unless private addresses
    are allowed."""
    addresses = target_resolve(url)
    if allow_private_network:
        return addresses
    for text in addresses:
        if not address_is_public(ipaddress.ip_address(text)):
            host, _port = target_host_port(url)
            raise UnsafeTarget(
                _(
                    "“%(host)s” resolves to %(address)s, a loopback, private or otherwise "
                    "non-public address; webhooks may only call public addresses unless an "
                    "administrator allows this subscription to call private ones."
                )
                % {"host": host, "address": text}
            )
    return addresses
