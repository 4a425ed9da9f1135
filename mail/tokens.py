"""The signed tokens mail carries: reply tokens in subjects, unsubscribe links and tracking
links. All are signed with SECRET_KEY, so none can be made up or pointed at another record."""

import re

from django.core import signing
from django.utils.crypto import constant_time_compare, salted_hmac

REPLY_TOKEN_RE = re.compile(r"\[#([A-Z])(\d{1,18})-([0-9a-f]{6})\]")
_REPLY_SALT = "mail.reply-token"
_UNSUBSCRIBE_SALT = "mail.unsubscribe"
_OPEN_SALT = "mail.open"
_CLICK_SALT = "mail.click"


def _reply_signature(prefix: str, pk: int) -> str:
    return salted_hmac(_REPLY_SALT, f"{prefix}{pk}").hexdigest()[:6]


def reply_token(*, prefix: str, pk: int) -> str:
    """`[#T42-1a2b3c]`: which record a reply belongs to, with a signature so a sender cannot
    thread their mail into someone else's ticket by guessing its number."""
    return f"[#{prefix}{pk}-{_reply_signature(prefix, pk)}]"


def reply_token_read(subject: str) -> tuple[str, int] | None:
    """(prefix, pk) of the first well-signed reply token in `subject`, else None."""
    for match in REPLY_TOKEN_RE.finditer(subject or ""):
        prefix, pk, signature = match.group(1), int(match.group(2)), match.group(3)
        if constant_time_compare(signature, _reply_signature(prefix, pk)):
            return prefix, pk
    return None


def unsubscribe_token(*, customer_id: int, message_id: int | None) -> str:
    return signing.dumps({"c": customer_id, "m": message_id}, salt=_UNSUBSCRIBE_SALT)


def unsubscribe_token_read(token: str) -> tuple[int, int | None]:
    """(customer id, email id); raises signing.BadSignature for a token we did not sign."""
    data = signing.loads(token, salt=_UNSUBSCRIBE_SALT)
    return int(data["c"]), (int(data["m"]) if data.get("m") is not None else None)


def open_token(*, message_id: int) -> str:
    return signing.dumps(message_id, salt=_OPEN_SALT)


def open_token_read(token: str) -> int:
    return int(signing.loads(token, salt=_OPEN_SALT))


def click_token(*, message_id: int, url: str) -> str:
    return signing.dumps([message_id, url], salt=_CLICK_SALT, compress=True)


def click_token_read(token: str) -> tuple[int, str]:
    message_id, url = signing.loads(token, salt=_CLICK_SALT)
    return int(message_id), str(url)
