"""`notices site build` and `site serve`: the real command on a real repo with three releases."""

from __future__ import annotations

import functools
import gzip
import http.server
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest
from support.repos import NoticeRepo, release_text, run_notices
from support.site import (
    ENGLISH,
    NOTICE,
    SECTION_IDS,
    TODAY,
    VERSIONS,
    add_english,
    add_releases,
    install_site,
    third_text,
    tree_digest,
)

V1, V2, V3 = VERSIONS

pytestmark = pytest.mark.slow

# Every file the build writes besides the theme's assets and the search index.
SITE_FILES = [
    "404.html",
    "about/index.html",
    f"archive/{V1}/index.html",
    f"archive/{V1}/source.txt",
    f"archive/{V2}/changes/index.html",
    f"archive/{V2}/index.html",
    f"archive/{V2}/source.txt",
    f"archive/{V3}/changes/index.html",
    f"archive/{V3}/index.html",
    f"archive/{V3}/source.txt",
    "archive/index.html",
    "assets/notices.css",
    "assets/search-words.js",
    f"compare/{V1}/index.html",
    f"compare/{V3}/index.html",
    "compare/index.html",
    "feed.xml",
    "index.html",
    "releases.json",
    "robots.txt",
    "search/search_index.json",
    "sitemap.xml",
    "sitemap.xml.gz",
    "upcoming/index.html",
]


@pytest.fixture
def site_repo(seeded_repo: NoticeRepo) -> NoticeRepo:
    add_releases(seeded_repo)
    install_site(seeded_repo)
    return seeded_repo


def _build(repo: NoticeRepo, *args: str, pages: int = 12) -> Path:
    result = run_notices("site", "build", "--today", TODAY, *args, cwd=repo.path)
    assert (result.code, result.err) == (0, "")
    assert result.out.startswith(f"built {pages} pages (")
    return repo.path / "build" / "site"


def _own_files(site: Path) -> list[str]:
    return [
        name
        for name in tree_digest(site)
        if not name.startswith(("assets/javascripts/", "assets/stylesheets/", "assets/images/"))
    ]


def test_build_writes_every_page(site_repo: NoticeRepo) -> None:
    """When the site is built, then it has every page and file, and nothing else of ours."""
    site = _build(site_repo)
    assert _own_files(site) == SITE_FILES
    assert not list(site_repo.path.glob("build/.site.*")), "no staging folder is left behind"
    html = (site / "index.html").read_text(encoding="utf-8")
    for section_id in SECTION_IDS:
        assert re.search(rf'<h[1-6] id="{section_id}">', html), section_id
        assert f'href="#{section_id}"' in html
    assert "14 岁以下的未成年人" in html
    assert "2024 年 3 月 1 日" in html
    assert 'rel="alternate" type="application/atom+xml"' in html
    assert 'href="feed.xml"' in html and 'href="releases.json"' in html
    assert "fonts.googleapis.com" not in html


def test_no_numbered_anchors(site_repo: NoticeRepo) -> None:
    """When any page is built, then no heading id is a numbered `_1` fallback."""
    site = _build(site_repo)
    for page in site.rglob("*.html"):
        ids = re.findall(r'id="([^"]*)"', page.read_text(encoding="utf-8"))
        assert not [i for i in ids if re.fullmatch(r"_\d+|.*_\d+", i)], page


def test_redline_and_archive_in_html(site_repo: NoticeRepo) -> None:
    """When the redline is built, then its sections carry ids, ins/del and the verdict."""
    site = _build(site_repo)
    redline = (site / f"archive/{V2}/changes/index.html").read_text(encoding="utf-8")
    assert '<h2 id="retention">' in redline and '<h2 id="minors">' in redline
    assert "<ins>" in redline and "<del>" in redline
    assert "notices-change--material" in redline
    archived = (site / f"archive/{V1}/index.html").read_text(encoding="utf-8")
    assert "此版本自 2018 年 11 月 1 日起生效，已于 2024 年 3 月 1 日被新版本取代。" in archived
    assert '<a href="../../">阅读现行版本</a>' in archived
    releases = json.loads((site / "releases.json").read_text(encoding="utf-8"))
    assert [(r["version"], r["status"]) for r in releases["releases"]] == [
        (V1, "archived"), (V2, "current"), (V3, "upcoming"),
    ]
    source = (site / f"archive/{V3}/source.txt").read_bytes()
    assert source == (site_repo.path / "notices/privacy/zh-CN.md").read_bytes()


