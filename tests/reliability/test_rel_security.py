"""Security (issue #10): no key or whole address in any output, names cannot inject into mail,
the built site holds no customer data, forged or replayed webhook posts are refused, and what
holds personal data is private to its owner.

One flow (module scope) runs every `notices` subcommand, failure paths included, against a real
repository, customers, the SendGrid stand-in, the Event Webhook and the site, with umask 0002
(group-writable, what many distributions give their users); the tests then read what it left.
"""

from __future__ import annotations

import base64
import contextlib
import csv
import datetime as dt
import http.client
import ipaddress
import json
import os
import shutil
import signal
import socket
import sqlite3
import ssl
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from html import escape
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import click
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, Envelope, Session
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)
from cryptography.x509.oid import NameOID
from sqlalchemy import select
from support import sendgrid_standin
from support.events import KEY, Signer, event, post, sent_release, snapshot
from support.notify import API_KEY, NOTICE
from support.repos import (
    PROJECT,
    SETTINGS,
    NoticeRepo,
    Run,
    for_you,
    release_text,
    run_notices,
    seed_text,
)
from support.schedule import postgres_database

from notifier.cli import main
from notifier.delivery import events_server
from notifier.delivery.events import SIGNATURE_HEADER, TIMESTAMP_HEADER
from notifier.delivery.mail import NAME_HTML, NAME_TEXT
from notifier.demo.sandbox import AMENDMENT, WHAT_CHANGES_FOR_YOU
from notifier.logs import mask_email
from notifier.releases.history import read_history, record_path, record_releases
from notifier.settings import Settings, load_settings
from notifier.storage import db

AREA = "Security"
UMASK = 0o002
WRONG_KEY = "SG.not.the.right.key.0000"
SMTP_PASSWORD = "not-a-real-smtp-password.sec"
DB_PASSWORD = "not-a-real-db-password.sec"
REVIEWER = "legal.reviewer.sec@example.com"
STRANGER = "nobody.here.sec@example.org"
TODAY = dt.date.today()
# published 12 days ago, in effect in 20 days: 32 days' notice, and the mail is due at once
VERSION = (TODAY - dt.timedelta(days=12)).isoformat()
EFFECTIVE = (TODAY + dt.timedelta(days=20)).isoformat()
RELEASE = f"privacy/zh-CN/{VERSION}"
CONSENT_KEY = "consent-key-not-for-output-0123456789abcdef"
BASE_ID = 7_300_000  # customer ids start above it: numbers distinctive enough to scan a site for
COUNT = 40
HOSTILE = (
    '<script>alert("xss")</script>',
    "<img src=x onerror=alert(1)>",
    '"><svg/onload=alert(document.domain)>',
    "{{ 7*7 }} {% if 1 %}${7*7}{% endif %}",
    f"粗 {NAME_TEXT} <b>体</b> {NAME_HTML}",
    "O'Brien & <i>Sons</i>",
)
# Names that only a directory filled by another tool (SQL, an ETL) could hold: import refuses them.
BREAKING = (
    "Bob\r\nBcc: evil@example.net",
    "Eve\nSubject: you won",
    "Mallory\u2028X-Injected: 1",
    "Trent\x85Bcc: trent@example.net",
    "Zed\r\n\r\n<script>alert(1)</script>",
)
P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
pytestmark = pytest.mark.slow  # end-to-end: some 30 `notices` processes, servers, a relay


def _record(prop: Callable[[str, object], None], group: str, case: str, observed: str) -> None:
    prop("area", AREA)
    prop("group", group)
    prop("case", case)
    prop("observed", observed)


# --- real parts: repository, CLI processes --------------------------------------------------


def _repo(path: Path, extra_settings: str = "") -> NoticeRepo:
    """A repo whose material release is due: published 12 days ago, in effect in 20."""
    path.mkdir()
    repo = NoticeRepo(path)
    repo.git("init", "-q", "-b", "main")
    repo.write("notices.toml", SETTINGS.read_text(encoding="utf-8") + extra_settings)
    shutil.copy2(PROJECT / "mkdocs.yml", path / "mkdocs.yml")
    shutil.copytree(PROJECT / "site", path / "site")
    repo.commit("Add the seed", "2024-01-02T09:00:00+08:00", {NOTICE: seed_text()})
    text = release_text(
        seed_text(),
        VERSION,
        effective=EFFECTIVE,
        summary="新增向境外关联方共享。",
        what_changes_for_you=for_you(WHAT_CHANGES_FOR_YOU),
    )
    for old, new in AMENDMENT:
        text = text.replace(old, new, 1)
    repo.commit("Amend the statement", f"{VERSION}T10:00:00+08:00", {NOTICE: text})
    return repo


def _env(**extra: str) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("NOTICES_", "SENDGRID_"))}
    return {**clean, "PYTHONIOENCODING": "utf-8", **extra}


def _notices(*args: str, cwd: Path, env: dict[str, str]) -> Run:
    """`run_notices` under a permissive umask: file modes must not depend on the caller's."""
    previous = os.umask(UMASK)
    try:
        return run_notices(*args, cwd=cwd, env=env)
    finally:
        os.umask(previous)


def _decode(raw: bytes) -> str:
    return raw.decode("utf-8", "replace")


@dataclass
class Background:
    """A long-running `notices` command (a server, the scheduler), its output in files."""

    process: subprocess.Popen[bytes]
    out: Path
    err: Path

    def output(self) -> str:
        return _decode(self.out.read_bytes())

    def stop(self, sig: signal.Signals = signal.SIGINT) -> Run:
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return Run(self.process.returncode, self.output(), _decode(self.err.read_bytes()))


def _start(*args: str, cwd: Path, env: dict[str, str], logs: Path) -> Background:
    logs.mkdir(exist_ok=True)
    name = "".join(c if c.isalnum() else "_" for c in " ".join(args))[:60]
    name += f"-{time.monotonic_ns()}"
    out, err = logs / f"{name}.out", logs / f"{name}.err"
    with out.open("wb") as stdout, err.open("wb") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "notifier", *args],
            cwd=cwd,
            env=env,
            stdout=stdout,
            stderr=stderr,
            umask=UMASK,
        )
    return Background(process, out, err)


