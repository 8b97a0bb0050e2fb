"""The consent pages in a real headless Chromium with JavaScript off: answering, changing one's
mind, withdrawing, a form on another site, and an expired link's fresh one by mail."""

from __future__ import annotations

import functools
import http.server
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from support.consent import (
    ARTICLE,
    RELEASE,
    Inbox,
    consent_release,
    decisions,
    expired_link,
    free_port,
    link,
    links_in,
    serving_consent,
    smtp_relay_settings,
)
from support.notify import NOTICE, amended
from support.repos import PROJECT, NoticeRepo

from notifier.consent.texts import consent_text

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = PROJECT / "test-artifacts"
DELIVERY, DECISION, WITHDRAWS = 3, 7, 8  # columns of consent_decisions

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="needs Debian's chromium at /usr/bin/chromium (apt-get install chromium)",
    ),
]


@pytest.fixture
def browser() -> Iterator[Any]:
    """Chromium, headless; pages get contexts with JavaScript disabled."""
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        try:
            yield launched
        finally:
            launched.close()


def _page(browser: Any, locale: str = "zh-CN") -> Any:
    context = browser.new_context(
        java_script_enabled=False, locale=locale, viewport={"width": 1024, "height": 900}
    )
    return context.new_page()


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib name
        """Requests are not worth a line each in the test output."""


def test_agree_withdraw_and_change_of_mind_by_clicking(
    seeded_repo: NoticeRepo, database_env: dict[str, str], browser: Any
) -> None:
    """When a customer clicks through the page without JavaScript, then agreeing, withdrawing
    (after a confirmation) and declining are each one recorded decision, in that order."""
    from playwright.sync_api import expect

    settings, ids = consent_release(seeded_repo, 3, database_env)
    with serving_consent(settings) as origin:
        page = _page(browser)
        url = origin + link(settings, ids[0])
        page.goto(url)
        expect(page.locator("h1")).to_have_text("征求您的同意")
        agree = page.get_by_role("button", name="我同意", exact=True)
        decline = page.get_by_role("button", name="我不同意", exact=True)
        one, other = agree.bounding_box(), decline.bounding_box()
        assert one and other and (one["width"], one["height"]) == (other["width"], other["height"])
        assert page.locator("input[type=radio], input[type=checkbox], [autofocus]").count() == 0
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "consent-question.png"), full_page=True)

        agree.click()
        expect(page).to_have_url(f"{url}/done")
        expect(page.locator("main")).to_contain_text("我们已记录您表示同意")
        assert [r[DECISION] for r in decisions(settings)] == ["agree"]

        page.get_by_role("link", name="撤回同意").click()
        expect(page).to_have_url(f"{url}/withdraw")
        assert len(decisions(settings)) == 1  # opening the withdraw page decides nothing
        page.get_by_role("button", name="确认撤回同意").click()
        expect(page.locator("main")).to_contain_text("我们已记录您撤回同意")

        page.goto(url)
        expect(page.locator(".notice")).to_contain_text("撤回同意。您可以在下面重新选择")
        page.get_by_role("button", name="我不同意", exact=True).click()
        expect(page.locator("main")).to_contain_text("我们已记录您表示不同意")
    rows = decisions(settings)
    assert [(r[DELIVERY], r[DECISION]) for r in rows] == [
        (ids[0], "agree"),
        (ids[0], "withdraw"),
        (ids[0], "decline"),
    ]
    assert rows[1][WITHDRAWS] == rows[0][0]


def test_a_form_on_another_site_records_nothing(
    seeded_repo: NoticeRepo, browser: Any, tmp_path: Path
) -> None:
    """When another site's page holds a copy of our form (token and hash included) and the
    visitor clicks it, then the browser's POST is refused and nothing is recorded."""
    from playwright.sync_api import expect

    settings, ids = consent_release(seeded_repo, 1)
    sha = consent_text(settings, RELEASE, "zh-CN", ARTICLE).sha256
    with serving_consent(settings) as origin:
        target = origin + link(settings, ids[0])
        (tmp_path / "prize.html").write_text(
            f'<meta charset="utf-8"><form method="post" action="{target}">'
            f'<input type="hidden" name="shown" value="{sha}">'
            '<button name="decision" value="agree">领奖</button></form>',
            encoding="utf-8",
        )
        handler = functools.partial(_Quiet, directory=str(tmp_path))
        elsewhere = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=elsewhere.serve_forever, daemon=True).start()
        try:
            page = _page(browser)
            page.goto(f"http://127.0.0.1:{elsewhere.server_address[1]}/prize.html")
            page.get_by_role("button", name="领奖").click()
            expect(page.locator("h1")).to_have_text("您的选择没有被记录")
        finally:
            elsewhere.shutdown()
            elsewhere.server_close()
    assert decisions(settings) == []


def test_an_expired_link_brings_a_fresh_one_by_mail(seeded_repo: NoticeRepo, browser: Any) -> None:
    """When an English customer opens an expired link and asks for a fresh one, then it comes by
    mail (SMTP) to their address, and answering through it is recorded."""
    from playwright.sync_api import expect

    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        env = smtp_relay_settings(seeded_repo, controller.port)
        settings, ids = consent_release(seeded_repo, 5, env)
        told = len(inbox.messages)
        with serving_consent(settings) as origin:
            page = _page(browser, "en")
            page.goto(origin + expired_link(settings, ids[4], locale="en"))
            expect(page.locator("h1")).to_have_text("This link has expired")
            page.get_by_role("button", name="Send me a fresh link").click()
            expect(page.locator("h1")).to_have_text("Fresh link requested")
            deadline = time.monotonic() + 10
            while len(inbox.messages) == told and time.monotonic() < deadline:
                time.sleep(0.05)
            to, raw = inbox.messages[told]
            assert to == ["user000005@example.com"]
            (fresh,) = links_in(raw)
            page.goto(origin + fresh)
            expect(page.locator("html")).to_have_attribute("lang", "en")
            page.get_by_role("button", name="I agree", exact=True).click()
            expect(page.locator("main")).to_contain_text("We have recorded that you agree.")
    finally:
        controller.stop()
    assert [(r[DELIVERY], r[DECISION]) for r in decisions(settings)] == [(ids[4], "agree")]


def test_a_revision_while_the_page_is_open_is_shown_before_anything_counts(
    seeded_repo: NoticeRepo, browser: Any
) -> None:
    """When the statement is revised while the page is open and the customer then agrees, then
    nothing is recorded and the page shows the revised text; agreeing again records its hash."""
    from playwright.sync_api import expect

    settings, ids = consent_release(seeded_repo, 1)
    with serving_consent(settings) as origin:
        page = _page(browser)
        page.goto(origin + link(settings, ids[0]))
        old = page.locator("input[name=shown]").get_attribute("value")
        revised = amended().replace("只能为提供技术支持使用这些数据", "只能为技术支持使用这些数据")
        seeded_repo.commit("Shorter wording", "2029-11-02T10:00:00+08:00", {NOTICE: revised})
        time.sleep(1.2)  # texts are re-read once main has moved, checked at most once a second
        page.get_by_role("button", name="我同意", exact=True).click()
        expect(page.locator(".notice")).to_contain_text("文本有了变化")
        expect(page.locator(".text")).to_contain_text("只能为技术支持使用这些数据")
        assert decisions(settings) == []
        page.get_by_role("button", name="我同意", exact=True).click()
        expect(page.locator("main")).to_contain_text("我们已记录您表示同意")
    current = consent_text(settings, RELEASE, "zh-CN", ARTICLE).sha256
    assert [r[5] for r in decisions(settings)] == [current] != [old]
