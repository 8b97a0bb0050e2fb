"""SendGrid's Event Webhook: signed posts over real HTTP, refusals, state rules, proof chain."""

from __future__ import annotations

import base64
import csv
import json
import random
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)
from sqlalchemy import func, select
from support import sendgrid_standin
from support.events import KEY, RELEASE, Signer, event, post, sent_release, serving, snapshot
from support.notify import VERSION, sendgrid_env, standin
from support.repos import NoticeRepo, notices_server, run_notices
from support.schedule import postgres_database

from notifier.delivery import provenance
from notifier.delivery.events import SIGNATURE_HEADER
from notifier.errors import ConfigError
from notifier.settings import Settings, load_settings
from notifier.storage import db

__all__ = ["standin"]

P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


@pytest.fixture
def signer() -> Signer:
    return Signer.new()




def _deliveries(settings: Settings) -> dict[int, tuple[str, str | None, bool]]:
    """delivery id → (status, delivery_state, has delivered_at)."""
    table = db.deliveries
    with db.engine(settings).connect() as connection:
        rows = connection.execute(
            select(table.c.id, table.c.status, table.c.delivery_state, table.c.delivered_at)
        )
        return {r.id: (r.status, r.delivery_state, r.delivered_at is not None) for r in rows}


def test_signed_events_update_the_ledger(seeded_repo: NoticeRepo, signer: Signer) -> None:
    """When signed events arrive, then states move, hard bounces and drops are suppressed."""
    settings, ids = sent_release(seeded_repo, 6, signer)
    now = int(time.time())
    body = json.dumps(
        [
            event(ids[0], "processed", now - 30, "e1"),
            event(ids[0], "delivered", now - 20, "e2"),
            event(ids[1], "bounce", now - 10, "e3", type="bounce", reason="550 5.1.1 no user"),
            event(ids[2], "dropped", now - 10, "e4", reason="Invalid"),
            event(ids[3], "deferred", now - 10, "e5", response="451 try later"),
            event(ids[4], "bounce", now - 10, "e6", type="blocked", reason="421 blocked"),
            event(ids[5], "open", now - 5, "e7"),
        ]
    ).encode()
    with serving(settings) as url:
        status, answer = post(url, body, signer.headers(body))
    assert status == 200
    assert answer == {
        "received": 7,
        "applied": 6,
        "duplicates": 0,
        "foreign": 0,
        "invalid": 0,
        "ignored": 1,
        "suppressed": 2,
    }
    states = _deliveries(settings)
    assert [states[i] for i in ids] == [
        ("sent", "delivered", True),
        ("bounced", "bounce", False),
        ("bounced", "dropped", False),
        ("sent", "deferred", False),
        ("sent", "blocked", False),
        ("sent", None, False),
    ]
    result = run_notices("notify", "status", VERSION, "--json", cwd=seeded_repo.path)
    assert result.code == 0, result.err
    assert json.loads(result.out) == {
        "version": VERSION,
        "counts": {"planned": 0, "sending": 0, "sent": 4, "failed": 0, "bounced": 2},
        "suppressed": [
            {"customer_id": 2, "email": "u***@e***.com", "reason": "bounce: 550 5.1.1 no user"},
            {"customer_id": 3, "email": "u***@e***.com", "reason": "dropped: Invalid"},
        ],
        "failures": [],
    }
    text = run_notices("notify", "status", VERSION, cwd=seeded_repo.path).out
    assert text.splitlines()[1:] == [
        "suppressed 2 u***@e***.com: bounce: 550 5.1.1 no user",
        "suppressed 3 u***@e***.com: dropped: Invalid",
    ]


