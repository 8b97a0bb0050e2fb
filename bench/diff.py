"""Benchmark `notifier.statement.diff.compare` against difflib and `git diff --word-diff`.

Four pairs: the seed statement against an edited copy (a deleted 不, a changed number, a moved
sentence, a punctuation fix); a statement 20× the seed (its sections repeated with unique ids,
about 150,000 characters) with 40 edits scattered through it; and two consecutive pairs of the
GitHub Privacy Statement in tests/data/corpus: the largest one, and the one that changed most.
Ours: `compare` on parsed notices, in process, with the normalisation cache cleared before every
run (parsing is not timed). Peers: difflib's character-level
`SequenceMatcher(None, a, b).get_opcodes()` on the same two texts, and
`git diff --no-index --word-diff=porcelain` on the same two files (a process per run, as a user
would run it). Prints the median milliseconds and how many times faster ours is.
Target: the 20× pair under 300 ms and at least 10× faster than difflib.

    .venv/bin/python bench/diff.py [--runs 7] [--peer-runs 3]
"""

from __future__ import annotations

import argparse
import csv
import difflib
import os
import random
import re
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from notifier.statement import diff
from notifier.statement.notice import parse_text

PROJECT = Path(__file__).resolve().parents[1]
SEED = PROJECT / "notices" / "privacy" / "zh-CN.md"
GITHUB = PROJECT / "tests" / "data" / "corpus" / "github-site-policy"
ENV = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}


def edited_seed(seed: str) -> str:
    """The seed with the edits a legal editor makes: wording, a number, a move, punctuation."""
    moved = "我们除使用付款数据完成交易外，也将使用付款数据监测和防止欺诈。"
    anchor = "我们使用管理员数据以完成您要求的交易、管理您的账户、改善服务及检测并防止诈骗。"
    text = seed.replace("我们不会以此方式保存", "我们会以此方式保存")
    text = text.replace("身份后 30 天内", "身份后 15 个工作日内")
    text = text.replace(moved + "\n\n", "").replace(anchor, anchor + moved)
    text = text.replace("（“服务”）", '("服务")')
    return text.replace("最后更新时间：2018 年 11 月 1 日", "最后更新时间：2024 年 3 月 1 日")


def long_statement(seed: str, copies: int) -> str:
    """The seed's sections repeated `copies` times; ids get a suffix so they stay unique."""
    head, body = seed.split("\n## ", 1)
    body = "## " + body
    parts = [head]
    for copy in range(1, copies + 1):
        suffix = "" if copy == 1 else f"-{copy}"
        parts.append(re.sub(r"\{#([\w-]+)\}", r"{#\g<1>" + suffix + "}", body))
    return "\n".join(parts)


EDITS: tuple[tuple[str, str], ...] = (
    ("不", ""),
    ("仅", ""),
    ("一", "三"),
    ("可能", "将"),
    ("我们", "我们及其关联方"),
    ("数据", "个人数据"),
    ("，", ","),
    ("。", "，并可能与合作伙伴共享。"),
)


def scattered_edits(text: str, count: int, seed: int = 20181101) -> str:
    """`count` edits at random places in body sentences (never headings or front matter)."""
    rng = random.Random(seed)
    start = text.index("\n## ")
    for _ in range(count):
        while True:
            old, new = rng.choice(EDITS)
            places = [m.start() for m in re.finditer(re.escape(old), text[start:])]
            position = start + rng.choice(places)
            line = text[text.rfind("\n", 0, position) + 1 : text.find("\n", position)]
            if not line.startswith("#"):
                break
        text = text[:position] + new + text[position + len(old) :]
    return text