def test_search_index_has_the_current_statement_segmented(site_repo: NoticeRepo) -> None:
    """When the search index is written, then Chinese is segmented and archives are left out."""
    site = _build(site_repo)
    index = json.loads((site / "search/search_index.json").read_text(encoding="utf-8"))
    locations = {doc["location"] for doc in index["docs"]}
    assert "#minors" in locations
    assert not [loc for loc in locations if loc.startswith("archive/20")]
    minors = next(doc for doc in index["docs"] if doc["location"] == "#minors")
    assert minors["title"] == "未成年人\u200b保护"
    assert "\\u200b" in index["config"]["separator"]  # the regex escape, for the browser


def test_build_is_deterministic(site_repo: NoticeRepo, tmp_path: Path) -> None:
    """When the same history is built twice, then every byte is the same, sitemap.gz included."""
    first = tree_digest(_build(site_repo))
    time.sleep(1.1)  # a build timestamp would show up as a different gzip header
    second = tree_digest(_build(site_repo))
    assert first == second
    other = tmp_path / "elsewhere"
    _build(site_repo, "--out", str(other))
    assert tree_digest(other) == first
    sitemap = gzip.decompress((other / "sitemap.xml.gz").read_bytes()).decode("utf-8")
    assert "<lastmod>2024-02-01</lastmod>" in sitemap


