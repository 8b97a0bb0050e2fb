"""Releases in, site pages out: the current, upcoming and archived statements, redlines, feed.

Pure: no MkDocs, no git, no clock. Everything a renderer needs (page Markdown, the metadata the
theme shows as banners, the navigation, the Atom feed and releases.json) comes from the releases,
their verdicts and an injected `today`, so the same history always gives the same site and the
renderer (MkDocs today) can be replaced without touching this logic.
"""

from __future__ import annotations

import hashlib
import html
import json
import posixpath
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, tzinfo
from typing import Any
from urllib.parse import urlsplit

from feedgen.feed import FeedGenerator

from notifier.releases.history import Release
from notifier.statement.diff import Change, Comparison, compare
from notifier.statement.materiality import ChangeVerdict, Reason, RuleSet, Verdict, assess
from notifier.statement.notice import slugify
from notifier.statement.redline import redline_html
from notifier.statement.sanitize import safe_markdown

FEED = "feed.xml"
RELEASES_JSON = "releases.json"
SOURCE_FILE = "source.txt"
FORMAT = 1

CURRENT, UPCOMING, ARCHIVED = "current", "upcoming", "archived"
_MONTHS = (
    "January February March April May June July August September October November December"
).split()
_MD_SPECIAL = re.compile(r"([\\`*_\[\]{}|#!])")
_H1 = re.compile(r"^# .*$", re.M)

# Site chrome in the notice's language: notice-facing text follows the notice, not the operator.
_TEXT: Mapping[str, Mapping[str, str]] = {
    "zh": {
        "current": "当前版本",
        "upcoming": "即将生效",
        "archive": "历史版本",
        "compare": "比较版本",
        "version": "版本",
        "published": "发布日期",
        "effective": "生效日期",
        "last_updated": "最后更新",
        "material": "重大变更",
        "not_material": "非重大变更",
        "first": "首个版本",
        "summary": "摘要",
        "status": "状态",
        "changes": "更改",
        "sha256": "SHA-256",
        "source": "下载原文（逐字节）",
        "redline_prev": "与上一版本（{old}）的差异",
        "banner_current": "这是自 {effective}起生效的当前版本（{version}）。",
        "banner_current_link": "此版本的固定网址",
        "banner_upcoming_next": "新版本（{version}）已于 {published}发布，将于 {effective}生效。",
        "banner_upcoming_next_link": "查看即将生效的版本",
        "banner_upcoming": "此版本（{version}）尚未生效，将于 {effective}生效。",
        "banner_archived": "此版本（{version}）已存档，不再生效。",
        "banner_archived_period": "此版本（{version}）已存档：{effective}至 {until}有效。",
        "banner_see_current": "查看当前版本",
        "banner_none": "目前没有已生效的版本。",
        "redline_title": "{title}：{old} → {new} 的更改",
        "compare_title": "{title}：{old} 与 {new} 的比较",
        "redline_intro": "以下按章节列出 {old} 至 {new} 的全部更改："
        "插入的文字带下划线，删除的文字带删除线。",
        "no_changes": "两个版本的文字没有差异。",
        "between": "其间发布的版本及其重大变更评定：",
        "verdict_material": "本次更改被评定为重大变更（{tier}）。",
        "verdict_quiet": "本次更改未被评定为重大变更（{tier}）。",
        "override": "发布者说明：{reason}",
        "why": "重大变更",
        "sources": "依据",
        "triggers": "触发词",
        "kind_added": "新增章节",
        "kind_removed": "删除章节",
        "kind_modified": "修改",
        "kind_moved": "移动",
        "kind_formatting": "仅格式调整",
        "moved_from": "移自 {section}",
        "moved_to": "移至 {section}",
        "archive_intro": "每个版本都有固定不变的网址，并附有其原文的 SHA-256 校验值。",
        "compare_intro": "选择一个版本，查看它与当前版本（{version}）之间的全部更改。",
        "compare_with_current": "与当前版本比较",
        "compare_pick": "比较",
        "feed": "订阅更新（Atom）",
        "yes": "是",
        "no": "否",
        "status_current": "当前版本",
        "status_upcoming": "即将生效",
        "status_archived": "已存档",
        "language": "中文（简体）",
        "verify": "下载后运行 {command}，结果应与此校验值一致。",
    },
    "en": {
        "current": "Current version",
        "upcoming": "Upcoming",
        "archive": "Archive",
        "compare": "Compare versions",
        "version": "Version",
        "published": "Published",
        "effective": "Effective",
        "last_updated": "Last updated",
        "material": "Material change",
        "not_material": "Not material",
        "first": "First version",
        "summary": "Summary",
        "status": "Status",
        "changes": "Changes",
        "sha256": "SHA-256",
        "source": "Download the text (byte for byte)",
        "redline_prev": "Changes since the previous version ({old})",
        "banner_current": "This is the current version ({version}), in effect since {effective}.",
        "banner_current_link": "Permanent address of this version",
        "banner_upcoming_next": "A new version ({version}) was published on {published} and takes "
        "effect on {effective}.",
        "banner_upcoming_next_link": "Read the upcoming version",
        "banner_upcoming": "This version ({version}) is not in effect yet; it takes effect on "
        "{effective}.",
        "banner_archived": "This version ({version}) is archived and no longer in effect.",
        "banner_archived_period": "This version ({version}) is archived: it was in effect from "
        "{effective} until {until}.",
        "banner_see_current": "Read the current version",
        "banner_none": "No version is in effect yet.",
        "redline_title": "{title}: changes from {old} to {new}",
        "compare_title": "{title}: {old} compared with {new}",
        "redline_intro": "Every change from {old} to {new}, section by section: inserted text is "
        "underlined, deleted text is struck through.",
        "no_changes": "The two versions have the same text.",
        "between": "Versions published in between, each with its own verdict:",
        "verdict_material": "These changes are material ({tier}).",
        "verdict_quiet": "These changes are not material ({tier}).",
        "override": "Publisher's note: {reason}",
        "why": "Material change",
        "sources": "Sources",
        "triggers": "Triggered by",
        "kind_added": "Section added",
        "kind_removed": "Section removed",
        "kind_modified": "Changed",
        "kind_moved": "Moved",
        "kind_formatting": "Formatting only",
        "moved_from": "moved from {section}",
        "moved_to": "moved to {section}",
        "archive_intro": "Every version has a permanent address and the SHA-256 of its text.",
        "compare_intro": "Pick a version to see every change between it and the current version "
        "({version}).",
        "compare_with_current": "Compare with the current version",
        "compare_pick": "Compare",
        "feed": "Subscribe (Atom)",
        "yes": "yes",
        "no": "no",
        "status_current": "current",
        "status_upcoming": "upcoming",
        "status_archived": "archived",
        "language": "English",
        "verify": "After downloading, {command} prints this same value.",
    },
}


