"""Optimistic locking: a record carries a `version`; an update names the version it was made
from, and is refused when the record has moved on since, instead of silently overwriting."""

from django.utils.translation import gettext as _


class StaleRecordError(Exception):
    """The record changed after the caller read it; the caller should reload and try again."""

    def __init__(self, *, record, given_version) -> None:
        self.record = record
        self.given_version = given_version
        self.current_version = record.version
        super().__init__(
            _(
                "%(record)s was changed by someone else since you opened it (your version "
                "%(given)s, now %(current)s). Reload it and make your change again."
            )
            % {"record": record, "given": given_version, "current": record.version}
        )


def version_check(*, record, given_version) -> None:
    """Refuse the update unless it was made from the record's current version."""
    try:
        given = int(given_version)
    except (TypeError, ValueError):
        given = None
    if given != record.version:
        raise StaleRecordError(record=record, given_version=given_version)
