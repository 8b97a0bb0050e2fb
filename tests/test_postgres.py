"""The notification flow on a real PostgreSQL: import, send through SendGrid, status, proof."""

from __future__ import annotations

import json
from collections import Counter

from support import sendgrid_standin
from support.notify import API_KEY, VERSION, material_repo, standin, write_customers
from support.repos import NoticeRepo, run_notices
from support.schedule import postgres_database

__all__ = ["standin"]


def test_notify_flow_on_postgresql(
    seeded_repo: NoticeRepo, standin: sendgrid_standin.StandIn
) -> None:
    """When the database is PostgreSQL, then import, send, rerun, status and proof all work."""
    material_repo(seeded_repo)
    write_customers(seeded_repo.path / "c.csv", 2100)
    with postgres_database() as url:
        env = {
            "NOTICES_DATABASE_URL": url,
            "SENDGRID_API_KEY": API_KEY,
            "SENDGRID_API_HOST": standin.url,
        }
        imported = run_notices("customers", "import", "c.csv", cwd=seeded_repo.path, env=env)
        assert imported.out == "imported 2100 customer(s), skipped 0 row(s)\n", imported.err
        again = run_notices("customers", "import", "c.csv", cwd=seeded_repo.path, env=env)
        assert again.code == 0  # upsert: the same rows again change nothing
        sent = run_notices("notify", "send", VERSION, "--early", cwd=seeded_repo.path, env=env)
        assert sent.code == 0, sent.err
        rerun = run_notices("notify", "send", VERSION, "--early", cwd=seeded_repo.path, env=env)
        assert rerun.out.endswith("sent 0, failed 0 in 0 batch(es)\n")
        status = run_notices("notify", "status", VERSION, "--json", cwd=seeded_repo.path, env=env)
        assert json.loads(status.out)["counts"] == {
            "planned": 0,
            "sending": 0,
            "sent": 2100,
            "failed": 0,
            "bounced": 0,
        }
        proof = run_notices(
            "notify", "proof", VERSION, "--out", "p.csv", cwd=seeded_repo.path, env=env
        )
        assert proof.out == "wrote 2100 row(s) to p.csv\n"
    assert set(Counter(standin.recipients()).values()) == {1}
    assert len(standin.recipients()) == 2100
    assert not (seeded_repo.path / "var" / "notices.db").exists()
