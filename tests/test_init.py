"""`notices init`: a new repository that passes check and lint, diffs, and refuses to overwrite."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import date, datetime
from importlib.metadata import version
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml
from support.repos import PROJECT, Run, run_notices
from support.starter import IDENTITY, next_release

from notifier.settings import load_settings
from notifier.statement.notice import parse_notice

# no identity at all: git may not guess one from the host's name
NO_IDENTITY = {
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_COUNT": "1",
    "GIT_CONFIG_KEY_0": "user.useConfigOnly",
    "GIT_CONFIG_VALUE_0": "true",
}
FILES = [
    "notices.toml",
    ".gitignore",
    ".pre-commit-config.yaml",
    ".github/workflows/notices.yml",
    "notices/privacy/zh-CN.md",
    "notices/privacy/en.md",
]


@pytest.fixture(autouse=True)
def _no_git_identity_of_the_machine(monkeypatch: pytest.MonkeyPatch) -> None:
    """Identity comes from each test's env only, never from the developer's variables."""
    for name in [*IDENTITY, "EMAIL", "GIT_CONFIG_COUNT"]:
        monkeypatch.delenv(name, raising=False)


def _today() -> date:
    return datetime.now(ZoneInfo("Asia/Shanghai")).date()


def _init(cwd: Path, *args: str, env: dict[str, str] | None = None) -> Run:
    return run_notices("init", *args, cwd=cwd, env=IDENTITY if env is None else env)


def _git(repo: Path, *args: str, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(
        ["git", *args],
        cwd=repo,
        env={**os.environ, **IDENTITY, **(env or {})},
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip()


@pytest.fixture
def statement(tmp_path: Path) -> Path:
    """A repository made by `notices init statement --locale zh-CN --locale en`."""
    result = _init(tmp_path, "statement", "--locale", "zh-CN", "--locale", "en")
    assert result.code == 0, result.err
    return tmp_path / "statement"


def test_init_creates_the_files_and_the_first_release(tmp_path: Path) -> None:
    """When init runs in a new folder, then it lists what it made, commits it on main as the
    first release with the user's identity, and says what to run next."""
    result = _init(tmp_path, "statement", "--locale", "zh-CN", "--locale", "en")
    assert result.code == 0, result.err
    repo = tmp_path / "statement"
    sha = _git(repo, "rev-parse", "HEAD")
    assert result.out.splitlines() == [
        *(f"created statement/{file}" for file in FILES),
        "initialised a git repository on branch main in statement",
        f"committed the starter statement as the first release ({sha[:10]})",
        "next:",
        "  cd statement",
        "  notices check",
        "  notices lint",
        "  # fill in the bracketed text, give the release a new version, commit it, then:",
        "  notices diff",
        "  notices site build",
    ]
    assert result.err == ""
    assert _git(repo, "branch", "--show-current") == "main"
    assert sorted(_git(repo, "ls-files").splitlines()) == sorted(FILES)
    assert _git(repo, "log", "--format=%an <%ae>|%s") == (
        "法务编辑 <legal@example.com>|First release of the privacy (zh-CN, en) notice"
    )
    assert _git(repo, "status", "--porcelain") == ""


def test_settings_load_with_every_table(statement: Path) -> None:
    """When init wrote notices.toml, then the settings loader reads it without an error, with
    the locales asked for and every table the schema knows."""
    settings = load_settings(statement, {})
    assert (settings.default_locale, settings.required_locales) == ("zh-CN", ("en",))
    assert settings.site_url == "https://privacy.example.com/"
    assert dict(settings.site_titles) == {"zh-CN": "隐私声明", "en": "Privacy Statement"}
    assert dict(settings.services["online-services"].names) == {
        "zh-CN": "在线服务",
        "en": "Online services",
    }
    assert dict(settings.sender_names) == {"zh-CN": "隐私声明通知", "en": "Privacy notices"}
    text = (statement / "notices.toml").read_text(encoding="utf-8")
    tables = {line.strip("[]") for line in text.splitlines() if line.startswith("[")}
    assert {table.split(".")[0] for table in tables} == {
        "notices", "sender", "contact", "site", "mail", "smtp", "events", "services",
        "materiality", "lint",
    }  # fmt: skip
    assert "SENDGRID_API_KEY" in text and "NOTICES_DATABASE_URL" in text


