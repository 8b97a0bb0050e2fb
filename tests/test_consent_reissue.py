"""Fresh consent links on request, limited: whoever holds an expired link cannot make us mail
its recipient again and again, and the page answers alike whatever happened."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from aiosmtpd.controller import Controller
from support.consent import (
    Client,
    Inbox,
    consent_release,
    expired_link,
    free_port,
    grant_for,
    serving_consent,
    smtp_relay_settings,
)
from support.repos import NoticeRepo

from notifier.delivery import customers, fresh_links
from notifier.storage import db


@pytest.fixture
def inbox() -> Iterator[tuple[Inbox, int]]:
    """A real SMTP server on 127.0.0.1 keeping what it is given; yields it and its port."""
    kept = Inbox()
    controller = Controller(kept, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield kept, controller.port
    finally:
        controller.stop()


def _settle(inbox: Inbox, seconds: float = 1.5) -> int:
    """How many mails arrived once nothing more has come for `seconds`."""
    seen, quiet_since = len(inbox.messages), time.monotonic()
    while time.monotonic() - quiet_since < seconds:
        time.sleep(0.05)
        if len(inbox.messages) != seen:
            seen, quiet_since = len(inbox.messages), time.monotonic()
    return seen


def test_twenty_requests_for_a_fresh_link_mail_it_once(
    seeded_repo: NoticeRepo, database_env: dict[str, str], inbox: tuple[Inbox, int]
) -> None:
    """When an expired link's fresh-link button is pressed 20 times, all at once, then its
    recipient gets one mail, and every press gets the very same page."""
    kept, port = inbox
    env = {**database_env, **smtp_relay_settings(seeded_repo, port)}
    settings, ids = consent_release(seeded_repo, 2, env)
    told = len(kept.messages)
    with serving_consent(settings) as origin:
        client = Client(origin)
        path = expired_link(settings, ids[0]) + "/reissue"
        with ThreadPoolExecutor(20) as pool:
            answers = list(pool.map(lambda _: client.post(path), range(20)))
        assert {(a.status, a.body) for a in answers} == {(answers[0].status, answers[0].body)}
        assert answers[0].status == 200
        assert "如果此链接是发给您的，新链接正在发往同一邮箱。" in answers[0].body
        assert _settle(kept) == told + 1
        assert kept.messages[told][0] == ["user000001@example.com"]


def test_the_page_says_the_same_when_nothing_is_sent(
    seeded_repo: NoticeRepo, database_env: dict[str, str], inbox: tuple[Inbox, int]
) -> None:
    """When fresh links are asked for a suppressed customer and for one already sent a fresh
    link, then nothing is mailed and the page reads exactly as when a mail went out."""
    kept, port = inbox
    env = {**database_env, **smtp_relay_settings(seeded_repo, port)}
    settings, ids = consent_release(seeded_repo, 3, env)
    assert customers.suppress(settings, "user000003@example.com", "asked us to stop")
    told = len(kept.messages)
    with serving_consent(settings) as origin:
        client = Client(origin)
        sent = client.post(expired_link(settings, ids[1]) + "/reissue")
        assert _settle(kept) == told + 1
        limited = client.post(expired_link(settings, ids[1]) + "/reissue")
        suppressed = client.post(expired_link(settings, ids[2]) + "/reissue")
        assert _settle(kept) == told + 1
    assert (sent.status, sent.body) == (limited.status, limited.body)
    assert (sent.status, sent.body) == (suppressed.status, suppressed.body)


def test_fresh_links_are_spaced_and_counted_per_day(
    seeded_repo: NoticeRepo, database_env: dict[str, str], inbox: tuple[Inbox, int]
) -> None:
    """When fresh links to one question are asked for over a day, then one goes out at most
    every 15 minutes and at most three in 24 hours; another question of the same delivery
    has limits of its own."""
    kept, port = inbox
    env = {**database_env, **smtp_relay_settings(seeded_repo, port)}
    settings, ids = consent_release(seeded_repo, 2, env)
    told = len(kept.messages)
    start = datetime(2029, 12, 1, 9, 0, tzinfo=UTC)
    grant = grant_for(settings, ids[0])
    other = grant_for(settings, ids[0], article="PIPL 23")
    minutes = [0, 1, 14, 16, 30, 32, 60, 24 * 60 + 1]
    outcomes = [
        fresh_links.reissue(settings, grant, now=start + timedelta(minutes=m)) for m in minutes
    ]
    assert outcomes == [
        "sent",
        "limited",
        "limited",
        "sent",
        "limited",
        "sent",
        "limited",
        "sent",
    ]
    assert fresh_links.reissue(settings, other, now=start + timedelta(minutes=1)) == "sent"
    mailed = kept.messages[told:]
    assert len(mailed) == outcomes.count("sent") + 1
    assert {tuple(to) for to, _ in mailed} == {("user000001@example.com",)}
    with db.engine(settings).connect() as connection:
        rows = connection.execute(db.consent_reissues.select()).all()
    assert len(rows) == len(mailed)
