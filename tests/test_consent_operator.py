"""The operator's side of consent: counts in `notify status`, decisions in the proof and its
verification, the one reminder to those who have not answered, and the masked report."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from email import message_from_bytes, policy

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import event
from support.consent import (
    ARTICLE,
    KEYS,
    RELEASE,
    Inbox,
    consent_release,
    free_port,
    grant_for,
    smtp_relay_settings,
)
from support.notify import VERSION
from support.repos import NoticeRepo, run_notices

from notifier.consent import records
from notifier.consent.tokens import verify
from notifier.delivery import consent_reminders as reminders
from notifier.delivery import proof_chain
from notifier.releases.history import read_history
from notifier.scheduling.schedule import consent_asking, material_verdicts, plan_jobs
from notifier.settings import Settings, load_settings
from notifier.storage import db

AT = datetime(2029, 11, 5, 9, 30, tzinfo=UTC)
ENV = {"NOTICES_CONSENT_KEYS": KEYS}


def _decide(settings: Settings, delivery_id: int, *decisions: str) -> None:
    for decision in decisions:
        grant = grant_for(settings, delivery_id)
        records.record(db.engine(settings), grant, decision=decision,
                       shown_sha256=grant.text_sha256, locale="zh-CN", at=AT)


@pytest.fixture
def database(database_env: dict[str, str]) -> dict[str, str]:
    """The environment of the commands: keys, and an SQLite file or a fresh PostgreSQL."""
    return {**ENV, **database_env}


@pytest.fixture
def answered(
    seeded_repo: NoticeRepo, database: dict[str, str]
) -> Iterator[tuple[Settings, list[int]]]:
    """Four recipients of a release asking consent to send data abroad (and to give it to
    another company): the first agreed, the second declined, the third agreed then withdrew,
    the fourth never answered."""
    settings, ids = consent_release(seeded_repo, 4, database)
    _decide(settings, ids[0], "agree")
    _decide(settings, ids[1], "decline")
    _decide(settings, ids[2], "agree", "withdraw")
    yield settings, ids
    db.dispose_all()


def test_status_counts_answers(
    answered: tuple[Settings, list[int]], seeded_repo: NoticeRepo, database: dict[str, str]
) -> None:
    """When some answered, then `notify status --json` adds agreed, declined and no_answer to
    the ledger's counts (over both questions) and gives them per question; the text says so."""
    shown = run_notices("notify", "status", VERSION, "--json", cwd=seeded_repo.path,
                        env=database)
    assert shown.code == 0, shown.err
    assert json.loads(shown.out) == {
        "version": VERSION,
        "counts": {"planned": 0, "sending": 0, "sent": 4, "failed": 0, "bounced": 0,
                   "agreed": 1, "declined": 2, "no_answer": 5},
        "consent": {
            "PIPL 23": {"agreed": 0, "declined": 0, "no_answer": 4},
            ARTICLE: {"agreed": 1, "declined": 2, "no_answer": 1},
        },
        "failures": [],
        "suppressed": [],
    }
    text = run_notices("notify", "status", VERSION, cwd=seeded_repo.path, env=database)
    assert text.out == (
        "planned 0  sending 0  sent 4  failed 0  bounced 0  agreed 1  declined 2  no_answer 5\n"
    )


