"""The wheel, installed into a fresh virtual environment far from this checkout, runs the whole
flow of a new notices repository as processes: nothing comes from the source tree."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import tarfile
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from support.repos import PROJECT
from support.starter import IDENTITY, next_release

pytestmark = pytest.mark.slow

# what could lead a process back to this checkout or to the developer's settings
_INHERITED = ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "VIRTUAL_ENV", "NOTICES_", "SENDGRID_")


@dataclass(frozen=True)
class Installed:
    """A virtual environment holding the wheel, and a folder to work in outside the checkout."""

    venv: Path
    work: Path

    @property
    def env(self) -> dict[str, str]:
        kept = {k: v for k, v in os.environ.items() if not k.startswith(_INHERITED)}
        path = f"{self.venv / 'bin'}{os.pathsep}{kept.get('PATH', '')}"
        return {**kept, **IDENTITY, "PATH": path, "PYTHONIOENCODING": "utf-8"}

    def run(self, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
        """A command of the installed environment (`notices …` finds its console script)."""
        return subprocess.run(
            args, cwd=cwd or self.work, env=self.env, capture_output=True, text=True, timeout=300
        )


def _run(args: list[str], cwd: Path, env: Mapping[str, str] | None = None) -> str:
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"{' '.join(args)}\n{done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    """The committed source (git archive, not the working tree) built into a wheel, installed
    with its dependencies from the package index into a new virtual environment. The
    dependencies are held to the versions of the environment running the tests, so the test
    judges the wheel, not the index's newest releases (about 25 s on a busy 2-core machine)."""
    root = tmp_path_factory.mktemp("wheel")
    source, dist, venv, work = (root / name for name in ("source", "dist", "venv", "work"))
    archive = subprocess.run(
        ["git", "archive", "--format=tar", "HEAD"], cwd=PROJECT, capture_output=True, check=True
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(source, filter="data")
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--quiet"]
    _run([*pip, "wheel", "--no-deps", "--wheel-dir", str(dist), str(source)], cwd=root)
    [wheel] = dist.glob("notices-*.whl")
    constraints = root / "constraints.txt"
    constraints.write_text(_run([*pip, "freeze", "--exclude", "notices"], cwd=root))
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)], cwd=root)
    python = str(venv / "bin" / "python")
    # --no-compile: Python compiles what it imports when it first does (installing compiled
    # every module of 60 distributions up front, most of this fixture's time on a busy machine)
    install = [*pip, "--python", python, "install", "--no-compile", "-c", str(constraints)]
    _run([*install, str(wheel)], cwd=root)
    work.mkdir()
    return Installed(venv, work)


def test_the_package_comes_from_the_new_environment(installed: Installed) -> None:
    """When the wheel is installed, then `notifier` is imported from the new environment, not
    from this checkout, and its console script answers."""
    found = installed.run("python", "-c", "import notifier; print(notifier.__file__)")
    assert found.returncode == 0, found.stderr
    where = Path(found.stdout.strip())
    assert where.is_relative_to(installed.venv) and not where.is_relative_to(PROJECT)
    version = installed.run("notices", "--version")
    assert (version.returncode, version.stdout) == (0, "notices, version 0.1.0\n")


def test_init_check_diff_and_plan_from_the_wheel(installed: Installed) -> None:
    """When a new repository is made with the installed command, then check passes at once,
    the next release diffs as material, and notify plan counts the imported customers."""
    made = installed.run("notices", "init", "statement", "--locale", "zh-CN", "--locale", "en")
    assert made.returncode == 0, made.stderr
    repo = installed.work / "statement"
    check = installed.run("notices", "check", cwd=repo)
    assert (check.returncode, check.stdout) == (0, "0 error(s), 0 warning(s)\n"), check.stderr
    version = next_release(repo, datetime.now(ZoneInfo("Asia/Shanghai")).date())
    diff = installed.run("notices", "diff", "--json", cwd=repo)
    assert diff.returncode == 0, diff.stderr
    assert '"verdict": "material"' in diff.stdout
    _run(["git", "commit", "-q", "-am", "Keep data 90 days"], cwd=repo, env=installed.env)
    (repo / "customers.csv").write_text(
        "email,name,locale,services\n"
        "wang@example.com,王芳,zh-CN,online-services\n"
        "smith@example.com,Jo Smith,en,online-services\n",
        encoding="utf-8",
    )
    imported = installed.run("notices", "customers", "import", "customers.csv", cwd=repo)
    assert imported.returncode == 0, imported.stderr
    plan = installed.run("notices", "notify", "plan", version, cwd=repo)
    assert plan.returncode == 0, plan.stderr
    lines = plan.stdout.splitlines()
    assert lines[0] == f"privacy/zh-CN/{version}: material (T2), services online-services"
    assert lines[-1] == "  total: 2 recipient(s)"


def test_site_build_from_the_wheel(installed: Installed) -> None:
    """When a new repository is made with the installed command, then the site builds with
    what the package carries: no mkdocs.yml, no site/ folder of the repository's own."""
    made = installed.run("notices", "init", "site-only", "--locale", "en")
    assert made.returncode == 0, made.stderr
    repo = installed.work / "site-only"
    built = installed.run("notices", "site", "build", cwd=repo)
    assert built.returncode == 0, built.stderr
    assert (repo / "build/site/index.html").is_file()
    for asset in ("notices.css", "search-words.js"):  # the theme's files, from package data
        assert (repo / "build/site/assets" / asset).is_file(), asset
