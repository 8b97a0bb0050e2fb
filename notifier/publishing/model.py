"""What the site is made of: its pages, files, navigation and each release in its place.

Renderer-neutral records: the MkDocs plugin turns them into MkDocs files, a replacement
renderer would read the same records.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, tzinfo
from typing import Any

from notifier.releases.history import Release
from notifier.releases.verdicts import AssessedRelease
from notifier.statement.diff import Comparison
from notifier.statement.materiality import Verdict

FEED = "feed.xml"
RELEASES_JSON = "releases.json"
ROBOTS = "robots.txt"
SITEMAP = "sitemap.xml"  # the renderer writes one per language
SOURCE_FILE = "source.txt"
CURRENT, UPCOMING, ARCHIVED = "current", "upcoming", "archived"


@dataclass(frozen=True, slots=True)
class SiteOptions:
    """What the site needs from the settings: name, public address, timezone, default locale.

    `title` is the site's name in the default locale, `titles` in others; `root` leads from the
    home of the language being generated to the site's root (`../` from `en/`), where the feed
    and releases.json live.
    """

    title: str
    url: str
    timezone: tzinfo
    default_locale: str = "zh-CN"
    primary_notice: str = "privacy"
    laws: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # [notices.laws]
    titles: Mapping[str, str] = field(default_factory=dict)
    root: str = ""

    def title_in(self, locale: str) -> str:
        return self.titles.get(locale) or self.title


@dataclass(frozen=True, slots=True)
class Page:
    """A generated page: its Markdown source path, URL, the theme's metadata and a pinned date."""

    path: str
    url: str
    title: str
    markdown: str
    meta: Mapping[str, Any]
    updated: date
    in_nav: bool = False


@dataclass(frozen=True, slots=True)
class Asset:
    """A generated file served as is (the feed, releases.json, a version's original bytes)."""

    path: str
    content: bytes


@dataclass(frozen=True, slots=True)
class NavItem:
    title: str
    path: str | None = None
    children: tuple[NavItem, ...] = ()


@dataclass(frozen=True, slots=True)
class Alternate:
    """One entry of the language switcher: the home page of a locale."""

    name: str
    url: str
    lang: str


@dataclass(frozen=True, slots=True)
class Entry:
    """A release in its place on the site: its status today, the verdict every tool shares and
    the day customers were first mailed about it (None: not mailed, or no ledger to tell)."""

    assessed: AssessedRelease
    status: str
    prefix: str
    notified: date | None = None

    @property
    def release(self) -> Release:
        return self.assessed.release

    @property
    def previous(self) -> Release | None:
        return self.assessed.previous

    @property
    def verdict(self) -> Verdict | None:
        return self.assessed.verdict

    @property
    def comparison(self) -> Comparison | None:
        return self.assessed.comparison

    @property
    def url(self) -> str:
        return f"{self.prefix}archive/{self.release.version}/"

    @property
    def redline_url(self) -> str | None:
        return f"{self.url}changes/" if self.previous is not None else None


def to_root(prefix: str) -> str:
    """From the home of a language's site under `prefix` (`en/`) up to the site's root (`../`)."""
    return "../" * prefix.count("/")


@dataclass(frozen=True, slots=True)
class Language:
    """One language's own site, built on its own under its prefix (`""`, `en/`).

    Paths and URLs of its pages, assets, navigation and switcher are inside that site, so each
    language gets its own theme language, navigation, search index and sitemap.
    """

    locale: str
    prefix: str
    title: str
    pages: tuple[Page, ...]
    assets: tuple[Asset, ...]
    nav: tuple[NavItem, ...]
    alternates: tuple[Alternate, ...]
    default_meta: Mapping[str, Any]  # for its hand-written pages

    @property
    def root(self) -> str:
        """From this language's home to the site's root: `../` from `en/`."""
        return to_root(self.prefix)


@dataclass(frozen=True, slots=True)
class SitePages:
    """Everything generated for the site: each language's pages, and the files at its root."""

    title: str
    url: str
    languages: tuple[Language, ...]  # the default locale first: its site is the root
    root_assets: tuple[Asset, ...]  # the feed, releases.json, robots.txt
    updated: date

    @property
    def pages(self) -> tuple[Page, ...]:
        """Every page with its path and URL from the site's root (`en/archive/`)."""
        return tuple(
            replace(page, path=lang.prefix + page.path, url=lang.prefix + page.url)
            for lang in self.languages
            for page in lang.pages
        )

    @property
    def assets(self) -> tuple[Asset, ...]:
        """Every generated file with its path from the site's root."""
        nested = (
            replace(asset, path=lang.prefix + asset.path)
            for lang in self.languages
            for asset in lang.assets
        )
        return (*nested, *self.root_assets)

    def page(self, path: str) -> Page:
        return next(page for page in self.pages if page.path == path)


def statuses(releases: Sequence[Release], today: date) -> dict[str, str]:
    """Release id → current | upcoming | archived, for the releases of one notice and locale.

    Current is the release in effect today with the latest effective date (the latest published
    among equals); releases whose effective date is after today are upcoming.
    """
    in_effect = [r for r in releases if r.effective <= today]
    current = max(in_effect, key=lambda r: (r.effective, r.published)) if in_effect else None
    return {
        r.id: CURRENT if r is current else UPCOMING if r.effective > today else ARCHIVED
        for r in releases
    }


def reference_of(releases: Sequence[Release], status: Mapping[str, str]) -> Release:
    """What a notice's `/compare/` pages compare every version with: the current version, else
    the newest (before any version is in effect)."""
    return next((r for r in releases if status[r.id] == CURRENT), releases[-1])


def compared_pairs(releases: Sequence[Release], today: date) -> list[tuple[Release, Release]]:
    """(older, newer) for each comparison page of one notice and locale (`releases` in publish
    order) that is not a release against the one before it, whose redline compared them."""
    reference = reference_of(releases, statuses(releases, today))
    at = releases.index(reference)
    return [
        (release, reference) if index < at else (reference, release)
        for index, release in enumerate(releases)
        if abs(index - at) > 1
    ]
