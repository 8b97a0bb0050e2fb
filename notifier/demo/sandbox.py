"""`notices demo`: the whole flow in a sandbox, on the real seed statement, in under a minute.

It builds a git repository with the seed as the first release and one clearly labelled example
amendment (material, effective in 45 days), 1,000 synthetic customers, then runs check, diff,
notify plan and send (through the outbox), schedule sync and the site build.
"""

from __future__ import annotations

import csv
import json
import os
import random
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import notifier
from notifier.errors import NoticeError
from notifier.locales import format_date

MARKER = ".notices-demo"
NOTICE = "notices/privacy/zh-CN.md"
NOTICE_EN = "notices/privacy/en.md"  # its English translation
NOTICE_DELAY = timedelta(days=45)
CUSTOMERS = 1000

# The example amendment: each pair is (text in the seed, text in the amendment).
AMENDMENT = (
    (
        "我们将在验证您身份后 30 天内予以回复。",
        "我们将在验证您身份后 15 个工作日内予以回复。",
    ),
    (
        "- 在没有您事先书面指令的情况下，",
        "- 为向您提供全球技术支持，我们可能与微软公司（Microsoft Corporation）及其位于中国境外的"
        "关联方共享管理员数据和支持数据。该等关联方仅可为提供技术支持之目的、通过加密连接远程访问"
        "该等数据。您可以通过 https://aka.ms/privacyresponse 联系微软公司，并通过该方式或"
        "“如何联系我们”一节所列方式，向微软公司及其关联方行使查阅、更正、删除您的个人信息等权利。"
        "\n- 在没有您事先书面指令的情况下，",
    ),
    (
        "当您注销账号后，我们将根据相关法律法规的要求保留您的信息",
        "当您注销账号后，我们将在 180 天内保留您的信息，"
        "或在相关法律法规要求的更长期限内保留您的信息",
    ),
)
# The same amendment in the English translation.
AMENDMENT_EN = (
    (
        "We will reply within 30 days after verifying your identity.",
        "We will reply within 15 business days after verifying your identity.",
    ),
    (
        "- Without your prior written instruction,",
        "- To provide you with global technical support, we may share Administrator Data and "
        "Support Data with Microsoft Corporation and its affiliates outside China. These "
        "affiliates may access that data remotely over encrypted connections, and only to provide "
        "technical support. You can reach Microsoft Corporation at "
        "https://aka.ms/privacyresponse, and exercise your rights to access, correct or delete "
        "your personal information against Microsoft and its affiliates there or through the "
        "ways listed in “How to Contact Us”."
        "\n- Without your prior written instruction,",
    ),
    (
        "After you close your account, we will retain your information as required by relevant "
        "laws and regulations",
        "After you close your account, we will retain your information for 180 days, or for any "
        "longer period that relevant laws and regulations require",
    ),
)
SUMMARY = {
    "zh-CN": "【示例修订，仅用于演示】缩短联系我们后的答复期限；注销账号后的信息保留 180 天"
    "（法律要求更长的除外）；新增向境外关联方共享。",
    "en": "[Example amendment, for the demo only] A shorter reply time when you contact us; "
    "information kept for 180 days after account closure (longer where the law requires); "
    "sharing with affiliates outside China.",
}
# What changes for the customer, in the editor's plain words, by section id.
WHAT_CHANGES_FOR_YOU = {
    "retention": "您注销账号后，我们会在 180 天内保留您的信息；"
    "法律法规要求更长期限的，按该期限保留。",
    "sharing": "为向您提供全球技术支持，我们可能与微软公司及其位于中国境外的关联方"
    "共享管理员数据和支持数据；这些关联方只能为提供技术支持使用这些数据，"
    "您可以向它们行使查阅、更正和删除等权利。",
    "contact": "您通过“如何联系我们”一节所列方式联系我们后，我们在验证您身份后的答复期限"
    "由 30 天缩短为 15 个工作日。",
}
WHAT_CHANGES_FOR_YOU_EN = {
    "retention": "After you close your account, we keep your information for 180 days, or "
    "longer where the law requires it.",
    "sharing": "To give you global technical support, we may share Administrator Data and "
    "Support Data with Microsoft Corporation and its affiliates outside China; they may use it "
    "only for that support, and you can exercise your rights, such as access, correction and "
    "deletion, against them.",
    "contact": "When you contact us as described in “How to Contact Us”, we will reply within "
    "15 business days of verifying your identity instead of 30 days.",
}
_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
_GIVEN = ("伟", "芳", "娜", "敏", "静", "磊", "洋", "艳", "勇", "军", "杰", "娟", "涛", "明", "超")