@dataclass(frozen=True, slots=True)
class SiteOptions:
    """What the site needs from the settings: name, public address, timezone, default locale."""

    title: str
    url: str
    timezone: tzinfo
    default_locale: str = "zh-CN"
    primary_notice: str = "privacy"


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
class Judgement:
    """The comparison of two releases and its materiality verdict."""

    old: Release
    new: Release
    comparison: Comparison
    verdict: Verdict


@dataclass(frozen=True, slots=True)
class Entry:
    """A release in its place on the site: status today, its verdict against the previous one."""

    release: Release
    status: str
    judgement: Judgement | None
    prefix: str

    @property
    def url(self) -> str:
        return f"{self.prefix}archive/{self.release.version}/"

    @property
    def redline_url(self) -> str | None:
        return f"{self.url}changes/" if self.judgement else None


@dataclass(frozen=True, slots=True)
class SitePages:
    """Everything generated for the site."""

    title: str
    url: str
    pages: tuple[Page, ...]
    assets: tuple[Asset, ...]
    nav: tuple[NavItem, ...]
    alternates: tuple[Alternate, ...]
    updated: date
    default_meta: Mapping[str, Any] = field(default_factory=dict)

    def page(self, path: str) -> Page:
        return next(page for page in self.pages if page.path == path)


class Judge:
    """Compares releases (and assesses consecutive ones); each pair is computed once.

    Only a release against the one before it gets a verdict: that is what was published and
    notified. A comparison across several releases (`/compare/`) shows the redline alone and
    links the verdicts of the releases in between.
    """

    def __init__(self, rules: RuleSet) -> None:
        self.rules = rules
        self._judged: dict[tuple[str, str], Judgement] = {}
        self._compared: dict[tuple[str, str], Comparison] = {}

    def __call__(self, old: Release, new: Release) -> Judgement:
        key = (old.id, new.id)
        if key not in self._judged:
            comparison = self.compare(old, new)
            verdict = assess(comparison, self.rules, new.notice_doc.front)
            self._judged[key] = Judgement(old, new, comparison, verdict)
        return self._judged[key]

    def compare(self, old: Release, new: Release) -> Comparison:
        key = (old.id, new.id)
        if key not in self._compared:
            self._compared[key] = compare(old.notice_doc, new.notice_doc)
        return self._compared[key]


def judge_with(rules: RuleSet) -> Judge:
    return Judge(rules)