def test_failed_build_keeps_the_previous_site(site_repo: NoticeRepo) -> None:
    """When a theme override is broken, then the build fails in one line and the old site stays."""
    site = _build(site_repo)
    before = tree_digest(site)
    override = site_repo.path / "site/overrides/main.html"
    override.parent.mkdir(parents=True, exist_ok=True)
    override.write_text('{% extends "base.html" %}\n{% block broken %}\n', encoding="utf-8")
    with (site_repo.path / "mkdocs.yml").open("a", encoding="utf-8") as config:
        config.write("theme:\n  custom_dir: site/overrides\n")
    result = run_notices("site", "build", "--today", TODAY, cwd=site_repo.path)
    assert result.code == 1
    errors = [line for line in result.err.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1
    assert errors[0].startswith(f"error: {site_repo.path / 'mkdocs.yml'}: the site build failed: ")
    assert "TemplateSyntaxError" in errors[0]
    assert "(hint: fix it and build again; the previous site in" in errors[0]
    assert tree_digest(site) == before
    assert sorted(p.name for p in (site_repo.path / "build").iterdir()) == ["site"]


def test_broken_config_keeps_the_previous_site(site_repo: NoticeRepo) -> None:
    """When mkdocs.yml names an unknown plugin, then nothing is replaced and the error says why."""
    site = _build(site_repo)
    before = tree_digest(site)
    with (site_repo.path / "mkdocs.yml").open("a", encoding="utf-8") as config:
        config.write("plugins:\n  - notice\n")
    result = run_notices("site", "build", "--today", TODAY, cwd=site_repo.path)
    assert result.code == 1
    assert result.err.startswith(
        f"error: {site_repo.path / 'mkdocs.yml'}: setting 'plugins': "
        'The "notice" plugin is not installed'
    )
    assert len(result.err.splitlines()) == 1
    assert tree_digest(site) == before


def test_refuses_to_replace_a_foreign_folder(site_repo: NoticeRepo, tmp_path: Path) -> None:
    """When --out names a folder that is not a built site, then nothing in it is touched."""
    foreign = tmp_path / "documents"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("keep me", encoding="utf-8")
    result = run_notices("site", "build", "--out", str(foreign), cwd=site_repo.path)
    assert result.code == 1
    assert result.err == (
        f"error: {foreign}: refusing to replace a folder that is not a site built by notices "
        "(hint: choose a new or empty folder with --out)\n"
    )
    assert [p.name for p in foreign.iterdir()] == ["notes.txt"]


def test_json_output(site_repo: NoticeRepo) -> None:
    """When --json is given, then the build reports its folder and counts as one object."""
    result = run_notices("site", "build", "--today", TODAY, "--json", cwd=site_repo.path)
    assert result.code == 0
    report = json.loads(result.out)
    assert {k: report[k] for k in ("path", "pages")} == {
        "path": str(site_repo.path / "build" / "site"),
        "pages": 12,
    }
    assert report["files"] > len(SITE_FILES) and report["seconds"] >= 0


def test_no_release_is_an_error(notice_repo: NoticeRepo) -> None:
    """When main has no notice yet, then the build fails with a one-line error."""
    notice_repo.commit("Empty", files={"README.md": "notices\n"})
    install_site(notice_repo)
    result = run_notices("site", "build", cwd=notice_repo.path)
    assert result.code == 1
    assert result.err == (
        f"error: {notice_repo.path / 'notices'}: there is no release on main to publish "
        "(hint: commit a notice with a `version:` in its front matter to main)\n"
    )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _fetch(url: str, deadline: float) -> str:
    """The page at `url` once it answers 200, or '' when `deadline` passes."""
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return str(response.read().decode("utf-8"))
        except OSError:
            time.sleep(0.3)
    return ""


def _serve(repo: NoticeRepo, tmp_path: Path, *, sigint: bool = True) -> tuple[
    subprocess.Popen[bytes], str
]:
    """`site serve` on a free port, with its own temporary folder (tmp_path/tmp) and its output
    in tmp_path/serve.log; started with SIGINT ignored unless `sigint`, as a background job
    of a shell is. The process and the preview's address."""
    port = _free_port()
    (tmp_path / "tmp").mkdir()
    with (tmp_path / "serve.log").open("wb") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "notifier", "site", "serve", "--today", TODAY,
             "--dev-addr", f"127.0.0.1:{port}"],
            cwd=repo.path,
            env={**os.environ, "TMPDIR": str(tmp_path / "tmp")},
            stdout=log,
            stderr=subprocess.STDOUT,
            preexec_fn=None if sigint else functools.partial(
                signal.signal, signal.SIGINT, signal.SIG_IGN
            ),
        )
    return server, f"http://127.0.0.1:{port}/"


def _stopped(server: subprocess.Popen[bytes], tmp_path: Path, number: signal.Signals) -> str:
    """Send `number`; what the preview logged once it ended (the test fails if it did not)."""
    server.send_signal(number)
    try:
        server.wait(timeout=30)
    finally:
        server.kill()
    return (tmp_path / "serve.log").read_text(encoding="utf-8", errors="replace")


def _previews(tmp_path: Path) -> list[Path]:
    """The preview's temporary sites in the folder `_serve` gave it (others cache words there)."""
    return list((tmp_path / "tmp").glob("notices-preview-*"))


def test_serve_previews_the_site(site_repo: NoticeRepo, tmp_path: Path) -> None:
    """When an editor runs `site serve` and commits a release, then the preview shows it; when
    a supervisor sends SIGTERM, then it stops cleanly, its temporary site removed."""
    server, base = _serve(site_repo, tmp_path)
    try:
        body = _fetch(base + "upcoming/", time.monotonic() + 60)
        served = (tmp_path / "serve.log").read_text(encoding="utf-8", errors="replace")
        assert "此版本将于 2025 年 1 月 1 日生效，在此之前现行版本仍然有效。" in body, served
        fourth = release_text(third_text(), "2025-02-01")
        site_repo.commit("Release 2025-02-01", "2024-11-20T10:00:00+08:00", {NOTICE: fourth})
        body = _fetch(base + "archive/2025-02-01/", time.monotonic() + 60)
        assert "版本 2025-02-01 · " in body and "此版本将于 2025 年 2 月 1 日生效" in body
        assert _previews(tmp_path) != []  # the preview is built there
    finally:
        served = _stopped(server, tmp_path, signal.SIGTERM)
    assert server.returncode == 0, served
    assert _previews(tmp_path) == []


