"""Benchmark `read_history` against one `git show` process per version.

A temporary repo (built with one `git fast-import`) gets 1,000 commits of the seed statement,
each changing a number in one sentence, with a new version every 10 commits. Ours: the real
`read_history` (one `git log`, every blob through one `git cat-file --batch`, releases parsed).
Peer: `git rev-list` for the commits, then one `git show <commit>:<path>` subprocess per commit.
Prints the median of a few runs for both and the ratio (target: ≥ 10×, < 2 minutes), then the
same with the sections of every release parsed too (`Release.notice_doc` is parsed on first use).

    .venv/bin/python bench/history.py [--commits 1000] [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from notifier.releases.history import read_history
from notifier.settings import load_settings

PROJECT = Path(__file__).resolve().parents[1]
SEED = PROJECT / "notices" / "privacy" / "zh-CN.md"
NOTICE = "notices/privacy/zh-CN.md"
START = datetime(2019, 1, 1, 10, 0, tzinfo=timezone(timedelta(hours=8)))
ENV = {
    **os.environ,
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
}


def _version(text: str, number: int) -> str:
    """The `number`-th commit's text: version every 10 commits, a changed number in every one."""
    release = number // 10
    version = (date(2019, 1, 1) + timedelta(days=release * 14)).isoformat()
    y, m, d = (int(part) for part in version.split("-"))
    text = re.sub(r"^version: .*$", f"version: {version}", text, count=1, flags=re.M)
    text = re.sub(r"^last_updated: .*$", f"last_updated: {version}", text, count=1, flags=re.M)
    text = re.sub(r"^effective: .*$", f"effective: {version}", text, count=1, flags=re.M)
    text = re.sub(r"^published: .*\n", "", text, flags=re.M)
    dated = f"最后更新时间：{y} 年 {m} 月 {d} 日"
    text = re.sub(r"最后更新时间：\d+ 年 \d+ 月 \d+ 日", dated, text)
    return re.sub(r"身份后 \d+ 天内", f"身份后 {30 + number} 天内", text)


def build_repo(folder: Path, commits: int) -> None:
    """One `git fast-import` stream: `commits` commits on main, one notice file changing."""
    subprocess.run(["git", "init", "-q", "-b", "main", str(folder)], check=True, env=ENV)
    seed = SEED.read_text(encoding="utf-8")
    settings = (PROJECT / "notices.toml").read_bytes()
    stream = bytearray()
    for number in range(commits):
        when = START + timedelta(hours=number)
        stamp = f"{int(when.timestamp())} +0800"
        message = f"Edit {number}".encode()
        data = _version(seed, number).encode("utf-8")
        stream += b"commit refs/heads/main\n"
        stream += f"author 法务编辑 <legal@example.com> {stamp}\n".encode()
        stream += f"committer 法务编辑 <legal@example.com> {stamp}\n".encode()
        stream += b"data %d\n%s\n" % (len(message), message)
        if number == 0:
            stream += b"M 100644 inline notices.toml\ndata %d\n%s\n" % (len(settings), settings)
        stream += b"M 100644 inline %s\ndata %d\n%s\n" % (NOTICE.encode(), len(data), data)
    subprocess.run(
        ["git", "fast-import", "--quiet"], cwd=folder, input=bytes(stream), check=True, env=ENV
    )
    subprocess.run(["git", "checkout", "-q", "main"], cwd=folder, check=True, env=ENV)


def ours(folder: Path) -> int:
    history = read_history(folder, load_settings(folder, {}))
    return sum(1 + len(release.revisions) for release in history.releases)


def ours_parsed(folder: Path) -> int:
    """Also parse the sections of every release (`notice_doc` is otherwise parsed on first use)."""
    history = read_history(folder, load_settings(folder, {}))
    return sum(len(release.notice_doc.sections) > 0 for release in history.releases)


def peer(folder: Path) -> int:
    """One `git show` process per version: what a naive script does."""
    listed = subprocess.run(
        ["git", "rev-list", "--first-parent", "main", "--", NOTICE],
        cwd=folder,
        capture_output=True,
        text=True,
        check=True,
        env=ENV,
    ).stdout.split()
    for commit in listed:
        subprocess.run(
            ["git", "show", f"{commit}:{NOTICE}"],
            cwd=folder,
            capture_output=True,
            check=True,
            env=ENV,
        )
    return len(listed)


def timed(function: Callable[[Path], int], folder: Path, runs: int) -> tuple[float, int]:
    seconds, count = [], 0
    for _ in range(runs):
        start = time.perf_counter()
        count = function(folder)
        seconds.append(time.perf_counter() - start)
    return statistics.median(seconds), count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commits", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="notices-bench-") as temporary:
        folder = Path(temporary) / "repo"
        build_repo(folder, args.commits)
        our_seconds, our_count = timed(ours, folder, args.runs)
        parsed_seconds, parsed_count = timed(ours_parsed, folder, args.runs)
        peer_seconds, peer_count = timed(peer, folder, args.runs)
    if our_count != peer_count:
        raise SystemExit(f"ours read {our_count} versions, the peer {peer_count}")
    print(
        f"history: {our_count} versions  ours {our_seconds:.2f} s  "
        f"git-show-per-version {peer_seconds:.2f} s  ratio {peer_seconds / our_seconds:.1f}x"
    )
    print(
        f"history: {our_count} versions, all {parsed_count} releases parsed  "
        f"ours {parsed_seconds:.2f} s  ratio {peer_seconds / parsed_seconds:.1f}x"
    )


if __name__ == "__main__":
    main()
