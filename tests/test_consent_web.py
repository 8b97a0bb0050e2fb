"""The consent pages over real HTTP on 127.0.0.1, on SQLite and PostgreSQL: only a same-origin
POST bound to the current text records a decision; nothing else changes anything."""

from __future__ import annotations

import base64
import html
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from aiosmtpd.controller import Controller
from support.consent import (
    ARTICLE,
    RELEASE,
    Client,
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
from support.notify import NOTICE, VERSION, amended
from support.repos import NoticeRepo

from notifier.consent.texts import consent_text
from notifier.consent.tokens import Grant, sign
from notifier.settings import Settings

# columns of consent_decisions
DELIVERY, SHA, DECISION, WITHDRAWS = 3, 5, 7, 8
FAR = datetime(2040, 1, 1, tzinfo=UTC)


@dataclass
class Served:
    settings: Settings
    ids: list[int]
    client: Client


@pytest.fixture
def served(seeded_repo: NoticeRepo, database_env: dict[str, str]) -> Iterator[Served]:
    """A release asking consent mailed to five customers, its consent pages served."""
    settings, ids = consent_release(seeded_repo, 5, database_env)
    with serving_consent(settings) as origin:
        yield Served(settings, ids, Client(origin))


def _form(page: str) -> tuple[str, dict[str, str]]:
    """The question form's action and hidden fields, as a browser reads them."""
    action = re.search(r'<form method="post" action="([^"]+)">', page)
    shown = re.search(r'name="shown" value="([0-9a-f]{64})"', page)
    locale = re.search(r'name="locale" value="([A-Za-z-]+)"', page)
    assert action and shown and locale, page
    return html.unescape(action.group(1)), {"shown": shown.group(1), "locale": locale.group(1)}


def test_agree_is_recorded_from_the_page_and_confirmed(served: Served) -> None:
    """When a customer opens the link and agrees, then one decision is recorded with the hash
    of the text shown, and the confirmation offers a withdraw link."""
    path = link(served.settings, served.ids[0])
    page = served.client.get(path)
    assert page.status == 200
    action, fields = _form(page.body)
    text = consent_text(served.settings, RELEASE, "zh-CN", ARTICLE)
    assert action == path and fields == {"shown": text.sha256, "locale": "zh-CN"}
    for paragraph in text.body.split("\n\n"):
        assert html.escape(paragraph, quote=False) in page.body
    answer = served.client.post(action, {**fields, "decision": "agree"})
    assert (answer.status, answer.location) == (303, f"{path}/done")
    rows = decisions(served.settings)
    assert [(r[DECISION], r[SHA], r[WITHDRAWS]) for r in rows] == [("agree", text.sha256, None)]
    done = served.client.get(answer.location)
    assert done.status == 200 and "我们已记录您表示同意" in done.body
    assert f'href="{path}/withdraw"' in done.body


def test_the_two_answers_are_alike_and_none_is_chosen(served: Served) -> None:
    """When the question is shown, then agree and decline are two buttons of one form with the
    same markup, none pre-selected, no script, and the page forbids framing and referrers."""
    page = served.client.get(link(served.settings, served.ids[0]))
    buttons = re.findall(r"<button ([^>]*)>([^<]*)</button>", page.body)
    assert buttons == [
        ('type="submit" name="decision" value="agree" class="choice"', "我同意"),
        ('type="submit" name="decision" value="decline" class="choice"', "我不同意"),
    ]
    assert not re.search(r"checked|selected|autofocus|<script|onclick", page.body)
    assert page.headers["content-security-policy"].startswith("default-src 'self';")
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert page.headers["referrer-policy"] == "same-origin"
    assert page.headers["cache-control"] == "no-store"


def test_an_english_customer_reads_english(served: Served) -> None:
    """When customer 5 (English) opens their link, then the page and its text are English."""
    page = served.client.get(link(served.settings, served.ids[4], locale="en"))
    assert page.status == 200 and '<html lang="en">' in page.body
    assert "I agree" in page.body and "Do you agree" in page.body and "我同意" not in page.body


def test_decline_then_change_of_mind(served: Served) -> None:
    """When a customer declines and later agrees, then both decisions are kept in order and the
    page tells the latest one."""
    path = link(served.settings, served.ids[1])
    action, fields = _form(served.client.get(path).body)
    assert served.client.post(action, {**fields, "decision": "decline"}).status == 303
    again = served.client.get(path)
    assert "表示不同意。您可以在下面更改选择" in again.body
    assert served.client.post(action, {**fields, "decision": "agree"}).status == 303
    assert [r[DECISION] for r in decisions(served.settings)] == ["decline", "agree"]
    assert "表示同意。您可以在下面更改选择" in served.client.get(path).body


def test_withdrawal_is_confirmed_then_posted_and_points_at_the_grant(served: Served) -> None:
    """When a customer who agreed opens the withdraw link, then nothing changes until they
    confirm by POST; the withdrawal is a new row naming the agreement."""
    path = link(served.settings, served.ids[2])
    action, fields = _form(served.client.get(path).body)
    served.client.post(action, {**fields, "decision": "agree"})
    confirm = served.client.get(f"{path}/withdraw")
    assert confirm.status == 200 and "确定撤回同意吗" in confirm.body
    assert len(decisions(served.settings)) == 1
    done = served.client.post(f"{path}/withdraw")
    assert (done.status, done.location) == (303, f"{path}/done")
    agree, withdraw = decisions(served.settings)
    assert (withdraw[DECISION], withdraw[WITHDRAWS]) == ("withdraw", agree[0])
    assert "我们已记录您撤回同意" in served.client.get(done.location).body
    again = served.client.post(f"{path}/withdraw")
    assert again.status == 409 and "无需撤回" in again.body
    assert len(decisions(served.settings)) == 2


def test_a_tampered_link_changes_nothing(served: Served) -> None:
    """When any character of a link is altered, or it is cut short, then the page is a 400
    and no POST through it records anything."""
    path = link(served.settings, served.ids[0])
    token = path.removeprefix("/consent/")
    flipped = token[:20] + ("A" if token[20] != "A" else "B") + token[21:]
    for bad in (flipped, token[:-3], token + "AAAA", "x" * 40):
        page = served.client.get(f"/consent/{bad}")
        assert page.status == 400 and "此链接无效" in page.body
        sha = consent_text(served.settings, RELEASE, "zh-CN", ARTICLE).sha256
        posted = served.client.post(f"/consent/{bad}", {"shown": sha, "decision": "agree"})
        assert posted.status == 400
    assert decisions(served.settings) == []


def test_a_token_replayed_for_another_release_is_refused(served: Served) -> None:
    """When a genuine token's release is rewritten to another release (same length), then it
    is refused as forged; a correctly signed link naming a release that is not the delivery's
    shows nothing and records nothing."""
    path = link(served.settings, served.ids[0])
    raw = base64.urlsafe_b64decode(path.removeprefix("/consent/") + "==")
    moved = raw.replace(VERSION.encode(), b"2031-01-01")
    assert moved != raw
    forged = "/consent/" + base64.urlsafe_b64encode(moved).rstrip(b"=").decode()
    sha = consent_text(served.settings, RELEASE, "zh-CN", ARTICLE).sha256
    assert served.client.get(forged).status == 400
    assert served.client.post(forged, {"shown": sha, "decision": "agree"}).status == 400
    elsewhere = Grant(served.ids[0], "privacy/zh-CN/2018-11-01", ARTICLE, sha, FAR)
    signed = "/consent/" + sign(elsewhere, served.settings.consent_keys)
    assert served.client.get(signed).status == 404
    assert served.client.post(signed, {"shown": sha, "decision": "agree"}).status == 404
    assert served.client.get(path).status == 200  # the genuine link still works
    assert decisions(served.settings) == []


def test_the_text_changed_between_page_and_post(served: Served, seeded_repo: NoticeRepo) -> None:
    """When the statement is revised after the page was shown, then the very next POST records
    nothing and the page shows the current text; answering that records its hash."""
    path = link(served.settings, served.ids[0])
    action, fields = _form(served.client.get(path).body)
    revised = amended().replace(
        "只能为提供技术支持使用这些数据", "只能为提供技术支持而使用这些数据"
    )
    assert revised != amended()
    seeded_repo.commit("Clearer wording", "2029-11-02T10:00:00+08:00", {NOTICE: revised})
    stale = served.client.post(action, {**fields, "decision": "agree"})
    assert stale.status == 409 and "文本有了变化" in stale.body
    assert decisions(served.settings) == []
    new_action, new_fields = _form(stale.body)
    current = consent_text(served.settings, RELEASE, "zh-CN", ARTICLE).sha256
    assert new_fields["shown"] == current != fields["shown"]
    assert "而使用这些数据" in stale.body
    answer = served.client.post(new_action, {**new_fields, "decision": "agree"})
    assert answer.status == 303
    assert [r[SHA] for r in decisions(served.settings)] == [current]


def test_scanners_opening_every_link_decide_nothing(served: Served) -> None:
    """When a link scanner sends 100 GETs and HEADs to every page of every link (expired ones
    too), then nothing is recorded and no mail is sent."""
    paths = [link(served.settings, i) for i in served.ids[:3]]
    paths.append(expired_link(served.settings, served.ids[3]))
    pages = [f"{p}{tail}" for p in paths for tail in ("", "/done", "/withdraw", "/reissue")]
    agents = ["Mozilla/5.0 (compatible; SafeLinks)", "Proofpoint URL Defense", "curl/8.5.0"]
    statuses = set()
    for number in range(100):
        method = "HEAD" if number % 2 else "GET"
        answer = served.client.request(
            method, pages[number % len(pages)], headers={"User-Agent": agents[number % 3]}
        )
        statuses.add(answer.status)
        if method == "HEAD":
            assert answer.body == ""
    assert statuses == {200, 303, 405, 410}
    assert decisions(served.settings) == []
    outbox = served.settings.var_dir / "outbox-consent"
    assert not outbox.exists() or not any(outbox.rglob("*.*"))


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "https://evil.example"},
        {"Origin": "null"},
        {"Referer": "https://evil.example/consent/page"},
        {},
        {"Origin": "http://127.0.0.1:1", "Referer": "SAME"},
    ],
    ids=["foreign-origin", "null-origin", "foreign-referer", "no-origin", "port-differs"],
)
def test_a_post_from_elsewhere_is_refused(served: Served, headers: dict[str, str]) -> None:
    """When a POST carries another origin, a null one, another site's referrer or neither,
    then it is refused with 403 and nothing is recorded."""
    path = link(served.settings, served.ids[0])
    _, fields = _form(served.client.get(path).body)
    sent = {k: served.client.origin + path if v == "SAME" else v for k, v in headers.items()}
    answer = served.client.request("POST", path, {**fields, "decision": "agree"}, sent)
    assert answer.status == 403 and "没有被记录" in answer.body
    assert decisions(served.settings) == []