def test_serve_started_in_the_background_stops_on_sigint(
    site_repo: NoticeRepo, tmp_path: Path
) -> None:
    """When `site serve` was started with SIGINT ignored (a shell's background job) and gets
    SIGINT, then it stops all the same, its temporary site removed."""
    server, base = _serve(site_repo, tmp_path, sigint=False)
    try:
        assert "此版本将于" in _fetch(base + "upcoming/", time.monotonic() + 60)
    finally:
        served = _stopped(server, tmp_path, signal.SIGINT)
    assert server.returncode == 0, served
    assert _previews(tmp_path) == []


def test_rewritten_history_is_not_published(site_repo: NoticeRepo) -> None:
    """When a published version comes back with another text, then nothing is published."""
    site = _build(site_repo)
    before = tree_digest(site)
    seed = (site_repo.path / NOTICE).read_text(encoding="utf-8")
    comeback = release_text(seed, V1).replace("30 天内", "15 天内")
    site_repo.commit("Rewrite 2018-11-01", "2024-11-10T10:00:00+08:00", {NOTICE: comeback})
    result = run_notices("site", "build", "--today", TODAY, cwd=site_repo.path)
    assert result.code == 1
    error = result.err.splitlines()[-1]
    record = site_repo.path / "var" / "releases.lock.json"  # written by the first build
    assert error.startswith(
        f"error: {record}: published history was rewritten: privacy/zh-CN/{V1}: "
    )
    assert error.endswith("(hint: restore the published text; published history is append-only)")
    assert tree_digest(site) == before


def test_hand_written_page_cannot_hide_a_generated_one(site_repo: NoticeRepo) -> None:
    """When site/pages holds an index.md, then the build refuses instead of publishing it."""
    (site_repo.path / "site/pages/index.md").write_text("# 假的声明\n", encoding="utf-8")
    result = run_notices("site", "build", "--today", TODAY, cwd=site_repo.path)
    assert result.code == 1
    assert result.err.splitlines()[-1] == (
        f"error: {site_repo.path / 'site/pages/index.md'}: a hand-written page has the address "
        "of a generated one (hint: remove or rename it: this page is generated from the "
        "notices' git history)"
    )
    assert not (site_repo.path / "build" / "site").exists()


def test_a_mkdocs_yml_of_an_earlier_version_still_names_the_slugify_function() -> None:
    """When a repository's mkdocs.yml names `notifier.pages.heading_slug` (written before the
    package had subsystem folders), then MkDocs' loader still finds the same function."""
    import yaml
    from mkdocs.utils.yaml import get_yaml_loader

    from notifier.publishing.pages import heading_slug

    old = "slugify: !!python/name:notifier.pages.heading_slug\n"
    assert yaml.load(old, Loader=get_yaml_loader())["slugify"] is heading_slug


# --- one site per language ---------------------------------------------------------------------

URL = "https://privacy.example.com/"
ENGLISH_TITLE = "Privacy Statement for Online Services Operated by 21Vianet"
BILINGUAL_PAGES = 17  # 12 in Chinese; in English: home, archive, one version, compare, about


@pytest.fixture
def bilingual_repo(site_repo: NoticeRepo) -> NoticeRepo:
    add_english(site_repo)
    return site_repo


def _html(site: Path, folder: str) -> dict[str, str]:
    """Page path → HTML of every page under `folder` ('' for the Chinese site's own)."""
    pages = {
        path.relative_to(site).as_posix(): path.read_text(encoding="utf-8")
        for path in sorted((site / folder).rglob("*.html"))
    }
    return {name: html for name, html in pages.items() if folder or not name.startswith("en/")}


