"""How many consecutive pairs of each real notice history the materiality rules flag as material.

For every folder of ../shared/corpus (GitHub, Mozilla en and zh-CN, Wikimedia), each version is
compared with the next (`notifier.statement.diff.compare`) and judged
(`notifier.statement.materiality.assess` with the packaged rules). Printed per folder: pairs,
pairs flagged material, pairs left undecided (M24: the editor decides), the tiers, and how the
flags line up with the corpus's own signal of a
real update: the stated date changed (GitHub's "Effective date", Mozilla's document date), or for
Wikimedia the real policy updates listed in its SOURCE.txt (most of that series is scraping
noise). "material, no signal" are candidates for false alarms to review; "signal, not material"
are candidates for misses (or date-only bumps). For the GitHub statement and the Mozilla zh-CN
notices, two lines more: of the releases that kept the previous date, how many are material and
how many undecided; of those with a new date, how many are material.

    .venv/bin/python bench/corpus_table.py [CORPUS]    (default ../shared/corpus)
"""

from __future__ import annotations

import csv
import sys
import time
from collections import Counter
from pathlib import Path

from notifier.statement.diff import compare
from notifier.statement.materiality import assess, load_rules
from notifier.statement.notice import parse_notice

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
# The real Wikimedia policy updates named in ota-contrib-wikipedia-privacy-policy/SOURCE.txt.
WIKIMEDIA_UPDATES = ("2014-06-07", "2018-05-22", "2020-11-09", "2021-06-21", "2022-09-20",
                     "2023-03", "2023-05", "2025-01-27", "2025-09", "2025-10")


def signal(row: dict[str, str], previous: dict[str, str], folder: Path) -> bool | None:
    """Whether the corpus says this version is a real update (None: it does not say)."""
    if "effective_date_changed" in row:
        return row["effective_date_changed"] == "yes" and bool(previous["effective_date"])
    if "doc_date_changed" in row:
        return row["doc_date_changed"] == "yes" and bool(previous["doc_date"])
    if folder.name.startswith("ota-"):
        return row["date"].startswith(WIKIMEDIA_UPDATES)
    return None


def main() -> None:
    corpus = Path(sys.argv[1]) if len(sys.argv) > 1 else CORPUS
    rules = load_rules({})
    header = (
        f"{'corpus':<46} {'pairs':>5} {'material':>8} {'undecided':>9}"
        f" {'T0':>4} {'T1':>4} {'T2':>4} {'T3':>4}"
        f" {'signal':>6} {'both':>5} {'mat. only':>9} {'sig. only':>9} {'seconds':>7}"
    )
    print(header)
    print("-" * len(header))
    totals: Counter[str] = Counter()
    dated: list[tuple[str, Counter[str]]] = []
    for folder in sorted(p.parent for p in corpus.rglob("index.csv")):
        start = time.perf_counter()
        with (folder / "index.csv").open(encoding="utf-8", newline="") as stream:
            rows = [row for row in csv.DictReader(stream) if row["file"]]
        notices = [parse_notice((folder / r["file"]).read_bytes(), r["file"]) for r in rows]
        counts: Counter[str] = Counter()
        for index in range(1, len(rows)):
            comparison = compare(notices[index - 1], notices[index])
            verdict = assess(comparison, rules, notices[index].front)
            counts["pairs"] += 1
            counts[verdict.tier] += 1
            counts["material"] += verdict.material
            counts["undecided"] += verdict.undecided
            said = signal(rows[index], rows[index - 1], folder)
            counts["kept date"] += said is False
            counts["kept date, undecided"] += (said is False) and verdict.undecided
            counts["signal"] += bool(said)
            counts["both"] += bool(said) and verdict.material
            counts["material only"] += (said is False) and verdict.material
            counts["signal only"] += bool(said) and not verdict.material
        totals.update(counts)
        name = str(folder.relative_to(corpus))
        if folder.name.startswith("github") or folder.name == "zh-CN":
            dated.append((name, counts))
        print(
            f"{name:<46} {counts['pairs']:>5} {counts['material']:>8} {counts['undecided']:>9} "
            f"{counts['T0']:>4} "
            f"{counts['T1']:>4} {counts['T2']:>4} {counts['T3']:>4} {counts['signal']:>6} "
            f"{counts['both']:>5} {counts['material only']:>9} {counts['signal only']:>9} "
            f"{time.perf_counter() - start:>7.2f}"
        )
    print("-" * len(header))
    print(
        f"{'all':<46} {totals['pairs']:>5} {totals['material']:>8} {totals['undecided']:>9} "
        f"{totals['T0']:>4} "
        f"{totals['T1']:>4} {totals['T2']:>4} {totals['T3']:>4} {totals['signal']:>6} "
        f"{totals['both']:>5} {totals['material only']:>9} {totals['signal only']:>9}"
    )
    print(
        "\nsignal: the corpus says the version is a real update (stated date changed; for "
        "Wikimedia, the updates listed in its SOURCE.txt).\nboth / mat. only / sig. only: "
        "pairs flagged material with / without that signal, and pairs with the signal not "
        "flagged."
    )
    for name, counts in dated:
        print(
            f"\n{name}:\n  releases that kept the previous {_date_name(name)}: "
            f"{counts['material only']} material, {counts['kept date, undecided']} undecided, "
            f"of {counts['kept date']}\n  releases with a new {_date_name(name)}: "
            f"{counts['both']} of {counts['signal']} material"
        )


def _date_name(folder: str) -> str:
    return "effective date" if folder.startswith("github") else "document date"


if __name__ == "__main__":
    main()