def heading_slug(value: str, separator: str = "-") -> str:
    """Python-Markdown `toc` slugify: the notice's own ids for headings that have none.

    Chinese titles keep their characters (the default slugify would reduce them to '' and then
    `_1`, `_2`); headings with an explicit `{#id}` never reach this function.
    """
    return slugify(value).replace("-", separator)


def ui_language(locale: str) -> str:
    return "zh" if locale.lower().startswith("zh") else "en"


def format_date(value: date, locale: str) -> str:
    """`2018 年 11 月 1 日` on Chinese pages, `1 November 2018` elsewhere."""
    if ui_language(locale) == "zh":
        return f"{value.year} 年 {value.month} 月 {value.day} 日"
    return f"{value.day} {_MONTHS[value.month - 1]} {value.year}"


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


def build_site(
    releases: Sequence[Release],
    *,
    options: SiteOptions,
    judge: Judge,
    today: date,
    sources: Mapping[str, bytes] | None = None,
) -> SitePages:
    """Generate every page and file of the site from the releases (ordered by publish time).

    `sources` maps a release id to the bytes of its text in force when `release.text` is not
    those bytes (a BOM or CRLF line ends); the archive publishes the exact bytes.
    """
    groups: dict[tuple[str, str], list[Release]] = {}
    for release in releases:
        groups.setdefault((release.notice, release.locale), []).append(release)
    keys = sorted(groups, key=lambda k: _group_order(k, options))
    prefixes = _prefixes(keys)
    pages: list[Page] = []
    assets: list[Asset] = []
    all_entries: list[Entry] = []
    nav: list[NavItem] = []
    updated = _newest_date(releases, options.timezone)
    for key in keys:
        entries = _entries(groups[key], prefixes[key], judge, today)
        all_entries.extend(entries)
        group = _Group(entries, prefixes[key], options, judge, updated)
        pages.extend(group.pages())
        assets.extend(group.sources(sources or {}))
        nav.append(group.nav(top=key == keys[0]))
    order = {release.id: index for index, release in enumerate(releases)}
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
        alternates=_alternates(keys, prefixes, options),
        updated=updated,
        default_meta=_chrome(options.default_locale, prefix=""),
    )


# --- structure --------------------------------------------------------------------------------


def _group_order(key: tuple[str, str], options: SiteOptions) -> tuple[bool, str, bool, str]:
    notice, locale = key
    return (
        notice != options.primary_notice,
        notice,
        locale != options.default_locale,
        locale,
    )


def _prefixes(keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], str]:
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


def _alternates(
    keys: Sequence[tuple[str, str]], prefixes: Mapping[tuple[str, str], str], options: SiteOptions
) -> tuple[Alternate, ...]:
    if not keys:
        return ()
    primary = keys[0][0]
    locales = [locale for notice, locale in keys if notice == primary]
    if len(locales) < 2:
        return ()
    return tuple(
        Alternate(
            name=_TEXT[ui_language(locale)]["language"]
            if ui_language(locale) == "zh" or locale.lower().startswith("en")
            else locale,
            url=prefixes[(primary, locale)] or "./",
            lang=locale,
        )
        for locale in locales
    )


def _entries(releases: Sequence[Release], prefix: str, judge: Judge, today: date) -> list[Entry]:
    status = statuses(releases, today)
    return [
        Entry(
            release=release,
            status=status[release.id],
            judgement=judge(releases[index - 1], release) if index else None,
            prefix=prefix,
        )
        for index, release in enumerate(releases)
    ]


def _newest_date(releases: Sequence[Release], tz: tzinfo) -> date:
    """The newest date in history: every page that has no date of its own is pinned to it."""
    dates = [date(1970, 1, 1)]
    for release in releases:
        dates.append(release.published.astimezone(tz).date())
        dates.extend(revision.committed.astimezone(tz).date() for revision in release.revisions)
    return max(dates)


def _release_updated(release: Release, tz: tzinfo) -> date:
    if release.revisions:
        return release.revisions[-1].committed.astimezone(tz).date()
    return release.published.astimezone(tz).date()


def relative_url(source: str, target: str) -> str:
    """A link from the page at site URL `source` (`archive/v/`) to site URL `target`."""
    base = posixpath.dirname(source.rstrip("/") + "/x") if source else "."
    relative = posixpath.relpath(target or ".", base or ".")
    if target.endswith("/") or not target:
        relative = relative.rstrip("/") + "/"
    return "./" if relative in ("./", "", "./.") else relative


def _md_link(source_path: str, target_path: str) -> str:
    """A Markdown link between two generated pages, as a relative path to the `.md` source."""
    return posixpath.relpath(target_path, posixpath.dirname(source_path) or ".")


