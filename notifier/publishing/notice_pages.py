"""The pages of one notice in one locale: its statement, upcoming version, archive, redlines and
comparisons, each with the banners and facts the theme shows."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Protocol

from markupsafe import Markup, escape

from notifier.locales import format_date
from notifier.publishing.changes import changes_markdown
from notifier.publishing.links import md_link
from notifier.publishing.model import (
    ARCHIVED,
    CURRENT,
    FEED,
    RELEASES_JSON,
    SOURCE_FILE,
    UPCOMING,
    Asset,
    Entry,
    NavItem,
    Page,
    SiteOptions,
    reference_of,
)
from notifier.publishing.templates import render, text
from notifier.releases.history import Release
from notifier.statement.diff import Comparison, compare
from notifier.statement.sanitize import inert_body


class Derived(Protocol):
    """What pages derive from texts, computed (`Computed`) or kept between builds
    (`JudgementCache`, which computes what it does not hold)."""

    def compared(self, old: Release, new: Release) -> Comparison:
        """`compare` of two releases' texts in force."""
        ...

    def inert_body(self, release: Release) -> str:
        """The body of the release's text in force as pages show it: made inert."""
        ...


class Computed:
    """`Derived`, computed every time."""

    def compared(self, old: Release, new: Release) -> Comparison:
        return compare(old.notice_doc, new.notice_doc)

    def inert_body(self, release: Release) -> str:
        return inert_body(release.notice_doc)


_H1 = re.compile(r"^# .*$", re.M)
_ATTRIBUTES = re.compile(r"\s*\{:?[^{}]*\}\s*$")  # `{#privacy-statement}` ending a heading


def chrome(locale: str, prefix: str, root: str = "") -> dict[str, Any]:
    """Metadata every page carries for the theme: its language and the footer's links.

    `root` leads from the language's home to the site's root, where the feed lives."""
    return {
        "lang": locale,
        "links_label": text(locale, "site_links"),
        "links": [
            {"text": text(locale, "archive"), "url": f"{prefix}archive/"},
            {"text": text(locale, "compare"), "url": f"{prefix}compare/"},
            {"text": text(locale, "feed"), "url": root + FEED, "rel": "alternate"},
            {"text": RELEASES_JSON, "url": root + RELEASES_JSON},
        ],
    }


def release_updated(release: Release, options: SiteOptions) -> date:
    """The page date of a version: its last editorial revision, else its publication."""
    if release.revisions:
        return release.revisions[-1].committed.astimezone(options.timezone).date()
    return release.published.astimezone(options.timezone).date()


def _labelled(heading: str, label: str) -> str:
    """The title heading with its status for search and screen readers, not shown on screen:
    search lists the current and the upcoming statement under their headings, told apart."""
    hidden = f'<span class="notices-hidden">{escape(label)}</span>'
    attributes = _ATTRIBUTES.search(heading)
    at = attributes.start() if attributes else len(heading)
    return heading[:at] + hidden + heading[at:]


def _banner(kind: str, sentence: str, link: str | None, link_text: str) -> dict[str, Any]:
    return {
        "kind": kind,
        "text": sentence,
        "link": link,
        "link_text": link_text if link is not None else None,
    }


