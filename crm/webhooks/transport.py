"""Sending one signed webhook request: the signature, and a POST to an address already checked.

The receiver checks a request by computing HMAC-SHA256 over `"{timestamp}.{body}"` with the
subscription's secret and comparing it with the `X-CRM-Signature` header (`sha256=<hex>`); it
should also refuse a timestamp older than a few minutes, so a captured request cannot be
replayed later.

The request goes to one of the addresses the SSRF guard checked (the TLS name check still uses
the URL's host name), is never redirected, and ignores proxy settings from the environment.
"""

import hashlib
import hmac
import http.client
import socket
import ssl
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

SIGNATURE_HEADER = "X-CRM-Signature"
TIMESTAMP_HEADER = "X-CRM-Timestamp"
EVENT_HEADER = "X-CRM-Event"
DELIVERY_HEADER = "X-CRM-Delivery"
USER_AGENT = "crm-webhooks/1.0"
EXCERPT_CHARS = 1000


def signature_for(*, secret: str, timestamp: int, body: bytes) -> str:
    """The `X-CRM-Signature` value for a body sent at `timestamp` (unix seconds)."""
    message = f"{timestamp}.".encode() + body
    return "sha256=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Outcome:
    status_code: int | None
    error: str
    excerpt: str
    duration_ms: int

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, host, port, *, addresses: list[str], timeout: float):
        super().__init__(host, port, timeout=timeout)
        self.addresses = addresses

    def _connect_pinned(self) -> socket.socket:
        last_error: OSError | None = None
        for address in self.addresses:
            try:
                return socket.create_connection((address, self.port), self.timeout)
            except OSError as exc:
                last_error = exc
        raise last_error or OSError("no address to connect to")

    def connect(self) -> None:
        self.sock = self._connect_pinned()


class _PinnedHTTPSConnection(_PinnedHTTPConnection):
    default_port = http.client.HTTPS_PORT

    def __init__(self, host, port, *, addresses: list[str], timeout: float):
        super().__init__(host, port, addresses=addresses, timeout=timeout)
        self.tls = ssl.create_default_context()

    def connect(self) -> None:
        self.sock = self.tls.wrap_socket(self._connect_pinned(), server_hostname=self.host)


def post_signed(
    *,
    url: str,
    addresses: list[str],
    body: bytes,
    headers: dict[str, str],
    timeout: float,
) -> Outcome:
    """POST `body` to `url`, connecting to one of `addresses`: what came back, or why nothing
    did."""
    parts = urlsplit(url)
    connection_class = _PinnedHTTPSConnection if parts.scheme == "https" else _PinnedHTTPConnection
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    connection = connection_class(parts.hostname, parts.port, addresses=addresses, timeout=timeout)
    started = time.monotonic()
    try:
        connection.request(
            "POST",
            path,
            body=body,
            headers={
                "Content-Type": "application/json",
                "User-Agent": USER_AGENT,
                **headers,
            },
        )
        response = connection.getresponse()
        excerpt = response.read(EXCERPT_CHARS * 4).decode("utf-8", errors="replace")
        return Outcome(
            status_code=response.status,
            error="",
            excerpt=excerpt[:EXCERPT_CHARS],
            duration_ms=_elapsed_ms(started),
        )
    except (OSError, http.client.HTTPException, ssl.SSLError) as exc:
        return Outcome(
            status_code=None,
            error=(f"{type(exc).__name__}: {exc}")[:500],
            excerpt="",
            duration_ms=_elapsed_ms(started),
        )
    finally:
        connection.close()


def _elapsed_ms(started: float) -> int:
    return max(0, round((time.monotonic() - started) * 1000))
