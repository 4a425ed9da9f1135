"""How rows are recognised as customers already known, in the file or in the database.

- Same customer: the same external id, else the same (normalised) email, else the same
  (normalised E.164) phone. That order is also the order of trust when one row's values point
  at different customers: the first one that matches wins and the others are reported.
- Likely duplicate (reported, never merged): the same name once case, accents, punctuation,
  spacing and word order are ignored ("SMITH, John" and "john smith"), in the same company or
  the same city. Existing customers are found through the name index under the spellings a
  name may be stored as (`name_spellings`): other cases and word orders, and without accents or
  punctuation; a stored accent the file leaves out ("Zoë" for "Zoe") is not found.

`SeenKeys` remembers what the rows already imported in this file were matched on, in a SQLite
file on local disk rather than in memory, so a file of a million rows needs no more memory than
a file of a thousand.
"""

import os
import re
import sqlite3
import tempfile
import unicodedata
from collections.abc import Iterable

_TOKEN = re.compile(r"\w+")
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
# Parameters per SQLite statement: well under the limit of any SQLite still in use.
_SQLITE_CHUNK = 500


def identity_key(field: str, value) -> str:
    return f"{field}:{value}"


def customer_key(customer_id: int) -> str:
    return f"customer:{customer_id}"


def _strip_accents(text: str) -> str:
    if text.isascii():
        return text
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def name_key(name: str) -> str:
    """The name with case, accents, punctuation, spacing and word order taken out."""
    tokens = _TOKEN.findall(_strip_accents(name).casefold())
    if all(_CJK.search(token) for token in tokens):
        return "".join(tokens)
    return " ".join(sorted(tokens))


def likeness_keys(*, name: str, company: str, city: str) -> list[tuple[str, str]]:
    """(key, what matched) pairs under which a new customer can look like another one."""
    key = name_key(name)
    if not key:
        return []
    pairs = []
    if company:
        pairs.append((f"like:{key}|company:{company.casefold()}", "company"))
    if city:
        pairs.append((f"like:{key}|city:{city.casefold()}", "city"))
    return pairs


def name_spellings(name: str) -> set[str]:
    """Spellings under which the same name may be stored, to look candidates up by index:
    as written, and its words (without accents and punctuation) in their order, the other way
    round and as "Last, First", each as written, capitalised and in upper case."""
    words = _TOKEN.findall(_strip_accents(name))
    if _CJK.search(name):
        solid = "".join(words)
        return {name, solid, f"{solid[:1]} {solid[1:]}"}
    orders = {" ".join(words)}
    if 2 <= len(words) <= 4:
        orders |= {" ".join([words[-1], *words[:-1]]), f"{words[-1]}, {' '.join(words[:-1])}"}
    return {name} | {case(order) for order in orders for case in (str, str.title, str.upper)}


class SeenKeys:
    """key → (first row that had it, the customer that row became) for one import run."""

    def __init__(self):
        handle, self._path = tempfile.mkstemp(prefix="crm-import-", suffix=".sqlite3")
        os.close(handle)
        self._db = sqlite3.connect(self._path)
        self._db.executescript(
            "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA cache_size=-4096;"
            "CREATE TABLE seen (key TEXT PRIMARY KEY, row INTEGER NOT NULL, customer INTEGER)"
        )

    def find(self, keys: Iterable[str]) -> dict[str, tuple[int, int | None]]:
        wanted = list(dict.fromkeys(keys))
        found = {}
        for start in range(0, len(wanted), _SQLITE_CHUNK):
            chunk = wanted[start : start + _SQLITE_CHUNK]
            marks = ",".join("?" * len(chunk))
            rows = self._db.execute(
                f"SELECT key, row, customer FROM seen WHERE key IN ({marks})",
                chunk,
            )
            found.update({key: (row, customer) for key, row, customer in rows})
        return found

    def add(self, entries: Iterable[tuple[str, int, int | None]]) -> None:
        """Remember keys; a key already known keeps its first row."""
        self._db.executemany("INSERT OR IGNORE INTO seen VALUES (?, ?, ?)", entries)
        self._db.commit()

    def close(self) -> None:
        self._db.close()
        os.unlink(self._path)
