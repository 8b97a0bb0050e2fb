"""The site model: pages, feed and releases.json from real releases, without MkDocs."""

from __future__ import annotations

import hashlib
import json
import re
import xml.etree.ElementTree as ET
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from support.notify import VERSION, material_repo, write_customers
from support.repos import (
    NoticeRepo,
    add_seed,
    empty_repo,
    release_text,
    run_notices,
    seed_text,
)
from support.site import (
    BROKEN_PROMISE,
    KEPT_PROMISE,
    NEW_AGE,
    NOTICE,
    OLD_AGE,
    VERSIONS,
    add_releases,
    second_text,
    third_text,
)

from notifier.demo.sandbox import WHAT_CHANGES_FOR_YOU
from notifier.locales import format_date
from notifier.publishing.links import md_link, relative_url
from notifier.publishing.model import SitePages, statuses
from notifier.publishing.pages import build_site, heading_slug
from notifier.publishing.publish import Request, generate, site_options
from notifier.publishing.templates import markdown_text
from notifier.releases.history import read_history
from notifier.releases.verdicts import assess_release, assessed_releases
from notifier.settings import load_settings
from notifier.statement.materiality import load_rules

ATOM = "{http://www.w3.org/2005/Atom}"
V1, V2, V3 = VERSIONS


def _site(repo: Path, today: date) -> SitePages:
    settings = load_settings(repo, {})
    history = read_history(repo, settings)
    return build_site(
        assessed_releases(history, load_rules({})), options=site_options(settings), today=today
    )


@pytest.fixture(scope="module")
def three(tmp_path_factory: pytest.TempPathFactory) -> NoticeRepo:
    """Three releases, built once: the tests that use it only read it."""
    repo = add_seed(empty_repo(tmp_path_factory.mktemp("three") / "repo"))
    add_releases(repo)
    return repo


@pytest.fixture(scope="module")
def site(three: NoticeRepo) -> SitePages:
    return _site(three.path, date(2024, 12, 1))


def test_pages_and_files(site: SitePages) -> None:
    """When three releases exist and the third is not in effect, then every page is generated."""
    assert [page.path for page in site.pages] == [
        "index.md",
        "upcoming/index.md",
        "archive/index.md",
        f"archive/{V1}/index.md",
        f"archive/{V2}/index.md",
        f"archive/{V2}/changes/index.md",
        f"archive/{V3}/index.md",
        f"archive/{V3}/changes/index.md",
        "compare/index.md",
        f"compare/{V1}/index.md",
        f"compare/{V3}/index.md",
    ]
    assert [asset.path for asset in site.assets] == [
        f"archive/{V1}/source.txt",
        f"archive/{V2}/source.txt",
        f"archive/{V3}/source.txt",
        "feed.xml",
        "releases.json",
        "robots.txt",
    ]
    assert [lang.locale for lang in site.languages] == ["zh-CN"]
    assert [(item.title, item.path) for item in site.languages[0].nav] == [
        ("当前版本", "index.md"),
        ("即将生效", "upcoming/index.md"),
        ("历史版本", "archive/index.md"),
        ("比较版本", "compare/index.md"),
    ]
    assert site.languages[0].alternates == ()
    assert site.updated == date(2024, 11, 1)


def test_current_page(site: SitePages) -> None:
    """When v2 is in effect, then `/` shows v2, says since when, and points to v3."""
    page = site.page("index.md")
    markdown = page.markdown
    assert NEW_AGE in markdown and OLD_AGE not in markdown
    assert markdown.startswith(
        "# 世纪互联运营的在线服务隐私声明"
        '<span class="notices-hidden">（现行版本，2024 年 3 月 1 日起生效）</span>'
        " {#privacy-statement}\n\n"
    )
    assert (
        '<p class="notices-banner notices-banner--current">现行版本，自 2024 年 3 月 1 日起生效。'
        f' <a href="archive/{V2}/">此版本的固定网址</a></p>\n'
        '<p class="notices-banner notices-banner--upcoming">新版本（2025-01-01）将于 2025 年 1 月'
        ' 1 日生效。 <a href="upcoming/">阅读新版本</a></p>'
    ) in markdown
    assert (
        f'<p class="notices-facts">版本 {V2} · 2024 年 2 月 1 日发布 · '
        f'<a href="archive/{V2}/changes/">与上一版本相比的更改</a> '
        '<span class="notices-badge notices-badge--material">重大变更</span></p>'
    ) in markdown
    assert page.meta["title"] == (
        "世纪互联运营的在线服务隐私声明（现行版本，2024 年 3 月 1 日起生效）"
    )
    assert page.meta["search"] == {"boost": 2}
    assert "banners" not in page.meta["notices"]
    assert page.updated == date(2024, 2, 1)


