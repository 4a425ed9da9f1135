"""Turning a chat message's plain text into the HTML the browser shows.

Everything the author typed is escaped; only two things become markup: http(s) links, opened in
a new tab without handing the page a `window.opener`, and the @mentions the server recognised.
"""

import re

from django.utils.html import escape, urlize

# "@name" at the start or after a space or punctuation, so e-mail addresses and URLs such as
# https://example.com/@someone are not mistaken for mentions. Usernames may hold . + - _ and @.
MENTION_RE = re.compile(r"(?<![\w@/:.+-])@([\w.+-]*[\w+])")

_NOFOLLOW = 'rel="nofollow"'
_NEW_TAB = 'rel="nofollow noopener" target="_blank"'


def mention_tokens(body: str) -> set[str]:
    """The lower-cased names after each "@" in `body`."""
    return {match.group(1).lower() for match in MENTION_RE.finditer(body)}


def _linked(text: str) -> str:
    return urlize(text, nofollow=True, autoescape=True).replace(_NOFOLLOW, _NEW_TAB)


def message_html(body: str, *, mentions: dict[str, str]) -> str:
    """`body` escaped, with links made clickable and each mention named in `mentions` (lower-cased
    token -> label shown as the tooltip) wrapped in `<span class="mention">`."""
    parts: list[str] = []
    position = 0
    for match in MENTION_RE.finditer(body):
        label = mentions.get(match.group(1).lower())
        if label is None:
            continue
        parts.append(_linked(body[position : match.start()]))
        parts.append(
            f'<span class="mention" title="{escape(label)}">{escape(match.group(0))}</span>'
        )
        position = match.end()
    parts.append(_linked(body[position:]))
    return "".join(parts)