def test_check_and_lint_pass_at_once(statement: Path) -> None:
    """When init has run, then `notices check` and `notices lint` find nothing, and `log`
    lists the first release of each locale."""
    check = run_notices("check", cwd=statement)
    assert (check.code, check.out) == (0, "0 error(s), 0 warning(s)\n"), check.err
    lint = run_notices("lint", cwd=statement)
    assert (lint.code, lint.out) == (0, "0 error(s), 0 warning(s), 0 info\n"), lint.err
    log = run_notices("log", cwd=statement)
    assert log.code == 0, log.err
    version = _today().isoformat()
    assert [line.split()[0] for line in log.out.splitlines() if not line.startswith(" ")] == [
        f"privacy/en/{version}",
        f"privacy/zh-CN/{version}",
    ]


def test_starter_statements_share_their_ids_and_dates(statement: Path) -> None:
    """When init writes a notice in two languages, then both have the sections a statement
    needs, under the same ids, dated today in their own way."""
    notices = {
        locale: parse_notice((statement / path).read_bytes(), path)
        for locale, path in (("zh-CN", FILES[4]), ("en", FILES[5]))
    }
    ids = {locale: [s.id for s in n.sections if s.level > 0] for locale, n in notices.items()}
    assert ids["zh-CN"] == ids["en"] == [
        "statement", "who-we-are", "what-we-collect", "how-we-use", "sharing", "retention",
        "your-rights", "minors", "contact", "changes",
    ]  # fmt: skip
    today = _today()
    for notice in notices.values():
        assert notice.front is not None
        assert (notice.front.version, notice.front.effective) == (today.isoformat(), today)
        assert notice.front.services == ("online-services",)
    assert f"最后更新时间：{today.year} 年 {today.month} 月 {today.day} 日" in notices["zh-CN"].text
    titles = {locale: n.headings_by_id["retention"].title for locale, n in notices.items()}
    assert titles == {
        "zh-CN": "我们如何保存您的个人信息",
        "en": "How Long We Keep Your Personal Information",
    }


def test_a_locale_without_its_own_text_gets_the_english_one(tmp_path: Path) -> None:
    """When the default locale is English and French is added, then the French file is the
    English skeleton, French is required with every release, and check passes."""
    result = _init(
        tmp_path, "s", "--locale", "en", "--locale", "fr", "--notice", "cookies",
        "--title", "Example Co. *Privacy* {#x}", "--site-url", "https://legal.example.org/p/",
    )  # fmt: skip
    assert result.code == 0, result.err
    repo = tmp_path / "s"
    english = (repo / "notices/cookies/en.md").read_text(encoding="utf-8")
    french = (repo / "notices/cookies/fr.md").read_text(encoding="utf-8")
    assert french == english.replace(
        'title: "Example Co. *Privacy* {#x}"', 'title: "Privacy Statement"'
    ).replace(r"# Example Co. \*Privacy\* \{\#x\} {#statement}", "# Privacy Statement {#statement}")
    settings = load_settings(repo, {})
    assert (settings.default_locale, settings.required_locales) == ("en", ("fr",))
    assert (settings.site_url, settings.site_title) == (
        "https://legal.example.org/p/",
        "Example Co. *Privacy* {#x}",
    )
    check = run_notices("check", cwd=repo)
    assert (check.code, check.out) == (0, "0 error(s), 0 warning(s)\n"), check.err


def test_refuses_to_overwrite_and_writes_nothing(tmp_path: Path) -> None:
    """When one of the files init would write exists, then it names that file in one line,
    exits 1, and writes nothing: no other file, no folder, no git repository."""
    repo = tmp_path / "statement"
    (repo / "notices/privacy").mkdir(parents=True)
    (repo / "notices/privacy/en.md").write_text("# ours\n", encoding="utf-8")
    result = _init(tmp_path, "statement", "--locale", "zh-CN", "--locale", "en")
    assert result.code == 1
    assert result.err == (
        "error: statement/notices/privacy/en.md: already exists; notices init never "
        "overwrites a file (hint: move it away, or run notices init in another folder)\n"
    )
    assert result.out == ""
    assert sorted(str(p.relative_to(repo)) for p in repo.rglob("*")) == [
        "notices",
        "notices/privacy",
        "notices/privacy/en.md",
    ]
    assert (repo / "notices/privacy/en.md").read_text(encoding="utf-8") == "# ours\n"