def _md_text(value: str) -> str:
    """Text safe inside Markdown (and table cells): markup characters escaped, one line."""
    one_line = " ".join(value.split())
    return html.escape(_MD_SPECIAL.sub(r"\\\1", one_line), quote=False)


def _esc(value: str) -> str:
    return html.escape(value, quote=True)


def _chrome(locale: str, prefix: str) -> dict[str, Any]:
    """Metadata every page carries for the theme: its language and the feed/archive links."""
    text = _TEXT[ui_language(locale)]
    return {
        "lang": locale,
        "links": [
            {"text": text["archive"], "url": f"{prefix}archive/"},
            {"text": text["compare"], "url": f"{prefix}compare/"},
            {"text": text["feed"], "url": FEED, "rel": "alternate"},
            {"text": RELEASES_JSON, "url": RELEASES_JSON},
        ],
        "banners": [],
    }


@dataclass(frozen=True, slots=True)
class _Group:
    """The pages of one notice in one locale."""

    entries: Sequence[Entry]
    prefix: str
    options: SiteOptions
    judge: Judge
    updated: date

    @property
    def locale(self) -> str:
        return self.entries[0].release.locale

    @property
    def text(self) -> Mapping[str, str]:
        return _TEXT[ui_language(self.locale)]

    @property
    def current(self) -> Entry | None:
        return next((e for e in self.entries if e.status == CURRENT), None)

    @property
    def upcoming(self) -> Entry | None:
        waiting = [e for e in self.entries if e.status == UPCOMING]
        return min(waiting, key=lambda e: (e.release.effective, e.release.published), default=None)

    @property
    def home_url(self) -> str:
        return self.prefix or "./"

    @property
    def reference(self) -> Entry:
        """What `/compare/` compares with: the current version, else the newest one."""
        return self.current or self.entries[-1]

    def date(self, value: date) -> str:
        return format_date(value, self.locale)

    def versioned(self, release: Release) -> str:
        """`标题（2018-11-01）`: the page title of one version."""
        if ui_language(self.locale) == "zh":
            return f"{release.title}（{release.version}）"
        return f"{release.title} ({release.version})"

    def pages(self) -> list[Page]:
        pages = [self.home()]
        upcoming = self.upcoming
        if upcoming is not None:
            pages.append(self.statement(upcoming, f"{self.prefix}upcoming/", in_nav=True))
        pages.append(self.archive_index())
        for entry in self.entries:
            pages.append(self.statement(entry, entry.url))
            if entry.judgement is not None:
                pages.append(self.redline(entry))
        pages.append(self.compare_index())
        reference = self.reference
        for entry in self.entries:
            if entry is not reference:
                pages.append(self.comparison_page(entry, reference))
        return pages

    def nav(self, *, top: bool) -> NavItem:
        items = [NavItem(self.text["current"], f"{self.prefix}index.md")]
        if self.upcoming is not None:
            items.append(NavItem(self.text["upcoming"], f"{self.prefix}upcoming/index.md"))
        items.append(NavItem(self.text["archive"], f"{self.prefix}archive/index.md"))
        items.append(NavItem(self.text["compare"], f"{self.prefix}compare/index.md"))
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
        """`page.meta` for the theme: the title, and under `notices` banners, links, status."""
        meta: dict[str, Any] = {"title": title, "notices": _chrome(self.locale, self.prefix)}
        meta["notices"].update(extra)
        return meta

    def home(self) -> Page:
        """`/`: the version in effect (or, before any is, the next one)."""
        shown = self.current or self.upcoming or self.entries[-1]
        return self.statement(shown, self.prefix, in_nav=True)

    def statement(self, entry: Entry, url: str, *, in_nav: bool = False) -> Page:
        """A version's text with its facts (dates, SHA-256, source, redline) under its title."""
        release = entry.release
        path = f"{url}index.md"
        banners = self.banners(entry, url)
        body = safe_markdown(release.notice_doc.body.strip("\n")) + "\n"
        facts = self.facts(entry, url)
        match = _H1.search(body)
        if match and not body[: match.start()].strip():
            body = body[: match.end()] + "\n\n" + facts + "\n" + body[match.end() :]
        else:
            body = facts + "\n" + body
        title = release.title if url == self.prefix else self.versioned(release)
        meta = self.meta(
            title,
            kind="statement",
            status=entry.status,
            version=release.version,
            release=release.id,
            banners=banners,
        )
        if url == entry.url:
            meta["search"] = {"exclude": True}  # the archive copy; search finds `/` instead
        elif url == self.prefix:
            meta["search"] = {"boost": 2}  # the current statement before the upcoming one
        return Page(
            path,
            url,
            title,
            body,
            meta,
            _release_updated(release, self.options.timezone),
            in_nav=in_nav,
        )

    def banners(self, entry: Entry, url: str) -> list[dict[str, Any]]:
        text, release = self.text, entry.release
        current = self.current
        fields = {
            "version": release.version,
            "effective": self.date(release.effective),
            "published": self.date(release.published.astimezone(self.options.timezone).date()),
        }
        banners: list[dict[str, Any]] = []
        if entry.status == CURRENT:
            banners.append(
                _banner(
                    CURRENT,
                    text["banner_current"].format(**fields),
                    entry.url if url != entry.url else None,
                    text["banner_current_link"],
                )
            )
            upcoming = self.upcoming
            if upcoming is not None:
                next_fields = {
                    "version": upcoming.release.version,
                    "effective": self.date(upcoming.release.effective),
                    "published": self.date(
                        upcoming.release.published.astimezone(self.options.timezone).date()
                    ),
                }
                banners.append(
                    _banner(
                        UPCOMING,
                        text["banner_upcoming_next"].format(**next_fields),
                        f"{self.prefix}upcoming/",
                        text["banner_upcoming_next_link"],
                    )
                )
        elif entry.status == UPCOMING:
            banners.append(
                _banner(
                    UPCOMING,
                    text["banner_upcoming"].format(**fields)
                    + ("" if current else text["banner_none"]),
                    self.home_url if current else None,
                    text["banner_see_current"],
                )
            )
        else:
            banners.append(
                _banner(
                    ARCHIVED,
                    self.archived_text(entry, fields),
                    self.home_url if current else None,
                    text["banner_see_current"],
                )
            )
        return banners

    def archived_text(self, entry: Entry, fields: Mapping[str, str]) -> str:
        """When a version was replaced: the next effective date among versions now in force."""
        later = [
            e.release.effective
            for e in self.entries
            if e.status != UPCOMING and e.release.effective > entry.release.effective
        ]
        if not later:
            return self.text["banner_archived"].format(**fields)
        until = self.date(min(later))
        return self.text["banner_archived_period"].format(**fields, until=until)

    def facts(self, entry: Entry, url: str) -> str:
        text, release = self.text, entry.release
        tz = self.options.timezone
        rows = [
            (
                text["version"],
                f'<a href="{_esc(relative_url(url, entry.url))}">{_esc(release.version)}</a>',
            ),
            (text["published"], _esc(self.date(release.published.astimezone(tz).date()))),
            (text["effective"], _esc(self.date(release.effective))),
            (text["last_updated"], _esc(self.date(release.last_updated))),
            (
                text["sha256"],
                f'<code class="notices-sha256">{release.sha256}</code> '
                f'<a href="{_esc(relative_url(url, entry.url + SOURCE_FILE))}">'
                f"{_esc(text['source'])}</a><br><small>"
                + _esc(text["verify"]).format(command=f"<code>sha256sum {SOURCE_FILE}</code>")
                + "</small>",
            ),
        ]
        if entry.judgement is not None and entry.redline_url is not None:
            rows.append(
                (
                    text["changes"],
                    f'<a href="{_esc(relative_url(url, entry.redline_url))}">'
                    + _esc(text["redline_prev"].format(old=entry.judgement.old.version))
                    + "</a> "
                    + _verdict_badge(entry.judgement.verdict, text),
                )
            )
        items = "\n".join(f"<dt>{label}</dt><dd>{value}</dd>" for label, value in rows)
        return f'<dl class="notices-facts">\n{items}\n</dl>\n'

    def archive_index(self) -> Page:
        text = self.text
        path = f"{self.prefix}archive/index.md"
        header = [
            text["version"],
            text["published"],
            text["effective"],
            text["material"],
            text["summary"],
            text["status"],
            text["changes"],
        ]
        lines = [
            f"# {text['archive']} {{#notices-archive}}",
            "",
            text["archive_intro"],
            "",
            "| " + " | ".join(header) + " |",
            "|" + "---|" * len(header),
        ]
        tz = self.options.timezone
        for entry in reversed(self.entries):
            release = entry.release
            page = f"{entry.url}index.md"
            redline = (
                f"[{_md_text(entry.judgement.old.version)} → {_md_text(release.version)}]"
                f"({_md_link(path, f'{entry.url}changes/index.md')})"
                if entry.judgement
                else text["first"]
            )
            lines.append(
                "| "
                + " | ".join(
                    [
                        f"[{_md_text(release.version)}]({_md_link(path, page)})",
                        _md_text(self.date(release.published.astimezone(tz).date())),
                        _md_text(self.date(release.effective)),
                        _material_cell(entry, text),
                        _md_text(release.summary),
                        text[f"status_{entry.status}"],
                        redline,
                    ]
                )
                + " |"
            )
        meta = self.meta(text["archive"], kind="archive")
        return Page(
            path,
            f"{self.prefix}archive/",
            text["archive"],
            "\n".join(lines) + "\n",
            meta,
            self.updated,
            in_nav=True,
        )

    def redline(self, entry: Entry) -> Page:
        assert entry.judgement is not None and entry.redline_url is not None
        judgement = entry.judgement
        title = self.text["redline_title"].format(
            title=entry.release.title, old=judgement.old.version, new=judgement.new.version
        )
        url = entry.redline_url
        previous = next(e for e in self.entries if e.release is judgement.old)
        markdown = self.changes_markdown(
            title, url, previous, entry, judgement.comparison, judgement.verdict
        )
        meta = self.meta(
            title, kind="redline", version=entry.release.version, banners=self.banners(entry, url)
        )
        meta["search"] = {"exclude": True}
        updated = _release_updated(entry.release, self.options.timezone)
        return Page(f"{url}index.md", url, title, markdown, meta, updated)

    def comparison_page(self, entry: Entry, reference: Entry) -> Page:
        position = {e.release.id: index for index, e in enumerate(self.entries)}
        older, newer = sorted((entry, reference), key=lambda e: position[e.release.id])
        comparison = self.judge.compare(older.release, newer.release)
        title = self.text["compare_title"].format(
            title=entry.release.title, old=older.release.version, new=newer.release.version
        )
        url = f"{self.prefix}compare/{entry.release.version}/"
        between = self.entries[position[older.release.id] + 1 : position[newer.release.id] + 1]
        markdown = self.changes_markdown(
            title, url, older, newer, comparison, None, self.releases_between(url, between)
        )
        meta = self.meta(title, kind="compare", version=entry.release.version)
        meta["search"] = {"exclude": True}
        return Page(f"{url}index.md", url, title, markdown, meta, self.updated)

    def compare_index(self) -> Page:
        text, reference = self.text, self.reference
        path = f"{self.prefix}compare/index.md"
        url = f"{self.prefix}compare/"
        options = "\n".join(
            f'<option value="{_esc(e.release.version)}/">{_esc(e.release.version)} · '
            f"{_esc(text['status_' + e.status])}</option>"
            for e in reversed(self.entries)
            if e is not reference
        )
        lines = [
            f"# {text['compare']} {{#notices-compare}}",
            "",
            _md_text(text["compare_intro"].format(version=reference.release.version)),
            "",
        ]
        if options:
            lines += [
                '<form class="notices-compare-form" '
                'onsubmit="location.href=this.elements.v.value;return false">',
                f'<select name="v" aria-label="{_esc(text["version"])}">',
                options,
                "</select>",
                f'<button type="submit" class="md-button">{_esc(text["compare_pick"])}</button>',
                "</form>",
                "",
            ]
        lines += [
            f"| {text['version']} | {text['effective']} | {text['compare_with_current']} |",
            "|---|---|---|",
        ]
        for entry in reversed(self.entries):
            release = entry.release
            link = (
                f"[{_md_text(release.version)} ↔ {_md_text(reference.release.version)}]"
                f"({_md_link(path, f'{url}{release.version}/index.md')})"
                if entry is not reference
                else text[f"status_{entry.status}"]
            )
            lines.append(
                f"| [{_md_text(release.version)}]({_md_link(path, entry.url + 'index.md')}) | "
                f"{_md_text(self.date(release.effective))} | {link} |"
            )
        meta = self.meta(text["compare"], kind="compare-index")
        return Page(
            path, url, text["compare"], "\n".join(lines) + "\n", meta, self.updated, in_nav=True
        )

    def releases_between(self, url: str, entries: Sequence[Entry]) -> list[str]:
        """Markdown lines listing the releases a comparison spans, with their verdicts."""
        here = f"{url}index.md"
        lines = [f"{self.text['between']}", ""]
        for entry in entries:
            assert entry.judgement is not None and entry.redline_url is not None
            verdict = entry.judgement.verdict
            label = self.text["material"] if verdict.material else self.text["not_material"]
            link = _md_link(here, entry.redline_url + "index.md")
            zh = ui_language(self.locale) == "zh"
            opening, closing, colon = ("（", "）", "：") if zh else (" (", ")", ": ")
            summary = entry.release.summary
            lines.append(
                f"- [{_md_text(entry.release.version)}]({link})"
                f"{opening}{label} · {verdict.tier}{closing}"
                + (f"{colon}{_md_text(summary)}" if summary else "")
            )
        return [*lines, ""]

    def changes_markdown(
        self,
        title: str,
        url: str,
        old: Entry,
        new: Entry,
        comparison: Comparison,
        verdict: Verdict | None,
        preface: Sequence[str] = (),
    ) -> str:
        """A redline: the verdict, then each changed section with `<ins>`/`<del>`."""
        text = self.text
        here = f"{url}index.md"
        intro = text["redline_intro"].format(
            old=f"[{_md_text(old.release.version)}]({_md_link(here, old.url + 'index.md')})",
            new=f"[{_md_text(new.release.version)}]({_md_link(here, new.url + 'index.md')})",
        )
        lines = [f"# {_md_text(title)} {{#notices-changes}}", "", intro, ""]
        if verdict is not None:
            lines.append('<p class="notices-verdict">' + _verdict_sentence(verdict, text) + "</p>")
            lines.append("")
        lines.extend(preface)
        verdicts = _change_verdicts(comparison, verdict)
        if not verdicts:
            lines += [text["no_changes"], ""]
        seen: set[str] = set()
        for section_id, items in _by_section(verdicts):
            heading = _md_text(items[0][0].section or section_id)
            anchor = section_id if section_id not in seen else ""
            seen.add(section_id)
            lines.append(
                f"## {heading} {{#{anchor}}}" if anchor and _ID.match(anchor) else f"## {heading}"
            )
            lines.append("")
            for change, change_verdict in items:
                lines.append(_change_html(change, change_verdict, self.locale))
                lines.append("")
        return "\n".join(lines)