def github_pairs() -> list[tuple[str, str, str]]:
    """Two consecutive pairs of the GitHub statement: the one with the most text, and the one
    with the most changed text (its 2024 restructuring)."""
    rows = list(csv.DictReader((GITHUB / "index.csv").open(encoding="utf-8")))
    texts = [(r["file"], (GITHUB / r["file"]).read_text(encoding="utf-8")) for r in rows]
    pairs = list(zip(texts, texts[1:], strict=False))

    def changed(pair: tuple[tuple[str, str], tuple[str, str]]) -> int:
        (_, a), (_, b) = pair
        comparison = diff.compare(parse_text(a, "a.md"), parse_text(b, "b.md"))
        return sum(len(t) for c in comparison.changes for op, t in c.ops if op != diff.EQUAL)

    chosen = [
        ("GitHub largest", max(pairs, key=lambda p: len(p[0][1]) + len(p[1][1]))),
        ("GitHub most changed", max(pairs, key=changed)),
    ]
    return [
        (f"{label} {a_name[:-3]}→{b_name[:-3]}", a, b)
        for label, ((a_name, a), (b_name, b)) in chosen
    ]


def median_ms(run: Callable[[], object], runs: int, budget_s: float = 20.0) -> float:
    """Median of up to `runs` runs; fewer (at least one) when they would take over `budget_s`."""
    times: list[float] = []
    while len(times) < runs and (not times or sum(times) / 1000 < budget_s):
        start = time.perf_counter()
        run()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def ours(a: str, b: str, runs: int) -> tuple[float, int]:
    old, new = parse_text(a, "a.md"), parse_text(b, "b.md")

    def run() -> diff.Comparison:
        diff._normalised.cache_clear()  # every run starts cold
        return diff.compare(old, new)

    comparison = run()
    assert diff.apply(comparison) == diff.render_sections(new.sections)
    return median_ms(run, runs), len(comparison.changes)


def with_difflib(a: str, b: str, runs: int) -> float:
    return median_ms(lambda: difflib.SequenceMatcher(None, a, b).get_opcodes(), runs)


def with_git(a: str, b: str, runs: int) -> float:
    with tempfile.TemporaryDirectory() as folder:
        old, new = Path(folder, "a.md"), Path(folder, "b.md")
        old.write_text(a, encoding="utf-8")
        new.write_text(b, encoding="utf-8")
        command = ["git", "diff", "--no-index", "--word-diff=porcelain", str(old), str(new)]

        def run() -> None:
            result = subprocess.run(command, env=ENV, capture_output=True)
            assert result.returncode == 1, result.stderr  # 1: the files differ

        return median_ms(run, runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="runs of ours and git per pair")
    parser.add_argument(
        "--peer-runs", type=int, default=3, help="runs of difflib per pair (fewer past 20 s)"
    )
    args = parser.parse_args()
    seed = SEED.read_text(encoding="utf-8")
    long = long_statement(seed, 20)
    cases = [
        ("seed vs edited copy", seed, edited_seed(seed)),
        ("20× seed, 40 edits", long, scattered_edits(long, 40)),
        *github_pairs(),
    ]
    header = (
        f"{'pair':<46} {'chars A→B':>17} {'changes':>7} {'ours ms':>8} "
        f"{'difflib ms':>10} {'×':>6} {'git ms':>7} {'×':>6}"
    )
    print(header)
    print("-" * len(header))
    results = {}
    for name, a, b in cases:
        mine, changes = ours(a, b, args.runs)
        peer = with_difflib(a, b, args.peer_runs)
        git = with_git(a, b, args.runs)
        results[name] = (mine, peer)
        print(
            f"{name:<46} {len(a):>8,}→{len(b):<8,} {changes:>7} {mine:>8.1f} "
            f"{peer:>10.1f} {peer / mine:>6.1f} {git:>7.1f} {git / mine:>6.2f}"
        )
    mine, peer = results["20× seed, 40 edits"]
    met = mine < 300 and peer / mine >= 10
    print(
        f"\ntarget (20× pair < 300 ms and ≥ 10× faster than difflib): "
        f"{'met' if met else 'NOT met'} ({mine:.0f} ms, {peer / mine:.0f}×)"
    )
    print("× = how many times faster ours is (below 1: the peer is faster).")


if __name__ == "__main__":
    main()