def test_refused_posts_change_nothing(seeded_repo: NoticeRepo, signer: Signer) -> None:
    """When a post is unsigned, forged, tampered, stale or replayed, then 401/403, no change."""
    settings, ids = sent_release(seeded_repo, 3, signer)
    now = int(time.time())
    body = json.dumps([event(ids[0], "delivered", now, "d1")]).encode()
    before = snapshot(settings)
    good = signer.headers(body)
    raw = base64.b64decode(good[SIGNATURE_HEADER])
    r, s = decode_dss_signature(raw)
    flipped = base64.b64encode(encode_dss_signature(r, P256_ORDER - s)).decode()
    with serving(settings) as url:
        assert post(url, body, {})[0] == 401
        assert post(url, body, Signer.new().headers(body))[0] == 403
        assert post(url, body.replace(b"delivered", b"bounce"), good)[0] == 403
        assert post(url, body, signer.headers(body, now - 301))[0] == 403
        ahead = int(time.time()) + 301  # not `now`: under load a second may have passed
        assert post(url, body, signer.headers(body, ahead))[0] == 403
        assert post(url, body, {**good, SIGNATURE_HEADER: "not base64!"})[0] == 403
        assert snapshot(settings) == before
        assert post(url, body, good)[0] == 200
        after = snapshot(settings)
        assert after != before
        assert post(url, body, good) == (403, {"error": "replayed post"})
        assert post(url, body, {**good, SIGNATURE_HEADER: flipped}) == (
            403,
            {"error": "replayed post"},
        )
        assert snapshot(settings) == after


def test_duplicates_out_of_order_and_unknown(seeded_repo: NoticeRepo, signer: Signer) -> None:
    """When events repeat, arrive late or name unknown ids, then delivered stays delivered."""
    settings, ids = sent_release(seeded_repo, 2, signer)
    now = int(time.time())
    first = json.dumps([event(ids[0], "delivered", now - 50, "x1")]).encode()
    late = [
        event(ids[0], "processed", now - 60, "x0"),
        event(ids[0], "deferred", now - 40, "x2"),
        event(ids[0], "bounce", now - 30, "x3", type="bounce", reason="late"),
        event(ids[0], "delivered", now - 50, "x1"),
        event(999_999, "delivered", now, "x4"),
        event(ids[1], "delivered", now, "x5", release="privacy/zh-CN/2018-11-01"),
        event("not-a-number", "delivered", now, "x6"),
    ]
    second = json.dumps(late).encode()
    with serving(settings) as url:
        assert post(url, first, signer.headers(first))[0] == 200
        status, answer = post(url, second, signer.headers(second))
    assert status == 200
    assert answer == {
        "received": 7,
        "applied": 3,
        "duplicates": 1,
        "foreign": 2,
        "invalid": 1,
        "ignored": 0,
        "suppressed": 0,
    }
    states = _deliveries(settings)
    assert states[ids[0]] == ("sent", "delivered", True)
    assert states[ids[1]] == ("sent", None, False)
    with db.engine(settings).connect() as connection:
        count = connection.execute(select(func.count()).select_from(db.delivery_events)).scalar()
    assert count == 4


def test_a_burst_of_10000_events(
    seeded_repo: NoticeRepo, signer: Signer, standin: sendgrid_standin.StandIn
) -> None:
    """When 10,000 events arrive shuffled over concurrent posts, then each is applied once."""
    # mailed through the SendGrid stand-in: two requests, not 2,000 files written to the outbox
    settings, ids = sent_release(seeded_repo, 2000, signer, sendgrid_env(standin, seeded_repo))
    assert standin.recipient_count == 2000
    now = int(time.time())
    kinds = ("processed", "deferred", "deferred", "delivered", "unsubscribe")
    burst = [
        event(delivery, kind, now - 100 + step, f"b{delivery}-{step}")
        for delivery in ids
        for step, kind in enumerate(kinds)
    ]
    random.Random(8).shuffle(burst)
    bodies = [json.dumps(burst[i : i + 1000]).encode() for i in range(0, len(burst), 1000)]
    with serving(settings) as url, ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(lambda b: post(url, b, signer.headers(b)), bodies))
    assert [status for status, _ in answers] == [200] * 10
    assert sum(answer["applied"] for _, answer in answers) == 10_000
    states = _deliveries(settings)
    assert set(states.values()) == {("sent", "delivered", True)} and len(states) == 2000
    with db.engine(settings).connect() as connection:
        count = connection.execute(select(func.count()).select_from(db.delivery_events)).scalar()
    assert count == 10_000


