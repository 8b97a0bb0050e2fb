"""The built site in a real headless Chromium: current page, archive, redline, Chinese search."""

from __future__ import annotations

import functools
import http.server
import re
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.repos import PROJECT, NoticeRepo, run_notices
from support.site import TODAY, VERSIONS, add_releases, install_site

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = PROJECT / "test-artifacts"
V1, V2, V3 = VERSIONS

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="needs Debian's chromium at /usr/bin/chromium (apt-get install chromium)",
    ),
]


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib name
        """Requests are not worth a line each in the test output."""


@pytest.fixture
def served_site(seeded_repo: NoticeRepo) -> Iterator[str]:
    """The site built from three releases, served by a real HTTP server on 127.0.0.1."""
    add_releases(seeded_repo)
    install_site(seeded_repo)
    result = run_notices("site", "build", "--today", TODAY, cwd=seeded_repo.path)
    assert result.code == 0, result.err
    handler = functools.partial(_QuietHandler, directory=str(seeded_repo.path / "build/site"))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def test_reader_follows_the_archive_to_a_redline_and_searches(served_site: str) -> None:
    """When a reader opens the site, then archive, redline and Chinese search all work."""
    sync_api = pytest.importorskip("playwright.sync_api")
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=[
                "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run",
            ],
        )
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="zh-CN")
            page.goto(served_site)
            expect = sync_api.expect
            expect(page.locator(".notices-banner--current")).to_contain_text(
                "现行版本，自 2024 年 3 月 1 日起生效。"
            )
            expect(page.locator(".notices-banner--upcoming a")).to_have_text("阅读新版本")
            expect(page.locator("h2#minors")).to_contain_text("未成年人保护")

            page.locator(".md-nav__link", has_text="历史版本").first.click()
            expect(page).to_have_url(f"{served_site}archive/")
            page.get_by_role("link", name=f"与 {V1} 相比的更改").click()
            expect(page).to_have_url(f"{served_site}archive/{V2}/changes/")
            expect(page.locator("h2#retention")).to_be_visible()
            expect(page.locator(".notices-redline ins").first).to_be_visible()
            expect(page.locator(".notices-redline del").first).to_be_visible()
            assert "不会" in " ".join(page.locator(".notices-redline del").all_inner_texts())
            expect(page.locator(".notices-change--material").first).to_be_visible()
            page.screenshot(path=str(ARTIFACTS / "site-redline.png"), full_page=False)

            page.goto(served_site)
            page.locator("label.md-search__icon, .md-search__input").first.click()
            search = page.locator("input.md-search__input")
            search.fill("未成年人")
            search.press("End")  # an IME ends with a key event; `fill` alone sends none
            result = page.locator(".md-search-result__link", has_text=re.compile("未成年人.?保护"))
            expect(result.first).to_be_visible(timeout=15_000)
            assert (result.first.get_attribute("href") or "").endswith("#minors")
            page.screenshot(path=str(ARTIFACTS / "site.png"), full_page=False)
        finally:
            browser.close()
    assert (ARTIFACTS / "site.png").stat().st_size > 10_000
