"""Faults (issue #16, items 6 and 10): a dead or refusing mail endpoint ends a send fast, and
`notify status` says why deliveries failed.

Every case runs the real `notices notify send` against a closed port on 127.0.0.1 or the
SendGrid stand-in, then reads the ledger: how many batches were tried before the run stopped,
which attempts were spent, the one line the run ended with, and what `notify status` shows.
"""

from __future__ import annotations

import json
import re
import socket
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
from support import sendgrid_standin
from support.notify import API_KEY, sendgrid_env, standin
from support.reliability import (
    VERSION,
    ledger_rows,
    mailed,
    record_fault,
    sending_repo,
)
from support.repos import NoticeRepo, Run, run_notices

__all__ = ["standin"]

SEND = ("notify", "send", VERSION, "--early")
STATUS = ("notify", "status", VERSION)
RELEASE = f"privacy/zh-CN/{VERSION}"
CUSTOMERS = 30  # 6 in English, 24 in Chinese: batches of 5 are en 5, 1; zh-CN 5, 5, 5, 5, 4
BATCH_SIZES = [5, 1, 5, 5, 5, 5, 4]
GIVE_UP_AFTER = 3  # notify.GIVE_UP_AFTER: batches in a row failing alike
MAIL = {"batch_size": 5, "timeout_seconds": 2.0, "max_retries": 1}
Prop = Callable[[str, object], None]
_LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\d [\d:,]+ (WARNING|ERROR) [\w.]+: ")


