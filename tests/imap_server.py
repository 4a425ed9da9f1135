"""A small IMAP4rev1 server on loopback for the poller's tests: plain TCP, one folder, and just
the commands imaplib and the poller use (CAPABILITY, LOGIN, SELECT, UID SEARCH, UID FETCH,
NOOP, LOGOUT). Tests append messages to it and change its UIDVALIDITY as a real server might."""

import re
import socketserver
import threading
from dataclasses import dataclass, field


@dataclass
class StoredMessage:
    uid: int
    raw: bytes


@dataclass
class MailStore:
    username: str
    password: str
    folder: str = "INBOX"
    uidvalidity: int = 1
    next_uid: int = 1
    messages: list[StoredMessage] = field(default_factory=list)
    commands: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, raw: bytes) -> int:
        with self.lock:
            uid = self.next_uid
            self.next_uid += 1
            self.messages.append(StoredMessage(uid, raw))
            return uid

    def renumber(self, uidvalidity: int) -> None:
        """What a server does when it rebuilds the folder: new UIDVALIDITY, UIDs from 1."""
        with self.lock:
            self.uidvalidity = uidvalidity
            for number, message in enumerate(self.messages, start=1):
                message.uid = number
            self.next_uid = len(self.messages) + 1


_ARGUMENT = re.compile(r'"((?:[^"\\]|\\.)*)"|(\S+)')


def _arguments(text: str) -> list[str]:
    return [
        re.sub(r"\\(.)", r"\1", quoted) if quoted or bare == "" else bare
        for quoted, bare in _ARGUMENT.findall(text)
    ]


def _uid_set(spec: str, uids: list[int]) -> set[int]:
    highest = max(uids, default=0)
    wanted: set[int] = set()
    for part in spec.split(","):
        low, _sep, high = part.partition(":")
        start = highest if low == "*" else int(low)
        end = start if not high else (highest if high == "*" else int(high))
        start, end = min(start, end), max(start, end)
        wanted.update(uid for uid in uids if start <= uid <= end)
    return wanted


class _Handler(socketserver.StreamRequestHandler):
    store: MailStore

    def _send(self, line: str | bytes) -> None:
        data = line if isinstance(line, bytes) else line.encode()
        self.wfile.write(data + b"\r\n")

    def handle(self) -> None:
        store = self.server.store
        logged_in = selected = False
        self._send("* OK [CAPABILITY IMAP4rev1] test IMAP server ready")
        while True:
            line = self.rfile.readline()
            if not line:
                return
            tag, _sep, rest = line.decode("utf-8", "replace").rstrip("\r\n").partition(" ")
            command, _sep, arguments = rest.partition(" ")
            command = command.upper()
            store.commands.append(command if command != "UID" else f"UID {arguments}")
            if command == "CAPABILITY":
                self._send("* CAPABILITY IMAP4rev1")
                self._send(f"{tag} OK CAPABILITY completed")
            elif command == "NOOP":
                self._send(f"{tag} OK NOOP completed")
            elif command == "LOGOUT":
                self._send("* BYE logging out")
                self._send(f"{tag} OK LOGOUT completed")
                return
            elif command == "LOGIN":
                username, password = [*_arguments(arguments), "", ""][:2]
                if (username, password) == (store.username, store.password):
                    logged_in = True
                    self._send(f"{tag} OK LOGIN completed")
                else:
                    self._send(f"{tag} NO [AUTHENTICATIONFAILED] Invalid credentials")
            elif not logged_in:
                self._send(f"{tag} BAD log in first")
            elif command in {"SELECT", "EXAMINE"}:
                folder = (_arguments(arguments) or [""])[0]
                if folder.upper() != store.folder.upper():
                    self._send(f"{tag} NO [NONEXISTENT] no such folder")
                    continue
                selected = True
                with store.lock:
                    self._send(f"* {len(store.messages)} EXISTS")
                    self._send("* 0 RECENT")
                    self._send(f"* OK [UIDVALIDITY {store.uidvalidity}] UIDs valid")
                    self._send(f"* OK [UIDNEXT {store.next_uid}] predicted next UID")
                self._send(f"{tag} OK [READ-WRITE] {command} completed")
            elif command == "UID" and selected:
                self._uid_command(tag, arguments, store)
            else:
                self._send(f"{tag} BAD unknown or misplaced command")

    def _uid_command(self, tag: str, arguments: str, store: MailStore) -> None:
        verb, _sep, rest = arguments.partition(" ")
        verb = verb.upper()
        with store.lock:
            messages = list(store.messages)
        uids = [message.uid for message in messages]
        if verb == "SEARCH":
            match = re.fullmatch(r"(?:CHARSET \S+ )?UID (\S+)", rest, re.IGNORECASE)
            if match is None:
                self._send(f"{tag} BAD only UID searches here")
                return
            found = sorted(_uid_set(match.group(1), uids))
            self._send("* SEARCH" + "".join(f" {uid}" for uid in found))
            self._send(f"{tag} OK SEARCH completed")
        elif verb == "FETCH":
            spec, _sep, items = rest.partition(" ")
            wanted = _uid_set(spec, uids)
            item_name = "RFC822" if "RFC822" in items.upper() else "BODY[]"
            for number, message in enumerate(messages, start=1):
                if message.uid in wanted:
                    head = f"* {number} FETCH (UID {message.uid} {item_name} {{{len(message.raw)}}}"
                    self.wfile.write(head.encode() + b"\r\n" + message.raw + b")\r\n")
            self._send(f"{tag} OK FETCH completed")
        else:
            self._send(f"{tag} BAD unsupported UID command")


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


class LocalImapServer:
    def __init__(self, *, username: str = "support", password: str = "s3cret pass") -> None:
        self.store = MailStore(username=username, password=password)
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.store = self.store
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def add(self, raw: bytes) -> int:
        return self.store.add(raw)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
