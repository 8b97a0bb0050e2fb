"""Real git repositories at fixed times, the project's seed statement, and the `notices` command."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import subprocess
import sys
import traceback
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from click.testing import CliRunner

from notifier.cli import main
from notifier.storage.db import dispose_all

PROJECT = Path(__file__).resolve().parents[2]
SEED = PROJECT / "notices" / "privacy" / "zh-CN.md"
DATA = PROJECT / "tests" / "data"  # real documents, with their licences (see its README)
CORPUS = DATA / "corpus"
SETTINGS = PROJECT / "notices.toml"


def seed_text() -> str:
    """The seed statement as committed in this project (the first release)."""
    return SEED.read_text(encoding="utf-8")


def with_front(text: str, **fields: object) -> str:
    """Return `text` with front matter fields replaced (or added); values are written verbatim."""
    head, sep, body = text.partition("\n---\n")
    assert head.startswith("---") and sep, "text has no front matter"
    lines = head.split("\n")[1:]
    keys = [line.split(":", 1)[0] for line in lines]
    for key, value in fields.items():
        rendered = f"{key}: {value}"
        if key in keys:
            lines[keys.index(key)] = rendered
        else:
            lines.append(rendered)
            keys.append(key)
    return "---\n" + "\n".join(lines) + "\n---\n" + body


def for_you(entries: Mapping[str, str]) -> str:
    """`what_changes_for_you` as a one-line YAML mapping, for `with_front`/`release_text`."""
    pairs = (f"{key}: {json.dumps(text, ensure_ascii=False)}" for key, text in entries.items())
    return "{" + ", ".join(pairs) + "}"


def release_text(
    base: str, version: str, *, effective: str | None = None, **fields: object
) -> str:
    """A new release of `base`: version, dates and the body's 最后更新时间 line."""
    year, month, day = (int(part) for part in version[:10].split("-"))
    text = re.sub(
        r"最后更新时间：\d+ 年 \d+ 月 \d+ 日", f"最后更新时间：{year} 年 {month} 月 {day} 日", base
    )
    text = re.sub(r"^published: .*\n", "", text, flags=re.M)
    fields.setdefault("summary", f"版本 {version} 的更改")  # a release says what it changes
    return with_front(
        text,
        version=version,
        last_updated=version[:10],
        effective=effective or version[:10],
        **fields,
    )


@dataclass
class NoticeRepo:
    """A real git repository in a temporary folder whose commits carry fixed dates."""

    path: Path

    def git(self, *args: str, when: str = "2024-01-01T10:00:00+08:00") -> str:
        env = {
            **os.environ,
            "GIT_AUTHOR_NAME": "法务编辑",
            "GIT_AUTHOR_EMAIL": "legal@example.com",
            "GIT_COMMITTER_NAME": "法务编辑",
            "GIT_COMMITTER_EMAIL": "legal@example.com",
            "GIT_AUTHOR_DATE": when,
            "GIT_COMMITTER_DATE": when,
            "GIT_CONFIG_GLOBAL": os.devnull,
            "GIT_CONFIG_NOSYSTEM": "1",
        }
        result = subprocess.run(
            ["git", *args], cwd=self.path, env=env, capture_output=True, text=True, check=True
        )
        return result.stdout.strip()

    def write(self, relative: str, content: str | bytes) -> Path:
        target = self.path / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            target.write_bytes(content)
        else:
            target.write_bytes(content.encode("utf-8"))
        return target

    def commit(
        self,
        message: str,
        when: str = "2024-01-01T10:00:00+08:00",
        files: Mapping[str, str | bytes] | None = None,
    ) -> str:
        """Write `files`, stage everything and commit at `when`; return the commit sha."""
        for relative, content in (files or {}).items():
            self.write(relative, content)
        self.git("add", "-A")
        self.git("commit", "-q", "--allow-empty", "-m", message, when=when)
        return self.git("rev-parse", "HEAD")


def empty_repo(path: Path) -> NoticeRepo:
    """A new git repo at `path` on branch main with the project's notices.toml, no commit."""
    path.mkdir(parents=True)
    repo = NoticeRepo(path)
    repo.git("init", "-q", "-b", "main")
    repo.write("notices.toml", SETTINGS.read_text(encoding="utf-8"))
    return repo


def add_seed(repo: NoticeRepo) -> NoticeRepo:
    """Commit the seed statement to `repo` as its first release."""
    repo.commit(
        "Add the 2018-11-01 privacy statement",
        when="2024-01-02T09:00:00+08:00",
        files={"notices/privacy/zh-CN.md": seed_text()},
    )
    return repo


@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str


def _clean(env: Mapping[str, str] | None) -> dict[str, str | None]:
    """The developer's NOTICES_* and SENDGRID_* removed, then `env` on top."""
    gone = [k for k in os.environ if k.startswith(("NOTICES_", "SENDGRID_"))]
    return {**dict.fromkeys(gone), **(env or {})}


@contextlib.contextmanager
def _as_a_fresh_process(cwd: Path) -> Iterator[None]:
    """Run in `cwd` with logging as a new process has it; afterwards put back what a command
    changes for the whole process: the folder, logging, pooled database connections."""
    root = logging.getLogger()
    handlers, loggers = root.handlers[:], logging.Logger.manager.loggerDict.values()
    levels = {log: log.level for log in [root, *loggers] if isinstance(log, logging.Logger)}
    before = os.getcwd()
    root.handlers = []  # as in a new process: pytest's own would also take the command's lines
    os.chdir(cwd)
    try:
        yield
    finally:
        os.chdir(before)
        for handler in root.handlers:
            handler.close()
        root.handlers = handlers
        for logger, level in levels.items():  # loggers made during the run stay as made
            logger.setLevel(level)
        dispose_all()


def run_notices(*args: str, cwd: Path, env: Mapping[str, str] | None = None) -> Run:
    """Run the real `notices` command in this process (click's runner), as if started in `cwd`
    with `env`: a new interpreter per command would cost most of the suite's time."""
    with _as_a_fresh_process(cwd):
        result = CliRunner().invoke(main, args, env=_clean(env), prog_name="python -m notifier")
    err = result.stderr
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        err += "".join(traceback.format_exception(result.exception))  # as the interpreter would
    return Run(result.exit_code, result.stdout, err)


@contextlib.contextmanager
def notices_server(*args: str, cwd: Path, env: Mapping[str, str]) -> Iterator[tuple[int, str]]:
    """`notices ARGS` run as an operator runs a server, in its own process: yields its pid and
    the first line it printed (where it listens); on leaving, SIGTERM must end it, exit 0."""
    process = subprocess.Popen(
        [sys.executable, "-m", "notifier", *args],
        cwd=cwd,
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    with process.stdout:
        try:
            yield process.pid, process.stdout.readline()
        finally:
            process.terminate()
            code = process.wait(timeout=30)
    assert code == 0, f"the server ended with exit {code}"


def run_notices_process(*args: str, cwd: Path, env: Mapping[str, str] | None = None) -> Run:
    """Run the real `notices` command in a new Python process: for what only a process shows
    (the entry point, start-up imports, signals, crashes, several processes at once)."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("NOTICES_", "SENDGRID_"))}
    result = subprocess.run(
        [sys.executable, "-m", "notifier", *args],
        cwd=cwd,
        env={**clean, "PYTHONIOENCODING": "utf-8", **(env or {})},
        capture_output=True,
        text=True,
        timeout=600,
    )
    return Run(result.returncode, result.stdout, result.stderr)
