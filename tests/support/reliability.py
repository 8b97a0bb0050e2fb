"""Shared pieces of the reliability suite (issue #10): a repository with real prior state, a
snapshot of everything a command may write, and the check that an error is one clear line.

"Nothing half-written" is only meaningful when there is something to spoil, so `prior_state`
copies a repository that already went through every writing command: customers imported, the
site built (with its record of published releases), the schedule synced, a notice sent to the
outbox. The template is built once per test session and copied (a few milliseconds) per case.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import MetaData, create_engine, select, text
from sqlalchemy.engine import make_url

from support import sendgrid_standin
from support.notify import NOTICE, material_repo, write_customers
from support.repos import PROJECT, SETTINGS, NoticeRepo, Run, run_notices, seed_text

BAD_INPUT = "Bad input"
Prop = Callable[[str, object], None]  # pytest's record_property
VERSION = "2029-11-01"  # the material release of `material_repo`, effective 2030-01-01
TODAY = "2029-12-01"  # the day site builds treat as today: the release is upcoming
CUSTOMERS = 30
# Files beside an SQLite database that change when it is merely opened (WAL, shared memory,
# lock files): the database is compared by its rows, never by its bytes.
_DATABASE_SUFFIXES = ("", "-wal", "-shm", "-journal", ".schema-lock", ".send-lock")
_template: Path | None = None


def _build_template(folder: Path) -> Path:
    """A repo with two releases, after `customers import`, `site build`, `schedule sync` and
    `notify send` have each written their state (var/, build/site, the database)."""
    repo = NoticeRepo(folder / "repo")
    repo.path.mkdir(parents=True)
    repo.git("init", "-q", "-b", "main")
    repo.write("notices.toml", SETTINGS.read_text(encoding="utf-8"))
    repo.write(".gitignore", "var/\nbuild/\n")
    shutil.copy2(PROJECT / "mkdocs.yml", repo.path / "mkdocs.yml")
    shutil.copytree(PROJECT / "site", repo.path / "site")
    repo.commit("Add the 2018-11-01 statement", "2024-01-02T09:00:00+08:00", {NOTICE: seed_text()})
    material_repo(repo)
    customers = write_customers(folder / "customers.csv", CUSTOMERS)
    for args in (
        ("customers", "import", str(customers)),
        ("site", "build", "--today", TODAY),
        ("schedule", "sync"),
        ("notify", "send", VERSION, "--early"),
    ):
        result = run_notices(*args, cwd=repo.path)
        assert result.code == 0, f"preparing the prior state: {args}: {result.err}"
    return repo.path


def prior_state(factory: pytest.TempPathFactory, tmp_path: Path) -> NoticeRepo:
    """A fresh copy of the template repository (built on first use for the whole session)."""
    global _template
    if _template is None or not _template.exists():
        _template = _build_template(factory.mktemp("reliability-template"))
    target = tmp_path / "repo"
    shutil.copytree(_template, target, symlinks=True)
    return NoticeRepo(target)


def database_url(repo: Path, env: Mapping[str, str]) -> str:
    """The database the command under test uses (as `config.load_settings` chooses it)."""
    return env.get("NOTICES_DATABASE_URL") or f"sqlite:///{(repo / 'var' / 'notices.db')}"


def _database_files(url: str) -> set[Path]:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        return set()
    return {Path(parsed.database + suffix).resolve() for suffix in _DATABASE_SUFFIXES}


def _file_hashes(folder: Path, skip: set[Path]) -> dict[str, str]:
    """Relative path → sha256 of every file (and '<dir>' for every folder) under `folder`."""
    if not folder.exists():
        return {}
    found: dict[str, str] = {}
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder).as_posix()
        if path.is_dir():
            found[relative + "/"] = "<dir>"
        elif path.resolve() not in skip:
            found[relative] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


def _table_rows(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, sorted; an SQLite file is opened read-only (never created)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if not parsed.database or not Path(parsed.database).exists():
            return {}
        url = f"sqlite:///file:{parsed.database}?mode=ro&uri=true"
    engine = create_engine(url)
    try:
        metadata = MetaData()
        metadata.reflect(engine)
        with engine.connect() as connection:
            return {
                name: sorted((tuple(row) for row in connection.execute(select(table))), key=repr)
                for name, table in sorted(metadata.tables.items())
            }
    finally:
        engine.dispose()


def snapshot(repo: Path, env: Mapping[str, str]) -> dict[str, Any]:
    """What a failed command must leave as it was: the files under var/ (outbox, record of
    published releases, previews, proofs) and the built site, and every row of every table
    of the configured database, the APScheduler job store included."""
    url = database_url(repo, env)
    skip = _database_files(url)
    return {
        "var": _file_hashes(repo / "var", skip),
        "site": _file_hashes(repo / "build" / "site", skip),
        "database": _table_rows(url),
    }


def error_line(result: Run) -> str:
    """The one error line on stderr: no traceback, nothing else but an optional `hint:` line or
    click's usage lines (`Usage: …`, `Try '… -h' for help.`) before a usage error."""
    lines = [line for line in result.err.splitlines() if line.strip()]
    assert "Traceback" not in result.err, result.err
    errors = [line for line in lines if line.startswith(("error: ", "Error: "))]
    assert len(errors) == 1, f"expected one error line, got:\n{result.err}"
    others = [
        line
        for line in lines
        if line not in errors and not line.startswith(("hint:", "Usage: ", "Try '"))
    ]
    assert not others, f"stderr holds more than the error:\n{result.err}"
    return errors[0]