def test_version_facts_come_first_and_sha256_last(site: SitePages, three: NoticeRepo) -> None:
    """When a version page is built, then one line of facts is under its title and its SHA-256
    is folded away after the text."""
    history = read_history(three.path, load_settings(three.path, {}))
    for version in VERSIONS:
        markdown = site.page(f"archive/{version}/index.md").markdown
        release = history.find(version)
        facts = markdown.index('<p class="notices-facts">')
        integrity = markdown.index('<details class="notices-integrity">')
        assert facts < markdown.index("## 范围 {#scope}") < integrity
        assert f'<code class="notices-sha256">{release.sha256}</code>' in markdown[integrity:]
        assert '<a href="source.txt">下载原文（逐字节）</a>' in markdown[integrity:]
        assert "运行 <code>sha256sum source.txt</code>，结果应与此校验值一致" in markdown
        assert site.page(f"archive/{version}/index.md").meta["search"] == {"exclude": True}


def test_every_page_of_a_statement_says_where_the_reader_stands(site: SitePages) -> None:
    """When the current, upcoming, archived and change pages are built, then each says whether
    its version is in effect, and links to the version the reader may want instead."""
    banners = {
        path: re.findall(
            r'<p class="notices-banner notices-banner--(\w+)">([^<]*)(?:<a href="([^"]*)">)?',
            site.page(path).markdown,
        )
        for path in (
            f"archive/{V1}/index.md", f"archive/{V2}/index.md", "upcoming/index.md",
            f"archive/{V2}/changes/index.md", f"archive/{V3}/changes/index.md",
        )
    }
    assert banners == {
        f"archive/{V1}/index.md": [
            ("archived", "此版本自 2018 年 11 月 1 日起生效，已于 2024 年 3 月 1 日被新版本取代。 ",
             "../../"),
        ],
        f"archive/{V2}/index.md": [
            ("current", "现行版本，自 2024 年 3 月 1 日起生效。", ""),
            ("upcoming", "新版本（2025-01-01）将于 2025 年 1 月 1 日生效。 ", "../../upcoming/"),
        ],
        "upcoming/index.md": [
            ("upcoming", "此版本将于 2025 年 1 月 1 日生效，在此之前现行版本仍然有效。 ", "../"),
        ],
        f"archive/{V2}/changes/index.md": [
            ("current", "现行版本，自 2024 年 3 月 1 日起生效。 ", "../"),
            ("upcoming", "新版本（2025-01-01）将于 2025 年 1 月 1 日生效。 ", "../../../upcoming/"),
        ],
        f"archive/{V3}/changes/index.md": [
            ("upcoming", "此版本将于 2025 年 1 月 1 日生效，在此之前现行版本仍然有效。 ",
             "../../../"),
        ],
    }
    assert site.page(f"archive/{V1}/index.md").meta["title"] == (
        "世纪互联运营的在线服务隐私声明（2018-11-01）"
    )
    assert "## 联系我们 {#contact}" in site.page("upcoming/index.md").markdown


def test_search_tells_current_and_upcoming_apart(site: SitePages) -> None:
    """When both the current and the upcoming statement are searchable, then their titles (and
    the title headings search reads) name their status and date; archived copies stay out."""
    home, upcoming = site.page("index.md"), site.page("upcoming/index.md")
    assert upcoming.meta["title"] == "世纪互联运营的在线服务隐私声明（即将生效：2025 年 1 月 1 日）"
    assert upcoming.markdown.startswith(
        "# 世纪互联运营的在线服务隐私声明"
        '<span class="notices-hidden">（即将生效：2025 年 1 月 1 日）</span> {#privacy-statement}'
    )
    assert "search" not in upcoming.meta and home.meta["search"] == {"boost": 2}
    assert home.title != upcoming.title
    archived = [p for p in site.pages if p.path.startswith("archive/20")]
    assert all(p.meta["search"] == {"exclude": True} for p in archived)
    assert not [p for p in archived if "notices-hidden" in p.markdown]


