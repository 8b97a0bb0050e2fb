"""When customers were first mailed about each version, read from the ledger when there is one.

A site build only reads: it never creates a database, and without one (or with one this
version of notices cannot read) every version's date is unknown. Without an SQLite file it does
not even import SQLAlchemy (a fifth of a second).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from notifier.releases.history import Release
from notifier.settings import Settings


def notified_dates(settings: Settings, releases: Sequence[Release]) -> dict[str, date]:
    """Release id → the day (in the notices' timezone) the first mail about its version went.

    Mails about a version are planned on one locale's release; every locale's release of that
    version shares the date.
    """
    file = settings.database_file
    if file is not None and not file.is_file():
        return {}
    from sqlalchemy import func, select

    from notifier.storage import db

    engine = db.existing(settings)
    if engine is None:
        return {}
    table = db.deliveries
    query = (
        select(table.c.release_id, func.min(table.c.sent_at))
        .where(table.c.sent_at.is_not(None))
        .group_by(table.c.release_id)
    )
    try:
        with engine.connect() as connection:
            first = {row[0]: row[1] for row in connection.execute(query)}
    finally:
        engine.dispose()
    by_version: dict[tuple[str, str], date] = {}
    for release in releases:
        sent = first.get(release.id)
        if sent is not None:
            key = (release.notice, release.version)
            day = db.utc(sent).astimezone(settings.timezone).date()
            by_version[key] = min(day, by_version.get(key, day))
    return {
        release.id: by_version[(release.notice, release.version)]
        for release in releases
        if (release.notice, release.version) in by_version
    }

