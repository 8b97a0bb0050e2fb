"""Benchmark: SendGrid Event Webhook ingestion on SQLite, over real HTTP, signed posts.

Mails N customers through the outbox, then posts 5 events per delivery (shuffled, 1000 events a
post as SendGrid batches them, 4 posts at a time) to the real events server on 127.0.0.1 and
prints events/s ingested (signature check + ledger update), its ratio to the 2,000/s target and
to the naive peer (one event per post, measured on a sample in the same run).
Usage: bench/events.py [CUSTOMERS] (default 10000 → 50,000 events).
"""

from __future__ import annotations

import json
import random
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT / "tests"))

from sqlalchemy import select  # noqa: E402
from support.events import KEY, Signer, event, post  # noqa: E402
from support.notify import NOTICE, VERSION, amended, write_customers  # noqa: E402
from support.repos import NoticeRepo, seed_text  # noqa: E402

from notifier.delivery import customers, events_server, notify  # noqa: E402
from notifier.settings import load_settings  # noqa: E402
from notifier.storage import db  # noqa: E402

TARGET = 2000.0
KINDS = ("processed", "deferred", "deferred", "delivered", "unsubscribe")
PEER_SAMPLE = 500


def _repo(folder: Path) -> NoticeRepo:
    repo = NoticeRepo(folder)
    folder.mkdir(parents=True)
    repo.git("init", "-q", "-b", "main")
    repo.write("notices.toml", (PROJECT / "notices.toml").read_text(encoding="utf-8"))
    repo.commit("seed", "2029-01-01T10:00:00+08:00", {NOTICE: seed_text()})
    repo.commit("amend", "2029-11-01T10:00:00+08:00", {NOTICE: amended()})
    return repo


def main(count: int) -> None:
    signer = Signer.new()
    with tempfile.TemporaryDirectory() as folder:
        repo = _repo(Path(folder) / "repo")
        environ = {"NOTICES_EVENTS_KEY": KEY}  # the key `event` signs its custom args with
        settings = replace(load_settings(repo.path, environ), webhook_public_key=signer.public)
        customers.import_csv(write_customers(repo.path / "c.csv", count), settings)
        notify.send(settings, VERSION, early=True)
        with db.engine(settings).connect() as connection:
            ids = list(connection.execute(select(db.deliveries.c.id)).scalars())
        now = int(time.time())
        burst = [
            event(d, kind, now - 100 + step, f"b{d}-{step}")
            for d in ids
            for step, kind in enumerate(KINDS)
        ]
        random.Random(8).shuffle(burst)
        peer, burst = burst[:PEER_SAMPLE], burst[PEER_SAMPLE:]
        bodies = [json.dumps(burst[i : i + 1000]).encode() for i in range(0, len(burst), 1000)]
        signed = [(body, signer.headers(body)) for body in bodies]
        singles = [json.dumps([e]).encode() for e in peer]
        signed_singles = [(body, signer.headers(body)) for body in singles]
        server = events_server.start(settings, "127.0.0.1", 0)
        events_server.serve_in_thread(server)
        try:
            started = time.perf_counter()
            with ThreadPoolExecutor(4) as pool:
                answers = list(pool.map(lambda s: post(server.url, *s), signed))
            batched = time.perf_counter() - started
            started = time.perf_counter()
            for body, headers in signed_singles:
                post(server.url, body, headers)
            single = time.perf_counter() - started
        finally:
            server.shutdown()
            server.server_close()
        applied = sum(answer.get("applied", 0) for _, answer in answers)
        assert applied == len(burst), (applied, len(burst))
        rate, peer_rate = len(burst) / batched, len(peer) / single
        print(f"customers: {count}, events: {len(burst)} in {len(bodies)} signed posts")
        print(f"ingested: {rate:,.0f} events/s ({batched:.2f} s) on SQLite over HTTP")
        print(f"target 2,000 events/s: ratio {rate / TARGET:.1f}x")
        print(f"peer (one event per post, {len(peer)} events): {peer_rate:,.0f} events/s")
        print(f"ratio against the peer: {rate / peer_rate:.1f}x")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000)
