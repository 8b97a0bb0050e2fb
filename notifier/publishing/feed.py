"""The Atom feed and releases.json: what feed readers and watchers poll instead of the pages."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime, time
from typing import Any
from urllib.parse import urlsplit

from feedgen.feed import FeedGenerator

from notifier.publishing.links import absolute
from notifier.publishing.model import (
    CURRENT,
    FEED,
    SOURCE_FILE,
    UPCOMING,
    Entry,
    SiteOptions,
)
from notifier.publishing.templates import render
from notifier.releases.history import Release

FORMAT = 1


def tag_uri(options: SiteOptions, release: Release) -> str:
    """`tag:privacy.example.com,2018-11-01:privacy/zh-CN/2018-11-01`: never changes.

    The authority is the site's host and the date the release was first published; both are
    fixed once the release is on main, so feed readers never see an entry twice.
    """
    host = urlsplit(options.url).hostname or "localhost"
    published = release.published.astimezone(options.timezone).date().isoformat()
    return f"tag:{host},{published}:{release.id}"


def atom_feed(entries: Sequence[Entry], options: SiteOptions) -> bytes:
    """An Atom feed of every release, oldest first, with ids that never change."""
    feed = FeedGenerator()
    host = urlsplit(options.url).hostname or "localhost"
    first = min((e.release.published for e in entries), default=None)
    since = first.astimezone(options.timezone).date().isoformat() if first else "2000-01-01"
    feed.id(f"tag:{host},{since}:feed")
    feed.title(options.title)
    feed.link(href=absolute(options, FEED), rel="self", type="application/atom+xml")
    feed.link(href=options.url, rel="alternate", type="text/html")
    feed.language(options.default_locale)
    newest = datetime.combine(date(2000, 1, 1), time(0), tzinfo=options.timezone)
    for entry in entries:
        release = entry.release
        updated = _entry_updated(release)
        newest = max(newest, updated)
        item = feed.add_entry(order="append")
        item.id(tag_uri(options, release))
        item.title(f"{release.title} {release.version}")
        item.link(href=absolute(options, entry.url), rel="alternate", type="text/html")
        item.published(release.published)
        item.updated(updated)
        item.summary(release.summary or release.title)
        redline = absolute(options, entry.redline_url) if entry.redline_url else None
        content = render("feed_entry.html.j2", release.locale, entry=entry, redline_url=redline)
        item.content(content, type="html")
    feed.updated(newest)
    return bytes(feed.atom_str(pretty=True))


def _entry_updated(release: Release) -> datetime:
    if release.revisions:
        return max(release.published, release.revisions[-1].committed)
    return release.published


def release_record(entry: Entry, options: SiteOptions) -> dict[str, Any]:
    """One release in releases.json: what watchers need to track the statement."""
    release = entry.release
    verdict = entry.verdict
    return {
        "id": release.id,
        "notice": release.notice,
        "locale": release.locale,
        "version": release.version,
        "title": release.title,
        "status": entry.status,
        "announced": release.published.isoformat(),
        "published": release.published.isoformat(),
        "effective": release.effective.isoformat(),
        "last_updated": release.last_updated.isoformat(),
        # the day customers were first mailed about this version (None: not mailed, or unknown)
        "notified": entry.notified.isoformat() if entry.notified else None,
        # a notice's first release is compared with nothing: nothing to tell (as `log --json`)
        "material": None if verdict and verdict.undecided else bool(verdict and verdict.material),
        "verdict": verdict.decision if verdict else "not-material",
        "tier": verdict.tier if verdict else None,
        "material_reason": verdict.override_reason if verdict else None,
        "override_commit": verdict.override.commit if verdict and verdict.override else None,
        "summary": release.summary,
        "sha256": release.sha256,
        "commit": release.commit,
        "revisions": len(release.revisions),
        "url": absolute(options, entry.url),
        "redline_url": absolute(options, entry.redline_url) if entry.redline_url else None,
        "source_url": absolute(options, entry.url + SOURCE_FILE),
        "feed_id": tag_uri(options, release),
    }


def releases_json(entries: Sequence[Entry], options: SiteOptions) -> bytes:
    """releases.json: every release in publish order, plus what is current and upcoming."""
    notices: dict[str, dict[str, Any]] = {}
    for entry in entries:
        release = entry.release
        key = f"{release.notice}/{release.locale}"
        info = notices.setdefault(
            key,
            {
                "notice": release.notice,
                "locale": release.locale,
                "url": absolute(options, entry.prefix),
                "current": None,
                "upcoming": [],
            },
        )
        if entry.status == CURRENT:
            info["current"] = release.version
        elif entry.status == UPCOMING:
            info["upcoming"].append(release.version)
    document = {
        "format": FORMAT,
        "site": options.url,
        "feed": absolute(options, FEED),
        "notices": list(notices.values()),
        "releases": [release_record(entry, options) for entry in entries],
    }
    return (json.dumps(document, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