@dataclass(frozen=True, slots=True)
class Sandbox:
    """Where the demo left what it made."""

    repo: Path
    site: Path
    outbox: Path
    proof: Path


def project_root() -> Path:
    """The source checkout the package runs from: its seed, notices.toml, mkdocs.yml and site/."""
    root = Path(notifier.__file__).resolve().parents[1]
    if not (root / NOTICE).is_file() or not (root / "mkdocs.yml").is_file():
        raise NoticeError(
            "the demo needs the project's source checkout (seed statement, mkdocs.yml, site/)",
            path=root,
            hint="run `make demo` from a clone of the repository",
        )
    return root


def amend(seed: str, today: date, locale: str = "zh-CN") -> str:
    """The seed (or its translation) turned into the labelled example amendment, published
    today."""
    english = locale == "en"
    text = seed
    for old, new in AMENDMENT_EN if english else AMENDMENT:
        if old not in text:
            raise NoticeError(f"the example amendment no longer applies: {old[:20]}…", path=NOTICE)
        text = text.replace(old, new, 1)
    effective = today + NOTICE_DELAY
    front = {
        "version": today.isoformat(),
        "last_updated": today.isoformat(),
        "effective": effective.isoformat(),
        "summary": json.dumps(SUMMARY[locale], ensure_ascii=False),  # YAML reads JSON strings
    }
    head, _, body = text.partition("\n---\n")
    lines = [ln for ln in head.split("\n") if not ln.startswith(("published:", *front))]
    lines += [f"{key}: {value}" for key, value in front.items()]
    lines += ["what_changes_for_you:"]
    written = WHAT_CHANGES_FOR_YOU_EN if english else WHAT_CHANGES_FOR_YOU
    lines += [f"  {key}: {json.dumps(words, ensure_ascii=False)}" for key, words in written.items()]
    body = body.replace(
        "Last updated: November 1, 2018" if english else "最后更新时间：2018 年 11 月 1 日",
        f"Last updated: {format_date(today, 'en')}"
        if english
        else f"最后更新时间：{today.year} 年 {today.month} 月 {today.day} 日",
    )
    return "\n".join(lines) + "\n---\n" + body


def write_customers(path: Path, count: int = CUSTOMERS) -> None:
    """Synthetic customers on the reserved example.com domain; the same list every run."""
    chooser = random.Random(20181101)
    services = ("azure", "office365", "powerbi")
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["email", "name", "locale", "services"])
        for number in range(1, count + 1):
            name = chooser.choice(_SURNAMES) + chooser.choice(_GIVEN)
            locale = "zh-CN" if chooser.random() < 0.8 else "en"
            chosen = sorted(chooser.sample(services, chooser.randint(1, 3)))
            writer.writerow([f"customer{number:04d}@example.com", name, locale, ";".join(chosen)])


def _git(repo: Path, *args: str, when: datetime | None = None) -> None:
    stamp = (when or datetime.now().astimezone()).isoformat(timespec="seconds")
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "Legal editor (demo)",
        "GIT_AUTHOR_EMAIL": "legal@example.com",
        "GIT_COMMITTER_NAME": "Legal editor (demo)",
        "GIT_COMMITTER_EMAIL": "legal@example.com",
        "GIT_AUTHOR_DATE": stamp,
        "GIT_COMMITTER_DATE": stamp,
    }
    subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True)


