"""The site model: pages, feed and releases.json from real releases, without MkDocs."""

from __future__ import annotations

import hashlib
import json
import xml.etree.ElementTree as ET
from datetime import date
from pathlib import Path

import pytest
from support.repos import NoticeRepo, add_seed, empty_repo, release_text, seed_text
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

from notifier.publishing.links import md_link, relative_url
from notifier.publishing.model import SitePages, statuses
from notifier.publishing.pages import build_site, heading_slug
from notifier.publishing.publish import Request, generate, site_options
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
    """When v2 is in effect, then `/` shows v2 with a current banner and one pointing to v3."""
    page = site.page("index.md")
    assert NEW_AGE in page.markdown and OLD_AGE not in page.markdown
    assert page.markdown.startswith("# 世纪互联运营的在线服务隐私声明 {#privacy-statement}\n\n")
    assert page.meta["notices"]["banners"] == [
        {
            "kind": "current",
            "text": "这是自 2024 年 3 月 1 日起生效的当前版本（2024-03-01）。",
            "link": f"archive/{V2}/",
            "link_text": "此版本的固定网址",
        },
        {
            "kind": "upcoming",
            "text": "新版本（2025-01-01）已于 2024 年 11 月 1 日发布，将于 2025 年 1 月 1 日生效。",
            "link": "upcoming/",
            "link_text": "查看即将生效的版本",
        },
    ]
    assert page.meta["title"] == "世纪互联运营的在线服务隐私声明"
    assert page.meta["search"] == {"boost": 2}
    assert "<dt>生效日期</dt><dd>2024 年 3 月 1 日</dd>" in page.markdown
    assert f'<a href="archive/{V2}/changes/">与上一版本（{V1}）的差异</a>' in page.markdown
    assert page.updated == date(2024, 2, 1)


def test_version_pages_show_status_and_sha256(site: SitePages, three: NoticeRepo) -> None:
    """When a version page is built, then its banner says its status and it shows its sha256."""
    history = read_history(three.path, load_settings(three.path, {}))
    for version, kind, link in (
        (V1, "archived", "./"), (V2, "current", None), (V3, "upcoming", "./"),
    ):
        page = site.page(f"archive/{version}/index.md")
        release = history.find(version)
        banner = page.meta["notices"]["banners"][0]
        assert (banner["kind"], banner["link"]) == (kind, link)
        assert page.meta["search"] == {"exclude": True}
        assert f'<code class="notices-sha256">{release.sha256}</code>' in page.markdown
        assert '<a href="source.txt">下载原文（逐字节）</a>' in page.markdown
        assert "运行 <code>sha256sum source.txt</code>，结果应与此校验值一致" in page.markdown
    assert site.page(f"archive/{V1}/index.md").meta["title"] == (
        "世纪互联运营的在线服务隐私声明（2018-11-01）"
    )
    assert site.page(f"archive/{V1}/index.md").meta["notices"]["banners"][0]["text"] == (
        "此版本（2018-11-01）已存档：2018 年 11 月 1 日至 2024 年 3 月 1 日有效。"
    )
    upcoming = site.page("upcoming/index.md")
    assert upcoming.meta["notices"]["banners"][0]["text"] == (
        "此版本（2025-01-01）尚未生效，将于 2025 年 1 月 1 日生效。"
    )
    assert "## 联系我们 {#contact}" in upcoming.markdown


def test_archive_index(site: SitePages) -> None:
    """When the archive index is built, then it lists every version, newest first, with links."""
    lines = site.page("archive/index.md").markdown.splitlines()
    table = [line for line in lines if line.startswith("|")]
    assert table[0] == "| 版本 | 发布日期 | 生效日期 | 重大变更 | 摘要 | 状态 | 更改 |"
    assert table[2].startswith(
        f"| [{V3}]({V3}/index.md) | 2024 年 11 月 1 日 | 2025 年 1 月 1 日 | 否 | "
    )
    assert table[2].endswith(f"| 即将生效 | [{V2} → {V3}]({V3}/changes/index.md) |")
    assert table[3].startswith(
        f"| [{V2}]({V2}/index.md) | 2024 年 2 月 1 日 | 2024 年 3 月 1 日 | **是** (T"
    )
    assert "| 注销账号后的信息处理和未成年人的年龄有变 | 当前版本 |" in table[3]
    assert table[4] == (
        f"| [{V1}]({V1}/index.md) | 2018 年 11 月 1 日 | 2018 年 11 月 1 日 | — | "
        "世纪互联运营的在线服务隐私声明的首个存档版本（2018 年 11 月 1 日发布）。 | "
        "已存档 | 首个版本 |"
    )
    assert len(table) == 5


def test_redline_page(site: SitePages) -> None:
    """When v1 → v2 is redlined, then changed sections carry ins/del and material reasons."""
    page = site.page(f"archive/{V2}/changes/index.md")
    markdown = page.markdown
    assert markdown.startswith(
        f"# 世纪互联运营的在线服务隐私声明：{V1} → {V2} 的更改 {{#notices-changes}}\n"
    )
    assert '<p class="notices-verdict">本次更改被评定为重大变更（T' in markdown
    assert "## 我们如何保存您的个人信息 {#retention}" in markdown
    assert "## 未成年人保护 {#minors}" in markdown
    assert "## 范围 {#scope}" not in markdown  # unchanged sections are not repeated
    assert "<ins>" in markdown and "<del>" in markdown
    assert "notices-change--material" in markdown
    assert '<div class="notices-why">' in markdown
    retention = markdown[markdown.index("{#retention}") : markdown.index("{#minors}")]
    assert "不会" in retention and "可能" in retention
    assert page.meta["search"] == {"exclude": True}
    quiet = site.page(f"archive/{V3}/changes/index.md").markdown
    assert '<p class="notices-verdict">本次更改未被评定为重大变更（T0）。</p>' in quiet
    assert "notices-change--material" not in quiet


def test_compare_pages(site: SitePages) -> None:
    """When the compare pages are built, then every other version is compared with the current."""
    index = site.page("compare/index.md").markdown
    assert f'<option value="{V3}/">{V3} · 即将生效</option>' in index
    assert f'<option value="{V1}/">{V1} · 已存档</option>' in index
    assert f"[{V1} ↔ {V2}]({V1}/index.md)" in index
    older = site.page(f"compare/{V1}/index.md").markdown
    assert older.startswith(f"# 世纪互联运营的在线服务隐私声明：{V1} 与 {V2} 的比较")
    assert "{#minors}" in older and "{#contact}" not in older
    assert "notices-verdict" not in older  # verdicts belong to releases, listed in between:
    assert f"- [{V2}](../../archive/{V2}/changes/index.md)（重大变更 · T" in older
    assert "）：注销账号后的信息处理和未成年人的年龄有变" in older
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
    banner = site.page("index.md").meta["notices"]["banners"][0]
    assert banner["kind"] == "upcoming"
    assert banner["text"].endswith("目前没有已生效的版本。")
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
    assert english_home.meta["notices"]["banners"][0]["text"] == (
        "This is the current version (2024-05-01), in effect since May 1, 2024."
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
    assert "notices-badge--material" in material and "notices-badge--quiet" in quiet
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