def test_events_on_postgresql(seeded_repo: NoticeRepo, signer: Signer) -> None:
    """When the ledger is on PostgreSQL, then a shuffled signed burst is applied once."""
    with postgres_database() as url:
        settings, ids = sent_release(seeded_repo, 301, signer, {"NOTICES_DATABASE_URL": url})
        now = int(time.time())
        burst = [
            event(d, kind, now - 50 + step, f"pg{d}-{step}")
            for d in ids[:-1]
            for step, kind in enumerate(("processed", "delivered", "deferred"))
        ]
        burst.append(event(ids[-1], "dropped", now, "pg-drop", reason="Bounced Address"))
        random.Random(9).shuffle(burst)
        bodies = [json.dumps(burst[i : i + 300]).encode() for i in range(0, len(burst), 300)]
        with serving(settings) as url_, ThreadPoolExecutor(2) as pool:
            answers = list(pool.map(lambda b: post(url_, b, signer.headers(b)), bodies))
        assert sum(answer["applied"] for _, answer in answers) == 901
        states = _deliveries(settings)
        assert states.pop(ids[-1]) == ("bounced", "dropped", False)
        assert set(states.values()) == {("sent", "delivered", True)} and len(states) == 300
        db.dispose_all()


def test_a_post_waits_while_another_server_applies_one(
    seeded_repo: NoticeRepo, signer: Signer, database_env: dict[str, str]
) -> None:
    """When another process serving the webhook is applying a post (it holds the posts' lock in
    its transaction), then a post here waits for it rather than fold the same deliveries at
    once, and is applied as soon as the other commits: one post at a time across processes."""
    settings, ids = sent_release(seeded_repo, 1, signer, database_env)
    body = json.dumps([event(ids[0], "delivered", int(time.time()), "held")]).encode()
    engine = db.engine(settings)
    with serving(settings) as url, ThreadPoolExecutor(1) as pool, engine.connect() as other:
        with other.begin():
            db.exclusive(other, ["webhook posts"])
            answer = pool.submit(post, url, body, signer.headers(body))
            time.sleep(0.5)
            assert not answer.done()
        status, counts = answer.result(timeout=30)
    assert (status, counts["applied"]) == (200, 1)
    assert _deliveries(settings)[ids[0]] == ("sent", "delivered", True)


def test_proof_carries_states_and_a_hash_chain(seeded_repo: NoticeRepo, signer: Signer) -> None:
    """When a proof row is edited or dropped later, then verify-proof names the row, exit 1."""
    settings, ids = sent_release(seeded_repo, 5, signer)
    stamp = int(time.time()) - 10
    body = json.dumps([event(ids[1], "delivered", stamp, "p1")]).encode()
    with serving(settings) as url:
        assert post(url, body, signer.headers(body))[0] == 200
    run = run_notices("notify", "proof", VERSION, "--out", "proof.csv", cwd=seeded_repo.path)
    assert run.out == "wrote 5 row(s) to proof.csv\n"
    proof = seeded_repo.path / "proof.csv"
    with proof.open(encoding="utf-8", newline="") as stream:
        rows = list(csv.DictReader(stream))
    assert [(r["delivery_state"], r["release"]) for r in rows] == [
        ("", RELEASE),
        ("delivered", RELEASE),
        ("", RELEASE),
        ("", RELEASE),
        ("", RELEASE),
    ]
    assert rows[1]["event_at"] == time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(stamp))
    ok = run_notices("notify", "verify-proof", "proof.csv", cwd=seeded_repo.path)
    assert ok.code == 0 and ok.out == f"OK: 5 row(s), chain head {rows[-1]['row_hash']}\n"
    lines = proof.read_text(encoding="utf-8").splitlines(keepends=True)
    _tamper(proof, lines[:3] + [lines[3].replace(",sent,", ",failed,")] + lines[4:])
    edited = run_notices("notify", "verify-proof", "proof.csv", cwd=seeded_repo.path)
    assert edited.code == 1
    assert edited.err.startswith("error: proof.csv: row 4: row hash does not match")
    _tamper(proof, lines[:2] + lines[3:])
    dropped = run_notices("notify", "verify-proof", "proof.csv", cwd=seeded_repo.path)
    assert dropped.code == 1 and dropped.err.startswith("error: proof.csv: row 3: row hash")