def test_archive_index(site: SitePages) -> None:
    """When the archive index is built, then it lists every version, newest first, with its
    published, effective and notified dates and whether it was material."""
    markdown = site.page("archive/index.md").markdown
    items = re.findall(
        r'<li class="notices-version notices-version--(\w+)">(.*?)</li>', markdown, re.S
    )
    assert [status for status, _ in items] == ["upcoming", "current", "archived"]
    dates = [re.findall(r"<dt>([^<]*)</dt><dd>(.*?)</dd>", item) for _, item in items]
    assert dates == [
        [("发布日期", "2024 年 11 月 1 日"), ("生效日期", "2025 年 1 月 1 日"),
         ("通知客户", "—"), ("重大变更", "否")],
        [("发布日期", "2024 年 2 月 1 日"), ("生效日期", "2024 年 3 月 1 日"),
         ("通知客户", "—"), ("重大变更", "<strong>是</strong>")],
        [("发布日期", "2018 年 11 月 1 日"), ("生效日期", "2018 年 11 月 1 日"),
         ("通知客户", "—"), ("重大变更", "首个版本")],
    ]
    upcoming, current, first = (item for _, item in items)
    assert (
        f'<a href="{V3}/">{V3}</a> <span class="notices-tag notices-tag--upcoming">即将生效'
    ) in upcoming
    assert f'<a href="{V3}/changes/">与 {V2} 相比的更改</a>' in upcoming
    assert "注销账号后的信息处理和未成年人的年龄有变" in current
    assert "changes/" not in first
    assert "<table" not in markdown and "|---" not in markdown  # no table to scroll sideways


def test_redline_page(site: SitePages) -> None:
    """When v1 → v2 is redlined, then the verdict is in plain words, changed sections carry
    ins/del and a folded reason, and unchanged sections are folded in document order."""
    page = site.page(f"archive/{V2}/changes/index.md")
    markdown = page.markdown
    assert markdown.startswith(
        f"# 世纪互联运营的在线服务隐私声明：{V1} → {V2} 的更改 {{#notices-changes}}\n"
    )
    assert (
        '<p class="notices-verdict notices-verdict--material">'
        "本次更改属于重大变更：我们会在其生效前通知客户。</p>"
    ) in markdown
    assert "## 我们如何保存您的个人信息 {#retention}" in markdown
    assert "## 未成年人保护 {#minors}" in markdown
    assert "## 范围 {#scope}" not in markdown
    order = [
        markdown.index(marker)
        for marker in (
            '??? notices-unchanged "范围 · 未更改"', "{#retention}",
            '??? notices-unchanged "我们如何共享、转让、公开披露您的信息 · 未更改"', "{#minors}",
            '??? notices-unchanged "如何联系我们 · 未更改"',
        )
    ]
    assert order == sorted(order)
    assert "<ins>" in markdown and "<del>" in markdown
    assert "notices-change--material" in markdown
    retention = markdown[markdown.index("{#retention}") : markdown.index("{#minors}")]
    assert "不会" in retention and "可能" in retention
    assert '<p class="notices-kind">修改 · <strong>重大变更</strong></p>' in retention
    assert '<details class="notices-why">\n<summary>为什么这是重大变更</summary>' in retention
    assert page.meta["search"] == {"exclude": True}
    quiet = site.page(f"archive/{V3}/changes/index.md").markdown
    assert (
        '<p class="notices-verdict notices-verdict--not-material">'
        "本次更改不属于重大变更，因此没有另行通知客户。</p>"
    ) in quiet
    assert "notices-change--material" not in quiet and "notices-why" not in quiet


