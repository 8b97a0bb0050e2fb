"""`notices consent serve`: the consent pages and the Event Webhook on one port, and a clear
refusal when what the pages need is not configured."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import select
from support.consent import KEYS, Client, consent_release, decisions, grant_for, link, port_of
from support.events import KEY, Signer, event, post
from support.notify import VERSION
from support.repos import NoticeRepo, notices_server, run_notices

from notifier.storage import db


def test_serve_needs_a_consent_url_and_keys(seeded_repo: NoticeRepo) -> None:
    """When the consent URL or the keys are missing, then `consent serve` refuses to start with
    one error line saying what to set, exit 1."""
    no_keys = run_notices("consent", "serve", "--port", "0", cwd=seeded_repo.path)
    assert (no_keys.code, no_keys.out) == (1, "")
    assert no_keys.err == "error: no consent key is set (hint: set NOTICES_CONSENT_KEYS)\n"
    env = {"NOTICES_CONSENT_KEYS": KEYS}
    no_url = run_notices("consent", "serve", "--port", "0", cwd=seeded_repo.path, env=env)
    assert no_url.code == 1
    assert no_url.err == (
        "error: no consent URL is set "
        '(hint: set url = "https://…" in the [consent] table of notices.toml)\n'
    )


def test_serve_answers_consent_pages_and_webhook_posts_on_one_port(
    seeded_repo: NoticeRepo,
) -> None:
    """When `notices consent serve` runs with the webhook's key set too, then the same port
    shows consent pages, records a POSTed answer, and takes signed webhook posts."""
    settings, ids = consent_release(seeded_repo, 1, {"NOTICES_EVENTS_KEY": KEY})
    signer = Signer.new()
    toml = seeded_repo.path / "notices.toml"
    toml.write_text(
        toml.read_text(encoding="utf-8") + f'\n[events]\npublic_key = "{signer.public}"\n',
        encoding="utf-8",
    )
    port = port_of(settings)
    env = {"NOTICES_CONSENT_KEYS": KEYS, "NOTICES_EVENTS_KEY": KEY}
    with notices_server("consent", "serve", "--port", str(port), cwd=seeded_repo.path, env=env) as (
        _pid,
        line,
    ):
        origin = f"http://127.0.0.1:{port}"
        assert line == f"serving consent pages on {origin}/consent/ (Ctrl+C to stop)\n"
        client = Client(origin)
        path = link(settings, ids[0])
        page = client.get(path)
        assert page.status == 200
        shown = page.body.split('name="shown" value="')[1][:64]
        assert client.post(path, {"shown": shown, "decision": "decline"}).status == 303
        body = json.dumps([event(ids[0], "delivered", int(time.time()), "s1")]).encode()
        status, counts = post(origin, body, signer.headers(body))
        assert (status, counts["received"], counts["applied"]) == (200, 1, 1)
    assert [row[7] for row in decisions(settings)] == ["decline"]


def test_answers_to_two_processes_are_recorded_once_each_in_one_chain(
    seeded_repo: NoticeRepo,
) -> None:
    """When `notices consent serve --processes 2` takes answers from eight clients at once, then
    it serves from two processes, every answer is recorded once, the release's chain holds
    them all (the proof verifies), and SIGTERM ends it, exit 0."""
    settings, ids = consent_release(seeded_repo, 24)
    port = port_of(settings)
    command = ("consent", "serve", "--port", str(port), "--processes", "2")
    env = {"NOTICES_CONSENT_KEYS": KEYS}
    with notices_server(*command, cwd=seeded_repo.path, env=env) as (pid, line):
        assert line.startswith("serving consent pages on ")
        client = Client(f"http://127.0.0.1:{port}")

        with db.engine(settings).connect() as connection:
            found = connection.execute(select(db.deliveries.c.id, db.deliveries.c.locale))
            locales = {delivery: locale for delivery, locale in found}

        def answer(number: int) -> int:
            grant = {"locale": locales[ids[number]]}
            shown = grant_for(settings, ids[number], **grant).text_sha256
            decision = "agree" if number % 3 else "decline"
            path = link(settings, ids[number], **grant)
            return client.post(path, {"shown": shown, "decision": decision}).status

        with ThreadPoolExecutor(8) as pool:
            assert set(pool.map(answer, range(len(ids)))) == {303}
        with open(f"/proc/{pid}/task/{pid}/children", encoding="ascii") as kids:
            assert len(kids.read().split()) == 2
    rows = decisions(settings)
    assert sorted(row[3] for row in rows) == sorted(ids)
    proof = run_notices("notify", "proof", VERSION, "--out", "proof.csv", cwd=seeded_repo.path,
                        env={"NOTICES_CONSENT_KEYS": KEYS})
    assert proof.out == "wrote 24 row(s) and 24 consent decision(s) to proof.csv\n", proof.err
    verified = run_notices("notify", "verify-proof", "proof.csv", cwd=seeded_repo.path)
    assert verified.code == 0, verified.out + verified.err