@pytest.fixture
def repo(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> NoticeRepo:
    """30 customers imported, their notice not yet sent; batches of 5, one retry."""
    return sending_repo(tmp_path, tmp_path_factory.getbasetemp(), CUSTOMERS, **MAIL)


def _url(repo: NoticeRepo) -> str:
    return f"sqlite:///{repo.path / 'var' / 'notices.db'}"


def _closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on: connecting is refused at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _dead_env(repo: NoticeRepo) -> dict[str, str]:
    return {
        "SENDGRID_API_KEY": API_KEY,
        "SENDGRID_API_HOST": f"http://127.0.0.1:{_closed_port()}",
        "NOTICES_DATABASE_URL": _url(repo),
    }


def _last_line(result: Run) -> str:
    """The one `error:` line a stopped send ends with; the log lines of each batch come before."""
    lines = result.err.splitlines()
    assert "Traceback" not in result.err, result.err
    assert [line for line in lines if line.startswith("error: ")] == lines[-1:], result.err
    assert all(_LOG_LINE.match(line) for line in lines[:-1]), result.err
    return lines[-1]


def _whole_addresses(text: str) -> list[str]:
    return re.findall(r"user\d{6}@example\.com", text)


def test_dead_endpoint_stops_after_three_batches(
    repo: NoticeRepo, standin: sendgrid_standin.StandIn, record_property: Prop
) -> None:
    """When nothing listens at the API host, then the send stops after 3 batches in a row with
    one line naming the reason and what to check, the other batches stay planned untouched,
    `notify status` says why, and a rerun against a live endpoint sends everyone once."""
    env = _dead_env(repo)
    started = time.monotonic()
    result = run_notices(*SEND, cwd=repo.path, env=env)
    elapsed = time.monotonic() - started
    assert result.code == 1
    line = _last_line(result)
    tried = sum(BATCH_SIZES[:GIVE_UP_AFTER])
    reason = "connection failed: ConnectionRefusedError; gave up after 1 retries"
    assert line == (
        f"error: the mail service could not be reached ({GIVE_UP_AFTER} batch(es) in a row): "
        f"{reason}; sending stopped with {CUSTOMERS} delivery(ies) of {RELEASE} not sent "
        "(hint: check SENDGRID_API_HOST, and that the service answers there, then rerun; "
        f"`notices notify status {VERSION}` says why each failed)"
    )
    # no request left this host: the tried batches go back planned, no attempt spent
    rows = ledger_rows(_url(repo))
    assert Counter((status, attempts, error) for _, status, attempts, error in rows) == {
        ("planned", 0, reason): tried,
        ("planned", 0, None): CUSTOMERS - tried,
    }

    status = run_notices(*STATUS, "--json", cwd=repo.path, env=env)
    assert status.code == 0, status.err
    found = json.loads(status.out)
    assert found["counts"] == {
        "planned": CUSTOMERS,
        "sending": 0,
        "sent": 0,
        "failed": 0,
        "bounced": 0,
    }
    [failure] = found["failures"]
    assert (failure["reason"], failure["count"], failure["status"]) == (reason, tried, "planned")
    text = run_notices(*STATUS, cwd=repo.path, env=env).out.splitlines()
    assert text[0] == f"planned {CUSTOMERS}  sending 0  sent 0  failed 0  bounced 0"
    assert re.fullmatch(rf"planned {tried}, last \S+\+00:00: {re.escape(reason)}", text[1])
    assert len(text) == 2
    assert not _whole_addresses(result.out + result.err + status.out + "\n".join(text))

    rerun = run_notices(*SEND, cwd=repo.path, env=sendgrid_env(standin, repo))
    assert rerun.code == 0, rerun.err
    assert mailed(standin) == Counter(f"user{n:06d}@example.com" for n in range(1, CUSTOMERS + 1))
    after = json.loads(run_notices(*STATUS, "--json", cwd=repo.path, env=env).out)
    assert after["failures"] == [] and after["counts"]["sent"] == CUSTOMERS
    record_fault(
        record_property,
        "give up",
        f"nothing listens at SENDGRID_API_HOST (closed port on 127.0.0.1), {len(BATCH_SIZES)} "
        "batches, one retry each",
        f"exit 1 after {GIVE_UP_AFTER} of {len(BATCH_SIZES)} batches in {elapsed:.1f} s: "
        f"{line[:120]}…; {tried} put back planned with 0 attempts, status shows why; rerun "
        "sent everyone once",
    )
    record_property("figure", f"seconds to give up (closed port, 1 retry)={elapsed:.1f}")


def test_a_host_that_drops_packets_stops_after_three_batches(
    repo: NoticeRepo, record_property: Prop
) -> None:
    """When the API host accepts no connection and answers nothing (its packets dropped: here a
    listener whose queue is full), then each batch waits at most the timeout to connect, is not
    retried, goes back planned with no attempt spent, and three in a row end the run."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    filler = socket.create_connection(listener.getsockname())  # the queue's one place, taken
    env = {**_dead_env(repo), "SENDGRID_API_HOST": f"http://127.0.0.1:{listener.getsockname()[1]}"}
    try:
        started = time.monotonic()
        result = run_notices(*SEND, cwd=repo.path, env=env)
        elapsed = time.monotonic() - started
    finally:
        filler.close()
        listener.close()
    assert result.code == 1
    line = _last_line(result)
    waited = f"no connection to SendGrid within {MAIL['timeout_seconds']:g} s"
    reason = f"{waited}; gave up after 0 retries"
    assert line.startswith(
        f"error: the mail service could not be reached ({GIVE_UP_AFTER} batch(es) in a row): "
        f"{reason}; sending stopped with {CUSTOMERS} delivery(ies)"
    ), line
    tried = sum(BATCH_SIZES[:GIVE_UP_AFTER])
    rows = ledger_rows(_url(repo))
    assert Counter((status, attempts, error) for _, status, attempts, error in rows) == {
        ("planned", 0, reason): tried,
        ("planned", 0, None): CUSTOMERS - tried,
    }
    assert elapsed < GIVE_UP_AFTER * MAIL["timeout_seconds"] + 10
    record_fault(
        record_property,
        "give up",
        "the API host drops connections (a full listen queue on 127.0.0.1), timeout 2 s",
        f"exit 1 after {GIVE_UP_AFTER} batches, one try each, in {elapsed:.1f} s; "
        f"{tried} put back planned with 0 attempts",
    )
    record_property(
        "figure", f"seconds to give up (host dropping packets, timeout 2 s)={elapsed:.1f}"
    )


@pytest.mark.parametrize("answer", ["401", "403"])
def test_refused_key_spends_no_attempt(
    repo: NoticeRepo, standin: sendgrid_standin.StandIn, answer: str, record_property: Prop
) -> None:
    """When SendGrid refuses the key (401 or 403) on every batch, then the send stops after 3
    requests, every delivery is planned with no attempt spent, status shows the refusal, and a
    rerun with the key accepted sends everyone once."""
    standin.faults.extend([answer] * len(BATCH_SIZES))
    env = sendgrid_env(standin, repo)
    result = run_notices(*SEND, cwd=repo.path, env=env)
    assert result.code == 1
    line = _last_line(result)
    reason = f'SendGrid answered {answer}: {{"errors": [{{"message": "access forbidden"}}]}}'
    assert line == (
        f"error: the mail service refused the key ({GIVE_UP_AFTER} batch(es) in a row): "
        f"{reason}; sending stopped with {CUSTOMERS} delivery(ies) of {RELEASE} not sent "
        "(hint: check SENDGRID_API_KEY (a key of this account allowed to send mail), then "
        "rerun; refused batches spent no attempt; "
        f"`notices notify status {VERSION}` says why each failed)"
    )
    assert len(standin.requests) == GIVE_UP_AFTER
    rows = ledger_rows(_url(repo))
    tried = sum(BATCH_SIZES[:GIVE_UP_AFTER])
    assert Counter((status, attempts, error) for _, status, attempts, error in rows) == {
        ("planned", 0, reason): tried,
        ("planned", 0, None): CUSTOMERS - tried,
    }
    status = json.loads(run_notices(*STATUS, "--json", cwd=repo.path, env=env).out)
    assert [(f["reason"], f["count"], f["status"]) for f in status["failures"]] == [
        (reason, tried, "planned")
    ]
    assert API_KEY not in result.out + result.err

    standin.faults.clear()
    rerun = run_notices(*SEND, cwd=repo.path, env=env)
    assert rerun.code == 0, rerun.err
    assert Counter(mailed(standin).values()) == {1: CUSTOMERS}
    assert {attempts for _, _, attempts, _ in ledger_rows(_url(repo))} == {1}
    record_fault(
        record_property,
        "give up",
        f"SendGrid answers {answer} to every batch ({len(BATCH_SIZES)} batches)",
        f"exit 1 after {len(standin.requests) - len(BATCH_SIZES)} requests; {tried} deliveries "
        "put back planned with 0 attempts, status shows the refusal; rerun sent everyone once",
    )


def test_a_refusal_amid_accepted_batches_is_never_a_quiet_end(
    repo: NoticeRepo, standin: sendgrid_standin.StandIn, record_property: Prop
) -> None:
    """When SendGrid refuses two batches and accepts the rest, then the others are sent, the
    run ends with exit 1 naming the refusal, the refused go back unspent, and a rerun sends
    them."""
    standin.faults.extend(["401", "401"])
    env = sendgrid_env(standin, repo)
    result = run_notices(*SEND, cwd=repo.path, env=env)
    assert result.code == 1
    refused = sum(BATCH_SIZES[:2])
    assert _last_line(result).startswith(
        "error: the mail service refused the key (2 batch(es) in a row): SendGrid answered 401"
    )
    assert f"sending stopped with {refused} delivery(ies)" in result.err
    assert len(standin.requests) == len(BATCH_SIZES)
    rows = ledger_rows(_url(repo))
    assert Counter((status, attempts) for _, status, attempts, _ in rows) == {
        ("planned", 0): refused,
        ("sent", 1): CUSTOMERS - refused,
    }
    rerun = run_notices(*SEND, cwd=repo.path, env=env)
    assert rerun.code == 0, rerun.err
    assert rerun.out.splitlines()[-1] == f"{RELEASE}: sent {refused}, failed 0 in 2 batch(es)"
    assert Counter(mailed(standin).values()) == {1: CUSTOMERS}
    record_fault(
        record_property,
        "give up",
        "SendGrid answers 401 to the first 2 batches, then accepts",
        f"the other {CUSTOMERS - refused} sent; exit 1 naming the refusal; {refused} put back "
        "with 0 attempts; rerun sent them",
    )


def test_failures_of_one_batch_never_stop_the_run(
    repo: NoticeRepo, standin: sendgrid_standin.StandIn, record_property: Prop
) -> None:
    """When every batch is rejected on its own (400), then every batch is still tried, each
    fails alone, and status counts the rejections by reason, addresses masked."""
    standin.faults.extend(["400"] * len(BATCH_SIZES))
    env = sendgrid_env(standin, repo)
    result = run_notices(*SEND, cwd=repo.path, env=env)
    assert result.code == 1
    assert len(standin.requests) == len(BATCH_SIZES)
    assert result.out.splitlines()[-1] == (
        f"{RELEASE}: sent 0, failed {CUSTOMERS} in {len(BATCH_SIZES)} batch(es)"
    )
    status = json.loads(run_notices(*STATUS, "--json", cwd=repo.path, env=env).out)
    assert sum(f["count"] for f in status["failures"]) == CUSTOMERS
    assert {f["status"] for f in status["failures"]} == {"failed"}
    assert all(f["reason"].startswith("SendGrid answered 400: ") for f in status["failures"])
    assert "u***@e***.com" in status["failures"][0]["reason"]
    assert not _whole_addresses(json.dumps(status))
    record_fault(
        record_property,
        "give up",
        f"SendGrid rejects each of {len(BATCH_SIZES)} batches on its own (400)",
        f"all {len(BATCH_SIZES)} batches tried, exit 1; status lists "
        f"{len(status['failures'])} reason(s) covering {CUSTOMERS} failures, addresses masked",
    )