def test_compare_pages(site: SitePages) -> None:
    """When the compare pages are built, then every other version is compared with the current,
    by plain links that work without JavaScript."""
    index = site.page("compare/index.md").markdown
    assert (
        f"- [{V1}](../archive/{V1}/index.md)（已存档 · 生效日期 2018 年 11 月 1 日） · "
        f"[与现行版本比较]({V1}/index.md)"
    ) in index
    assert f"- [{V2}](../archive/{V2}/index.md)（现行版本）\n" in index
    assert "<form" not in index and "onsubmit" not in index
    older = site.page(f"compare/{V1}/index.md").markdown
    assert older.startswith(f"# 世纪互联运营的在线服务隐私声明：{V1} 与 {V2} 的比较")
    assert "{#minors}" in older and "{#contact}" not in older
    assert "notices-verdict" not in older  # verdicts belong to releases, listed in between:
    assert f"- [{V2}](../../archive/{V2}/changes/index.md)（重大变更）：注销账号后" in older
    newer = site.page(f"compare/{V3}/index.md").markdown
    assert newer.startswith(f"# 世纪互联运营的在线服务隐私声明：{V2} 与 {V3} 的比较")
    assert "{#contact}" in newer


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_releases_json(site: SitePages) -> None:
    """When releases.json is written, then watchers get dates, hashes, verdicts and URLs."""
    data = json.loads(next(a.content for a in site.assets if a.path == "releases.json"))
    assert data["notices"] == [
        {
            "notice": "privacy",
            "locale": "zh-CN",
            "url": "https://privacy.example.com/",
            "current": V2,
            "upcoming": [V3],
        }
    ]
    keys = ("version", "status", "announced", "effective", "last_updated", "material")
    rows = [tuple(r[key] for key in keys) for r in data["releases"]]
    assert rows == [
        (V1, "archived", "2018-11-01T00:00:00+08:00", "2018-11-01", "2018-11-01", False),
        (V2, "current", "2024-02-01T10:00:00+08:00", "2024-03-01", "2024-03-01", True),
        (V3, "upcoming", "2024-11-01T10:00:00+08:00", "2025-01-01", "2025-01-01", False),
    ]
    assert [r["sha256"] for r in data["releases"]] == [
        _sha(text.encode("utf-8")) for text in (seed_text(), second_text(), third_text())
    ]
    assert data["releases"][2]["tier"] == "T0"
    assert data["releases"][1]["tier"] in ("T1", "T2", "T3")
    assert data["releases"][1]["url"] == f"https://privacy.example.com/archive/{V2}/"
    assert data["releases"][1]["redline_url"] == (
        f"https://privacy.example.com/archive/{V2}/changes/"
    )
    assert data["releases"][0]["redline_url"] is None
    assert data["releases"][0]["source_url"] == (
        f"https://privacy.example.com/archive/{V1}/source.txt"
    )
    sources = {a.path: a.content for a in site.assets}
    for release in data["releases"]:
        source = sources[f"archive/{release['version']}/source.txt"]
        assert _sha(source) == release["sha256"]


def _feed_ids(site: SitePages) -> list[str]:
    feed = ET.fromstring(next(a.content for a in site.assets if a.path == "feed.xml"))
    return [entry.findtext(f"{ATOM}id") or "" for entry in feed.iter(f"{ATOM}entry")]


def test_atom_ids_never_change(seeded_repo: NoticeRepo) -> None:
    """When a fourth release is published later, then the first three keep their feed ids."""
    three = seeded_repo  # its own: a release is added
    add_releases(three)
    before = _feed_ids(_site(three.path, date(2024, 12, 1)))
    assert before == [
        f"tag:privacy.example.com,2018-11-01:privacy/zh-CN/{V1}",
        f"tag:privacy.example.com,2024-02-01:privacy/zh-CN/{V2}",
        f"tag:privacy.example.com,2024-11-01:privacy/zh-CN/{V3}",
    ]
    fourth = release_text(third_text(), "2025-06-01")
    three.commit("Release 2025-06-01", "2025-04-01T10:00:00+08:00", {NOTICE: fourth})
    site = _site(three.path, date(2025, 7, 1))
    after = _feed_ids(site)
    assert after[:3] == before and len(after) == 4
    feed = ET.fromstring(next(a.content for a in site.assets if a.path == "feed.xml"))
    assert feed.findtext(f"{ATOM}updated") == "2025-04-01T10:00:00+08:00"
    assert feed.findtext(f"{ATOM}id") == "tag:privacy.example.com,2018-11-01:feed"


def test_same_history_same_site(three: NoticeRepo) -> None:
    """When the same history is generated twice, then the pages and files are identical."""
    assert _site(three.path, date(2024, 12, 1)) == _site(three.path, date(2024, 12, 1))