def prepare(directory: Path, today: date, say: Callable[[str], None]) -> Sandbox:
    """A fresh sandbox repository with the seed and the amendment committed on main."""
    if directory.exists():
        if any(directory.iterdir()) and not (directory / MARKER).exists():
            raise NoticeError(
                "the demo folder exists and is not an earlier demo",
                path=directory,
                hint="choose an empty folder with --dir",
            )
        shutil.rmtree(directory)
    root = project_root()
    directory.mkdir(parents=True)
    (directory / MARKER).write_text("made by notices demo; safe to delete\n", encoding="utf-8")
    (directory / ".gitignore").write_text(f"var/\nbuild/\n{MARKER}\ncustomers.csv\n", "utf-8")
    shutil.copy2(root / "notices.toml", directory / "notices.toml")
    shutil.copy2(root / "mkdocs.yml", directory / "mkdocs.yml")
    shutil.copytree(root / "site", directory / "site")
    (directory / NOTICE).parent.mkdir(parents=True)
    for notice in (NOTICE, NOTICE_EN):
        shutil.copy2(root / notice, directory / notice)
    _git(directory, "init", "-q", "-b", "main")
    _git(directory, "add", "-A")
    _git(
        directory,
        "commit",
        "-q",
        "-m",
        "Add the 2018-11-01 privacy statement",
        when=datetime.now().astimezone() - timedelta(days=1),
    )
    say("sandbox: committed the 2018-11-01 statement (Chinese, and English) as the first release")
    for notice, locale in ((NOTICE, "zh-CN"), (NOTICE_EN, "en")):
        seed = (root / notice).read_text(encoding="utf-8")
        (directory / notice).write_text(amend(seed, today, locale), encoding="utf-8")
    _git(directory, "commit", "-q", "-am", "Example amendment (demo only)")
    say(f"sandbox: committed the example amendment {today}, effective {today + NOTICE_DELAY}")
    write_customers(directory / "customers.csv")
    return Sandbox(
        repo=directory,
        site=directory / "build" / "site",
        outbox=directory / "var" / "outbox" / today.isoformat(),
        proof=directory / "var" / f"proof-{today.isoformat()}.csv",
    )


@dataclass(frozen=True, slots=True)
class DemoReport:
    sandbox: Sandbox
    version: str
    sent: int
    jobs: tuple[str, ...]
    site_pages: int


def run(
    directory: Path, *, today: date | None = None, say: Callable[[str], None] = print
) -> DemoReport:
    """Run the whole flow in `directory`, telling the user what happens as it goes."""
    from notifier.delivery import notify
    from notifier.delivery.customers import import_csv
    from notifier.publishing import publish
    from notifier.releases.check import run_check
    from notifier.releases.version_diff import diff_versions, render
    from notifier.scheduling import schedule
    from notifier.settings import load_settings

    today = today or date.today()
    version = today.isoformat()
    sandbox = prepare(directory.resolve(), today, say)
    environ = {"NOTICES_DATABASE_URL": f"sqlite:///{sandbox.repo / 'var' / 'notices.db'}"}
    settings = load_settings(sandbox.repo, environ)
    imported = import_csv(sandbox.repo / "customers.csv", settings)
    say(f"customers: imported {imported.imported} synthetic customers into SQLite")
    problems = run_check(settings)
    errors = [p for p in problems if p.severity == "error"]
    say(f"check: {len(errors)} error(s), {len(problems) - len(errors)} warning(s)")
    for problem in problems:
        say(f"  {problem}")
    if errors:
        raise NoticeError(f"the demo statement fails check: {errors[0]}")
    result = diff_versions(settings, "2018-11-01", version, cwd=sandbox.repo)
    say("diff: the redline summary legal editors see in a pull request:\n")
    say(render(result, "md"))
    plan = notify.plan(settings, version)
    locales = ", ".join(f"{name} {count}" for name, count in plan.per_locale.items())
    say(
        f"notify plan: {plan.audience} recipients ({locales}); due {plan.due_at.isoformat()}, "
        f"effective {plan.effective_at.isoformat()}"
    )
    report = notify.send(settings, version, early=True)
    notify.proof(settings, version, sandbox.proof)
    say(f"notify send (outbox, early for the demo): {report.sent} mails written")
    synced = schedule.sync(settings, now=datetime.now(settings.timezone))
    jobs = tuple(
        f"{job.id}  {job.next_run.isoformat() if job.next_run else '-'}  {job.state}"
        for job in schedule.list_jobs(settings, now=datetime.now(settings.timezone))
    )
    say(f"schedule sync: {len(synced.changes)} change(s) to the job store; jobs:")
    for line in jobs:
        say(f"  {line}")
    built = publish.build(settings, today=today)
    say(f"site build: {built.pages} pages in {built.path}")
    return DemoReport(sandbox, version, report.sent, jobs, built.pages)
