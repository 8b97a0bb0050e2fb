"""The Event Webhook's events (issue #16, items 1, 2 and 8): only our events change the ledger,
one bad event never costs the others of its post, and a mailbox is one mailbox.

Every case posts a validly signed post over real HTTP to the webhook served in a thread, on a
real ledger after a real send, and compares the ledger's rows before and after.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import select
from support import sendgrid_standin
from support.events import KEY, RELEASE, Signer, event, post, sent_release, serving, tag
from support.notify import VERSION, material_repo, sendgrid_env, standin, write_customers
from support.repos import NoticeRepo, run_notices
from support.schedule import postgres_database

from notifier.settings import Settings
from notifier.storage import db

__all__ = ["standin"]

Prop = Callable[[str, object], None]
SECURITY, BAD_INPUT = "Security", "Bad input"
IDN = "li.na@例子.中国"  # customer 4: stored with its domain in Unicode
IDN_PUNYCODE = "LI.NA@XN--FSQU00A.XN--FIQS8S"


def _record(prop: Prop, area: str, group: str, case: str, observed: str) -> None:
    prop("area", area)
    prop("group", group)
    prop("case", case)
    prop("observed", observed)




@pytest.fixture
def sent(seeded_repo: NoticeRepo) -> Iterator[tuple[Settings, list[int], Signer]]:
    """Three customers at example.com and one at an internationalised domain, mailed."""
    signer = Signer.new()
    settings, ids = sent_release(seeded_repo, 3, signer, addresses=(IDN,))
    yield settings, ids, signer
    db.dispose_all()


def _state(settings: Settings, delivery_id: int) -> tuple[str, str | None, str | None]:
    """(status, delivery state, the customer's suppression) of one delivery."""
    deliveries, customers = db.deliveries, db.customers
    with db.engine(settings).connect() as connection:
        row = connection.execute(
            select(deliveries.c.status, deliveries.c.delivery_state, customers.c.suppressed_reason)
            .join(customers, customers.c.id == deliveries.c.customer_id)
            .where(deliveries.c.id == delivery_id)
        ).one()
    return row.status, row.delivery_state, row.suppressed_reason


def _bounce(delivery_id: int, sg_id: str, **extra: Any) -> dict[str, Any]:
    stamp = int(time.time()) - 5
    return event(delivery_id, "bounce", stamp, sg_id, type="bounce", reason="550 5.1.1", **extra)


# --- item 1: only our events change our ledger ------------------------------------------------

FOREIGN: dict[str, Callable[[list[int]], dict[str, Any]]] = {
    "another application's bounce (no custom args of ours)": lambda ids: {
        k: v for k, v in _bounce(ids[0], "f1").items() if k not in ("notices_mac", "release")
    },
    "our delivery id without a MAC": lambda ids: {
        k: v for k, v in _bounce(ids[0], "f2").items() if k != "notices_mac"
    },
    "MAC made with another key": lambda ids: _bounce(
        ids[0], "f3", notices_mac=tag(ids[0], key="another-key-0123456789abcdef-0123456")
    ),
    "MAC of another delivery": lambda ids: _bounce(ids[0], "f4", notices_mac=tag(ids[1])),
    "MAC of another release": lambda ids: _bounce(ids[0], "f5", release="privacy/zh-CN/2018-11-01"),
    "valid MAC, the release field altered": lambda ids: _bounce(
        ids[0], "f6", release="privacy/zh-CN/2018-11-01", notices_mac=tag(ids[0])
    ),
    "valid MAC, another customer's address": lambda ids: _bounce(
        ids[0], "f7", email="user000002@example.com"
    ),
    "valid MAC, an outsider's address": lambda ids: _bounce(
        ids[0], "f8", email="attacker@example.net"
    ),
    "MAC of a delivery id that does not exist": lambda ids: _bounce(999_999, "f9"),
    "a test mail's event (delivery id 0, no MAC)": lambda ids: {
        **{k: v for k, v in _bounce(ids[0], "f10").items() if k != "notices_mac"},
        "delivery_id": "0",
    },
}


@pytest.mark.parametrize("case", list(FOREIGN))
def test_foreign_events_change_nothing(
    sent: tuple[Settings, list[int], Signer], case: str, record_property: Prop
) -> None:
    """When a signed post holds an event that is not provably ours, then it is counted as
    foreign and changes nothing (no suppression), while ours in the same post is applied."""
    settings, ids, signer = sent
    foreign = FOREIGN[case](ids)
    ours = event(ids[2], "delivered", int(time.time()) - 1, "ours-1")
    body = json.dumps([foreign, ours]).encode()
    before = _state(settings, ids[0])
    with serving(settings) as url:
        status, answer = post(url, body, signer.headers(body))
    after = _state(settings, ids[0])
    _record(
        record_property,
        SECURITY,
        "events not ours",
        case,
        f"HTTP {status} {json.dumps(answer)}; delivery {'unchanged' if after == before else after}",
    )
    assert status == 200
    assert (answer["foreign"], answer["applied"], answer["suppressed"]) == (1, 1, 0)
    assert after == before == ("sent", None, None)
    assert _state(settings, ids[2]) == ("sent", "delivered", None)


def test_the_generated_key_is_private_and_made_once(
    seeded_repo: NoticeRepo, record_property: Prop
) -> None:
    """When no NOTICES_EVENTS_KEY is set, then sending makes var/events.key once, owner-only,
    and the webhook takes the events of that send, not those signed with another key."""
    signer = Signer.new()
    settings, ids = sent_release(seeded_repo, 2, signer, {"NOTICES_EVENTS_KEY": ""})
    path = seeded_repo.path / "var" / "events.key"
    mode, key = path.stat().st_mode & 0o777, path.read_text(encoding="ascii")
    stamp = int(time.time())
    ours = event(ids[1], "delivered", stamp, "k2", notices_mac=tag(ids[1], key=key))
    body = json.dumps([event(ids[0], "delivered", stamp, "k1"), ours]).encode()
    with serving(settings) as url:
        status, answer = post(url, body, signer.headers(body))
    _record(
        record_property,
        SECURITY,
        "events not ours",
        "events of a send signed with the generated key (tests sign with another)",
        f"var/events.key mode {mode:o}, {len(key)} characters; HTTP {status} {json.dumps(answer)}",
    )
    assert mode == 0o600 and len(key) == 64 and key != KEY
    assert path.read_text(encoding="ascii") == key
    assert status == 200 and answer["foreign"] == 1 and answer["applied"] == 1
    assert _state(settings, ids[1]) == ("sent", "delivered", None)
    db.dispose_all()


# --- item 2: one bad event never costs the others ---------------------------------------------

BAD: dict[str, Callable[[list[int]], str]] = {
    "not an object (a string)": lambda ids: '"delivered"',
    "not an object (null)": lambda ids: "null",
    "not an object (a list)": lambda ids: json.dumps([_bounce(ids[0], "b1")]),
    "event kind a number": lambda ids: json.dumps({**_bounce(ids[0], "b2"), "event": 7}),
    "delivery id 10**30": lambda ids: json.dumps({**_bounce(ids[0], "b3"), "delivery_id": 10**30}),
    "delivery id of 5,000 digits": lambda ids: json.dumps(_bounce(ids[0], "b4")).replace(
        f'"delivery_id": "{ids[0]}"', '"delivery_id": ' + "9" * 5000
    ),
    "delivery id a list": lambda ids: json.dumps({**_bounce(ids[0], "b5"), "delivery_id": [1]}),
    "delivery id negative": lambda ids: json.dumps({**_bounce(ids[0], "b6"), "delivery_id": "-1"}),
    "timestamp 1e300": lambda ids: json.dumps({**_bounce(ids[0], "b7"), "timestamp": 1e300}),
    "timestamp of 400 digits": lambda ids: json.dumps(
        {**_bounce(ids[0], "b8"), "timestamp": 10**399}
    ),
    "timestamp a string": lambda ids: json.dumps({**_bounce(ids[0], "b9"), "timestamp": "now"}),
    "timestamp true": lambda ids: json.dumps({**_bounce(ids[0], "b10"), "timestamp": True}),
    "timestamp missing": lambda ids: json.dumps(
        {k: v for k, v in _bounce(ids[0], "b11").items() if k != "timestamp"}
    ),
    "email missing": lambda ids: json.dumps(
        {k: v for k, v in _bounce(ids[0], "b12").items() if k != "email"}
    ),
    "email a number": lambda ids: json.dumps({**_bounce(ids[0], "b13"), "email": 42}),
    "MAC a number": lambda ids: json.dumps({**_bounce(ids[0], "b14"), "notices_mac": 1}),
    "release an object": lambda ids: json.dumps({**_bounce(ids[0], "b15"), "release": {}}),
    "reason with a lone surrogate": lambda ids: json.dumps(
        {**_bounce(ids[0], "b16"), "reason": "@@"}
    ).replace("@@", "\\ud800"),
    "reason with a NUL": lambda ids: json.dumps({**_bounce(ids[0], "b17"), "reason": "5\x005"}),
    "event id with a NUL": lambda ids: json.dumps(_bounce(ids[0], "b\x0018")),
}


@pytest.mark.parametrize("case", list(BAD))
def test_one_bad_event_costs_no_other(
    sent: tuple[Settings, list[int], Signer], case: str, record_property: Prop
) -> None:
    """When one event of a signed post is malformed, then it alone is refused (invalid) and the
    post is answered 200 with the others applied, so SendGrid neither retries nor drops them."""
    settings, ids, signer = sent
    good = [
        event(ids[1], "delivered", int(time.time()) - 3, "g1"),
        _bounce(ids[2], "g2"),
    ]
    text = "[" + ",".join([json.dumps(good[0]), BAD[case](ids), json.dumps(good[1])]) + "]"
    body = text.encode()
    with serving(settings) as url:
        status, answer = post(url, body, signer.headers(body))
    _record(
        record_property,
        BAD_INPUT,
        "webhook events",
        case,
        f"HTTP {status} {json.dumps(answer)}",
    )
    assert status == 200
    assert answer == {
        "received": 3,
        "applied": 2,
        "duplicates": 0,
        "foreign": 0,
        "invalid": 1,
        "ignored": 0,
        "suppressed": 1,
    }
    assert _state(settings, ids[0]) == ("sent", None, None)
    assert _state(settings, ids[1]) == ("sent", "delivered", None)
    assert _state(settings, ids[2])[:2] == ("bounced", "bounce")


def test_bad_events_on_postgresql(seeded_repo: NoticeRepo, record_property: Prop) -> None:
    """When the ledger is on PostgreSQL (32-bit ids, no NUL in text), then the bad events of a
    post are refused one by one and the good one is applied."""
    with postgres_database() as url:
        signer = Signer.new()
        settings, ids = sent_release(seeded_repo, 3, signer, {"NOTICES_DATABASE_URL": url})
        bad = [BAD[case](ids) for case in BAD]
        good = json.dumps(event(ids[1], "delivered", int(time.time()), "pg-good"))
        body = ("[" + ",".join([*bad, good]) + "]").encode()
        with serving(settings) as url_:
            status, answer = post(url_, body, signer.headers(body))
        found = _state(settings, ids[1])
        db.dispose_all()
    _record(
        record_property,
        BAD_INPUT,
        "webhook events",
        f"PostgreSQL: the {len(BAD)} bad events above and a good one in one post",
        f"HTTP {status} {json.dumps(answer)}",
    )
    assert status == 200 and answer["invalid"] == len(BAD) and answer["applied"] == 1
    assert found == ("sent", "delivered", None)


def test_a_post_of_mixed_events(
    sent: tuple[Settings, list[int], Signer], record_property: Prop
) -> None:
    """When a post of 3,000 events mixes ours, foreign, invalid and ignored ones, then each is
    counted on its own and the post is answered 200."""
    settings, ids, signer = sent
    now = int(time.time())
    events: list[Any] = []
    for step in range(750):
        events.append(event(ids[step % 3], "deferred", now - step, f"m{step}"))
        events.append(_bounce(ids[0], f"x{step}", notices_mac=tag(ids[1])))
        events.append({**_bounce(ids[1], f"i{step}"), "timestamp": "soon"})
        events.append(event(ids[2], "open", now, f"o{step}"))
    body = json.dumps(events).encode()
    started = time.perf_counter()
    with serving(settings) as url:
        status, answer = post(url, body, signer.headers(body))
    seconds = time.perf_counter() - started
    _record(
        record_property,
        BAD_INPUT,
        "webhook events",
        "3,000 events: 750 ours, 750 foreign, 750 invalid, 750 ignored",
        f"HTTP {status} {json.dumps(answer)}",
    )
    record_property("figure", f"mixed post of 3000 events answered in s={seconds:.2f}")
    assert status == 200
    assert answer == {
        "received": 3000,
        "applied": 750,
        "duplicates": 0,
        "foreign": 750,
        "invalid": 750,
        "ignored": 750,
        "suppressed": 0,
    }
    assert _state(settings, ids[0]) == ("sent", "deferred", None)


# --- item 8: a mailbox is one mailbox ---------------------------------------------------------

SPELLINGS = {
    "the address as imported": IDN,
    "domain in punycode, upper case": IDN_PUNYCODE,
    "domain in Unicode, local part upper case": "LI.NA@例子.中国",
    "domain in full-width Unicode dots": "li.na@例子。中国",
}


@pytest.mark.parametrize("case", list(SPELLINGS))
def test_a_bounce_finds_the_mailbox_however_spelt(
    sent: tuple[Settings, list[int], Signer], case: str, record_property: Prop
) -> None:
    """When SendGrid reports a bounce with the address spelt otherwise (case, punycode), then
    it is the customer's mailbox: the delivery bounces and the customer is suppressed."""
    settings, ids, signer = sent
    body = json.dumps([_bounce(ids[3], "s1", email=SPELLINGS[case])]).encode()
    with serving(settings) as url:
        status, answer = post(url, body, signer.headers(body))
    found = _state(settings, ids[3])
    _record(record_property, SECURITY, "one mailbox", f"bounce, {case}", f"HTTP {status}; {found}")
    assert status == 200 and answer["applied"] == 1 and answer["suppressed"] == 1
    assert found == ("bounced", "bounce", "bounce: 550 5.1.1")


def test_custom_args_are_opaque_and_signed(
    seeded_repo: NoticeRepo, standin: sendgrid_standin.StandIn, record_property: Prop
) -> None:
    """When a notice goes out through SendGrid, then each personalization's custom args are the
    delivery id and its MAC over the release, and no address is among them."""
    material_repo(seeded_repo)
    write_customers(seeded_repo.path / "c.csv", 12)
    env = {**sendgrid_env(standin, seeded_repo), "NOTICES_EVENTS_KEY": KEY}
    assert run_notices("customers", "import", "c.csv", cwd=seeded_repo.path, env=env).code == 0
    sent = run_notices("notify", "send", VERSION, "--early", cwd=seeded_repo.path, env=env)
    assert sent.code == 0, sent.err
    bodies = standin.accepted
    args = [p["custom_args"] for body in bodies for p in body["personalizations"]]
    _record(
        record_property,
        SECURITY,
        "events not ours",
        "custom args of a SendGrid request",
        f"top {bodies[0]['custom_args']}; first personalization {args[0]}",
    )
    assert [body["custom_args"] for body in bodies] == [{"release": RELEASE}] * len(bodies)
    ids = sorted(int(a["delivery_id"]) for a in args)
    assert ids == list(range(1, 13))
    assert all(
        a == {"delivery_id": a["delivery_id"], "notices_mac": tag(a["delivery_id"])} for a in args
    )
    assert "@" not in json.dumps([body["custom_args"] for body in bodies] + args)


@pytest.mark.parametrize("value", ["short-but-secret", "a key with spaces in it, long enough"])
def test_a_bad_events_key_is_named_never_shown(
    seeded_repo: NoticeRepo, value: str, record_property: Prop
) -> None:
    """When NOTICES_EVENTS_KEY is too short or holds spaces, then the command stops with one
    line naming the variable, never its value."""
    result = run_notices(
        "notify", "status", VERSION, cwd=seeded_repo.path, env={"NOTICES_EVENTS_KEY": value}
    )
    _record(
        record_property,
        SECURITY,
        "events not ours",
        f"NOTICES_EVENTS_KEY of {len(value)} characters{' with spaces' if ' ' in value else ''}",
        f"exit {result.code}: {result.err.strip()}",
    )
    assert result.code == 1 and result.err.count("\n") == 1
    assert result.err.startswith("error: NOTICES_EVENTS_KEY must be at least 32 ASCII characters")
    assert value not in result.out + result.err