def _locs(sitemap: Path) -> list[str]:
    return re.findall(r"<loc>([^<]*)</loc>", sitemap.read_text(encoding="utf-8"))


def test_english_pages_are_english_throughout(bilingual_repo: NoticeRepo) -> None:
    """When the notice is also in English, then its pages carry English language, title,
    navigation and search box, and none of the Chinese site's words."""
    site = _build(bilingual_repo, pages=BILINGUAL_PAGES)
    english = _html(site, "en")
    assert sorted(english) == [
        "en/404.html", "en/about/index.html", f"en/archive/{V1}/index.html",
        "en/archive/index.html", "en/compare/index.html", "en/index.html",
    ]
    for name, html in english.items():
        assert '<html lang="en"' in html, name
        assert re.search(rf"<title>[^<]*{ENGLISH_TITLE}</title>", html), name
        assert 'placeholder="Search"' in html, name
        for chinese in ("隐私声明", "历史版本", "搜索", "比较版本"):
            assert chinese not in html, (name, chinese)
    home = english["en/index.html"]
    labels = re.findall(r'<span class="md-ellipsis">\s*([^<]*?)\s*</span>', home)
    assert {"Current version", "Archive", "Compare versions", "About this site"} <= set(labels)
    assert re.search(r'<a href="\.\./(\./)?" hreflang="zh-CN"', home)  # the switcher, to /
    for name, html in _html(site, "").items():
        assert '<html lang="zh"' in html, name
        assert ENGLISH_TITLE not in html, name


def test_links_from_english_pages_reach_the_root_files(bilingual_repo: NoticeRepo) -> None:
    """When an English page links to the feed or releases.json, then the link lands on the one
    file at the site's root (there is no copy under /en/)."""
    site = _build(bilingual_repo, pages=BILINGUAL_PAGES)
    assert not (site / "en/feed.xml").exists() and not (site / "en/releases.json").exists()
    reached = set()
    for name, html in _html(site, "en").items():
        if name == "en/404.html":
            continue  # addressed from the site's URL, as a server shows it for any path
        for link in re.findall(r'href="([^"]*(?:feed\.xml|releases\.json))"', html):
            target = site / link[1:] if link.startswith("/") else (site / name).parent / link
            assert target.resolve().is_file(), (name, link)
            reached.add(target.resolve().relative_to(site.resolve()).as_posix())
    assert reached == {"feed.xml", "releases.json"}


def test_each_language_has_its_sitemap_and_search_index(bilingual_repo: NoticeRepo) -> None:
    """When the site is built, then en/sitemap.xml lists only English pages, the root one none
    of them, each search index holds its own language only, and robots.txt names both."""
    site = _build(bilingual_repo, pages=BILINGUAL_PAGES)
    english, chinese = _locs(site / "en/sitemap.xml"), _locs(site / "sitemap.xml")
    assert english and all(loc.startswith(URL + "en/") for loc in english)
    assert f"{URL}en/archive/{V1}/" in english
    assert chinese and not [loc for loc in chinese if loc.startswith(URL + "en/")]
    assert (site / "robots.txt").read_text(encoding="utf-8") == (
        f"User-agent: *\nDisallow:\n\nSitemap: {URL}sitemap.xml\nSitemap: {URL}en/sitemap.xml\n"
    )
    index = json.loads((site / "en/search/search_index.json").read_text(encoding="utf-8"))
    titles = {doc["title"] for doc in index["docs"]}
    assert {"Scope", "About this site"} <= titles
    assert not [doc for doc in index["docs"] if re.search(r"[\u4e00-\u9fff]", doc["title"])]
    assert (index["config"]["pipeline"], index["config"]["separator"]) == (
        ["stopWordFilter"], r"[\s\-]+"
    )
    root = json.loads((site / "search/search_index.json").read_text(encoding="utf-8"))
    assert "Scope" not in {doc["title"] for doc in root["docs"]}
    assert "\\u200b" in root["config"]["separator"]


