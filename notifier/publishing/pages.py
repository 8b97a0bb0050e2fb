"""Releases in, site pages out: the current, upcoming and archived statements, redlines, feed.

Pure: no MkDocs, no git, no clock. Everything a renderer needs (page Markdown, the metadata the
theme shows as banners, the navigation, the Atom feed and releases.json) comes from the assessed
releases (the verdicts `notices log` and `notify` use) and an injected `today`, so the same
history always gives the same site and the renderer (MkDocs today) can be replaced without
touching this logic.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, tzinfo

from notifier.locales import display_name
from notifier.publishing.feed import atom_feed, releases_json
from notifier.publishing.model import (
    FEED,
    RELEASES_JSON,
    Alternate,
    Asset,
    Entry,
    NavItem,
    Page,
    SiteOptions,
    SitePages,
    statuses,
)
from notifier.publishing.notice_pages import NoticePages, chrome
from notifier.releases.verdicts import AssessedRelease
from notifier.statement.notice import slugify

Key = tuple[str, str]  # (notice, locale)


def heading_slug(value: str, separator: str = "-") -> str:
    """Python-Markdown `toc` slugify: the notice's own ids for headings that have none.

    Chinese titles keep their characters (the default slugify would reduce them to '' and then
    `_1`, `_2`); headings with an explicit `{#id}` never reach this function.
    """
    return slugify(value).replace("-", separator)


def build_site(
    assessed: Sequence[AssessedRelease],
    *,
    options: SiteOptions,
    today: date,
    sources: Mapping[str, bytes] | None = None,
    notified: Mapping[str, date] | None = None,
) -> SitePages:
    """Generate every page and file of the site from the assessed releases in publish order.

    `sources` maps a release id to the bytes of its text in force when `release.text` is not
    those bytes (a BOM or CRLF line ends); the archive publishes the exact bytes. `notified`
    maps a release id to the day customers were first mailed about it.
    """
    groups: dict[Key, list[AssessedRelease]] = {}
    for item in assessed:
        groups.setdefault((item.release.notice, item.release.locale), []).append(item)
    keys = sorted(groups, key=lambda k: _group_order(k, options))
    prefixes = _prefixes(keys)
    pages: list[Page] = []
    assets: list[Asset] = []
    all_entries: list[Entry] = []
    nav: list[NavItem] = []
    updated = _newest_date(assessed, options.timezone)
    for key in keys:
        entries = _entries(groups[key], prefixes[key], today, notified or {})
        all_entries.extend(entries)
        group = NoticePages(entries, prefixes[key], options, updated)
        pages.extend(group.pages())
        assets.extend(group.sources(sources or {}))
        nav.append(group.nav(top=key == keys[0]))
    order = {item.release.id: index for index, item in enumerate(assessed)}
    ordered = sorted(all_entries, key=lambda e: order[e.release.id])
    assets.append(Asset(FEED, atom_feed(ordered, options)))
    assets.append(Asset(RELEASES_JSON, releases_json(ordered, options)))
    top, rest = (nav[0].children, nav[1:]) if nav else ((), [])
    return SitePages(
        title=options.title,
        url=options.url,
        pages=tuple(pages),
        assets=tuple(assets),
        nav=(*top, *rest),
        alternates=_alternates(keys, prefixes),
        updated=updated,
        default_meta=chrome(options.default_locale, prefix=""),
    )


def _group_order(key: Key, options: SiteOptions) -> tuple[bool, str, bool, str]:
    notice, locale = key
    return (
        notice != options.primary_notice,
        notice,
        locale != options.default_locale,
        locale,
    )


def _prefixes(keys: Sequence[Key]) -> dict[Key, str]:
    """URL prefix per (notice, locale): the first notice in the default locale lives at `/`."""
    if not keys:
        return {}
    primary = keys[0][0]
    first_locale = {notice: locale for notice, locale in reversed(keys)}
    prefixes = {}
    for notice, locale in keys:
        locale_part = "" if locale == first_locale[notice] else f"{locale}/"
        notice_part = "" if notice == primary else f"{notice}/"
        prefixes[(notice, locale)] = locale_part + notice_part
    return prefixes


def _alternates(keys: Sequence[Key], prefixes: Mapping[Key, str]) -> tuple[Alternate, ...]:
    if not keys:
        return ()
    primary = keys[0][0]
    locales = [locale for notice, locale in keys if notice == primary]
    if len(locales) < 2:
        return ()
    return tuple(
        Alternate(name=display_name(locale), url=prefixes[(primary, locale)] or "./", lang=locale)
        for locale in locales
    )


def _entries(
    assessed: Sequence[AssessedRelease], prefix: str, today: date, notified: Mapping[str, date]
) -> list[Entry]:
    status = statuses([item.release for item in assessed], today)
    return [
        Entry(item, status[item.release.id], prefix, notified.get(item.release.id))
        for item in assessed
    ]


def _newest_date(assessed: Sequence[AssessedRelease], tz: tzinfo) -> date:
    """The newest date in history: every page that has no date of its own is pinned to it."""
    dates = [date(1970, 1, 1)]
    for item in assessed:
        release = item.release
        dates.append(release.published.astimezone(tz).date())
        dates.extend(revision.committed.astimezone(tz).date() for revision in release.revisions)
    return max(dates)
