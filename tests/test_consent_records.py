"""The consent record: append-only decisions bound to the text shown, chained per release,
on SQLite and on PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from support.consent import ARTICLE, RELEASE, consent_release, grant_for
from support.repos import NoticeRepo
from support.schedule import postgres_database

from notifier.consent import records
from notifier.consent.records import NothingToWithdraw, TextChanged
from notifier.errors import ConsentError
from notifier.settings import Settings
from notifier.storage import db

AT = datetime(2029, 11, 5, 9, 30, 0, 123456, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgresql"])
def released(
    request: pytest.FixtureRequest, seeded_repo: NoticeRepo
) -> Iterator[tuple[Settings, list[int]]]:
    """A release asking consent, mailed to four customers, on each database."""
    if request.param == "sqlite":
        yield consent_release(seeded_repo, 4)
        db.dispose_all()
        return
    with postgres_database() as url:
        yield consent_release(seeded_repo, 4, {"NOTICES_DATABASE_URL": url})
        db.dispose_all()


def _record(
    settings: Settings, delivery_id: int, decision: str, **given: object
) -> records.Decision:
    grant = grant_for(settings, delivery_id)
    fields = {"shown_sha256": grant.text_sha256, "locale": "zh-CN", "at": AT, **given}
    return records.record(db.engine(settings), grant, decision=decision, **fields)  # type: ignore[arg-type]


def _rows(settings: Settings) -> list[records.Decision]:
    return [proved.decision for proved in records.history(db.engine(settings), RELEASE)]


def test_a_change_of_mind_is_a_new_row(released: tuple[Settings, list[int]]) -> None:
    """When a customer agrees and later declines, then both decisions stay, in order, and the
    latest stands; nobody else has a decision."""
    settings, ids = released
    agreed = _record(settings, ids[0], "agree")
    declined = _record(settings, ids[0], "decline", at=AT.replace(minute=45))
    assert [(d.seq, d.decision) for d in _rows(settings)] == [(1, "agree"), (2, "decline")]
    assert _rows(settings)[0] == agreed
    assert records.standing(db.engine(settings), ids[0], ARTICLE) == declined
    assert records.standing(db.engine(settings), ids[1], ARTICLE) is None
    assert agreed.recorded_at == AT and agreed.client is None and agreed.locale == "zh-CN"


def test_a_withdrawal_points_at_the_agreement(released: tuple[Settings, list[int]]) -> None:
    """When a customer withdraws, then a new row names the agreement it withdraws and the
    agreement is left as it was; a withdrawal without a standing agreement records nothing."""
    settings, ids = released
    with pytest.raises(NothingToWithdraw):
        _record(settings, ids[0], "withdraw")
    _record(settings, ids[1], "decline")
    with pytest.raises(NothingToWithdraw):
        _record(settings, ids[1], "withdraw")
    agreed = _record(settings, ids[0], "agree")
    withdrawn = _record(settings, ids[0], "withdraw")
    assert withdrawn.withdraws == agreed.id and withdrawn.decision == "withdraw"
    assert _rows(settings) == [_rows(settings)[0], agreed, withdrawn]
    assert records.standing(db.engine(settings), ids[0], ARTICLE) == withdrawn
    with pytest.raises(NothingToWithdraw):
        _record(settings, ids[0], "withdraw")


def test_a_decision_on_another_text_records_nothing(released: tuple[Settings, list[int]]) -> None:
    """When the text shown is not the link's, or no longer the current one, then TextChanged
    and nothing is recorded; a decision for another release's delivery is refused too."""
    settings, ids = released
    other = "0" * 64
    with pytest.raises(TextChanged):
        _record(settings, ids[0], "agree", shown_sha256=other)
    with pytest.raises(TextChanged):
        _record(settings, ids[0], "agree", current_sha256=other)
    with pytest.raises(ConsentError, match="not one of release"):
        grant = replace(grant_for(settings, ids[0]), release_id="privacy/zh-CN/2018-11-01")
        records.record(db.engine(settings), grant, decision="agree",
                       shown_sha256=grant.text_sha256, locale="zh-CN", at=AT)
    assert _rows(settings) == []


def test_the_chain_holds_under_concurrent_writers(released: tuple[Settings, list[int]]) -> None:
    """When eight writers record 200 decisions at once, then each has its own place in the
    chain, 1 to 200, and every hash follows from the one before it."""
    settings, ids = released
    errors: list[BaseException] = []

    def write(delivery_id: int) -> None:
        try:
            for number in range(25):
                _record(settings, delivery_id, ("agree", "decline")[number % 2])
        except BaseException as error:  # noqa: BLE001 - reported by the main thread
            errors.append(error)

    writers = [threading.Thread(target=write, args=(ids[n % 4],)) for n in range(8)]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join()
    assert errors == []
    rows = _rows(settings)
    assert [row.seq for row in rows] == list(range(1, 201))
    previous = records.seed(RELEASE)
    for row in rows:
        expected = records.chained(
            previous, seq=row.seq, delivery_id=row.delivery_id, release_id=RELEASE,
            article=row.article, text_sha256=row.text_sha256, locale=row.locale,
            decision=row.decision, withdraws_seq=None, recorded_at=row.recorded_at,
            client=row.client,
        )
        assert row.chain == expected
        previous = expected


def test_counts_never_take_silence_for_consent(released: tuple[Settings, list[int]]) -> None:
    """When one of four agrees, one declines and one agrees then withdraws, then one agreed,
    two declined and one never answered; the other question nobody answered."""
    settings, ids = released
    _record(settings, ids[0], "agree")
    _record(settings, ids[1], "decline")
    _record(settings, ids[2], "agree")
    _record(settings, ids[2], "withdraw")
    engine = db.engine(settings)
    assert records.counts_by_article(engine, RELEASE, ("PIPL 23", ARTICLE)) == {
        "PIPL 23": {"agreed": 0, "declined": 0, "no_answer": 4},
        ARTICLE: {"agreed": 1, "declined": 2, "no_answer": 1},
    }
    assert records.counts(engine, RELEASE, ("PIPL 23", ARTICLE)) == {
        "agreed": 1, "declined": 2, "no_answer": 5,
    }


def test_the_record_keeps_no_address(released: tuple[Settings, list[int]]) -> None:
    """When a decision is recorded, then its row holds the delivery id, never an address."""
    settings, ids = released
    _record(settings, ids[0], "agree", client="203.0.113.0/24 Mozilla/5.0")
    with db.engine(settings).connect() as connection:
        row = connection.execute(select(db.consent_decisions)).one()
    assert "@" not in " ".join(str(value) for value in row)
    assert row.client == "203.0.113.0/24 Mozilla/5.0"


@pytest.mark.parametrize(
    ("configured", "address", "agent", "kept"),
    [
        (False, "203.0.113.77", "Mozilla/5.0 (X11; Linux x86_64) Chrome/120.0", None),
        (True, "203.0.113.77", "Mozilla/5.0 (X11; Linux x86_64) Chrome/120.0",
         "203.0.113.0/24 Mozilla/5.0"),
        (True, "2001:db8:85a3:8d3:1319:8a2e:370:7348", "curl/8.5.0",
         "2001:db8:85a3::/48 curl/8.5.0"),
        (True, None, None, None),
        (True, "not an address", "", None),
    ],
)
def test_the_client_is_kept_only_if_configured_and_truncated(
    configured: bool, address: str | None, agent: str | None, kept: str | None
) -> None:
    """When a client is described, then nothing is kept unless configured, and then only the
    /24 or /48 network and the browser's product token."""
    assert records.client_of(configured, address, agent) == kept
