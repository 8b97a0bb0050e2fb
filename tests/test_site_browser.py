"""The built site in a real headless Chromium: both languages at a desktop's and a phone's width,
an automated accessibility check, pages without JavaScript, and search in Chinese and English.

One site, one browser and one tab per language and width serve the whole module; screenshots of
every page are kept in test-artifacts/ (named page-locale-width) for people to look at.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import date
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from support.browser import (
    CHROMIUM,
    CHROMIUM_ARGS,
    add_bilingual_releases,
    axe_problems,
    serve,
)
from support.repos import PROJECT, add_seed, empty_repo, run_notices
from support.site import TODAY, VERSIONS, install_site

from notifier.locales import format_date

ARTIFACTS = PROJECT / "test-artifacts"
V1, V2, V3 = VERSIONS
LANGUAGES = {"zh-CN": ("", "zh"), "en": ("en/", "en")}  # locale → (address prefix, <html lang>)
WIDTHS = {1280: 900, 375: 812}  # a desktop and a phone: width → height
PAGES = {  # page → address under the language's prefix
    "current": "",
    "upcoming": "upcoming/",
    "archive": "archive/",
    "changes": f"archive/{V2}/changes/",
    "compare": f"compare/{V1}/",
}
STATUS = {"zh-CN": ("现行版本", "即将生效"), "en": ("current", "upcoming")}  # in result titles
# What a reader must never see: rule codes, tiers, and citations of laws the notice is not under.
INTERNALS = re.compile(
    r"(?<![A-Za-z0-9])(?:[MNL]\d\d|T[1-4])(?![A-Za-z0-9])|Colorado|CalOPPA|FTC|GDPR|WP260|EDPB"
)
# The address and title of each page found, as the search box lists them.
RESULT_TITLES = """() => [...document.querySelectorAll('.md-search-result__item h1')].map(h1 => [
    h1.closest('a').href.replace(/[?#].*$/, ''), h1.textContent.replace(/\u200b/g, '')
])"""
TAB = Callable[..., Any]  # (locale, width, javascript=True) → a playwright Page

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="needs Debian's chromium at /usr/bin/chromium (apt-get install chromium)",
    ),
]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Three releases in Chinese and English, built and served on 127.0.0.1: v2 in effect
    (a material change), v3 upcoming."""
    repo = add_seed(empty_repo(tmp_path_factory.mktemp("browser") / "repo"))
    add_bilingual_releases(repo)
    install_site(repo)
    result = run_notices("site", "build", "--today", TODAY, cwd=repo.path)
    assert result.code == 0, result.err
    with serve(repo.path / "build/site") as url:
        yield url


@pytest.fixture(scope="module")
def tab() -> Iterator[TAB]:
    """One headless Chromium for the module, and one tab per language, width and JavaScript."""
    sync_api = pytest.importorskip("playwright.sync_api")
    pytest.importorskip("axe_playwright_python")
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        opened: dict[tuple[str, int, bool], Any] = {}

        def open_tab(locale: str, width: int, javascript: bool = True) -> Any:
            key = (locale, width, javascript)
            if key not in opened:
                context = browser.new_context(
                    viewport={"width": width, "height": WIDTHS[width]},
                    locale=locale,
                    java_script_enabled=javascript,
                )
                opened[key] = context.new_page()
            return opened[key]

        try:
            yield open_tab
        finally:
            browser.close()


def keep(page: Any, name: str, screens: int = 0) -> None:
    """A screenshot in test-artifacts/: what the reader sees, or the page's first `screens`
    screens, enough to judge its layout (a whole statement at 375 px is some 20 screens, slow
    to encode). Transitions are run to their end first, as a reader would wait."""
    options: dict[str, Any] = {"animations": "disabled"}
    if screens:
        width, height = page.viewport_size["width"], page.viewport_size["height"]
        tall = page.evaluate("document.documentElement.scrollHeight")
        clip = {"x": 0, "y": 0, "width": width, "height": min(tall, height * screens)}
        options.update(full_page=True, clip=clip)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), **options)


def visible_text(page: Any) -> str:
    """Every word of the page a reader can reach, folded <details> included, scripts not."""
    return str(page.evaluate(
        """() => {
            const body = document.body.cloneNode(true)
            body.querySelectorAll('script, style, template').forEach(node => node.remove())
            return body.textContent
        }"""
    ))


@pytest.mark.parametrize("name", PAGES)
@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("locale", LANGUAGES)
def test_page_reads_in_its_language_at_this_width(
    site: str, tab: TAB, locale: str, width: int, name: str
) -> None:
    """When a page is opened at 1280 or 375 px, then it says its language, does not scroll
    sideways and has no serious or critical accessibility violation."""
    prefix, lang = LANGUAGES[locale]
    page = tab(locale, width)
    response = page.goto(f"{site}{prefix}{PAGES[name]}")
    assert response is not None and response.status == 200
    keep(page, f"site-{name}-{locale}-{width}", screens=4)

    assert page.evaluate("document.documentElement.lang").split("-")[0] == lang
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= width, f"{name} ({locale}) is {scroll_width} px wide at {width} px"
    assert axe_problems(page) == []