def test_without_a_git_identity_it_stops_before_writing(tmp_path: Path) -> None:
    """When git has no name and email, then init says so and how to fix it, and writes
    nothing; with --no-commit it writes the files into a new repository and commits nothing."""
    result = _init(tmp_path, "statement", env=NO_IDENTITY)
    assert result.code == 1
    assert result.err == (
        "error: statement: git has no name and email to commit the first release with "
        '(hint: set them with git config --global user.name "…" and git config --global '
        'user.email "…", or pass --no-commit)\n'
    )
    assert not (tmp_path / "statement").exists()
    result = _init(tmp_path, "statement", "--no-commit", env=NO_IDENTITY)
    assert result.code == 0, result.err
    repo = tmp_path / "statement"
    assert result.out.splitlines()[5:9] == [
        "initialised a git repository on branch main in statement",
        "next:",
        "  cd statement",
        "  git add .github .gitignore .pre-commit-config.yaml notices notices.toml",
    ]
    untracked = _git(repo, "status", "--porcelain", "--untracked-files=all").splitlines()
    assert sorted(untracked) == sorted(f"?? {file}" for file in FILES[:5])
    empty = subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True)
    assert empty.returncode != 0  # no commit


def test_in_an_existing_repository_it_only_writes(tmp_path: Path) -> None:
    """When the folder is already a git repository, then init adds the files there and leaves
    committing them to the user."""
    repo = tmp_path / "existing"
    repo.mkdir()
    _git(repo, "init", "-q", "-b", "main")
    (repo / "README.md").write_text("# Legal\n", encoding="utf-8")
    _git(repo, "add", "README.md")
    _git(repo, "commit", "-q", "-m", "Start")
    result = _init(repo, "--locale", "en")
    assert result.code == 0, result.err
    assert "initialised" not in result.out and "committed" not in result.out
    assert "  git add .github .gitignore .pre-commit-config.yaml notices notices.toml" in (
        result.out.splitlines()
    )
    assert "cd " not in result.out
    assert _git(repo, "log", "--format=%s") == "Start"
    assert (repo / "notices/privacy/en.md").is_file()


def test_a_failed_commit_takes_back_everything(tmp_path: Path) -> None:
    """When the first commit fails (here a hook refuses it), then the error says so and the
    folder, the files and the git repository are gone again."""
    hooks = tmp_path / "hooks"
    hooks.mkdir()
    (hooks / "pre-commit").write_text("#!/bin/sh\necho refused by policy >&2\nexit 1\n")
    (hooks / "pre-commit").chmod(0o755)
    refusing = {
        **IDENTITY,
        "GIT_CONFIG_COUNT": "1",
        "GIT_CONFIG_KEY_0": "core.hooksPath",
        "GIT_CONFIG_VALUE_0": str(hooks),
    }
    result = _init(tmp_path, "statement", env=refusing)
    assert result.code == 1
    assert result.err == "error: statement: git commit failed: refused by policy\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hooks"]


@pytest.mark.parametrize(
    "args,message",
    [
        (("--notice", "Privacy Policy"), "notice name 'Privacy Policy' is not lower-case ASCII"),
        (("--locale", "zh_CN"), "'zh_CN' is not a locale code such as zh-CN or en"),
        (("--locale", "en", "--locale", "en"), "a locale is given twice: en, en"),
        (("--site-url", "privacy.example.com"), "is not an absolute http(s) URL"),
        (("--title", "<script>alert(1)</script>"), "the title must be one line of plain text"),
    ],
)
def test_bad_options_are_usage_errors(tmp_path: Path, args: tuple[str, ...], message: str) -> None:
    """When an option could not make a valid repository, then init exits 2 naming it and
    writes nothing."""
    result = _init(tmp_path, "statement", *args)
    assert result.code == 2
    assert message in result.err
    assert not (tmp_path / "statement").exists()


def test_diff_check_and_plan_thenext_release(statement: Path) -> None:
    """When an editor changes the starter statement as the next release, then check passes,
    diff calls it material before and after the commit, and notify plan finds no customers
    yet (none are imported)."""
    version = next_release(statement, _today())
    check = run_notices("check", cwd=statement)
    assert (check.code, check.out) == (0, "0 error(s), 0 warning(s)\n"), check.err
    before = run_notices("diff", "--format", "md", cwd=statement)
    assert before.code == 0, before.err
    assert "**Material change**" in before.out and "`retention`" in before.out
    _git(statement, "commit", "-q", "-am", "Keep data 90 days after account closure")
    after = run_notices("diff", "--json", cwd=statement)
    assert after.code == 0, after.err
    assert '"verdict": "material"' in after.out
    plan = run_notices("notify", "plan", version, cwd=statement)
    assert plan.code == 0, plan.err
    assert plan.out.splitlines()[0].startswith(f"privacy/zh-CN/{version}: material (T2)")
    assert plan.out.splitlines()[-1] == "  total: 0 recipient(s)"