def test_nothing_in_effect_yet(notice_repo: NoticeRepo) -> None:
    """When the only release takes effect tomorrow, then `/` shows it as upcoming."""
    text = release_text(seed_text(), "2030-01-01")
    notice_repo.commit("First", "2029-11-01T10:00:00+08:00", {NOTICE: text})
    site = _site(notice_repo.path, date(2029, 12, 31))
    home = site.page("index.md")
    assert (
        '<p class="notices-banner notices-banner--upcoming">此版本将于 2030 年 1 月 1 日生效，'
        "目前没有已生效的版本。</p>"
    ) in home.markdown
    assert home.meta["title"] == "世纪互联运营的在线服务隐私声明（即将生效：2030 年 1 月 1 日）"
    assert [p.path for p in site.pages if p.path.startswith("compare/")] == ["compare/index.md"]


def test_locales_get_their_own_urls_and_a_switcher(seeded_repo: NoticeRepo) -> None:
    """When the notice also exists in English, then English is a site of its own under /en/,
    with its own navigation, a switcher and links up to the feed at the root."""
    english = release_text(
        "---\ntitle: Privacy statement\nversion: x\n---\n\n# Privacy statement {#privacy-statement}"
        "\n\n## Scope {#scope}\n\nThis statement covers our online services.\n",
        "2024-05-01",
    )
    seeded_repo.commit("English", "2024-04-01T10:00:00+08:00", {"notices/privacy/en.md": english})
    site = _site(seeded_repo.path, date(2024, 6, 1))
    chinese, en = site.languages
    assert (chinese.locale, chinese.prefix, en.locale, en.prefix) == ("zh-CN", "", "en", "en/")
    assert [(a.name, a.url, a.lang) for a in chinese.alternates] == [
        ("中文（简体）", "./", "zh-CN"),
        ("English", "en/", "en"),
    ]
    assert [(a.url, a.lang) for a in en.alternates] == [("../", "zh-CN"), ("./", "en")]
    english_home = next(page for page in en.pages if page.path == "index.md")
    assert (
        '<p class="notices-banner notices-banner--current">Current version, in effect since '
        'May 1, 2024. <a href="archive/2024-05-01/">Permanent address of this version</a></p>'
    ) in english_home.markdown
    assert english_home.meta["title"] == (
        "Privacy statement (current version, in effect since May 1, 2024)"
    )
    assert {link["url"] for link in english_home.meta["notices"]["links"]} >= {
        "../feed.xml", "../releases.json", "archive/",
    }
    assert "en/archive/2024-05-01/index.md" in [p.path for p in site.pages]
    assert [item.title for item in chinese.nav] == ["当前版本", "历史版本", "比较版本"]
    assert [item.title for item in en.nav] == ["Current version", "Archive", "Compare versions"]
    data = json.loads(next(a.content for a in site.assets if a.path == "releases.json"))
    assert [r["url"] for r in data["releases"]] == [
        f"https://privacy.example.com/archive/{V1}/",
        "https://privacy.example.com/en/archive/2024-05-01/",
    ]
    robots = next(a.content for a in site.assets if a.path == "robots.txt").decode()
    assert robots.splitlines()[-2:] == [
        "Sitemap: https://privacy.example.com/sitemap.xml",
        "Sitemap: https://privacy.example.com/en/sitemap.xml",
    ]


def test_statuses_pick_the_latest_in_effect(three: NoticeRepo) -> None:
    """When today moves past v3's effective date, then v3 is current and v2 archived."""
    releases = read_history(three.path, load_settings(three.path, {})).releases
    assert list(statuses(releases, date(2025, 1, 1)).values()) == [
        "archived", "archived", "current",
    ]
    assert list(statuses(releases, date(2024, 2, 29)).values()) == [
        "current", "upcoming", "upcoming",
    ]


def test_helpers() -> None:
    """When slugs and links are formatted, then they follow the heading and the page's place."""
    assert heading_slug("未成年人保护", "-") == "未成年人保护"
    assert heading_slug("Your Rights", "-") == "your-rights"
    assert relative_url("", "archive/v/") == "archive/v/"
    assert relative_url("archive/v/", "") == "../../"
    assert relative_url("archive/v/changes/", "archive/v/") == "../"
    assert relative_url("archive/v/", "archive/v/source.txt") == "source.txt"
    assert relative_url("archive/v/", "archive/v/") == "./"
    assert md_link("archive/index.md", "archive/v/index.md") == "v/index.md"
    assert md_link("compare/v/index.md", "archive/w/changes/index.md") == (
        "../../archive/w/changes/index.md"
    )
    assert md_link("en/archive/index.md", "index.md") == "../../index.md"
    assert md_link("index.md", "archive/v/source.txt") == "archive/v/source.txt"


