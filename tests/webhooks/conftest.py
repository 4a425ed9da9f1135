"""A local receiver for webhook tests, a subscription an admin allowed to call it, and a record
type (customers) the events can carry."""

import ipaddress
import json
import socket
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from crm.accounts.selectors import records_visible_to
from crm.webhooks import events
from crm.webhooks.services import webhook_subscription_create
from customers.models import Customer

PUBLIC_ADDRESS = "93.184.215.14"


@dataclass
class ReceivedRequest:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> dict:
        return json.loads(self.body)


@dataclass
class Receiver:
    """Records every request and answers with the next of `statuses` (200 once they run out)."""

    port: int = 0
    requests: list[ReceivedRequest] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/crm"


def _handler_for(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            receiver.requests.append(
                ReceivedRequest(path=self.path, headers=dict(self.headers.items()), body=body)
            )
            status = receiver.statuses.pop(0) if receiver.statuses else 200
            answer = f"answered {status}".encode()
            self.send_response(status)
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, format, *args):
            pass

    return Handler


@pytest.fixture
def receiver():
    state = Receiver()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(state))
    state.port = server.server_address[1]
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture
def subscription(rep, admin_user, receiver):
    """The rep's webhook to the local receiver, which an admin allowed to call private
    addresses."""
    return webhook_subscription_create(
        actor=admin_user,
        owner=rep,
        name="Local receiver",
        target_url=receiver.url,
        events=["customer.created", "customer.updated"],
        allow_private_network=True,
    )


@pytest.fixture
def customer_events(monkeypatch):
    """Customers as the record type of customer events, whatever the customers app registers."""
    monkeypatch.setattr(events, "_record_types", dict(events._record_types))
    events.register_record_type(
        model=Customer,
        payload=lambda customer: {"id": customer.pk, "name": customer.name},
        visible=lambda user: records_visible_to(user=user, queryset=Customer.objects.all()),
    )


def _is_address(host) -> bool:
    try:
        ipaddress.ip_address(str(host))
    except ValueError:
        return host == "localhost"
    return True


@pytest.fixture
def resolve_to(monkeypatch):
    """resolve_to("10.0.0.5", ...) makes every host name resolve to those addresses; an address
    (the database's, Redis's) still resolves to itself. resolve_to() makes names fail."""
    real_getaddrinfo = socket.getaddrinfo

    def install(*addresses: str) -> None:
        def fake_getaddrinfo(host, port, *args, **kwargs):
            if _is_address(host):
                return real_getaddrinfo(host, port, *args, **kwargs)
            if not addresses:
                raise socket.gaierror("Name or service not known")
            return [
                (
                    socket.AF_INET6 if ":" in address else socket.AF_INET,
                    socket.SOCK_STREAM,
                    socket.IPPROTO_TCP,
                    "",
                    (address, port),
                )
                for address in addresses
            ]

        monkeypatch.setattr(socket, "getaddrinfo", fake_getaddrinfo)

    return install