def test_the_site_builds_at_once(statement: Path) -> None:
    """When init has run, then `notices site build` builds a site per language with no
    mkdocs.yml of the repository's own (the package carries its configuration), each named in
    its own language."""
    built = run_notices("site", "build", cwd=statement)
    assert built.code == 0, built.err
    assert not (statement / "mkdocs.yml").exists()
    site = statement / "build/site"
    titles = {
        page: re.findall(r"<title>(.*?)</title>", (site / page).read_text(encoding="utf-8"))
        for page in ("index.html", "en/index.html")
    }
    [zh], [en] = titles.values()
    assert zh.startswith("隐私声明（") and zh.endswith(" - 隐私声明"), zh
    assert en.startswith("Privacy Statement (") and en.endswith(" - Privacy Statement"), en


def test_pre_commit_hook_is_the_projects_hook(statement: Path) -> None:
    """When init writes the pre-commit configuration, then its hook is the project's
    published hook (same id, command and files), installed at this version."""
    ours = yaml.safe_load((PROJECT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))[0]
    config = yaml.safe_load((statement / ".pre-commit-config.yaml").read_text(encoding="utf-8"))
    [repo] = config["repos"]
    [hook] = repo["hooks"]
    assert repo["repo"] == "local"
    shared = ("id", "name", "entry", "language", "pass_filenames", "files")
    assert {key: hook[key] for key in shared} == {key: ours[key] for key in shared}
    assert hook["additional_dependencies"] == [f"notices=={version('notices')}"]


@pytest.mark.slow
def test_the_workflow_runs_on_a_pull_request(statement: Path, tmp_path: Path) -> None:
    """When the workflow's commands run in a checkout as GitHub makes it for a pull request
    (every branch fetched, the head detached, no local main), then check, diff and lint pass
    and the run's summary shows the material change in each locale."""
    origin = tmp_path / "origin.git"
    _git(tmp_path, "clone", "-q", "--bare", str(statement), str(origin))
    _git(statement, "checkout", "-q", "-b", "longer-retention")
    next_release(statement, _today())
    _git(statement, "commit", "-q", "-am", "Keep data 90 days after account closure")
    _git(statement, "push", "-q", str(origin), "longer-retention")
    checkout = tmp_path / "checkout"
    _git(tmp_path, "clone", "-q", str(origin), str(checkout))
    _git(checkout, "checkout", "-q", "--detach", "origin/longer-retention")
    _git(checkout, "branch", "-q", "-D", "main")
    shims = tmp_path / "bin"
    shims.mkdir()
    (shims / "notices").write_text(f'#!/bin/sh\nexec "{sys.executable}" -m notifier "$@"\n')
    (shims / "notices").chmod(0o755)
    summary = tmp_path / "summary.md"
    env = {
        **os.environ,
        **IDENTITY,
        "PATH": f"{shims}{os.pathsep}{os.environ['PATH']}",
        "GITHUB_BASE_REF": "main",
        "GITHUB_STEP_SUMMARY": str(summary),
    }
    workflow = yaml.safe_load((statement / FILES[3]).read_text(encoding="utf-8"))
    steps = [step for step in workflow["jobs"]["notices"]["steps"] if "run" in step]
    assert [step["name"] for step in steps] == [
        "Install notices",
        "Read the published releases from the base branch",
        "Check",
        "What changes, and whether it is material",
        "Lint",
    ]
    for step in steps[1:]:  # installing is pip's part: the notices on PATH stands in for it
        ran = subprocess.run(
            ["bash", "-e", "-c", step["run"]], cwd=checkout, env=env, capture_output=True, text=True
        )
        assert (ran.returncode, ran.stderr) == (0, ""), step["name"]  # no "no branch main"
    text = summary.read_text(encoding="utf-8")
    assert text.count("**Material change**") == 2
    assert "我们如何保存您的个人信息 (`retention`)" in text
    assert "How Long We Keep Your Personal Information (`retention`)" in text