@pytest.mark.parametrize("locale", LANGUAGES)
def test_redline_shows_readers_the_changes_and_none_of_our_internals(
    site: str, tab: TAB, locale: str
) -> None:
    """When a reader opens the page of a material release, then insertions and deletions are
    shown, and no rule code, tier or foreign citation is anywhere in its text."""
    prefix, _ = LANGUAGES[locale]
    page = tab(locale, 1280)
    page.goto(f"{site}{prefix}{PAGES['changes']}")
    assert page.locator(".notices-redline ins").count() > 0
    assert page.locator(".notices-redline del").count() > 0
    assert INTERNALS.findall(visible_text(page)) == []


@pytest.mark.parametrize("locale", LANGUAGES)
def test_pages_work_without_javascript(site: str, tab: TAB, locale: str) -> None:
    """When JavaScript is off, then the statement, its banners, the archive and the redline
    are all there, and insertions and deletions differ by more than colour."""
    prefix, _ = LANGUAGES[locale]
    page = tab(locale, 1280, javascript=False)
    page.goto(f"{site}{prefix}")
    assert page.locator("h2#minors").is_visible()
    assert page.locator(".notices-banner--current").is_visible()
    upcoming = page.locator(".notices-banner--upcoming a")
    assert upcoming.is_visible()
    assert (upcoming.get_attribute("href") or "").rstrip("/").endswith("upcoming")

    page.goto(f"{site}{prefix}{PAGES['archive']}")
    for version in VERSIONS:
        assert page.locator(f'a[href*="{version}"]').first.is_visible(), version

    page.goto(f"{site}{prefix}{PAGES['changes']}")
    inserted = page.locator(".notices-redline ins").first
    deleted = page.locator(".notices-redline del").first
    assert inserted.is_visible() and deleted.is_visible()
    assert "underline" in inserted.evaluate("node => getComputedStyle(node).textDecorationLine")
    assert "line-through" in deleted.evaluate("node => getComputedStyle(node).textDecorationLine")
    keep(page, f"site-changes-{locale}-nojs")


def search(page: Any, words: str) -> Any:
    """Type `words` into the page's search box; return the result links once they are shown."""
    sync_api = pytest.importorskip("playwright.sync_api")
    page.locator("label.md-search__icon, .md-search__input").first.click()
    box = page.locator("input.md-search__input")
    box.fill(words)
    box.press("End")  # an IME ends with a key event; `fill` alone sends none
    links = page.locator(".md-search-result__link")
    sync_api.expect(links.first).to_be_visible(timeout=15_000)
    return links


@pytest.mark.parametrize("word", ["个人信息", "未成年人"])
def test_chinese_search_highlights_the_whole_word(site: str, tab: TAB, word: str) -> None:
    """When a reader searches a Chinese word, then the results and the page they lead to mark
    the whole word, not its first characters."""
    page = tab("zh-CN", 1280)
    page.goto(site)
    links = search(page, word)
    marks = page.locator(".md-search-result__list mark").filter(visible=True)
    assert marks.count() > 0
    assert set(marks.all_inner_texts()) == {word}

    hrefs = [links.nth(i).get_attribute("href") or "" for i in range(links.count())]
    target = next(href for href in hrefs if "#" in href)
    assert parse_qs(urlsplit(target).query)["h"] == [word]
    page.goto(target)
    marked = page.locator("mark[data-md-highlight]")
    pytest.importorskip("playwright.sync_api").expect(marked.first).to_be_visible()
    assert set(marked.all_inner_texts()) == {word}
    keep(page, f"site-search-{word}")


@pytest.mark.parametrize("locale", LANGUAGES)
def test_search_stays_in_the_language_and_labels_each_version(
    site: str, tab: TAB, locale: str
) -> None:
    """When a reader searches a word both languages use, then only pages in the page's language
    are found, and the current and upcoming statements are two results whose titles name their
    status and date."""
    prefix, _ = LANGUAGES[locale]
    page = tab(locale, 1280)
    page.goto(f"{site}{prefix}")
    search(page, "Azure")
    results = dict(page.evaluate(RESULT_TITLES))
    in_english = {url.startswith(f"{site}en/") for url in results}
    assert in_english == {locale == "en"}, sorted(results)

    current, upcoming = results[f"{site}{prefix}"], results[f"{site}{prefix}upcoming/"]
    assert current != upcoming
    for title, status, version in zip((current, upcoming), STATUS[locale], (V2, V3), strict=True):
        assert status in title.lower()
        assert format_date(date.fromisoformat(version), locale) in title
    keep(page, f"site-search-{locale}")


def test_reader_follows_the_archive_to_a_redline(site: str, tab: TAB) -> None:
    """When a reader starts at the current statement, then its banners, the archive and the
    changes of a release are a few clicks apart."""
    expect = pytest.importorskip("playwright.sync_api").expect
    page = tab("zh-CN", 1280)
    page.goto(site)
    expect(page.locator(".notices-banner--current")).to_contain_text(
        "现行版本，自 2024 年 3 月 1 日起生效。"
    )
    expect(page.locator(".notices-banner--upcoming a")).to_have_text("阅读新版本")
    expect(page.locator("h2#minors")).to_contain_text("未成年人保护")

    page.locator(".md-nav__link", has_text="历史版本").first.click()
    expect(page).to_have_url(f"{site}archive/")
    page.get_by_role("link", name=f"与 {V1} 相比的更改").click()
    expect(page).to_have_url(f"{site}archive/{V2}/changes/")
    expect(page.locator("h2#retention")).to_be_visible()
    assert "不会" in " ".join(page.locator(".notices-redline del").all_inner_texts())
    expect(page.locator(".notices-change--material").first).to_be_visible()