def _until(condition: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return condition()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _query(database: Path, sql: str, *params: object) -> list[tuple[Any, ...]]:
    with contextlib.closing(sqlite3.connect(database, timeout=30)) as connection:
        with connection:
            return connection.execute(sql, params).fetchall()


def _commands(group: click.Group, prefix: str = "") -> list[str]:
    found: list[str] = []
    for name, command in sorted(group.commands.items()):
        path = f"{prefix}{name}"
        if isinstance(command, click.Group):
            found.extend(_commands(command, path + " "))
        else:
            found.append(path)
    return found


COMMANDS = _commands(main)


# --- the flow: every subcommand, failures included ------------------------------------------


@dataclass(frozen=True)
class Step:
    command: str  # the click path, e.g. "notify send"
    label: str
    expected: int | None  # exit code, None for servers stopped by a signal
    result: Run


@dataclass
class Flow:
    repo: Path
    database: Path
    steps: list[Step] = field(default_factory=list)
    secrets: set[str] = field(default_factory=set)
    names: dict[str, str] = field(default_factory=dict)  # address → name, as imported
    customer_ids: list[int] = field(default_factory=list)
    modes: dict[str, int] = field(default_factory=dict)  # files seen only while a process ran
    accepted: list[dict[str, Any]] = field(default_factory=list)
    demo_secrets: set[str] = field(default_factory=set)

    def run(
        self, command: str, *args: str, env: dict[str, str], expected: int, label: str = ""
    ) -> Run:
        result = _notices("-vv", *args, cwd=self.repo, env=env)
        self.steps.append(Step(command, label or " ".join(args), expected, result))
        return result

    def add(self, command: str, label: str, result: Run) -> None:
        self.steps.append(Step(command, label, None, result))


def _customer_rows() -> list[tuple[str, str, str]]:
    """(address, name, locale): hostile names first, an IDN address and a plus address."""
    rows = []
    for number in range(1, COUNT + 1):
        address = f"rel.sec.{number:03d}@kunde{number % 3}.example.cn"
        if number == 7:
            address = "王伟.sec@例子.中国"
        elif number == 8:
            address = "Li.Na+Privacy.sec@Example.COM"
        name = HOSTILE[number - 1] if number <= len(HOSTILE) else f"客户Zq{number:03d}Xv"
        rows.append((address, name, "en" if number % 4 == 0 else "zh-CN"))
    return rows


BAD_ROWS = (
    ("zhang.san.sec@@example.com", "张三", "zh-CN", "azure"),
    ("a b.sec@example.com", "空格", "zh-CN", "azure"),
    ("twice.sec@example.com", "两次", "zh-CN", "azure"),
    ("twice.sec@example.com", "两次", "zh-CN", "azure"),
    ("=cmd.sec@example.com", "=HYPERLINK(1)", "en", "azure"),
    ("bob.crlf.sec@example.net", "Bob\r\nBcc: evil@example.net", "en", "azure"),
    ("nul.sec@example.net", "Nul\x00Name", "en", "azure"),
    ("esc.sec@example.net", "Esc\x1b[2JName", "en", "azure"),
    ("valid.skip.sec@example.net", "有效", "zh-CN", "azure"),
    ("unknown.svc.sec@example.net", "服务", "zh-CN", "nosuchservice"),
)


def _write_csv(path: Path, rows: list[tuple[str, ...]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["email", "name", "locale", "services"])
        writer.writerows(rows)


def _bounce_events(database: Path, stamp: int) -> list[dict[str, Any]]:
    """Signed-post events whose reasons quote the address, as receiving servers do."""
    rows = _query(
        database,
        "SELECT d.id, c.email FROM deliveries d JOIN customers c ON c.id = d.customer_id "
        "WHERE d.release_id = ? ORDER BY d.id",
        RELEASE,
    )
    (d0, a0), (d1, a1), (d2, a2), (d3, a3) = rows[:4]
    return [
        event(d0, "delivered", stamp - 30, "sec-1", email=a0, release=RELEASE),
        event(
            d1,
            "bounce",
            stamp - 20,
            "sec-2",
            email=a1,
            release=RELEASE,
            type="bounce",
            reason=f"550 5.1.1 <{a1}>: Recipient address rejected: User unknown",
        ),
        event(
            d2, "dropped", stamp - 10, "sec-3", email=a2, release=RELEASE, reason=f"Bounced {a2}"
        ),
        event(d3, "deferred", stamp - 5, "sec-4", email=a3, release=RELEASE, response=f"451 {a3}"),
    ]


def _run_flow(tmp: Path) -> Flow:
    signer = Signer.new()
    standin = sendgrid_standin.start(API_KEY)
    logs = tmp / "logs"
    repo = _repo(tmp / "repo", f'\n[events]\npublic_key = "{signer.public}"\n')
    flow = Flow(repo.path, repo.path / "var" / "notices.db")
    url = f"sqlite:///{flow.database}"
    env = _env(
        SENDGRID_API_KEY=API_KEY,
        SENDGRID_API_HOST=standin.url,
        NOTICES_DATABASE_URL=url,
        NOTICES_EVENTS_KEY=KEY,  # the events' MAC key of `event`: the flow's events are ours
    )
    wrong = {**env, "SENDGRID_API_KEY": WRONG_KEY}
    demo = _start("-vv", "demo", "--dir", str(tmp / "demo"), cwd=tmp, env=_env(), logs=logs)
    started = [demo]  # stopped in any case, so a failed flow leaves no process behind
    rows = _customer_rows()
    _write_csv(repo.path / "c.csv", [(a, n, loc, "azure;powerbi") for a, n, loc in rows])
    _write_csv(repo.path / "bad.csv", list(BAD_ROWS))
    flow.names = {a.lower(): n for a, n, _ in rows}
    flow.secrets = {API_KEY, WRONG_KEY, KEY, CONSENT_KEY, REVIEWER, STRANGER}
    flow.secrets.add("placeholder.sec@example.org")
    flow.secrets |= {a for a, _, _ in rows} | {row[0] for row in BAD_ROWS}
    try:
        flow.run("db upgrade", "db", "upgrade", env=env, expected=0)
        _query(  # customer ids from BASE_ID + 1 on: distinctive in a scan of the site
            flow.database,
            "INSERT INTO customers (id, email, name, locale, services, updated_at) "
            "VALUES (?, 'placeholder.sec@example.org', '', 'zh-CN', ';none;', "
            "'2024-01-01 00:00:00.000000')",
            BASE_ID,
        )
        flow.run("check", "check", env=env, expected=0)
        flow.run("lint", "lint", env=env, expected=0)
        flow.run(
            "init",
            *("init", str(tmp / "started"), "--locale", "zh-CN", "--locale", "en"),
            env={
                **env,
                "GIT_AUTHOR_NAME": "法务编辑",
                "GIT_AUTHOR_EMAIL": "legal@example.com",
                "GIT_COMMITTER_NAME": "法务编辑",
                "GIT_COMMITTER_EMAIL": "legal@example.com",
            },
            expected=0,
        )
        flow.run("log", "log", "--json", env=env, expected=0)
        flow.run("diff", "diff", env=env, expected=0)
        flow.run("customers import", "customers", "import", "bad.csv", env=env, expected=1)
        flow.run("customers import", "customers", "import", "c.csv", env=env, expected=0)
        flow.run(
            "customers import",
            *("customers", "import", "bad.csv", "--skip-invalid", "--json"),
            env=env,
            expected=0,
        )
        flow.customer_ids = [
            row[0]
            for row in _query(flow.database, "SELECT id FROM customers WHERE id > ?", BASE_ID)
        ]
        flow.run("customers count", "customers", "count", "--json", env=env, expected=0)
        suppressed = rows[COUNT - 1][0]
        flow.run(
            "customers suppress",
            *("customers", "suppress", suppressed, "--reason", "account closed"),
            env=env,
            expected=0,
        )
        flow.run(
            "customers suppress",
            *("customers", "suppress", STRANGER, "--reason", "x"),
            env=env,
            expected=1,
        )
        flow.run("notify plan", "notify", "plan", VERSION, "--json", env=env, expected=0)
        flow.run("notify preview", "notify", "preview", VERSION, env=env, expected=0)
        flow.run("notify send", "notify", "send", VERSION, env=wrong, expected=1, label="wrong key")
        flow.run(
            "notify send",
            *("notify", "send", VERSION, "--test-to", REVIEWER),
            env=wrong,
            expected=1,
            label="test mail, wrong key",
        )
        flow.run(
            "notify send",
            *("notify", "send", VERSION, "--test-to", REVIEWER),
            env={**env, "NOTICES_MAIL_BACKEND": "outbox"},
            expected=0,
            label="test mail to the outbox",
        )
        flow.run("notify send", "--debug", "notify", "send", "2099-09-09", env=env, expected=1)
        flow.run("schedule sync", "schedule", "sync", env=env, expected=0)
        flow.run("schedule list", "schedule", "list", "--json", env=env, expected=0)
        scheduler = _start("-vv", "schedule", "run", cwd=repo.path, env=env, logs=logs)
        started.append(scheduler)
        ran = f"job {RELEASE}:notify ran"
        _until(lambda: ran in _decode(scheduler.err.read_bytes()), 90)
        flow.modes["scheduler.lock (while the scheduler runs)"] = (
            (repo.path / "var" / "scheduler.lock").stat().st_mode
        )
        flow.add("schedule run", "schedule run (SIGTERM)", scheduler.stop(signal.SIGTERM))
        flow.run("notify send", "notify", "send", VERSION, "--json", env=env, expected=0)
        server = _start(
            "-vv", "events", "serve", "--port", str(_free_port()), cwd=repo.path, env=env, logs=logs
        )
        started.append(server)
        _until(lambda: "listening" in server.output(), 60)
        target = server.output().split(" on ")[-1].split("/ ")[0]
        body = json.dumps(_bounce_events(flow.database, int(time.time()))).encode()
        post(target, body, signer.headers(body))
        post(target, body, Signer.new().headers(body))
        post(target, body, {})
        for suffix in ("wal", "shm"):
            path = flow.database.with_name(f"notices.db-{suffix}")
            with contextlib.suppress(FileNotFoundError):
                flow.modes[f"database {suffix.upper()} (while open)"] = path.stat().st_mode
        flow.add("events serve", "events serve (SIGINT)", server.stop())
        consent_port = _free_port()
        with (repo.path / "notices.toml").open("a", encoding="utf-8") as toml:
            toml.write(f'\n[consent]\nurl = "http://127.0.0.1:{consent_port}"\n')
        consenting = {**env, "NOTICES_CONSENT_KEYS": CONSENT_KEY}
        pages = _start(
            *("-vv", "consent", "serve", "--port", str(consent_port)),
            cwd=repo.path,
            env=consenting,
            logs=logs,
        )
        started.append(pages)
        _until(lambda: "serving consent pages" in pages.output(), 60)
        _consent_answers(load_settings(repo.path, consenting), flow.database)
        flow.add("consent serve", "consent serve (SIGINT)", pages.stop())
        flow.run("notify status", "notify", "status", VERSION, env=env, expected=0)
        flow.run("consent report", "consent", "report", VERSION, env=env, expected=0)
        flow.run(
            "notify proof", "notify", "proof", VERSION, "--out", "proof.csv", env=env, expected=0
        )
        flow.run("notify verify-proof", "notify", "verify-proof", "proof.csv", env=env, expected=0)
        lines = (repo.path / "proof.csv").read_text(encoding="utf-8").splitlines(keepends=True)
        (repo.path / "edited.csv").write_text(
            "".join(lines[:1] + [lines[1].replace(",sent,", ",failed,")] + lines[2:]),
            encoding="utf-8",
        )
        flow.run("notify verify-proof", "notify", "verify-proof", "edited.csv", env=env, expected=1)
        flow.run("site build", "site", "build", env=env, expected=0)
        port = _free_port()
        serving = _start(
            "-vv",
            *("site", "serve", "--dev-addr", f"127.0.0.1:{port}"),
            cwd=repo.path,
            env=env,
            logs=logs,
        )
        started.append(serving)
        _until(lambda: _answers(f"http://127.0.0.1:{port}/"), 90)
        flow.add("site serve", "site serve (SIGINT)", serving.stop())
    finally:
        flow.accepted = list(standin.accepted)
        sendgrid_standin.stop(standin)
        with contextlib.suppress(subprocess.TimeoutExpired):
            demo.process.wait(timeout=120)
        flow.add("demo", "demo --dir", demo.stop())
        for process in started:
            process.stop(signal.SIGKILL)
    demo_db = tmp / "demo" / "var" / "notices.db"
    if demo_db.exists():
        flow.demo_secrets = {row[0] for row in _query(demo_db, "SELECT email FROM customers")}
    return flow


def _consent_answers(settings: Settings, database: Path) -> None:
    """A forged link, an answer posted from another site, then a genuine answer."""
    from notifier.consent.texts import consent_text
    from notifier.consent.tokens import Grant, sign

    ((delivery_id,),) = _query(
        database, "SELECT min(id) FROM deliveries WHERE release_id = ?", RELEASE
    )
    text = consent_text(settings, RELEASE, "zh-CN", "PIPL 39")
    grant = Grant(
        delivery_id, RELEASE, "PIPL 39", text.sha256, dt.datetime(2099, 1, 1, tzinfo=dt.UTC)
    )
    path = "/consent/" + sign(grant, settings.consent_keys)
    origin = settings.consent_url
    form = f"shown={text.sha256}&decision=agree"
    for target, headers in (
        (path[:-4], {"Origin": origin}),
        (path, {"Origin": "https://elsewhere.example"}),
        (path, {"Origin": origin}),
    ):
        connection = http.client.HTTPConnection(origin.removeprefix("http://"), timeout=30)
        headers = {**headers, "Content-Type": "application/x-www-form-urlencoded"}
        connection.request("POST", target, body=form, headers=headers)
        connection.getresponse().read()
        connection.close()


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return bool(response.status == 200)
    except OSError:
        return False


@pytest.fixture(scope="module")
def flow(tmp_path_factory: pytest.TempPathFactory) -> Flow:
    return _run_flow(tmp_path_factory.mktemp("security-flow"))


def _leaks(text: str, secrets: set[str]) -> list[str]:
    """Every secret found whole in `text` (addresses compare without regard to case)."""
    folded = text.casefold()
    return sorted(secret for secret in secrets if secret.casefold() in folded)


# What the scans must see, masked, so that a scan of empty or unrelated output cannot pass.
EVIDENCE = {
    "customers import": "row 3: invalid email a***@e***.com",
    "customers suppress": mask_email(STRANGER),
    "notify send": "SendGrid answered 401",
    "notify status": "<r***@k***.cn>",
    "events serve": "webhook post refused (403)",
    "consent serve": "consent answer refused: not from http://127.0.0.1:",
}


@pytest.mark.parametrize("command", COMMANDS)
def test_no_key_or_address_in_any_output(
    flow: Flow, command: str, record_property: Callable[[str, object], None]
) -> None:
    """When a subcommand runs at -vv, failures included, then its output names no whole address
    and no API key, and shows no traceback unless --debug asked for one."""
    steps = [step for step in flow.steps if step.command == command]
    secrets = flow.secrets | (flow.demo_secrets if command == "demo" else set())
    output = "".join(step.result.out + step.result.err for step in steps)
    found = _leaks(output, secrets)
    codes = ", ".join(str(step.result.code) for step in steps)
    # a traceback is how data escapes unnoticed (a database error quotes its parameters)
    tracebacks = [
        s.label for s in steps if "--debug" not in s.label and "Traceback" in s.result.err
    ]
    _record(
        record_property,
        "secrets",
        f"`notices {command}` at -vv ({len(steps)} run(s)): no API key, no whole address",
        f"exit codes {codes}; {len(output)} characters scanned for {len(secrets)} secrets; "
        f"{len(found)} found"
        + (f": {', '.join(mask_email(s) for s in found)}" if found else "")
        + (f"; a traceback without --debug: {tracebacks}" if tracebacks else ""),
    )
    assert steps, f"the flow runs no `notices {command}`: add it"
    assert found == []
    assert tracebacks == []
    unexpected = [
        (step.label, step.result.code, step.result.err[-300:])
        for step in steps
        if step.expected is not None and step.result.code != step.expected
    ]
    assert unexpected == []
    if command in EVIDENCE:
        assert EVIDENCE[command] in output
    if command == "demo":
        assert len(flow.demo_secrets) >= 100


def test_no_address_in_files_left_behind(
    flow: Flow, record_property: Callable[[str, object], None]
) -> None:
    """When the flow is over, then no file but the database, the outbox mails and the imported
    CSVs holds a whole address (no log file, proof, preview, record or page)."""
    allowed = {"c.csv", "bad.csv"}
    scanned, found = 0, []
    for path in sorted(flow.repo.rglob("*")):
        relative = path.relative_to(flow.repo)
        if not path.is_file() or relative.parts[0] == ".git" or relative.name in allowed:
            continue
        if relative.name.startswith("notices.db") or path.suffix == ".eml":
            continue
        scanned += 1
        hits = _leaks(path.read_bytes().decode("utf-8", "replace"), flow.secrets)
        found.extend(f"{relative}: {mask_email(hit)}" for hit in hits)
    _record(
        record_property,
        "secrets",
        "files the commands leave (logs, proof, previews, site, locks): no whole address",
        f"{scanned} files scanned; {len(found)} hits" + (f": {found[:3]}" if found else ""),
    )
    output = "".join(step.result.out + step.result.err for step in flow.steps)
    record_property("figure", f"command runs scanned={len(flow.steps)}")
    record_property(
        "figure", f"leaked keys or addresses={len(found) + len(_leaks(output, flow.secrets))}"
    )
    assert scanned > 50 and found == []


def test_postgresql_refusal_quotes_no_address(
    tmp_path: Path, record_property: Callable[[str, object], None]
) -> None:
    """When a name PostgreSQL cannot store (NUL) is imported there, then one line names the row;
    no database error quotes the batch's addresses."""
    rows = [
        ("first.pg.sec@example.com", "第一", "zh-CN", "azure"),
        ("nul.pg.sec@example.com", "Nul\x00Name", "zh-CN", "azure"),
    ]
    _write_csv(tmp_path / "c.csv", rows)
    shutil.copy2(SETTINGS, tmp_path / "notices.toml")
    with postgres_database() as url:
        run = _notices(
            "customers", "import", "c.csv", cwd=tmp_path, env=_env(NOTICES_DATABASE_URL=url)
        )
    found = _leaks(run.out + run.err, {address for address, *_ in rows})
    _record(
        record_property,
        "secrets",
        "customers import on PostgreSQL with a NUL in a name (the driver's error quotes rows)",
        f"exit {run.code}; {run.err.strip().splitlines()[0] if run.err.strip() else '(no error)'}",
    )
    assert run.code == 1 and found == [] and "Traceback" not in run.err
    assert "c.csv: row 3: the name holds a control character" in run.err


def test_database_password_stays_out_of_output(
    tmp_path: Path, record_property: Callable[[str, object], None]
) -> None:
    """When the database in NOTICES_DATABASE_URL cannot be reached, then the error shows the URL
    with its password as ***, with --debug too."""
    shutil.copy2(SETTINGS, tmp_path / "notices.toml")
    url = f"postgresql+psycopg://postgres:{DB_PASSWORD}@127.0.0.1:{_free_port()}/notices"
    env = _env(NOTICES_DATABASE_URL=url)
    runs = [
        _notices(*debug, "customers", "count", cwd=tmp_path, env=env)
        for debug in ((), ("--debug",))
    ]
    output = "".join(run.out + run.err for run in runs)
    _record(
        record_property,
        "secrets",
        "unreachable PostgreSQL: the password in NOTICES_DATABASE_URL (also with --debug)",
        f"exit {[run.code for run in runs]}; {runs[0].err.strip().splitlines()[0][:160]}",
    )
    assert [run.code for run in runs] == [1, 1]
    assert DB_PASSWORD not in output and "postgres:***@127.0.0.1" in runs[0].err


# --- injection: names in mail ---------------------------------------------------------------


class _Markup(HTMLParser):
    """The tags and attributes of an HTML document, and its text."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: Counter[str] = Counter()
        self.attributes: Counter[str] = Counter()
        self.text: list[str] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags[tag] += 1
        self.attributes.update(f"{tag}.{name}" for name, _ in attrs)

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def shape(self) -> tuple[tuple[tuple[str, int], ...], ...]:
        return tuple(sorted(self.tags.items())), tuple(sorted(self.attributes.items()))


def _expanded(content: str, substitutions: dict[str, str]) -> list[str]:
    """Worst cases of SendGrid's substitution: each order, repeated inside substituted values."""
    results = []
    for order in (list(substitutions), list(reversed(substitutions))):
        text = content
        for _ in range(3):
            for key in order:
                text = text.replace(key, substitutions[key])
        results.append(text)
    return results


def _personalization(flow: Flow, address: str) -> tuple[dict[str, Any], dict[str, Any]]:
    for body in flow.accepted:
        for item in body["personalizations"]:
            if [to["email"] for to in item["to"]] == [address.lower()]:
                return body, item
    raise AssertionError(f"the stand-in got no mail for {mask_email(address)}")


@pytest.mark.parametrize("name", HOSTILE)
def test_sendgrid_request_keeps_names_inert(
    flow: Flow, name: str, record_property: Callable[[str, object], None]
) -> None:
    """When an imported name holds HTML, template or placeholder syntax, then the SendGrid
    request carries it escaped for HTML, on one line for text, and nowhere else."""
    address = next(a for a, n in flow.names.items() if n == name)
    body, item = _personalization(flow, address)
    benign = next(
        other
        for other in body["personalizations"]
        if flow.names.get(other["to"][0]["email"], "").startswith("客户Zq")
    )
    subs = item["substitutions"]
    text, html = (part["value"] for part in body["content"])
    shapes = {_Markup(h).shape() for h in _expanded(html, subs)}
    expected = {_Markup(h).shape() for h in _expanded(html, benign["substitutions"])}
    shown = "".join(_Markup(_expanded(html, subs)[0]).text)
    _record(
        record_property,
        "injection",
        f"name {name!r} through the SendGrid request",
        f"HTML substitution {subs[NAME_HTML]!r}; text {subs[NAME_TEXT]!r}; "
        f"HTML tags after substitution {'same as' if shapes == expected else 'DIFFER from'} "
        "a plain name's",
    )
    assert set(item) == {"to", "substitutions", "custom_args"}
    assert item["to"] == [{"email": address.lower()}] and "headers" not in body
    assert set(body["custom_args"]) == {"release"} and set(item["custom_args"]) == {
        "delivery_id",
        "notices_mac",
    }
    assert NAME_HTML in html and NAME_TEXT not in html and NAME_HTML not in text
    assert NAME_TEXT not in subs[NAME_TEXT] + subs[NAME_HTML]
    assert NAME_HTML not in subs[NAME_TEXT] + subs[NAME_HTML]
    assert "\r" not in subs[NAME_TEXT] and "\n" not in subs[NAME_TEXT]
    assert "<" not in subs[NAME_HTML] and '"' not in subs[NAME_HTML]
    assert shapes == expected
    assert " ".join(name.replace(NAME_TEXT, "").replace(NAME_HTML, "").split()) in shown


def test_import_refuses_line_breaks_and_control_characters(
    flow: Flow, record_property: Callable[[str, object], None]
) -> None:
    """When a CSV name holds CR/LF, NUL or ESC, then the import names the row and refuses it."""
    run = next(step.result for step in flow.steps if step.label == "customers import bad.csv")
    lines = [
        line
        for line in run.err.splitlines()
        if "row 7:" in line or "row 8:" in line or "row 9:" in line
    ]
    _record(
        record_property,
        "injection",
        "CSV names with CR/LF (header injection), NUL and ESC are refused at import",
        " | ".join(lines),
    )
    expected = (
        "bad.csv: row 7: the name starts like a spreadsheet formula or holds a line break",
        "bad.csv: row 8: the name holds a control character or line separator (U+0000)",
        "bad.csv: row 9: the name holds a control character or line separator (U+001B)",
    )
    assert run.code == 1 and [line for line in expected if line not in run.err] == []


# --- injection through every transport, names the import would refuse -----------------------


class _Relay:
    """An aiosmtpd handler that keeps what it receives."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], bytes]] = []

    async def handle_DATA(  # noqa: N802 (aiosmtpd's name)
        self, server: object, session: Session, envelope: Envelope
    ) -> str:
        self.messages.append((list(envelope.rcpt_tos), bytes(envelope.original_content or b"")))
        return "250 Message accepted for delivery"


def _certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1, trusted by the CLI through SSL_CERT_FILE."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    names = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


TRANSPORTS = ("outbox", "smtp", "sendgrid")
INJECTED = (*BREAKING, HOSTILE[0], HOSTILE[1])
PLAIN = ("客户甲", "客户乙")


@dataclass
class Mailed:
    """What each transport delivered, by address: the mail, and the SMTP envelope."""

    addresses: dict[str, str]  # name → address
    mails: dict[str, dict[str, EmailMessage]] = field(default_factory=dict)
    envelopes: dict[str, list[str]] = field(default_factory=dict)
    requests: list[dict[str, Any]] = field(default_factory=list)
    runs: dict[str, Run] = field(default_factory=dict)


@pytest.fixture(scope="module")
def mailed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mailed]:
    """Names with CR/LF, U+2028, NEL and HTML put in the directory by SQL (as another tool
    could), then sent through the outbox, an SMTP relay with STARTTLS, and SendGrid."""
    tmp = tmp_path_factory.mktemp("security-mail")
    cert, key = _certificate(tmp)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    relay, port = _Relay(), _free_port()
    controller = Controller(
        relay,
        hostname="127.0.0.1",
        port=port,
        tls_context=context,
        require_starttls=True,
        authenticator=_refuse_every_login,  # AUTH is offered, not required, never granted
    )
    controller.start()
    standin = sendgrid_standin.start(API_KEY)
    text = SETTINGS.read_text(encoding="utf-8").replace("port = 587", f"port = {port}")
    repo = _repo(tmp / "repo")
    repo.write("notices.toml", text)
    names = (*INJECTED, *PLAIN)
    result = Mailed({name: f"inject{n}.sec@example.com" for n, name in enumerate(names)})
    _write_csv(
        repo.path / "c.csv",
        [
            (address, f"占位{n}", "zh-CN", "azure")
            for n, address in enumerate(result.addresses.values())
        ],
    )
    base = repo.path / "var" / "base.db"
    env = _env(NOTICES_DATABASE_URL=f"sqlite:///{base}")
    assert _notices("customers", "import", "c.csv", cwd=repo.path, env=env).code == 0
    for name, address in result.addresses.items():
        _query(base, "UPDATE customers SET name = ? WHERE email = ?", name, address)
    extra = {
        "outbox": {"NOTICES_MAIL_BACKEND": "outbox"},
        "smtp": {"NOTICES_MAIL_BACKEND": "smtp", "SSL_CERT_FILE": str(cert)},
        "sendgrid": {"SENDGRID_API_KEY": API_KEY, "SENDGRID_API_HOST": standin.url},
    }
    try:
        for transport in TRANSPORTS:
            database = base.with_name(f"{transport}.db")
            database.write_bytes(base.read_bytes())
            env = _env(NOTICES_DATABASE_URL=f"sqlite:///{database}", **extra[transport])
            result.runs[transport] = _notices("notify", "send", VERSION, cwd=repo.path, env=env)
        repo.write("notices.toml", text.replace('username = ""', 'username = "relay-user"'))
        env = _env(
            NOTICES_DATABASE_URL=f"sqlite:///{base}",
            NOTICES_SMTP_PASSWORD=SMTP_PASSWORD,
            **extra["smtp"],
        )
        result.runs["smtp, password refused"] = _notices(
            "-vv", "notify", "send", VERSION, cwd=repo.path, env=env
        )
        outbox = sorted((repo.path / "var" / "outbox" / VERSION).glob("*.eml"))
        result.mails["outbox"] = _by_recipient(path.read_bytes() for path in outbox)
        result.mails["smtp"] = _by_recipient(raw for _, raw in relay.messages)
        result.envelopes = {_parse(raw)["To"]: rcpt for rcpt, raw in relay.messages}
        result.requests = list(standin.accepted)
        yield result
    finally:
        controller.stop()
        sendgrid_standin.stop(standin)


def _refuse_every_login(
    server: object, session: Session, envelope: Envelope, mechanism: str, data: object
) -> AuthResult:
    return AuthResult(success=False, handled=False)


def test_smtp_password_stays_out_of_output(
    mailed: Mailed, record_property: Callable[[str, object], None]
) -> None:
    """When the relay refuses the SMTP password, then the failure names neither the password
    nor an address, even at -vv."""
    run = mailed.runs["smtp, password refused"]
    output = run.out + run.err
    found = _leaks(output, {SMTP_PASSWORD, *mailed.addresses.values()})
    _record(
        record_property,
        "secrets",
        "SMTP relay refusing the password (NOTICES_SMTP_PASSWORD), at -vv",
        f"exit {run.code}; {len(output)} characters, {len(found)} secrets found; "
        + next((line for line in output.splitlines() if "SMTP relay failed" in line), "")[-120:],
    )
    assert run.code == 1 and found == []
    assert "SMTP relay failed: SMTPAuthenticationError" in output


def _parse(raw: bytes) -> EmailMessage:
    parsed = message_from_bytes(raw, policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def _by_recipient(raws: Iterable[bytes]) -> dict[str, EmailMessage]:
    return {str(mail["To"]): mail for mail in map(_parse, raws)}


def _parts(mail: EmailMessage) -> tuple[str, str]:
    text, html = mail.get_body(("plain",)), mail.get_body(("html",))
    assert isinstance(text, EmailMessage) and isinstance(html, EmailMessage)
    return str(text.get_content()), str(html.get_content())


def _head(raw: EmailMessage) -> str:
    return bytes(raw).split(b"\n\n", 1)[0].decode("ascii", "replace")


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("name", INJECTED)
def test_names_cannot_inject_through_any_transport(
    mailed: Mailed, transport: str, name: str, record_property: Callable[[str, object], None]
) -> None:
    """When a name in the directory holds CR/LF or HTML, then the mail has the same headers,
    recipients, subject, lines and HTML tags as a plain name's, the name shown as text."""
    run = mailed.runs[transport]
    address, plain = mailed.addresses[name], mailed.addresses[PLAIN[0]]
    flat = " ".join(name.split())
    if transport == "sendgrid":
        observed, problems = _sendgrid_shape(mailed.requests, address, plain, flat)
    else:
        observed, problems = _mail_shape(mailed, transport, address, plain, flat)
    _record(
        record_property,
        "injection",
        f"name {name!r} sent through {transport}",
        f"send exit {run.code}; {observed}",
    )
    assert run.code == 0, run.err
    assert problems == []


def _mail_shape(
    mailed: Mailed, transport: str, address: str, plain: str, flat: str
) -> tuple[str, list[str]]:
    mails = mailed.mails[transport]
    mail, reference = mails[address], mails[plain]
    text, html = _parts(mail)
    plain_text, plain_html = _parts(reference)
    head = _head(mail)
    problems = [
        problem
        for problem, failed in (
            ("other headers", sorted(mail.keys()) != sorted(reference.keys())),
            ("other subject", mail["Subject"] != reference["Subject"]),
            ("a Bcc or Cc", mail["Bcc"] is not None or mail["Cc"] is not None),
            (
                "injected text in the header block",
                any(word in head for word in ("evil", "X-Injected", "you won", "trent@")),
            ),
            ("more text lines", len(text.splitlines()) != len(plain_text.splitlines())),
            ("name not on the greeting line", flat not in text.splitlines()[0]),
            ("other HTML tags", _Markup(html).shape() != _Markup(plain_html).shape()),
            ("name not shown as text", flat not in "".join(_Markup(html).text)),
            (
                "other SMTP recipients",
                transport == "smtp" and mailed.envelopes.get(address) != [address],
            ),
        )
        if failed
    ]
    observed = (
        f"To {mask_email(str(mail['To']))}, {len(mail.keys())} headers as for a plain name, "
        f"greeting {text.splitlines()[0][:40]!r}"
        + (f"; SMTP RCPT {len(mailed.envelopes.get(address, []))}" if transport == "smtp" else "")
    )
    return observed + (f"; PROBLEMS: {problems}" if problems else ""), problems


def _sendgrid_shape(
    requests: list[dict[str, Any]], address: str, plain: str, flat: str
) -> tuple[str, list[str]]:
    body, item = next(
        (body, item)
        for body in requests
        for item in body["personalizations"]
        if item["to"] == [{"email": address}]
    )
    reference = next(i for i in body["personalizations"] if i["to"] == [{"email": plain}])
    html = body["content"][1]["value"]
    subs, plain_subs = item["substitutions"], reference["substitutions"]
    shapes = {_Markup(h).shape() for h in _expanded(html, subs)}
    problems = [
        problem
        for problem, failed in (
            ("other keys", set(item) != set(reference)),
            ("line break in the text name", any(c in subs[NAME_TEXT] for c in "\r\n\u2028\x85")),
            ("markup in the HTML name", "<" in subs[NAME_HTML]),
            (
                "other HTML tags",
                shapes != {_Markup(h).shape() for h in _expanded(html, plain_subs)},
            ),
            ("name not the text", subs[NAME_TEXT] != flat),
        )
        if failed
    ]
    observed = f"substitutions text {subs[NAME_TEXT]!r}, HTML {subs[NAME_HTML]!r}"
    return observed + (f"; PROBLEMS: {problems}" if problems else ""), problems


# --- the site -------------------------------------------------------------------------------


def test_site_holds_no_customer_data(
    flow: Flow, record_property: Callable[[str, object], None]
) -> None:
    """When the site is built after customers were imported and mailed, then no file of it holds
    an address, a name or a customer id (raw, HTML- or JSON-escaped)."""
    site = flow.repo / "build" / "site"
    needles = set(flow.secrets) | set(flow.names.values())
    needles |= {str(number) for number in [BASE_ID, *flow.customer_ids]}
    forms = {form for needle in needles for form in _escaped_forms(needle)}
    files = sorted(path for path in site.rglob("*") if path.is_file())
    found = []
    for path in files:
        content = path.read_bytes().decode("utf-8", "replace").casefold()
        found.extend(
            f"{path.relative_to(site)}: {form[:12]}…"
            for form in forms
            if form.casefold() in content
        )
    _record(
        record_property,
        "site",
        "built site after import and send: no address, name or customer id in any file",
        f"{len(files)} files scanned for {len(needles)} values "
        f"({len(flow.customer_ids)} customer ids); {len(found)} found"
        + (f": {found[:3]}" if found else ""),
    )
    assert len(files) > 20 and len(flow.customer_ids) == COUNT + 2
    assert found == []


def _escaped_forms(value: str) -> set[str]:
    return {
        value,
        escape(value),
        json.dumps(value)[1:-1],
        json.dumps(value, ensure_ascii=False)[1:-1],
    }


# --- the Event Webhook ----------------------------------------------------------------------


@dataclass
class Hook:
    """A release mailed to 3 customers, the webhook served in a thread, one post accepted."""

    settings: Settings
    url: str
    signer: Signer
    ids: list[int]
    accepted: tuple[bytes, dict[str, str]]


@pytest.fixture(scope="module")
def hook(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hook]:
    path = tmp_path_factory.mktemp("security-webhook") / "repo"
    path.mkdir()
    repo = NoticeRepo(path)
    repo.git("init", "-q", "-b", "main")
    repo.write("notices.toml", SETTINGS.read_text(encoding="utf-8"))
    repo.commit("Add the seed", "2024-01-02T09:00:00+08:00", {NOTICE: seed_text()})
    signer = Signer.new()
    settings, ids = sent_release(repo, 3, signer)
    server = events_server.start(settings, "127.0.0.1", 0)
    events_server.serve_in_thread(server)
    try:
        body = json.dumps([event(ids[0], "delivered", int(time.time()), "acc-1")]).encode()
        headers = signer.headers(body)
        assert post(server.url, body, headers)[0] == 200
        yield Hook(settings, server.url, signer, ids, (body, headers))
    finally:
        server.shutdown()
        server.server_close()
        db.dispose_all()


def _twin(signature: str) -> str:
    """The other valid ECDSA signature of the same content: (r, n - s)."""
    r, s = decode_dss_signature(base64.b64decode(signature))
    return base64.b64encode(encode_dss_signature(r, P256_ORDER - s)).decode("ascii")


def _forged(hook: Hook, case: str) -> tuple[bytes, dict[str, str]]:
    now = int(time.time())
    body = json.dumps(
        [event(hook.ids[1], "bounce", now, f"forged-{case}", type="bounce", reason="x")]
    ).encode()
    accepted, good = hook.accepted
    signer = hook.signer
    made: dict[str, Callable[[], tuple[bytes, dict[str, str]]]] = {
        "unsigned post": lambda: (body, {}),
        "signed with another key": lambda: (body, Signer.new().headers(body)),
        "body altered after signing": lambda: (
            body.replace(b'"bounce"', b'"dropped"', 1),
            signer.headers(body),
        ),
        "timestamp altered after signing": lambda: (
            body,
            {**signer.headers(body, now), TIMESTAMP_HEADER: str(now + 1)},
        ),
        "timestamp 301 s old": lambda: (body, signer.headers(body, now - 301)),
        "timestamp 301 s ahead": lambda: (body, signer.headers(body, now + 301)),
        "signature not base64": lambda: (body, {**signer.headers(body), SIGNATURE_HEADER: "a!"}),
        "replay of an accepted post": lambda: (accepted, good),
        "replay with the signature's twin (r, n-s)": lambda: (
            accepted,
            {**good, SIGNATURE_HEADER: _twin(good[SIGNATURE_HEADER])},
        ),
        "the same events freshly signed (a retry)": lambda: (
            accepted,
            signer.headers(accepted, now + 1),
        ),
        "signed body that is not JSON": lambda: (b"<xml/>", signer.headers(b"<xml/>")),
    }
    return made[case]()


REFUSED = {
    "unsigned post": 401,
    "signed with another key": 403,
    "body altered after signing": 403,
    "timestamp altered after signing": 403,
    "timestamp 301 s old": 403,
    "timestamp 301 s ahead": 403,
    "signature not base64": 403,
    "replay of an accepted post": 403,
    "replay with the signature's twin (r, n-s)": 403,
    "the same events freshly signed (a retry)": 200,
    "signed body that is not JSON": 400,
}


@pytest.mark.parametrize("case", list(REFUSED))
def test_forged_or_replayed_posts_change_nothing(
    hook: Hook, case: str, record_property: Callable[[str, object], None]
) -> None:
    """When a webhook post is forged, altered, stale or replayed, then it is refused and the
    ledger is unchanged; a retry of known events is taken but applies nothing."""
    before = snapshot(hook.settings)
    status, answer = post(hook.url, *_forged(hook, case))
    after = snapshot(hook.settings)
    ledger_same = after[:3] == before[:3]
    _record(
        record_property,
        "webhook",
        case,
        f"HTTP {status} {json.dumps(answer, ensure_ascii=False)}; "
        f"ledger {'unchanged' if ledger_same else 'CHANGED'}",
    )
    assert status == REFUSED[case]
    assert ledger_same
    if status != 200:
        assert after == before
    else:
        assert answer["applied"] == 0 and answer["duplicates"] == 1


def test_oversized_post_is_refused_unread(
    hook: Hook, record_property: Callable[[str, object], None]
) -> None:
    """When a post announces more than 32 MB, then 413 comes before the body is read."""
    host, port = hook.url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    started = time.monotonic()
    connection.putrequest("POST", "/")
    connection.putheader("Content-Length", str(40 * 1024 * 1024))
    connection.endheaders()  # and no body: the answer must not wait for it
    response = connection.getresponse()
    answer = json.loads(response.read())
    seconds = time.monotonic() - started
    connection.close()
    _record(
        record_property,
        "webhook",
        "post announcing 40 MB (limit 32 MB)",
        f"HTTP {response.status} {json.dumps(answer)} after {seconds:.2f} s, body not awaited",
    )
    assert response.status == 413 and seconds < 10


def test_bounce_reasons_are_kept_masked(
    hook: Hook, record_property: Callable[[str, object], None]
) -> None:
    """When a bounce reason quotes the address (as receiving servers do), then the ledger and
    the suppression reason keep it masked."""
    table = db.customers
    with db.engine(hook.settings).connect() as connection:
        address = connection.execute(
            select(table.c.email).where(
                table.c.id
                == select(db.deliveries.c.customer_id)
                .where(db.deliveries.c.id == hook.ids[2])
                .scalar_subquery()
            )
        ).scalar_one()
    reason = f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"
    body = json.dumps(
        [event(hook.ids[2], "bounce", int(time.time()), "mask-1", type="bounce", reason=reason)]
    ).encode()
    status, _ = post(hook.url, body, hook.signer.headers(body))
    with db.engine(hook.settings).connect() as connection:
        kept = connection.execute(
            select(db.delivery_events.c.reason).where(db.delivery_events.c.sg_event_id == "mask-1")
        ).scalar_one()
        suppressed = connection.execute(
            select(table.c.suppressed_reason).where(table.c.email == address)
        ).scalar_one()
    _record(
        record_property,
        "webhook",
        "bounce reason quoting the address",
        f"HTTP {status}; ledger keeps {kept!r}; suppression {suppressed!r}",
    )
    assert status == 200
    assert address not in f"{kept}{suppressed}" and mask_email(address) in str(kept)


# --- permissions ----------------------------------------------------------------------------


PRIVATE = (
    ("var/ (folder)", "var"),
    ("database", "var/notices.db"),
    ("database WAL (while open)", ""),
    ("database SHM (while open)", ""),
    ("database send lock", "var/notices.db.send-lock"),
    ("database schema lock", "var/notices.db.schema-lock"),
    # the flow's mail goes through SendGrid, but for its test mail to the outbox transport,
    # which keeps it apart from the outbox (whose modes test_rel_faults checks)
    ("test-mail folder", "var/outbox-test"),
    ("test-mail folder of the release", f"var/outbox-test/{VERSION}"),
    ("test mail (.eml)", f"var/outbox-test/{VERSION}/0.eml"),
    ("proof CSV", "proof.csv"),
    ("scheduler.lock (while the scheduler runs)", ""),
    ("every other file and folder under var/", "*"),
)


def _modes(flow: Flow, label: str, relative: str) -> dict[str, int]:
    if not relative:
        return {label: flow.modes[label]} if label in flow.modes else {}
    if relative != "*":
        path = flow.repo / relative
        return {relative: path.stat().st_mode} if path.exists() else {}
    named = {name for _, name in PRIVATE if name not in ("", "*")}
    return {
        str(path.relative_to(flow.repo)): path.stat().st_mode
        for path in sorted((flow.repo / "var").rglob("*"))
        if str(path.relative_to(flow.repo)) not in named and path.suffix != ".eml"
    }


@pytest.mark.parametrize("label,relative", PRIVATE)
def test_personal_data_is_private_to_its_owner(
    flow: Flow, label: str, relative: str, record_property: Callable[[str, object], None]
) -> None:
    """When the commands ran with umask 0002, then what holds personal data (or locks it) has no
    group or other permission: files 0600, folders 0700."""
    modes = _modes(flow, label, relative)
    shared = {path: oct(mode & 0o777) for path, mode in modes.items() if mode & 0o077}
    shown = ", ".join(f"{path} {oct(mode & 0o777)}" for path, mode in list(modes.items())[:6])
    _record(
        record_property,
        "permissions",
        label,
        (shown or "not found") + (f" ({len(modes)} paths)" if len(modes) > 6 else ""),
    )
    assert modes, f"{label}: the flow left no such path"
    assert shared == {}


def test_release_record_is_private(
    flow: Flow, record_property: Callable[[str, object], None]
) -> None:
    """When the record of published releases is written (umask 0002), then it is owner-only."""
    settings = load_settings(flow.repo, {"NOTICES_DATABASE_URL": f"sqlite:///{flow.database}"})
    path = record_path(settings)
    existed = path.exists()
    previous = os.umask(UMASK)
    try:
        record_releases(read_history(flow.repo, settings), path)
    finally:
        os.umask(previous)
    mode = path.stat().st_mode & 0o777
    _record(
        record_property,
        "permissions",
        "var/releases.lock.json (the record of published releases)",
        f"{oct(mode)}" + ("" if existed else "; no command wrote it: written by record_releases"),
    )
    assert mode & 0o077 == 0