_ID = re.compile(r"^[^\s{}#\"'<>]+$")  # what attr_list accepts as `{#id}`


def _banner(kind: str, text: str, link: str | None, link_text: str) -> dict[str, Any]:
    return {
        "kind": kind,
        "text": text,
        "link": link,
        "link_text": link_text if link is not None else None,
    }


def _material_cell(entry: Entry, text: Mapping[str, str]) -> str:
    if entry.judgement is None:
        return "—"
    verdict = entry.judgement.verdict
    return f"**{text['yes']}** ({verdict.tier})" if verdict.material else f"{text['no']}"


def _verdict_badge(verdict: Verdict, text: Mapping[str, str]) -> str:
    kind = "material" if verdict.material else "quiet"
    label = text["material"] if verdict.material else text["not_material"]
    badge = f"{_esc(label)} · {_esc(verdict.tier)}"
    return f'<span class="notices-badge notices-badge--{kind}">{badge}</span>'


def _verdict_sentence(verdict: Verdict, text: Mapping[str, str]) -> str:
    key = "verdict_material" if verdict.material else "verdict_quiet"
    sentence = _esc(text[key].format(tier=verdict.tier))
    if verdict.override_reason:
        sentence += " " + _esc(text["override"].format(reason=verdict.override_reason))
    return sentence