def test_site_verdicts_are_the_release_verdicts(three: NoticeRepo, site: SitePages) -> None:
    """When the site shows a release's verdict, then it is `assess_release`'s for that release."""
    history = read_history(three.path, load_settings(three.path, {}))
    data = json.loads(next(a.content for a in site.assets if a.path == "releases.json"))
    for record, release in zip(data["releases"], history.releases, strict=True):
        verdict = assess_release(history, release, load_rules({})).verdict
        assert record["version"] == release.version
        assert (record["material"], record["tier"]) == (
            (verdict.material, verdict.tier) if verdict else (False, None)  # the first release
        )
    material = site.page(f"archive/{V2}/index.md").markdown
    quiet = site.page(f"archive/{V3}/index.md").markdown
    assert "notices-badge--material" in material and "notices-badge" not in quiet
    assert [r["material"] for r in data["releases"]] == [False, True, False]


def test_seed_text_is_what_the_tests_edit() -> None:
    """When the seed changes, then these fixtures still find the sentences they edit."""
    assert KEPT_PROMISE in seed_text() and OLD_AGE in seed_text()
    assert BROKEN_PROMISE not in seed_text()


def test_archive_publishes_the_exact_bytes(notice_repo: NoticeRepo) -> None:
    """When a version was committed with a BOM and CRLF, then source.txt is those very bytes."""
    raw = ("\ufeff" + seed_text().replace("\n", "\r\n")).encode("utf-8")
    notice_repo.commit("Seed with CRLF", "2024-01-02T09:00:00+08:00", {NOTICE: raw})
    settings = load_settings(notice_repo.path, {})
    site = generate(Request(settings, date(2024, 12, 1)))
    source = next(a.content for a in site.assets if a.path == f"archive/{V1}/source.txt")
    assert source == raw
    published = json.loads(next(a.content for a in site.assets if a.path == "releases.json"))
    assert published["releases"][0]["sha256"] == _sha(raw)
    without = build_site(
        assessed_releases(read_history(notice_repo.path, settings), load_rules({})),
        options=site_options(settings),
        today=date(2024, 12, 1),
    )
    assert not [a for a in without.assets if a.path.endswith("source.txt")]


def _material_site(repo: NoticeRepo, today: date = date(2029, 12, 15)) -> SitePages:
    return generate(Request(load_settings(repo.path, {}), today))


def test_redline_opens_with_what_changes_for_you(seeded_repo: NoticeRepo) -> None:
    """When a material release says what changes for the reader, then its changes page opens
    with those sentences, each linked to its section, before the redline."""
    material_repo(seeded_repo)
    markdown = _material_site(seeded_repo).page(f"archive/{VERSION}/changes/index.md").markdown
    verdict = markdown.index('<p class="notices-verdict notices-verdict--material">')
    for_you = markdown.index("## 对您有何影响 {#notices-for-you}")
    intro = markdown.index("以下是 [2018-11-01]")
    assert verdict < for_you < intro < markdown.index("{#retention}")
    told = markdown[for_you:intro]
    for section_id, sentence in WHAT_CHANGES_FOR_YOU.items():
        assert f"](#{section_id})：{markdown_text(sentence)}" in told, section_id
    assert told.index("(#retention)") < told.index("(#sharing)") < told.index("(#contact)")