def refused(
    *args: str,
    repo: Path,
    env: Mapping[str, str] | None = None,
    state_env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> Run:
    """Run `notices *args` on bad input: it must exit non-zero without a traceback and leave
    the prior state exactly as it was. `state_env` locates that state when `env` is itself the
    bad input (a broken NOTICES_DATABASE_URL); by default it is `env`."""
    where = dict(state_env if state_env is not None else env or {})
    before = snapshot(repo, where)
    result = run_notices(*args, cwd=cwd or repo, env=env)
    after = snapshot(repo, where)
    assert result.code != 0, f"exit 0 on bad input:\n{result.out}\n{result.err}"
    assert "Traceback" not in result.err, result.err
    assert before == after, "a refused command changed the prior state"
    return result


def findings(result: Run, severity: str = "error") -> list[str]:
    """`notices check` reports on stdout, one finding a line: `path:line: error: …`."""
    return [line for line in result.out.splitlines() if f": {severity}: " in line]


def record(prop: Prop, group: str, case: str, observed: str) -> None:
    """The reporting scheme of the suite: area, group, case, observed (see report.py). The test's
    temporary folder is cut from what was observed: the page shows `repo/notices.toml:49`."""
    prop("area", BAD_INPUT)
    prop("group", group)
    prop("case", case)
    prop("observed", _TEMPORARY.sub("", observed))


_TEMPORARY = re.compile(r"/\S*?/pytest-of-[^/]+/pytest-\d+/[^/\s]+/")


# Linux keeps the larger of a process's peak and its parent's resident size at fork, so a child
# of this (large) test process would report the test's memory. A small launcher forks the
# command instead and reports the command's own peak (wait4) in a file.
_LAUNCHER = """
import os, subprocess, sys
child = subprocess.Popen(sys.argv[2:])
_, status, usage = os.wait4(child.pid, 0)
with open(sys.argv[1], "w") as report:
    report.write(f"{os.waitstatus_to_exitcode(status)} {usage.ru_maxrss}")
"""


def run_measured(*args: str, cwd: Path, env: Mapping[str, str] | None = None) -> tuple[Run, int]:
    """The `notices` command in its own process, also returning its peak resident memory in
    KiB (from wait4, measured by a small launcher: see above)."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("NOTICES_", "SENDGRID_"))}
    with (
        tempfile.TemporaryFile() as out,
        tempfile.TemporaryFile() as err,
        tempfile.TemporaryDirectory() as folder,
    ):
        report = Path(folder) / "usage"
        subprocess.run(
            [sys.executable, "-c", _LAUNCHER, str(report), sys.executable, "-m", "notifier", *args],
            cwd=cwd,
            env={**clean, "PYTHONIOENCODING": "utf-8", **(env or {})},
            stdout=out,
            stderr=err,
            check=True,
        )
        code, peak_kib = (int(part) for part in report.read_text().split())
        out.seek(0)
        err.seek(0)
        run = Run(code, out.read().decode("utf-8"), err.read().decode("utf-8"))
    return run, peak_kib


# --- Faults: a repository ready to send, its [mail] settings, the ledger, who was mailed --------

FAULTS = "Faults"
_sending_templates: dict[int, Path] = {}


def record_fault(prop: Callable[[str, object], None], group: str, case: str, observed: str) -> None:
    """`record` for the Faults area."""
    prop("area", FAULTS)
    prop("group", group)
    prop("case", case)
    prop("observed", observed)


def _build_sending_template(folder: Path, customers: int) -> Path:
    """A repo whose material release VERSION is not yet sent, `customers` imported."""
    repo = NoticeRepo(folder / "repo")
    repo.path.mkdir(parents=True)
    repo.git("init", "-q", "-b", "main")
    repo.write("notices.toml", SETTINGS.read_text(encoding="utf-8"))
    repo.write(".gitignore", "var/\n")
    repo.commit("Add the 2018-11-01 statement", "2024-01-02T09:00:00+08:00", {NOTICE: seed_text()})
    material_repo(repo)
    listing = write_customers(folder / "customers.csv", customers)
    result = run_notices("customers", "import", str(listing), cwd=repo.path)
    assert result.code == 0, f"importing {customers} customers: {result.err}"
    return repo.path


def sending_repo(
    tmp_path: Path, factory_base: Path, customers: int, **mail: int | float
) -> NoticeRepo:
    """A copy of a repo whose material release VERSION is due with `--early`, `customers`
    customers in var/notices.db (one template per count and session), `mail` in [mail]."""
    template = _sending_templates.get(customers)
    if template is None or not template.exists():
        template = _build_sending_template(factory_base / f"sending-{customers}", customers)
        _sending_templates[customers] = template
    target = tmp_path / "repo"
    shutil.copytree(template, target, symlinks=True)
    if mail:
        set_mail(target, **mail)
    return NoticeRepo(target)


def set_mail(repo: Path, **values: int | float) -> None:
    """Replace the [mail] table of the repo's notices.toml (keys not given take defaults)."""
    path = repo / "notices.toml"
    table = "[mail]\n" + "".join(f"{key} = {value!r}\n" for key, value in values.items())
    before = path.read_text(encoding="utf-8")
    settings, found = re.subn(r"^\[mail\]\n(?:[^\[\n].*\n)*", table, before, flags=re.M)
    assert found == 1, "notices.toml has no [mail] table"
    path.write_text(settings, encoding="utf-8")


def ledger_rows(url: str) -> list[tuple[str, str, int, str | None]]:
    """(email, status, attempts, error) of every delivery in id order; SQLite opened read-only."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        url = f"sqlite:///file:{parsed.database}?mode=ro&uri=true"
    engine = create_engine(url)
    query = text(
        "SELECT c.email, d.status, d.attempts, d.error FROM deliveries d "
        "JOIN customers c ON c.id = d.customer_id ORDER BY d.id"
    )
    try:
        with engine.connect() as connection:
            return [(r[0], r[1], int(r[2]), r[3]) for r in connection.execute(query)]
    finally:
        engine.dispose()


def mailed(stand_in: sendgrid_standin.StandIn) -> Counter[str]:
    """How many times the stand-in took a mail for each address."""
    return Counter(stand_in.recipients())