def _change_verdicts(
    comparison: Comparison, verdict: Verdict | None
) -> list[tuple[Change, ChangeVerdict | None]]:
    """Each change with its verdict (if there is one for it), in document order."""
    if verdict is None:
        return [(change, None) for change in comparison.changes]
    by_change = {id(cv.change): cv for cv in verdict.changes}
    pairs = [(change, by_change.get(id(change))) for change in comparison.changes]
    if all(cv is None for _, cv in pairs) and verdict.changes:
        return [(cv.change, cv) for cv in verdict.changes]
    return pairs


def _by_section(
    pairs: Sequence[tuple[Change, ChangeVerdict | None]],
) -> list[tuple[str, list[tuple[Change, ChangeVerdict | None]]]]:
    """Group changes by section id, keeping the order of first appearance."""
    groups: dict[str, list[tuple[Change, ChangeVerdict | None]]] = {}
    for change, verdict in pairs:
        groups.setdefault(change.section_id or "", []).append((change, verdict))
    return list(groups.items())


def _change_html(change: Change, verdict: ChangeVerdict | None, locale: str) -> str:
    """One change as an HTML block: its kind, why it is (or is not) material, its redline."""
    zh = ui_language(locale) == "zh"
    text = _TEXT["zh" if zh else "en"]
    material = verdict is not None and verdict.material
    classes = f"notices-change notices-change--{change.kind}" + (
        " notices-change--material" if material else ""
    )
    label = text.get(f"kind_{change.kind}", change.kind)
    notes = []
    if change.moved_from:
        notes.append(text["moved_from"].format(section=change.moved_from))
    if change.moved_to:
        notes.append(text["moved_to"].format(section=change.moved_to))
    if change.labels:
        notes.append(", ".join(change.labels))
    head = (
        f'<p class="notices-kind">{_esc(label)}'
        + (f" <small>({_esc('; '.join(notes))})</small>" if notes else "")
        + "</p>"
    )
    parts = [f'<div class="{classes}">', head]
    if verdict is not None and verdict.reasons:
        parts.append(f'<div class="notices-{"why" if material else "quiet"}">')
        if material:
            parts.append(f"<p><strong>{_esc(text['why'])} · {_esc(verdict.tier)}</strong></p>")
        parts.extend(_reason_html(reason, zh, text) for reason in verdict.reasons)
        parts.append("</div>")
    redline = redline_html(change)
    if change.kind == "formatting":
        parts.append(f"<details><summary>{_esc(label)}</summary>")
        parts.append(f'<div class="notices-redline">{redline}</div>')
        parts.append("</details>")
    else:
        parts.append(f'<div class="notices-redline">{redline}</div>')
    parts.append("</div>")
    return "\n".join(parts)


