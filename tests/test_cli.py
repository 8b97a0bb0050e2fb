"""The `notices` command's frame: global options on either side of the subcommand, one error line
mapped at the root, the repository papercuts, quiet Alembic, and what start-up imports."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from support.repos import PROJECT, SETTINGS, NoticeRepo, run_notices

DEBUG_HINT = "(hint: rerun with --debug for the traceback, which may show customer data)"
OUTSIDE_HINT = "(hint: run this inside a clone of the notices repository, or pass --repo PATH)"
HEAVY = ("sqlalchemy", "git", "mkdocs", "jieba", "sendgrid", "apscheduler", "markdown_it", "yaml")


def _fresh_repo(path: Path) -> NoticeRepo:
    path.mkdir()
    repo = NoticeRepo(path)
    repo.git("init", "-q", "-b", "main")
    shutil.copy2(SETTINGS, path / "notices.toml")
    return repo


def _process(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """`notices` in a new interpreter, for what only a fresh process shows."""
    return subprocess.run(
        [sys.executable, *args], cwd=cwd, capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize("args", [("--help",), ("--version",)])
def test_start_up_imports_nothing_heavy(args: tuple[str, ...]) -> None:
    """When `notices --help` or `--version` starts, then no database, git, site, mail,
    scheduler, Markdown or YAML library is imported."""
    result = _process("-X", "importtime", "-m", "notifier", *args, cwd=PROJECT)
    assert result.returncode == 0, result.stderr
    imported = {
        line.rsplit("|", 1)[1].strip()
        for line in result.stderr.splitlines()
        if line.startswith("import time:") and "|" in line
    }
    assert "notifier.cli" in imported
    assert sorted(name for name in imported if name.split(".")[0] in HEAVY) == []


@pytest.mark.parametrize("before", [True, False], ids=["before", "after"])
def test_repo_option_on_either_side(seeded_repo: NoticeRepo, tmp_path: Path, before: bool) -> None:
    """When --repo comes before or after the subcommand, then it names the repository alike."""
    inside = run_notices("log", cwd=seeded_repo.path)
    repo = ("--repo", str(seeded_repo.path))
    args = (*repo, "log") if before else ("log", *repo)
    outside = run_notices(*args, cwd=tmp_path)
    assert (outside.code, outside.out, outside.err) == (0, inside.out, "")


@pytest.mark.parametrize("before", [True, False], ids=["before", "after"])
def test_quiet_on_either_side(seeded_repo: NoticeRepo, before: bool) -> None:
    """When -q comes before or after `check`, then check runs (no usage error) and says the same."""
    plain = run_notices("check", cwd=seeded_repo.path)
    quiet = run_notices(*(("-q", "check") if before else ("check", "-q")), cwd=seeded_repo.path)
    assert plain.code == 0, plain.err
    assert (quiet.code, quiet.out, quiet.err) == (0, plain.out, "")


@pytest.mark.parametrize(
    "args",
    [("-v", "customers", "count"), ("customers", "count", "-v")],
    ids=["before", "after"],
)
def test_verbose_shows_migrations_not_alembic_plugins(
    notice_repo: NoticeRepo, args: tuple[str, ...]
) -> None:
    """When -v (before or after the subcommand) creates the database, then the schema creation
    and Alembic's migration lines are logged, and Alembic's plugin set-up lines are not.
    (A real process: Alembic sets its plugins up once per process.)"""
    result = _process("-m", "notifier", *args, cwd=notice_repo.path)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "total 0  active 0  suppressed 0\n"
    assert "INFO alembic.runtime.migration: Running upgrade  -> 0001" in result.stderr
    assert result.stderr.count("INFO notifier.storage.schema: created the database schema") == 1
    assert "plugin" not in result.stderr


def test_verbose_runs_log_once_each(tmp_path: Path) -> None:
    """When two -v commands run one after the other, then each logs its lines once."""
    runs = [
        run_notices("customers", "count", "-v", cwd=_fresh_repo(tmp_path / name).path)
        for name in ("first", "second")
    ]
    assert [run.code for run in runs] == [0, 0]
    assert [run.err.count("created the database schema") for run in runs] == [1, 1]


def test_notice_error_is_one_line(seeded_repo: NoticeRepo) -> None:
    """When an operation raises a NoticeError, then stderr is its one line and the exit is 1."""
    result = run_notices("log", "terms", cwd=seeded_repo.path)
    assert (result.code, result.out) == (1, "")
    assert result.err == (
        "error: no release of a notice named 'terms' on main (hint: known notices: privacy)\n"
    )


def test_unforeseen_error_names_only_its_type(seeded_repo: NoticeRepo) -> None:
    """When an operation fails in a way nobody foresaw, then one line names the error's type and
    nothing of its text (which may quote data), with a hint to rerun with --debug."""
    result = run_notices(
        "notify", "proof", "2018-11-01", "--out", "/dev/null/proof.csv", cwd=seeded_repo.path
    )
    assert (result.code, result.out) == (1, "")
    assert result.err == f"error: unexpected NotADirectoryError {DEBUG_HINT}\n"


def test_database_error_shows_the_driver_line(notice_repo: NoticeRepo) -> None:
    """When the database fails, then one line shows the driver's own first line only."""
    garbage = notice_repo.write("var/broken.db", "这不是数据库\n" * 100)
    env = {"NOTICES_DATABASE_URL": f"sqlite:///{garbage}"}
    result = run_notices("customers", "count", cwd=notice_repo.path, env=env)
    assert (result.code, result.out) == (1, "")
    assert result.err == (
        f"error: the database failed: DatabaseError: file is not a database {DEBUG_HINT}\n"
    )


@pytest.mark.parametrize("before", [True, False], ids=["before", "after"])
def test_debug_shows_the_traceback(seeded_repo: NoticeRepo, before: bool) -> None:
    """When --debug is given (before or after the subcommand), then the unforeseen error comes
    with its traceback instead of the one line."""
    proof = ("notify", "proof", "2018-11-01", "--out", "/dev/null/proof.csv")
    args = ("--debug", *proof) if before else (*proof, "--debug")
    result = run_notices(*args, cwd=seeded_repo.path)
    assert result.code == 1
    assert "Traceback (most recent call last)" in result.err
    assert "NotADirectoryError" in result.err and DEBUG_HINT not in result.err


@pytest.mark.parametrize(
    "args", [("check",), ("log",), ("lint",), ("site", "build"), ("schedule", "list")]
)
def test_outside_a_repository(tmp_path: Path, args: tuple[str, ...]) -> None:
    """When a command that reads the notices runs outside a git repository, then it says so,
    names --repo, and writes nothing."""
    result = run_notices(*args, cwd=tmp_path)
    assert (result.code, result.out) == (1, "")
    assert result.err == f"error: {tmp_path}: not inside a git repository {OUTSIDE_HINT}\n"
    assert list(tmp_path.iterdir()) == []