def test_builds_without_a_mkdocs_yml(site_repo: NoticeRepo) -> None:
    """When the repository has no mkdocs.yml, then the package's defaults build the same site."""
    with_file = tree_digest(_build(site_repo))
    (site_repo.path / "mkdocs.yml").unlink()
    assert tree_digest(_build(site_repo)) == with_file


def test_a_mkdocs_yml_adds_to_the_defaults(site_repo: NoticeRepo) -> None:
    """When mkdocs.yml sets a palette and a toc option, then both apply and the defaults it
    does not name (the toc slugify that keeps heading ids) stay."""
    (site_repo.path / "mkdocs.yml").write_text(
        "theme: {palette: {primary: teal}}\nmarkdown_extensions:\n  - toc:\n      permalink: '#'\n",
        encoding="utf-8",
    )
    html = (_build(site_repo) / "index.html").read_text(encoding="utf-8")
    assert 'data-md-color-primary="teal"' in html
    assert '<h2 id="scope">' in html
    assert 'class="headerlink" href="#scope" title="本节的永久链接">#</a>' in html


def test_a_failing_second_language_keeps_the_previous_site(bilingual_repo: NoticeRepo) -> None:
    """When the English build fails after the Chinese one succeeded, then nothing is replaced
    and no staging folder is left."""
    site = _build(bilingual_repo, pages=BILINGUAL_PAGES)
    before = tree_digest(site)
    hiding = bilingual_repo.path / "site/pages/en/index.md"
    hiding.write_text("# Not the statement\n", encoding="utf-8")
    result = run_notices("site", "build", "--today", TODAY, cwd=bilingual_repo.path)
    assert result.code == 1
    assert result.err == (
        f"error: {hiding}: a hand-written page has the address of a generated one (hint: remove "
        "or rename it: this page is generated from the notices' git history)\n"
    )
    assert tree_digest(site) == before
    assert sorted(p.name for p in (bilingual_repo.path / "build").iterdir()) == ["site"]
    assert (bilingual_repo.path / ENGLISH).is_file()


SEARCHED = (("Azure", "#scope"), ("cookies", "#cookies"), ("未成年人", ""))  # word, section found


def test_english_search_finds_english_words_only(bilingual_repo: NoticeRepo) -> None:
    """When a reader searches the English site in Chromium, then English words (Azure, cookies)
    are found on English pages, and Chinese words are not (they belong to the Chinese site)."""
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path("/usr/bin/chromium").exists():
        pytest.skip("needs Debian's chromium at /usr/bin/chromium")
    site = _build(bilingual_repo, pages=BILINGUAL_PAGES)
    handler = functools.partial(_QuietHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}/"
    try:
        with sync_api.sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-gpu"]
            )
            try:
                page = browser.new_page(locale="en")
                for word, expected in SEARCHED:
                    page.goto(base + "en/")
                    page.locator("label.md-search__icon, .md-search__input").first.click()
                    search = page.locator("input.md-search__input")
                    search.fill(word)
                    search.press("End")
                    meta = page.locator(".md-search-result__meta")
                    # results are drawn after the count: wait for what is expected, then read all
                    if expected:
                        found = page.locator(f'.md-search-result__link[href$="{expected}"]')
                        sync_api.expect(found.first).to_be_attached(timeout=15_000)
                    else:
                        sync_api.expect(meta).to_have_text("No matching documents", timeout=15_000)
                    links = [
                        link.get_attribute("href") or ""
                        for link in page.locator(".md-search-result__link").all()
                    ]
                    assert all(link.startswith(base + "en/") for link in links), links
                    if not expected:  # an expected result was waited for above
                        assert links == [], (word, links)
            finally:
                browser.close()
    finally:
        server.shutdown()
        server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib name
        """Requests are not worth a line each in the test output."""