def _reason_html(reason: Reason, zh: bool, text: Mapping[str, str]) -> str:
    """A rule's explanation (it names the rule, section and words), the words, the sources."""
    colon, comma, semicolon = ("：", "、", "；") if zh else (": ", ", ", "; ")
    detail = [_esc(reason.explanation_zh if zh else reason.explanation_en)]
    if reason.triggers:
        words = comma.join(f"<mark>{_esc(w)}</mark>" for w in reason.triggers)
        label = _esc(text["triggers"]) + colon
        detail.append(f'<span class="notices-triggers">{label}{words}</span>')
    if reason.sources:
        label = _esc(text["sources"]) + colon
        sources = _esc(semicolon.join(reason.sources))
        detail.append(f'<span class="notices-sources">{label}{sources}</span>')
    return "<p>" + " ".join(detail) + "</p>"


# --- feed and releases.json -------------------------------------------------------------------


def _absolute(options: SiteOptions, url: str) -> str:
    return options.url.rstrip("/") + "/" + url


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
    feed.link(href=_absolute(options, FEED), rel="self", type="application/atom+xml")
    feed.link(href=options.url, rel="alternate", type="text/html")
    feed.language(options.default_locale)
    newest = datetime.combine(date(2000, 1, 1), time(0), tzinfo=options.timezone)
    for entry in entries:
        release = entry.release
        updated = _entry_updated(release)
        newest = max(newest, updated)
        text = _TEXT[ui_language(release.locale)]
        item = feed.add_entry(order="append")
        item.id(tag_uri(options, release))
        item.title(f"{release.title} {release.version}")
        item.link(href=_absolute(options, entry.url), rel="alternate", type="text/html")
        item.published(release.published)
        item.updated(updated)
        item.summary(release.summary or release.title)
        facts = [
            f"{text['version']}: {release.version}",
            f"{text['effective']}: {format_date(release.effective, release.locale)}",
            f"{text['sha256']}: {release.sha256}",
        ]
        if entry.judgement is not None and entry.redline_url is not None:
            verdict = entry.judgement.verdict
            label = text["material"] if verdict.material else text["not_material"]
            facts.append(f"{label} ({verdict.tier})")
            link = _esc(_absolute(options, entry.redline_url))
            facts.append(f'<a href="{link}">{_esc(text["changes"])}</a>')
        body = "".join(f"<p>{fact if fact.startswith('<a') else _esc(fact)}</p>" for fact in facts)
        item.content(f"<p>{_esc(release.summary)}</p>{body}", type="html")
    feed.updated(newest)
    return bytes(feed.atom_str(pretty=True))


def _entry_updated(release: Release) -> datetime:
    if release.revisions:
        return max(release.published, release.revisions[-1].committed)
    return release.published


def release_record(entry: Entry, options: SiteOptions) -> dict[str, Any]:
    """One release in releases.json: what watchers need to track the statement."""
    release = entry.release
    verdict = entry.judgement.verdict if entry.judgement else None
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
        "material": verdict.material if verdict else None,
        "tier": verdict.tier if verdict else None,
        "material_reason": verdict.override_reason if verdict else None,
        "summary": release.summary,
        "sha256": release.sha256,
        "commit": release.commit,
        "revisions": len(release.revisions),
        "url": _absolute(options, entry.url),
        "redline_url": _absolute(options, entry.redline_url) if entry.redline_url else None,
        "source_url": _absolute(options, entry.url + SOURCE_FILE),
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
                "url": _absolute(options, entry.prefix),
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
        "feed": _absolute(options, FEED),
        "notices": list(notices.values()),
        "releases": [release_record(entry, options) for entry in entries],
    }
    return (json.dumps(document, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