def test_material_reasons_cite_only_the_notice_law(seeded_repo: NoticeRepo) -> None:
    """When a change is material, then its folded reason is the rule's plain sentence citing
    only the law in [notices.laws]; without an entry it cites nothing."""
    material_repo(seeded_repo)
    path = f"archive/{VERSION}/changes/index.md"
    cited = _material_site(seeded_repo).page(path).markdown
    reasons = re.findall(r'<details class="notices-why">(.*?)</details>', cited, re.S)
    assert reasons and all("<summary>为什么这是重大变更</summary>" in r for r in reasons)
    sources = re.findall(r'<span class="notices-sources">法律依据：([^<]*)</span>', cited)
    assert sources and {
        source for line in sources for source in line.split(" · ")
    } <= {s for s in _all_sources() if s.startswith(("PIPL", "GB/T 35273"))}
    assert "（《个人信息保护法》第二十三条）" in cited  # PIPL is this notice's law
    settings_file = seeded_repo.path / "notices.toml"
    toml = settings_file.read_text(encoding="utf-8")
    settings_file.write_text(toml.replace('privacy = ["PIPL", "GB/T 35273"]', ""), "utf-8")
    uncited = _material_site(seeded_repo).page(path).markdown
    assert uncited.count('<details class="notices-why">') == len(reasons)
    assert "notices-sources" not in uncited
    assert not re.search(r"PIPL|《个人信息保护法》|第[一二三四五六七八九十]+条", uncited)


def _all_sources() -> set[str]:
    rules = load_rules({})
    return {source for rule in rules.rules.values() for source in rule.sources}


def test_notified_dates_come_from_the_ledger_read_only(seeded_repo: NoticeRepo) -> None:
    """When no database exists, then a build creates none and every notified date is "—";
    once customers are mailed, the version's first mail date shows on the archive and its
    changes page."""
    material_repo(seeded_repo)
    database = seeded_repo.path / "var" / "notices.db"
    before = _material_site(seeded_repo)
    assert not database.exists()
    assert "<dt>通知客户</dt><dd>—</dd>" in before.page("archive/index.md").markdown
    write_customers(seeded_repo.path / "c.csv", 3)
    assert run_notices("customers", "import", "c.csv", cwd=seeded_repo.path).code == 0
    planned_only = _material_site(seeded_repo).page("archive/index.md").markdown
    assert "<dd>—</dd>" in planned_only and "通知客户</dt><dd>2" not in planned_only
    started = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    assert run_notices("notify", "send", VERSION, "--early", cwd=seeded_repo.path).code == 0
    after = _material_site(seeded_repo)
    finished = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    days = {format_date(started, "zh-CN"), format_date(finished, "zh-CN")}
    archive = after.page("archive/index.md").markdown
    first = archive[archive.index(f'<a href="{VERSION}/">') :]
    assert any(f"<dt>通知客户</dt><dd>{day}</dd>" in first for day in days)
    assert archive.count("<dt>通知客户</dt><dd>—</dd>") == 1  # the seed was never mailed
    redline = after.page(f"archive/{VERSION}/changes/index.md").markdown
    assert any(f"我们已于 {day}通知客户。" in redline for day in days)
    facts = after.page(f"archive/{VERSION}/index.md").markdown
    assert any(f" · {day}通知客户 · " in facts for day in days)
    data = json.loads(next(a.content for a in after.assets if a.path == "releases.json"))
    assert [r["notified"] in (None, *(d.isoformat() for d in (started, finished))) for r in
            data["releases"]] == [True, True]
    assert [r["notified"] is None for r in data["releases"]] == [True, False]


def test_text_before_the_first_heading_is_named_for_readers(notice_repo: NoticeRepo) -> None:
    """When the text before the first heading changes, then the changes page names it in the
    reader's words, not by its internal id, and folds the unchanged section after it."""
    first = release_text(
        "---\ntitle: 隐私声明\nversion: x\n---\n\n最后更新时间：2024 年 1 月 1 日\n\n"
        "本声明说明我们如何处理个人信息。\n\n## 范围 {#scope}\n\n本声明适用于我们的在线服务。\n",
        "2024-01-01",
    )
    second = release_text(first.replace("处理个人信息", "处理和保护个人信息"), "2024-06-01")
    notice_repo.commit("First", "2023-12-01T10:00:00+08:00", {NOTICE: first})
    notice_repo.commit("Second", "2024-05-01T10:00:00+08:00", {NOTICE: second})
    markdown = _site(notice_repo.path, date(2024, 7, 1)).page(
        "archive/2024-06-01/changes/index.md"
    ).markdown
    assert "## 开头部分 {#preamble}" in markdown and "preamble\n" not in markdown
    assert markdown.index("{#preamble}") < markdown.index('??? notices-unchanged "范围 · 未更改"')
    assert "    本声明适用于我们的在线服务。" in markdown