@dataclass(frozen=True, slots=True)
class NoticePages:
    """The pages of one notice in one locale."""

    entries: Sequence[Entry]
    prefix: str
    options: SiteOptions
    updated: date
    derived: Derived  # comparisons and inert bodies
    # each comparison lists the releases it spans: n² list items, most of them alike
    _listed: dict[tuple[str, str], Markup] = field(default_factory=dict, compare=False)
    _positions: dict[str, int] = field(default_factory=dict, compare=False)

    @property
    def locale(self) -> str:
        return self.entries[0].release.locale

    @property
    def current(self) -> Entry | None:
        return next((e for e in self.entries if e.status == CURRENT), None)

    @property
    def upcoming(self) -> Entry | None:
        waiting = [e for e in self.entries if e.status == UPCOMING]
        return min(waiting, key=lambda e: (e.release.effective, e.release.published), default=None)

    @property
    def reference(self) -> Entry:
        """What `/compare/` compares with (see `reference_of`)."""
        status = {entry.release.id: entry.status for entry in self.entries}
        release = reference_of([entry.release for entry in self.entries], status)
        return next(entry for entry in self.entries if entry.release is release)

    def text(self, key: str, **fields: object) -> str:
        return text(self.locale, key, **fields)

    def written(self, value: date) -> str:
        return format_date(value, self.locale)

    def published(self, release: Release) -> date:
        return release.published.astimezone(self.options.timezone).date()

    def pages(self) -> list[Page]:
        pages = [self.home()]
        upcoming = self.upcoming
        if upcoming is not None:
            pages.append(self.statement(upcoming, f"{self.prefix}upcoming/", in_nav=True))
        pages.append(self.archive_index())
        for entry in self.entries:
            pages.append(self.statement(entry, entry.url))
            if entry.previous is not None:
                pages.append(self.redline(entry))
        pages.append(self.compare_index())
        reference = self.reference
        for entry in self.entries:
            if entry is not reference:
                pages.append(self.comparison_page(entry, reference))
        return pages

    def nav(self, *, top: bool) -> NavItem:
        items = [NavItem(self.text("current"), f"{self.prefix}index.md")]
        if self.upcoming is not None:
            items.append(NavItem(self.text("upcoming"), f"{self.prefix}upcoming/index.md"))
        items.append(NavItem(self.text("archive"), f"{self.prefix}archive/index.md"))
        items.append(NavItem(self.text("compare"), f"{self.prefix}compare/index.md"))
        release = self.entries[0].release
        title = release.title if top else f"{release.title} ({self.locale})"
        return NavItem(title, children=tuple(items))

    def sources(self, given: Mapping[str, bytes]) -> list[Asset]:
        assets = []
        for entry in self.entries:
            release = entry.release
            data = given.get(release.id)
            if data is None:
                data = release.text.encode("utf-8")
            if hashlib.sha256(data).hexdigest() != release.sha256:
                continue  # never publish bytes that are not the text in force
            assets.append(Asset(f"{entry.url}{SOURCE_FILE}", data))
        return assets

    # --- pages ---------------------------------------------------------------------------------

    def meta(self, title: str, **extra: Any) -> dict[str, Any]:
        """`page.meta` for the theme: the title, and under `notices` links, kind and status."""
        notices = chrome(self.locale, self.prefix, self.options.root)
        meta: dict[str, Any] = {"title": title, "notices": notices}
        meta["notices"].update(extra)
        return meta

    def render(self, name: str, **context: Any) -> str:
        return render(name, self.locale, published=self.published, **context)

    def home(self) -> Page:
        """`/`: the version in effect (or, before any is, the next one)."""
        shown = self.current or self.upcoming or self.entries[-1]
        return self.statement(shown, self.prefix, in_nav=True)

    def statement(self, entry: Entry, url: str, *, in_nav: bool = False) -> Page:
        """A version's text: where the reader stands and one line of facts under its title, the
        SHA-256 and the original bytes folded away at the end."""
        release = entry.release
        body = self.derived.inert_body(release) + "\n"
        match = _H1.search(body)
        heading, rest = "", body
        if match and not body[: match.start()].strip():
            heading, rest = body[: match.end()], body[match.end() :]
        title = self.statement_title(entry, url)
        if url != entry.url and heading:
            heading = _labelled(heading, title.removeprefix(release.title))
        markdown = self.render(
            "statement.md.j2",
            heading=Markup(heading),
            rest=Markup(rest),
            entry=entry,
            url=url,
            banners=self.banners(entry, url),
        )
        meta = self.meta(
            title,
            kind="statement",
            status=entry.status,
            version=release.version,
            release=release.id,
        )
        if url == entry.url:
            meta["search"] = {"exclude": True}  # the archive copy; search finds `/` instead
        elif url == self.prefix:
            meta["search"] = {"boost": 2}  # the current statement before the upcoming one
        updated = release_updated(release, self.options)
        return Page(f"{url}index.md", url, meta["title"], markdown, meta, updated, in_nav=in_nav)

    def statement_title(self, entry: Entry, url: str) -> str:
        """The page's title, as search lists it: the current and the upcoming statement are
        told apart by their status and date; an archived copy by its version."""
        release = entry.release
        effective = self.written(release.effective)
        if url == entry.url:
            return self.text("versioned", title=release.title, version=release.version)
        key = "title_current" if entry.status == CURRENT else "title_upcoming"
        return self.text(key, title=release.title, effective=effective)

    def dates(self, release: Release) -> dict[str, str]:
        """The fields a banner sentence names: version, effective and publication dates."""
        return {
            "version": release.version,
            "effective": self.written(release.effective),
            "published": self.written(self.published(release)),
        }

    def banners(self, entry: Entry, url: str) -> list[dict[str, Any]]:
        fields = self.dates(entry.release)
        see_current = self.text("banner_see_current")
        if entry.status == CURRENT:
            banners = [
                _banner(
                    CURRENT,
                    self.text("banner_current", **fields),
                    entry.url if url != entry.url else None,
                    self.text("banner_current_link"),
                )
            ]
            upcoming = self.upcoming
            if upcoming is not None:
                banners.append(
                    _banner(
                        UPCOMING,
                        self.text("banner_upcoming_next", **self.dates(upcoming.release)),
                        f"{self.prefix}upcoming/",
                        self.text("banner_upcoming_next_link"),
                    )
                )
            return banners
        current = self.current
        link = self.prefix if current else None
        if entry.status == UPCOMING:
            key = "banner_upcoming" if current else "banner_upcoming_first"
            sentence = self.text(key, **fields)
            return [_banner(UPCOMING, sentence, link, see_current)]
        return [_banner(ARCHIVED, self.archived_text(entry, fields), link, see_current)]

    def archived_text(self, entry: Entry, fields: Mapping[str, str]) -> str:
        """When a version was replaced: the next effective date among versions now in force."""
        later = [
            e.release.effective
            for e in self.entries
            if e.status != UPCOMING and e.release.effective > entry.release.effective
        ]
        if not later:
            return self.text("banner_archived", **fields)
        return self.text("banner_archived_period", **fields, until=self.written(min(later)))

    def archive_index(self) -> Page:
        path = f"{self.prefix}archive/index.md"
        url = f"{self.prefix}archive/"
        markdown = self.render("archive.md.j2", url=url, entries=self.entries[::-1])
        title = self.text("archive")
        meta = self.meta(title, kind="archive")
        return Page(path, url, title, markdown, meta, self.updated, in_nav=True)

    def redline(self, entry: Entry) -> Page:
        """A release against the one before it, with the verdict every tool shares."""
        assert entry.previous is not None and entry.redline_url is not None
        assert entry.comparison is not None
        title = self.text(
            "redline_title",
            title=entry.release.title,
            old=entry.previous.version,
            new=entry.release.version,
        )
        url = entry.redline_url
        previous = next(e for e in self.entries if e.release is entry.previous)
        markdown = changes_markdown(
            locale=self.locale,
            title=title,
            url=url,
            old=previous,
            new=entry,
            comparison=entry.comparison,
            verdict=entry.verdict,
            laws=self.options.laws.get(entry.release.notice, ()),
            banners=self.banners(entry, url),
        )
        meta = self.meta(title, kind="redline", version=entry.release.version)
        meta["search"] = {"exclude": True}
        updated = release_updated(entry.release, self.options)
        return Page(f"{url}index.md", url, title, markdown, meta, updated)

    def comparison_page(self, entry: Entry, reference: Entry) -> Page:
        """A version against the reference: the redline alone, and the verdicts in between."""
        position = self.positions
        older, newer = sorted((entry, reference), key=lambda e: position[e.release.id])
        if newer.previous is older.release and newer.comparison is not None:
            comparison = newer.comparison  # already compared when the release was assessed
        else:
            comparison = self.derived.compared(older.release, newer.release)
        title = self.text(
            "compare_title",
            title=entry.release.title,
            old=older.release.version,
            new=newer.release.version,
        )
        url = f"{self.prefix}compare/{entry.release.version}/"
        spanned = self.entries[position[older.release.id] + 1 : position[newer.release.id] + 1]
        markdown = changes_markdown(
            locale=self.locale,
            title=title,
            url=url,
            old=older,
            new=newer,
            comparison=comparison,
            verdict=None,
            between=[self.listed(url, e) for e in spanned],
        )
        meta = self.meta(title, kind="compare", version=entry.release.version)
        meta["search"] = {"exclude": True}
        return Page(f"{url}index.md", url, title, markdown, meta, self.updated)

    @property
    def positions(self) -> dict[str, int]:
        """Release id → its place in `entries`."""
        if not self._positions:
            self._positions.update((e.release.id, i) for i, e in enumerate(self.entries))
        return self._positions

    def listed(self, url: str, entry: Entry) -> Markup:
        """`entry` as a list item on the page at `url`: its redline link and its verdict."""
        assert entry.redline_url is not None
        link = md_link(f"{url}index.md", f"{entry.redline_url}index.md")
        key = (entry.release.id, link)
        if key not in self._listed:
            self._listed[key] = Markup(self.render("between.md.j2", entry=entry, link=link))
        return self._listed[key]

    def compare_index(self) -> Page:
        reference = self.reference
        path = f"{self.prefix}compare/index.md"
        url = f"{self.prefix}compare/"
        entries = self.entries[::-1]
        markdown = self.render(
            "compare_index.md.j2", path=path, url=url, reference=reference, entries=entries
        )
        title = self.text("compare")
        meta = self.meta(title, kind="compare-index")
        return Page(path, url, title, markdown, meta, self.updated, in_nav=True)
