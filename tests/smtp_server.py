"""A real SMTP server on loopback (aiosmtpd) that keeps what it receives, so tests see mail the
way a mail server does: envelope, headers and MIME parts as sent over the wire."""

import email
import socket
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage

from aiosmtpd.controller import Controller


@dataclass
class ReceivedMail:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage


@dataclass
class CollectingHandler:
    received: list[ReceivedMail] = field(default_factory=list)
    # Set to an SMTP reply ("451 4.3.0 try later") to refuse every DATA with it.
    refuse_with: str = ""

    async def handle_DATA(self, server, session, envelope):
        if self.refuse_with:
            return self.refuse_with
        message = email.message_from_bytes(envelope.content, policy=policy.default)
        self.received.append(ReceivedMail(envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class LocalSmtpServer:
    def __init__(self) -> None:
        self.handler = CollectingHandler()
        self.port = free_port()
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)

    @property
    def received(self) -> list[ReceivedMail]:
        return self.handler.received

    def start(self) -> None:
        self.controller.start()

    def stop(self) -> None:
        self.controller.stop()
