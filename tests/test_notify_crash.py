"""A send killed with SIGKILL mid-way, then resumed: everyone mailed, at most one batch twice."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter

from support import sendgrid_standin
from support.notify import VERSION, material_repo, sendgrid_env, standin, write_customers
from support.repos import NoticeRepo, run_notices

__all__ = ["standin"]


def test_sigkill_then_resume(seeded_repo: NoticeRepo, standin: sendgrid_standin.StandIn) -> None:
    """When a send is SIGKILLed mid-way and rerun, then all are mailed and duplicates ≤ 1 batch."""
    material_repo(seeded_repo)
    write_customers(seeded_repo.path / "c.csv", 6000)
    env = sendgrid_env(standin, seeded_repo)
    assert run_notices("customers", "import", "c.csv", cwd=seeded_repo.path, env=env).code == 0
    standin.delay = 0.4
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("NOTICES_", "SENDGRID_"))}
    with subprocess.Popen(
        [sys.executable, "-m", "notifier", "notify", "send", VERSION, "--early"],
        cwd=seeded_repo.path,
        env={**clean, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    ) as process:
        deadline = time.monotonic() + 60
        while len(standin.recipients()) < 2000 and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.2)  # the third batch is now in flight
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
    assert process.returncode == -signal.SIGKILL
    before = len(standin.recipients())
    assert 2000 <= before < 6000
    standin.delay = 0.0
    time.sleep(0.5)  # let the stand-in finish answering the killed request
    resumed = run_notices("notify", "send", VERSION, "--early", cwd=seeded_repo.path, env=env)
    assert resumed.code == 0, resumed.err
    assert "resumed: 1000 delivery(ies) were in flight" in resumed.out
    mailed = Counter(standin.recipients())
    assert len(mailed) == 6000
    duplicates = sum(count - 1 for count in mailed.values())
    assert duplicates <= 1000
