"""Benchmark `notices site build` against a plain `mkdocs build` of the same pages.

A temporary repo gets 200 releases (synthetic edits of the seed statement). Ours: the real
command, reading git history, diffing and assessing every pair, generating and rendering. Peer:
the same pages already written as Markdown (generated once by pages.py) and built by `mkdocs
build` with the same theme and extensions but without our plugin. Target: ratio ≤ 1.2, < 60 s.
Each language is one build, ours and the peer's alike.

Ours is measured twice a run: cold (no var/cache/, every comparison and verdict computed) and
warm (right after, with the comparisons and verdicts the cold build kept, as when a site is
rebuilt on the next release or effective date). The target is on wall-clock time, what an editor
waits for; ours uses every core the machine gives it (docs/decisions/0009), so the CPU seconds
of all its processes are printed beside it, and on a machine busy with other work the wall-clock
ratio is higher.

    .venv/bin/python bench/site.py [--releases 200] [--runs 2] [--keep FOLDER]
"""

from __future__ import annotations

import argparse
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import yaml

PROJECT = Path(__file__).resolve().parents[1]

sys.path.insert(0, str(PROJECT / "tests"))

from support.repos import NoticeRepo, seed_text  # noqa: E402
from support.site import NOTICE, add_synthetic_releases, install_site  # noqa: E402

from notifier.publishing.mkdocs_plugin import STYLESHEET, THEME  # noqa: E402
from notifier.releases.judgement_cache import FOLDER as CACHE  # noqa: E402

BIN = Path(sys.executable).parent


def make_repo(root: Path, releases: int) -> date:
    """A repo with the seed plus `releases - 1` synthetic releases; returns a 'today' before the
    last one takes effect (so there is an upcoming version too)."""
    root.mkdir(parents=True)
    repo = NoticeRepo(root)
    repo.git("init", "-q", "-b", "main")
    shutil.copy2(PROJECT / "notices.toml", root / "notices.toml")
    install_site(repo)
    repo.commit("seed", "2018-12-01T10:00:00+08:00", {NOTICE: seed_text()})
    version = add_synthetic_releases(repo, releases - 1)
    return date.fromisoformat(version) - timedelta(days=1)


def write_plain(repo: Path, today: date, out: Path) -> tuple[list[Path], int]:
    """The same pages as Markdown files, and per language a mkdocs.yml without our plugin:
    the configuration ours builds that language with (package defaults, the language's
    additions, the repository's file), as a plain MkDocs user would write it."""
    from notifier.publishing.mkdocs_config import language_config, repository_config
    from notifier.publishing.publish import Request, generate, other_locales
    from notifier.settings import load_settings

    site = generate(Request(load_settings(repo, {}), today, strict=False))
    configs = []
    for index, language in enumerate(site.languages):
        docs = out / f"docs-{language.locale}"
        pages = repo / "site" / "pages" / (language.locale if language.prefix else "")
        skip = shutil.ignore_patterns(*(other_locales(site) if index == 0 else []))
        shutil.copytree(pages, docs, ignore=skip)
        for page in language.pages:
            target = docs / page.path
            target.parent.mkdir(parents=True, exist_ok=True)
            front = yaml.safe_dump(dict(page.meta), allow_unicode=True, sort_keys=False)
            target.write_text(f"---\n{front}---\n\n{page.markdown}", encoding="utf-8")
        root_assets = site.root_assets if index == 0 else ()
        for asset in (*language.assets, *root_assets):
            target = docs / asset.path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(asset.content)
        config = language_config(
            repository_config(repo),
            language,
            repo=repo,
            site_url=site.url,
            site_dir=out / "site" / language.prefix,
            empty=docs,
            others=[],
        )
        config["plugins"] = [p for p in config["plugins"] if p != "notices"]
        config |= {
            "docs_dir": str(docs),
            "nav": [_nav(item) for item in language.nav] + ["about.md"],
            "not_in_nav": "/archive/\n/compare/\n",
            "extra_css": [STYLESHEET],
        }
        config["theme"]["custom_dir"] = str(THEME)
        # The full dumper writes the toc slugify function back as `!!python/name:`.
        text = yaml.dump(config, Dumper=yaml.Dumper, allow_unicode=True, sort_keys=False)
        path = out / f"mkdocs.{language.locale}.yml"
        path.write_text(text, encoding="utf-8")
        configs.append(path)
    return configs, len(site.pages)


def _nav(item: Any) -> dict[str, Any]:
    return {item.title: item.path} if item.path else {item.title: [_nav(c) for c in item.children]}


def timed(command: list[str], cwd: Path) -> tuple[float, float]:
    """Wall-clock and CPU seconds (user + system) of one run of `command`. On a machine shared
    with other work the CPU seconds are the steadier figure: waiting for a core is not ours."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{result.stderr[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return elapsed, cpu


def _total(runs: list[tuple[float, float]]) -> tuple[float, float]:
    return sum(wall for wall, _ in runs), sum(cpu for _, cpu in runs)


@contextmanager
def _workspace(keep: Path | None) -> Iterator[Path]:
    """A temporary folder, or `keep` (which must not exist yet) left in place afterwards."""
    if keep is None:
        with tempfile.TemporaryDirectory(prefix="notices-bench-site-") as temp:
            yield Path(temp)
        return
    keep.mkdir(parents=True)
    yield keep.absolute()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--releases", type=int, default=200)
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--keep", type=Path, help="build in this new folder and keep it")
    args = parser.parse_args()
    with _workspace(args.keep) as root:
        repo = root / "repo"
        made = time.perf_counter()
        today = make_repo(repo, args.releases)
        print(f"repo: {args.releases} releases in {time.perf_counter() - made:.1f} s")
        configs, pages = write_plain(repo, today, root / "plain")
        ours_cmd = [sys.executable, "-m", "notifier", "site", "build", "--today", today.isoformat()]
        plain_cmds = [[str(BIN / "mkdocs"), "build", "-q", "-f", str(c)] for c in configs]
        cold: list[tuple[float, float]] = []
        warm: list[tuple[float, float]] = []
        plain: list[tuple[float, float]] = []
        for _ in range(args.runs):
            plain.append(_total([timed(command, root / "plain") for command in plain_cmds]))
            shutil.rmtree(repo / "var" / CACHE, ignore_errors=True)
            cold.append(timed(ours_cmd, repo))
            warm.append(timed(ours_cmd, repo))
        plain_s, plain_cpu = _median(plain)
        print(
            f"site: {args.releases} releases, {pages} pages  plain mkdocs build {plain_s:.1f} s"
            f"  cpu {plain_cpu:.1f} s"
        )
        for name, runs in (("cold", cold), ("warm", warm)):
            ours_s, ours_cpu = _median(runs)
            ratio, cpu_ratio = ours_s / plain_s, ours_cpu / plain_cpu
            verdict = "OK" if ratio <= 1.2 and ours_s < 60 else "MISSED"
            print(
                f"ours {name}: {ours_s:.1f} s  ratio {ratio:.2f}x  "
                f"(target ≤ 1.2x and < 60 s: {verdict})  "
                f"cpu {ours_cpu:.1f} s  ratio {cpu_ratio:.2f}x"
            )


def _median(runs: list[tuple[float, float]]) -> tuple[float, float]:
    """Median wall-clock and CPU seconds."""
    return statistics.median(w for w, _ in runs), statistics.median(c for _, c in runs)


if __name__ == "__main__":
    main()
