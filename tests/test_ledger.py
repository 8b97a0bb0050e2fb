"""The ledger on real SQLite files and a real PostgreSQL: plan, claim, mark, reclaim, withdraw."""

from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from support.notify import write_customers
from support.repos import PROJECT
from support.schedule import postgres_database

from notifier.delivery import ledger
from notifier.delivery.customers import import_csv, suppress
from notifier.delivery.mail import Sent
from notifier.settings import Settings, load_settings
from notifier.storage import db

RELEASE = "privacy/zh-CN/2029-11-01"
DUE = datetime(2029, 12, 2, tzinfo=UTC)
NOW = datetime(2029, 12, 2, 1, tzinfo=UTC)


def _settings(url: str) -> Settings:
    return load_settings(PROJECT, {"NOTICES_DATABASE_URL": url})


def _directory(tmp_path: Path, url: str | None = None, count: int = 25) -> Settings:
    """`count` customers of azure and powerbi (every fifth in English), plus one of office365."""
    settings = _settings(url or f"sqlite:///{tmp_path / 'ledger.db'}")
    path = write_customers(tmp_path / "c.csv", count)
    with path.open("a", encoding="utf-8") as handle:
        handle.write("other@example.com,孙丽,zh-CN,office365\n")
    import_csv(path, settings)
    return settings


def test_plan_adds_each_active_customer_of_the_services_once(tmp_path: Path) -> None:
    """When a release is planned twice, then each active customer of its services has one row."""
    settings = _directory(tmp_path)
    suppress(settings, "user000003@example.com", "account closed")
    engine = db.engine(settings)
    assert ledger.plan(engine, RELEASE, ("powerbi",), DUE) == 24
    assert ledger.plan(engine, RELEASE, ("powerbi", "office365"), DUE) == 1
    assert ledger.plan(engine, RELEASE, ("powerbi", "office365"), DUE) == 0
    assert ledger.counts(engine, RELEASE) == {
        "planned": 25,
        "sending": 0,
        "sent": 0,
        "failed": 0,
        "bounced": 0,
    }
    assert ledger.locale_counts(engine, ("azure",)) == {"en": 5, "zh-CN": 19}
    assert ledger.planned_locales(engine, RELEASE) == ["en", "zh-CN"]


def test_claims_are_disjoint_batches_of_one_locale(tmp_path: Path) -> None:
    """When batches are claimed, then each holds one locale, in id order, and none overlap."""
    settings = _directory(tmp_path)
    engine = db.engine(settings)
    ledger.plan(engine, RELEASE, ("azure",), DUE)
    batches = []
    for locale in ledger.planned_locales(engine, RELEASE):
        while batch := ledger.claim(engine, RELEASE, 4, NOW, locale=locale):
            batches.append(batch)
    assert [len(b.deliveries) for b in batches] == [4, 1, 4, 4, 4, 4, 4]
    assert [{d.locale for d in b.deliveries} for b in batches[:3]] == [{"en"}, {"en"}, {"zh-CN"}]
    ids = [d.id for b in batches for d in b.deliveries]
    assert len(ids) == len(set(ids)) == 25
    assert all([d.id for d in b.deliveries] == sorted(d.id for d in b.deliveries) for b in batches)
    assert ledger.claim(engine, RELEASE, 4, NOW) is None
    assert ledger.counts(engine, RELEASE)["sending"] == 25


def test_mark_records_sent_and_failed_deliveries(tmp_path: Path) -> None:
    """When a batch is answered with one refusal, then the rest are sent with id and time."""
    settings = _directory(tmp_path, count=3)
    engine = db.engine(settings)
    ledger.plan(engine, RELEASE, ("azure",), DUE)
    batch = ledger.claim(engine, RELEASE, 10, NOW, locale="zh-CN")
    assert batch is not None and len(batch.deliveries) == 3
    refused = batch.deliveries[1]
    answer = Sent(True, "msg-1", failures=((refused.id, f"550 <{refused.email}> unknown"),))
    assert ledger.mark(engine, batch, answer, NOW) == (2, 1)
    rows = {row.customer_id: row for row in ledger.proof_rows(engine, RELEASE)}
    assert rows[refused.customer_id].status == "failed"
    assert rows[refused.customer_id].error == "550 <u***@e***.com> unknown"
    sent = [row for row in rows.values() if row.status == "sent"]
    assert [(row.message_id, row.sent_at) for row in sent] == [("msg-1", NOW)] * 2