def test_a_post_with_our_referrer_alone_is_accepted(served: Served) -> None:
    """When a POST has no Origin but our page as its Referer, then it counts."""
    path = link(served.settings, served.ids[0])
    _, fields = _form(served.client.get(path).body)
    referer = {"Referer": served.client.origin + path}
    answer = served.client.request("POST", path, {**fields, "decision": "decline"}, referer)
    assert answer.status == 303
    assert [r[DECISION] for r in decisions(served.settings)] == ["decline"]


def test_a_post_without_an_answer_records_nothing(served: Served) -> None:
    """When a same-origin POST carries no answer, one that is neither, a language we do not
    write in, or another language than the text's, then nothing is recorded."""
    path = link(served.settings, served.ids[0])
    _, fields = _form(served.client.get(path).body)
    assert served.client.post(path, fields).status == 400
    assert served.client.post(path, {**fields, "decision": "yes"}).status == 400
    assert served.client.post(path, {**fields, "decision": "agree", "locale": "fr"}).status == 400
    english = served.client.post(path, {**fields, "decision": "agree", "locale": "en"})
    assert english.status == 409 and "Do you agree" in english.body
    assert decisions(served.settings) == []


def test_an_expired_link_offers_a_fresh_one_by_mail(
    seeded_repo: NoticeRepo, database_env: dict[str, str]
) -> None:
    """When a customer opens an expired link, then the page offers a fresh one; asking for it
    mails a new link to the delivery's recipient over SMTP, and that link records an answer."""
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        env = {**database_env, **smtp_relay_settings(seeded_repo, controller.port)}
        settings, ids = consent_release(seeded_repo, 2, env)
        assert [to for to, _ in inbox.messages] == [
            ["user000001@example.com"],
            ["user000002@example.com"],
        ]
        mailed = links_in(inbox.messages[0][1])  # one per question: another company, abroad
        assert len(mailed) == 2
        with serving_consent(settings) as origin:
            client = Client(origin)
            assert [client.get(path).status for path in mailed] == [200, 200]
            old = expired_link(settings, ids[0])
            page = client.get(old)
            assert page.status == 410 and "此链接已过期" in page.body
            assert f'action="{old}/reissue"' in page.body
            assert client.get(f"{old}/reissue").status == 405
            assert len(inbox.messages) == 2
            sent = client.post(f"{old}/reissue")
            assert sent.status == 200 and "新链接正在发往同一邮箱" in sent.body
            deadline = time.monotonic() + 10
            while len(inbox.messages) < 3 and time.monotonic() < deadline:
                time.sleep(0.05)
            to, raw = inbox.messages[2]
            assert to == ["user000001@example.com"]
            fresh = links_in(raw)
            assert len(fresh) == 1 and fresh[0] != old
            action, fields = _form(client.get(fresh[0]).body)
            assert client.post(action, {**fields, "decision": "agree"}).status == 303
        assert [(r[DELIVERY], r[DECISION]) for r in decisions(settings)] == [(ids[0], "agree")]
    finally:
        controller.stop()


def test_forms_from_the_page_cannot_answer_an_expired_link(served: Served) -> None:
    """When an answer is posted to an expired link, then nothing is recorded and the expired
    page is shown."""
    path = expired_link(served.settings, served.ids[0])
    sha = consent_text(served.settings, RELEASE, "zh-CN", ARTICLE).sha256
    answer = served.client.post(path, {"shown": sha, "decision": "agree"})
    assert answer.status == 410 and decisions(served.settings) == []