def test_status_reads_the_answers_once(
    answered: tuple[Settings, list[int]], seeded_repo: NoticeRepo, database: dict[str, str]
) -> None:
    """When `notify status --json` is asked, then the decisions are read in one query that
    gives both the totals and the counts per question."""
    engine = db.engine(answered[0])
    statements: list[str] = []

    def seen(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", seen)
    try:
        shown = run_notices("notify", "status", VERSION, "--json", cwd=seeded_repo.path,
                            env=database)
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert shown.code == 0, shown.err
    assert json.loads(shown.out)["consent"][ARTICLE] == {"agreed": 1, "declined": 2,
                                                         "no_answer": 1}
    assert sum("consent_decisions" in statement for statement in statements) == 1

def _proof(repo: NoticeRepo, env: dict[str, str]) -> tuple[list[str], list[list[str]]]:
    run = run_notices("notify", "proof", VERSION, "--out", "proof.csv", cwd=repo.path, env=env)
    assert run.out == "wrote 4 row(s) and 4 consent decision(s) to proof.csv\n", run.err
    with (repo.path / "proof.csv").open(encoding="utf-8", newline="") as stream:
        header, *rows = list(csv.reader(stream))
    return header, rows


def _write(repo: NoticeRepo, header: list[str], rows: list[list[str]], *, rechain: bool) -> None:
    """The proof as given; with `rechain`, every row hash recomputed, as a forger would."""
    if rechain:
        previous = proof_chain.seed(RELEASE, rows[0][1])
        for row in rows:
            row[-1] = previous = proof_chain.row_hash(previous, row[:-1])
    out = io.StringIO()
    csv.writer(out).writerows([header, *rows])
    (repo.path / "proof.csv").write_text(out.getvalue(), encoding="utf-8")


def _verify(repo: NoticeRepo) -> tuple[int, str]:
    run = run_notices("notify", "verify-proof", "proof.csv", cwd=repo.path)
    return run.code, run.out + run.err


def test_the_proof_carries_the_decisions(
    answered: tuple[Settings, list[int]], seeded_repo: NoticeRepo, database: dict[str, str]
) -> None:
    """When the proof is written, then after the four deliveries come the four decisions in
    order, masked, the withdrawal naming the agreement it withdraws; the proof verifies."""
    settings, ids = answered
    header, rows = _proof(seeded_repo, database)
    decided = [dict(zip(header, row, strict=True)) for row in rows[4:]]
    assert [(d["delivery_id"], d["decision"], d["decision_seq"], d["withdraws_seq"])
            for d in decided] == [
        (str(ids[0]), "agree", "1", ""),
        (str(ids[1]), "decline", "2", ""),
        (str(ids[2]), "agree", "3", ""),
        (str(ids[2]), "withdraw", "4", "3"),
    ]
    assert {d["email"] for d in decided} == {"u***@e***.com"}
    assert {d["decided_at"] for d in decided} == {"2029-11-05T09:30:00.000000Z"}
    assert {d["text_sha256"] for d in decided} == {grant_for(settings, ids[0]).text_sha256}
    chain = [p.decision.chain for p in records.history(db.engine(settings), RELEASE)]
    assert [d["decision_chain"] for d in decided] == chain
    assert "@example.com" not in (seeded_repo.path / "proof.csv").read_text(encoding="utf-8")
    assert _verify(seeded_repo) == (0, f"OK: 8 row(s), chain head {rows[-1][-1]}\n")


def test_verify_proof_catches_a_tampered_decision(
    answered: tuple[Settings, list[int]], seeded_repo: NoticeRepo, database: dict[str, str]
) -> None:
    """When a decision row is edited, then verify-proof names its row; when the forger also
    recomputes every row hash, then the decisions' own chain still names it, and a dropped
    decision or a withdrawal pointed elsewhere is named too."""
    header, rows = _proof(seeded_repo, database)
    column = header.index("decision")
    declined = [list(row) for row in rows]
    declined[5][column] = "agree"
    _write(seeded_repo, header, declined, rechain=False)
    code, said = _verify(seeded_repo)
    assert code == 1 and said.startswith("error: proof.csv: row 7: row hash does not match")
    _write(seeded_repo, header, declined, rechain=True)
    code, said = _verify(seeded_repo)
    assert code == 1
    assert said.startswith("error: proof.csv: row 7: consent decision hash does not match")
    _write(seeded_repo, header, [list(r) for r in rows[:5] + rows[6:]], rechain=True)
    code, said = _verify(seeded_repo)
    assert code == 1 and "row 7: consent decision 3 follows decision 1" in said
    moved = [list(row) for row in rows]
    moved[7][header.index("withdraws_seq")] = "1"
    _write(seeded_repo, header, moved, rechain=True)
    code, said = _verify(seeded_repo)
    assert code == 1 and "row 9: a withdrawal that names no earlier agreement" in said


def test_a_proof_written_before_decisions_still_verifies(
    answered: tuple[Settings, list[int]], seeded_repo: NoticeRepo, database: dict[str, str]
) -> None:
    """When a proof has the earlier columns (no decisions), then it verifies as it did."""
    header, rows = _proof(seeded_repo, database)
    legacy = [h for h in header if h not in proof_chain.DECISION_COLUMNS]
    kept = [[row[header.index(h)] for h in legacy] for row in rows[:4]]
    _write(seeded_repo, legacy, kept, rechain=True)
    assert _verify(seeded_repo)[0] == 0


def test_the_report_lists_who_has_not_agreed_masked(
    answered: tuple[Settings, list[int]], seeded_repo: NoticeRepo, database: dict[str, str]
) -> None:
    """When the account teams ask, then `consent report` counts each question and lists who
    declined, withdrew or never answered, with addresses masked; nobody who agreed."""
    settings, ids = answered
    shown = run_notices("consent", "report", VERSION, "--json", cwd=seeded_repo.path,
                        env=database)
    assert shown.code == 0, shown.err
    found = json.loads(shown.out)
    assert found["release"] == RELEASE and found["effective"] == "2030-01-01"
    assert found["questions"][ARTICLE] == {"agreed": 1, "declined": 2, "no_answer": 1}
    assert [(o["article"], o["customer_id"], o["state"], o["email"])
            for o in found["outstanding"]] == [
        ("PIPL 23", 1, "no_answer", "u***@e***.com"),
        ("PIPL 23", 2, "no_answer", "u***@e***.com"),
        ("PIPL 23", 3, "no_answer", "u***@e***.com"),
        ("PIPL 23", 4, "no_answer", "u***@e***.com"),
        (ARTICLE, 2, "declined", "u***@e***.com"),
        (ARTICLE, 3, "withdrew", "u***@e***.com"),
        (ARTICLE, 4, "no_answer", "u***@e***.com"),
    ]
    text = run_notices("consent", "report", VERSION, cwd=seeded_repo.path, env=database)
    assert text.out.splitlines()[:2] == [
        "PIPL 23: agreed 0  declined 0  no_answer 4",
        f"{ARTICLE}: agreed 1  declined 2  no_answer 1",
    ]
    assert f"declined  {ARTICLE}  customer 2  u***@e***.com  zh-CN  2029-11-05" in text.out
    assert "@example.com" not in shown.out + text.out


def test_one_reminder_goes_to_those_who_have_not_answered(seeded_repo: NoticeRepo) -> None:
    """When the reminder runs, then over a real SMTP relay the three recipients with a question
    open each get one mail with working links to those questions only; the one who answered
    both (a decline is an answer) and the one suppressed since get none; a second run sends
    nothing."""
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        env = smtp_relay_settings(seeded_repo, controller.port)
        settings, ids = consent_release(seeded_repo, 5, env)
        inbox.messages.clear()  # the notices themselves
        for delivery_id in ids[:2]:
            _decide(settings, delivery_id, "agree")
        grant = grant_for(settings, ids[0], article="PIPL 23")
        records.record(db.engine(settings), grant, decision="decline",
                       shown_sha256=grant.text_sha256, locale="zh-CN", at=AT)
        suppressed = run_notices("customers", "suppress", "user000005@example.com",
                                 "--reason", "account closed", cwd=seeded_repo.path, env=env)
        assert suppressed.code == 0, suppressed.err
        history = read_history(seeded_repo.path, settings)
        release = history.find(VERSION)
        now = datetime(2029, 12, 25, 9, 0, tzinfo=settings.timezone)
        done = reminders.remind(settings, history, release, now)
        assert (done.reminded, done.failed, done.open) == (3, 0, 3)
        again = reminders.remind(settings, history, release, now)
        assert (again.reminded, again.failed) == (0, 0)
    finally:
        controller.stop()
        db.dispose_all()
    told = {tuple(to): raw for to, raw in inbox.messages}
    assert sorted(told) == [("user000002@example.com",), ("user000003@example.com",),
                            ("user000004@example.com",)]
    second = message_from_bytes(told[("user000002@example.com",)], policy=policy.default)
    assert second["Subject"].startswith("提醒：")
    body = second.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    tokens = re.findall(r"/consent/([A-Za-z0-9_-]+)", body)
    assert len(tokens) == 1  # only the question left open: giving data to another company
    grant = verify(tokens[0], settings.consent_keys, now)
    assert (grant.delivery_id, grant.article) == (ids[1], "PIPL 23")
    fourth = message_from_bytes(told[("user000004@example.com",)], policy=policy.default)
    plain = fourth.get_body(("plain",))
    assert plain is not None
    both = re.findall(r"/consent/([A-Za-z0-9_-]+)", plain.get_content())
    assert sorted(verify(t, settings.consent_keys, now).article for t in both) == [
        "PIPL 23", ARTICLE,
    ]
    assert "您不答复，我们不会视为同意" in body and not re.search(r"PIPL|\bM\d\d\b", body)


def test_the_reminder_is_planned_before_the_effective_date(seeded_repo: NoticeRepo) -> None:
    """When consent links were mailed, then the plan (and `schedule sync`) has the consent
    reminder at 00:00 seven days before the effective date; without a signing key, none."""
    settings, _ = consent_release(seeded_repo, 1)
    history = read_history(seeded_repo.path, settings)
    now = datetime(2029, 11, 2, tzinfo=settings.timezone)
    verdicts = material_verdicts(history, settings, now)
    planned = plan_jobs(history, settings, verdicts, now,
                        asking=consent_asking(history, settings, now))
    reminder = [job for job in planned if job.kind == "consent_reminder"]
    assert [(job.id, job.run_at.isoformat()) for job in reminder] == [
        (f"{RELEASE}:consent_reminder", "2029-12-25T00:00:00+08:00"),
    ]
    keyless = load_settings(seeded_repo.path, {})
    assert consent_asking(history, keyless, now) == frozenset()
    synced = run_notices("schedule", "sync", cwd=seeded_repo.path, env=ENV)
    assert f"{RELEASE}:consent_reminder" in synced.out, synced.err
    listed = run_notices("schedule", "list", "--json", cwd=seeded_repo.path, env=ENV)
    jobs = {job["id"]: job for job in json.loads(listed.out)["jobs"]}
    assert jobs[f"{RELEASE}:consent_reminder"]["next_run"] == "2029-12-25T00:00:00+08:00"
    db.dispose_all()
