"""Benchmark `notices site build` against a plain `mkdocs build` of the same pages.

A temporary repo gets 200 releases (synthetic edits of the seed statement). Ours: the real
command, reading git history, diffing and assessing every pair, generating and rendering. Peer:
the same pages already written as Markdown (generated once by pages.py) and built by `mkdocs
build` with the same theme and extensions but without our plugin. Target: ratio ≤ 1.2, < 60 s.
Each language is one build, ours and the peer's alike.

Ours is measured twice a run: cold (no var/cache/, every comparison and verdict computed) and
warm (right after, with the comparisons and verdicts the cold build kept, as when a site is
rebuilt on the next release or effective date).

    .venv/bin/python bench/site.py [--releases 200] [--runs 2] [--keep FOLDER]
"""

from __future__ import annotations

import argparse
import os
import re
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

from notifier.publishing.mkdocs_plugin import STYLESHEET, THEME
from notifier.releases.judgement_cache import FOLDER as CACHE

PROJECT = Path(__file__).resolve().parents[1]
SEED = PROJECT / "notices" / "privacy" / "zh-CN.md"
NOTICE = "notices/privacy/zh-CN.md"
BIN = Path(sys.executable).parent
START = date(2019, 1, 1)
STEP = timedelta(days=10)

# Rotating synthetic edits: numbers, inserted and deleted sentences in different sections.
SENTENCES = [
    "我们会定期审查数据的保存期限。",
    "如需了解更多信息，请联系客户支持。",
    "我们可能会使用自动化工具检测异常访问。",
    "您可以随时在门户中查看您的账户信息。",
    "我们不会将您的个人信息用于与服务无关的目的。",
]


def _release(text: str, number: int) -> tuple[str, str]:
    """The `number`-th synthetic release of `text`: a new version, dates and a few edits."""
    version = (START + STEP * number).isoformat()
    y, m, d = (int(part) for part in version.split("-"))
    text = re.sub(r"^version: .*$", f"version: {version}", text, count=1, flags=re.M)
    text = re.sub(r"^last_updated: .*$", f"last_updated: {version}", text, count=1, flags=re.M)
    text = re.sub(r"^effective: .*$", f"effective: {version}", text, count=1, flags=re.M)
    text = re.sub(r"^published: .*\n", "", text, flags=re.M)
    text = re.sub(r"^summary: .*$", f"summary: 第 {number} 次修订", text, count=1, flags=re.M)
    dated = f"最后更新时间：{y} 年 {m} 月 {d} 日"
    text = re.sub(r"最后更新时间：\d+ 年 \d+ 月 \d+ 日", dated, text)
    text = re.sub(r"身份后 \d+ 天内", f"身份后 {15 + number % 20} 天内", text)
    paragraphs = text.split("\n\n")
    body = [i for i, p in enumerate(paragraphs) if p and not p.startswith(("#", "---", "-"))]
    target = body[(number * 7) % len(body)]
    sentence = SENTENCES[number % len(SENTENCES)]
    if sentence in paragraphs[target]:
        paragraphs[target] = paragraphs[target].replace(sentence, "")
    else:
        paragraphs[target] += sentence
    return "\n\n".join(paragraphs), version


def _git(repo: Path, *args: str, when: str | None = None) -> None:
    env = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1",
           "GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "bench@example.com",
           "GIT_COMMITTER_NAME": "bench", "GIT_COMMITTER_EMAIL": "bench@example.com"}
    if when:
        env |= {"GIT_AUTHOR_DATE": when, "GIT_COMMITTER_DATE": when}
    subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True)


def make_repo(root: Path, releases: int) -> date:
    """A repo with the seed plus `releases - 1` synthetic releases; returns a 'today' before the
    last one takes effect (so there is an upcoming version too)."""
    root.mkdir(parents=True)
    _git(root, "init", "-q", "-b", "main")
    shutil.copy2(PROJECT / "notices.toml", root / "notices.toml")
    shutil.copy2(PROJECT / "mkdocs.yml", root / "mkdocs.yml")
    shutil.copytree(PROJECT / "site", root / "site")
    path = root / NOTICE
    path.parent.mkdir(parents=True)
    text = SEED.read_text(encoding="utf-8")
    path.write_text(text, encoding="utf-8")
    _git(root, "add", "-A")
    _git(root, "commit", "-q", "-m", "seed", when="2018-12-01T10:00:00+08:00")
    version = START.isoformat()
    for number in range(1, releases):
        text, version = _release(text, number)
        path.write_text(text, encoding="utf-8")
        published = date.fromisoformat(version) - timedelta(days=5)
        _git(root, "commit", "-q", "-am", f"Release {version}",
             when=f"{published.isoformat()}T10:00:00+08:00")
    return date.fromisoformat(version) - timedelta(days=1)


def write_plain(repo: Path, today: date, out: Path) -> tuple[list[Path], int]:
    """The same pages as Markdown files, and per language a mkdocs.yml without our plugin:
    the configuration ours builds that language with (package defaults, the language's
    additions, the repository's file), as a plain MkDocs user would write it."""
    sys.path.insert(0, str(PROJECT))
    from notifier.publishing.mkdocs_config import language_config, repository_config
    from notifier.publishing.publish import Request, generate
    from notifier.settings import load_settings

    site = generate(Request(load_settings(repo, {}), today, strict=False))
    configs = []
    for index, language in enumerate(site.languages):
        docs = out / f"docs-{language.locale}"
        pages = repo / "site" / "pages" / (language.locale if language.prefix else "")
        skip = shutil.ignore_patterns(*(_other_locales(site) if index == 0 else []))
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


def _other_locales(site: Any) -> list[str]:
    """The root language's hand-written pages leave the other languages' folders out."""
    from notifier.locales import LOCALES

    home = site.languages[0].locale
    return [loc for loc in (*LOCALES, *(x.locale for x in site.languages)) if loc != home]


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
        print(f"site: {args.releases} releases, {pages} pages  plain mkdocs build {plain_s:.1f} s"
              f"  cpu {plain_cpu:.1f} s")
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
