"""Releases in, site pages out: the current, upcoming and archived statements, redlines, feed.

Pure: no MkDocs, no git, no clock. Everything a renderer needs (page Markdown, the metadata the
theme shows as banners, the navigation, the Atom feed and releases.json) comes from the assessed
releases (the verdicts `notices log` and `notify` use) and an injected `today`, so the same
history always gives the same site and the renderer (MkDocs today) can be replaced without
touching this logic.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, tzinfo

from notifier.locales import display_name
from notifier.publishing.feed import atom_feed, releases_json
from notifier.publishing.model import (
    FEED,
    RELEASES_JSON,
    ROBOTS,
    SITEMAP,
    Alternate,
    Asset,
    Entry,
    Language,
    NavItem,
    Page,
    SiteOptions,
    SitePages,
    statuses,
    to_root,
)
from notifier.publishing.notice_pages import Computed, Derived, NoticePages, chrome
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
    derived: Derived | None = None,
) -> SitePages:
    """Generate every page and file of the site from the assessed releases in publish order.

    Each locale is a site of its own: the first (the default locale) at the root, the others
    under `<locale>/`; in each, the primary notice at its home and any other under `<notice>/`.
    `sources` maps a release id to the bytes of its text in force when `release.text` is not
    those bytes (a BOM or CRLF line ends); the archive publishes the exact bytes. `notified`
    maps a release id to the day customers were first mailed about it. `derived` gives the
    comparisons and inert texts (default: computed every time; a `JudgementCache` keeps them).
    """
    groups: dict[Key, list[AssessedRelease]] = {}
    for item in assessed:
        groups.setdefault((item.release.notice, item.release.locale), []).append(item)
    keys = sorted(groups, key=lambda k: _group_order(k, options))
    primary = keys[0][0] if keys else options.primary_notice
    locales = sorted({locale for _, locale in keys}, key=lambda x: (x != options.default_locale, x))
    prefixes = {locale: "" if locale == locales[0] else f"{locale}/" for locale in locales}
    switcher = [locale for notice, locale in keys if notice == primary]
    updated = _newest_date(assessed, options.timezone)
    languages: list[Language] = []
    site_entries: list[Entry] = []
    context = _Context(
        options, today, updated, primary, sources or {}, notified or {}, derived or Computed()
    )
    for locale in locales:
        own = {key[0]: groups[key] for key in keys if key[1] == locale}
        language, entries = _language(locale, prefixes, own, switcher, context)
        languages.append(language)
        site_entries.extend(entries)
    order = {item.release.id: index for index, item in enumerate(assessed)}
    ordered = sorted(site_entries, key=lambda e: order[e.release.id])
    return SitePages(
        title=options.title,
        url=options.url,
        languages=tuple(languages),
        root_assets=(
            Asset(FEED, atom_feed(ordered, options)),
            Asset(RELEASES_JSON, releases_json(ordered, options)),
            Asset(ROBOTS, robots_txt(options.url, languages)),
        ),
        updated=updated,
    )


@dataclass(frozen=True, slots=True)
class _Context:
    """What every language's pages are generated with."""

    options: SiteOptions
    today: date
    updated: date
    primary: str
    sources: Mapping[str, bytes]
    notified: Mapping[str, date]
    derived: Derived


def _language(
    locale: str,
    prefixes: Mapping[str, str],
    notices: Mapping[str, Sequence[AssessedRelease]],
    switcher: Sequence[str],
    context: _Context,
) -> tuple[Language, list[Entry]]:
    """One locale's site, and its entries addressed from the site's root (for the feed)."""
    prefix = prefixes[locale]
    local = replace(context.options, root=to_root(prefix))
    pages: list[Page] = []
    assets: list[Asset] = []
    nav: list[NavItem] = []
    site_entries: list[Entry] = []
    for index, (notice, assessed) in enumerate(notices.items()):
        notice_prefix = "" if notice == context.primary else f"{notice}/"
        entries = _entries(assessed, notice_prefix, context.today, context.notified)
        site_entries.extend(replace(e, prefix=prefix + notice_prefix) for e in entries)
        group = NoticePages(entries, notice_prefix, local, context.updated, context.derived)
        pages.extend(group.pages())
        assets.extend(group.sources(context.sources))
        nav.append(group.nav(top=index == 0))
    language = Language(
        locale=locale,
        prefix=prefix,
        title=context.options.title_in(locale),
        pages=tuple(pages),
        assets=tuple(assets),
        nav=(*nav[0].children, *nav[1:]),
        alternates=_alternates(switcher, prefixes, prefix),
        default_meta=chrome(locale, prefix="", root=local.root),
    )
    return language, site_entries


def robots_txt(url: str, languages: Sequence[Language]) -> bytes:
    """Every page may be crawled; each language's sitemap is named (search engines read the
    file at the host's root only, so a site under a path gets it for completeness)."""
    lines = ["User-agent: *", "Disallow:", ""]
    lines += [f"Sitemap: {url}{lang.prefix}{SITEMAP}" for lang in languages]
    return ("\n".join(lines) + "\n").encode("utf-8")


def _group_order(key: Key, options: SiteOptions) -> tuple[bool, str, bool, str]:
    notice, locale = key
    return (
        notice != options.primary_notice,
        notice,
        locale != options.default_locale,
        locale,
    )


def _alternates(
    locales: Sequence[str], prefixes: Mapping[str, str], here: str
) -> tuple[Alternate, ...]:
    """The language switcher on the site under `here`: each locale's home, relative to it."""
    if len(locales) < 2:
        return ()
    up = to_root(here)
    return tuple(
        Alternate(
            name=display_name(locale),
            url="./" if prefixes[locale] == here else (up + prefixes[locale]) or "./",
            lang=locale,
        )
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