def test_events_serve_needs_a_public_key(seeded_repo: NoticeRepo) -> None:
    """When no webhook key is configured, then `events serve` refuses to start, exit 1."""
    result = run_notices("events", "serve", "--port", "0", cwd=seeded_repo.path)
    assert result.code == 1
    assert result.err.startswith("error: notices.toml: setting 'events.public_key' is empty")


def test_events_serve_command(seeded_repo: NoticeRepo, signer: Signer) -> None:
    """When `notices events serve` runs with a key in notices.toml, then it takes signed posts."""
    settings, ids = sent_release(seeded_repo, 1, signer)
    toml = seeded_repo.path / "notices.toml"
    toml.write_text(
        toml.read_text(encoding="utf-8") + f'\n[events]\npublic_key = "{signer.public}"\n',
        encoding="utf-8",
    )
    command = ("events", "serve", "--host", "127.0.0.1", "--port", "0")
    with notices_server(*command, cwd=seeded_repo.path, env={"NOTICES_EVENTS_KEY": KEY}) as (
        _pid,
        line,
    ):
        assert line.startswith("listening for SendGrid events on http://127.0.0.1:")
        url = line.split(" on ")[1].split("/ ")[0]
        body = json.dumps([event(ids[0], "delivered", int(time.time()), "c1")]).encode()
        assert post(url, body, signer.headers(body))[0] == 200
        assert post(url, body, {})[0] == 401
    assert _deliveries(settings)[ids[0]] == ("sent", "delivered", True)


def test_the_events_key_is_made_once_under_a_race(seeded_repo: NoticeRepo) -> None:
    """When eight processes need the events key at once, then one key is made, owner-only, and
    all of them use it."""
    script = (
        "import sys; from pathlib import Path; from notifier.delivery import provenance; "
        "from notifier.settings import load_settings; "
        "print(provenance.events_key(load_settings(Path(sys.argv[1]), {})).decode())"
    )
    runs = [
        subprocess.Popen(
            [sys.executable, "-c", script, str(seeded_repo.path)], stdout=subprocess.PIPE, text=True
        )
        for _ in range(8)
    ]
    keys = {run.communicate(timeout=60)[0].strip() for run in runs}
    path = seeded_repo.path / "var" / "events.key"
    assert keys == {path.read_text(encoding="ascii")}
    assert path.stat().st_mode & 0o777 == 0o600
    assert [p.name for p in path.parent.iterdir() if "events.key" in p.name] == ["events.key"]
    path.chmod(0o644)
    with pytest.raises(ConfigError, match="the events key is readable by other users"):
        provenance.events_key(load_settings(seeded_repo.path, {}))


def _tamper(path: Path, lines: list[str]) -> None:
    path.write_text("".join(lines), encoding="utf-8")


def test_an_unreadable_events_key_is_one_error_naming_the_file(seeded_repo: NoticeRepo) -> None:
    """When var/events.key cannot be read (here: a folder stands in its place), then loading
    the key is one ConfigError naming the file and what to do, not an unforeseen error."""
    (seeded_repo.path / "var" / "events.key").mkdir(parents=True)
    settings = load_settings(seeded_repo.path, {})
    with pytest.raises(ConfigError, match="cannot read the events key") as raised:
        provenance.events_key(settings)
    assert raised.value.path == str(provenance.key_path(settings))
    assert raised.value.hint == "run as the user who owns var/, or set NOTICES_EVENTS_KEY"