def test_a_late_answer_for_a_reclaimed_batch_changes_nothing(tmp_path: Path) -> None:
    """When a batch was reclaimed meanwhile, then its old sender's answer is not recorded."""
    settings = _directory(tmp_path, count=2)
    engine = db.engine(settings)
    ledger.plan(engine, RELEASE, ("azure",), DUE)
    first = ledger.claim(engine, RELEASE, 10, NOW)
    assert first is not None
    assert ledger.requeue(engine, RELEASE, None) == (2, 0)
    second = ledger.claim(engine, RELEASE, 10, NOW)
    assert second is not None and second.id != first.id
    assert ledger.mark(engine, first, Sent(False, error="timeout"), NOW) == (0, 2)
    assert ledger.counts(engine, RELEASE)["sending"] == 2  # the late answer changed nothing
    ledger.mark(engine, second, Sent(True, "msg-2"), NOW)
    assert ledger.counts(engine, RELEASE)["sent"] == 2


def test_requeue_respects_the_lease_and_the_attempt_limit(tmp_path: Path) -> None:
    """When requeued with a lease, then only older claims and failures with tries left return."""
    settings = _directory(tmp_path, count=4)
    engine = db.engine(settings)
    ledger.plan(engine, RELEASE, ("azure",), DUE)
    old = ledger.claim(engine, RELEASE, 1, NOW - timedelta(hours=1))
    fresh = ledger.claim(engine, RELEASE, 1, NOW)
    assert old is not None and fresh is not None
    assert ledger.requeue(engine, RELEASE, NOW - timedelta(minutes=15)) == (1, 0)
    for _ in range(ledger.MAX_ATTEMPTS - 1):  # the first claim was an attempt too
        batch = ledger.claim(engine, RELEASE, 1, NOW)
        assert batch is not None and batch.deliveries[0].id == old.deliveries[0].id
        ledger.mark(engine, batch, Sent(False, error="SendGrid answered 400"), NOW)
        ledger.requeue(engine, RELEASE, NOW - timedelta(minutes=15))
    counts = ledger.counts(engine, RELEASE)
    assert counts == {"planned": 2, "sending": 1, "sent": 0, "failed": 1, "bounced": 0}


def test_withdraw_suppressed_marks_bounced_with_the_reason(tmp_path: Path) -> None:
    """When a planned customer is suppressed, then their delivery is withdrawn as bounced."""
    settings = _directory(tmp_path, count=3)
    engine = db.engine(settings)
    ledger.plan(engine, RELEASE, ("azure",), DUE)
    batch = ledger.claim(engine, RELEASE, 1, NOW)
    assert batch is not None
    ledger.mark(engine, batch, Sent(True, "m"), NOW)
    suppress(settings, batch.deliveries[0].email, "hard bounce")
    suppress(settings, "user000002@example.com", "account closed")
    assert ledger.withdraw_suppressed(engine, RELEASE) == 1
    rows = {row.customer_id: row for row in ledger.proof_rows(engine, RELEASE)}
    assert [(r.status, r.error) for r in rows.values()] == [
        ("sent", None),
        ("bounced", "suppressed before sending: account closed"),
        ("planned", None),
    ]


def test_sender_lock_lets_one_sender_at_a_time(tmp_path: Path) -> None:
    """When a sender holds the SQLite lock, then a second one waits until it is released."""
    settings = _settings(f"sqlite:///{tmp_path / 'lock.db'}")
    entered = threading.Event()

    def second() -> None:
        with db.sender_lock(settings) as alone:
            assert alone
            entered.set()

    with db.sender_lock(settings) as alone:
        assert alone
        waiting = threading.Thread(target=second)
        waiting.start()
        time.sleep(0.3)
        assert not entered.is_set()
    assert entered.wait(5)
    waiting.join(5)
    with db.sender_lock(_settings("sqlite://")) as alone:
        assert not alone  # an in-memory database has no file to lock


@pytest.mark.parametrize("workers", [4])
def test_postgresql_workers_claim_disjoint_batches(tmp_path: Path, workers: int) -> None:
    """When several workers claim at once on PostgreSQL, then every delivery goes to exactly one."""
    with postgres_database() as url:
        settings = _directory(tmp_path, url, count=3000)
        engine = db.engine(settings)
        planners = [
            threading.Thread(target=ledger.plan, args=(engine, RELEASE, ("azure",), DUE))
            for _ in range(workers)
        ]
        for thread in planners:
            thread.start()
        for thread in planners:
            thread.join()
        claimed: list[list[int]] = [[] for _ in range(workers)]

        def work(mine: list[int]) -> None:
            while batch := ledger.claim(engine, RELEASE, 100, NOW):
                mine.extend(d.id for d in batch.deliveries)
                ledger.mark(engine, batch, Sent(True, "m"), NOW)

        threads = [threading.Thread(target=work, args=(mine,)) for mine in claimed]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        everyone = Counter(i for mine in claimed for i in mine)
        assert len(everyone) == 3000 and set(everyone.values()) == {1}
        assert sum(1 for mine in claimed if mine) > 1  # the work was really shared
        assert ledger.counts(engine, RELEASE)["sent"] == 3000
        db.dispose_all()
