"""Run the reliability suite and render its results as docs/reliability.md (`make reliability`).

Each test records what it checked through pytest's `record_property` (area, group, case,
observed, and any number of `figure` values as "name=value"); this script runs the suite with a
JUnit XML report, reads those properties and each test's outcome, and writes one table per area.
Extra arguments are passed to pytest. The exit code is pytest's: the page is written either way.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ElementTree
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[2]
SUITE = "tests/reliability"
OUTPUT = PROJECT / "docs" / "reliability.md"
AREAS = ("Bad input", "Faults", "Security")  # the order; others follow by name
UNCLASSIFIED = "Unclassified"
MAX_OBSERVED = 400

INTRO = """\
# Reliability and security

What the suite in `tests/reliability/` checks, and what it observed the last time it ran.
Every case runs the real parts: the `notices` command (in the test's process, or in its own
where the case is about processes), real git repositories, SQLite and PostgreSQL, the SendGrid
stand-in, an SMTP relay, the Event Webhook over HTTP.

- **Bad input**: broken notice files, CSVs, settings, git histories and command lines must give a
  clear one-line error naming the file and line (or CSV row), exit non-zero, and write nothing.
- **Faults**: SendGrid errors, timeouts and slow answers, a locked or restarted database, an
  unwritable outbox, processes killed mid-send: no customer is lost, duplicates stay bounded.
- **Security**: no API key or whole address in any output or log, names cannot inject into
  mail, the site holds no customer data, forged or replayed webhook posts are refused, files with
  personal data are private to their owner.

Regenerate this page with `make reliability` (it runs the suite; extra pytest arguments can be
given to `tests/reliability/report.py`). Do not edit it by hand.
"""


@dataclass(frozen=True)
class Case:
    """One test case of the JUnit report, with what it recorded."""

    area: str
    group: str
    case: str
    observed: str
    figures: tuple[str, ...]
    outcome: str  # passed | failed | skipped
    test: str  # file::name, to tell apart cases recorded with the same words

    def sort_key(self) -> tuple[str, str, str]:
        return (self.group.casefold(), self.case.casefold(), self.test)


def run_suite(junit: Path, extra: list[str]) -> int:
    command = [
        sys.executable,
        "-m",
        "pytest",
        SUITE,
        "-q",
        "-p",
        "no:cacheprovider",
        f"--junitxml={junit}",
        "-o",
        "junit_family=xunit1",  # record_property needs it (xunit2 has no properties)
        *extra,
    ]
    return subprocess.run(command, cwd=PROJECT, check=False).returncode


def _outcome(testcase: ElementTree.Element) -> tuple[str, str]:
    """passed, failed (a failure or an error) or skipped, with the reason given if any."""
    for tag, outcome in (("failure", "failed"), ("error", "failed"), ("skipped", "skipped")):
        found = testcase.find(tag)
        if found is not None:
            reason = (found.get("message") or "").strip()
            if found.get("type") == "pytest.xfail":
                reason = f"expected to fail: {reason}"
            return outcome, reason
    return "passed", ""


def _test_name(testcase: ElementTree.Element) -> str:
    module = (testcase.get("classname") or "").rpartition(".")[2]
    return f"{module}::{testcase.get('name', '')}"


def read_cases(junit: Path) -> list[Case]:
    cases = []
    for testcase in ElementTree.parse(junit).getroot().iter("testcase"):
        properties: dict[str, str] = {}
        figures: list[str] = []
        for prop in testcase.iter("property"):
            name, value = prop.get("name", ""), prop.get("value", "")
            if name == "figure":
                figures.append(value)
            else:
                properties[name] = value  # a value recorded twice: the last one counts
        outcome, reason = _outcome(testcase)
        test = _test_name(testcase)
        cases.append(
            Case(
                area=properties.get("area") or UNCLASSIFIED,
                group=properties.get("group", ""),
                case=properties.get("case") or test,
                observed=properties.get("observed") or (reason.splitlines() or [""])[0],
                figures=tuple(figures),
                outcome=outcome,
                test=test,
            )
        )
    return cases


def _areas(cases: list[Case]) -> list[str]:
    present = {case.area for case in cases}
    return [a for a in AREAS if a in present] + sorted(present - set(AREAS))


def _cell(text: str, limit: int | None = None) -> str:
    """Text fit for one Markdown table cell: one line, no markup, no column breaks."""
    flat = " ".join(text.split())
    if limit is not None and len(flat) > limit:
        flat = flat[: limit - 1] + "…"
    for raw, safe in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ("|", "\\|")):
        flat = flat.replace(raw, safe)
    return flat


def _commit() -> str:
    def git(*args: str) -> str:
        result = subprocess.run(
            ["git", *args], cwd=PROJECT, capture_output=True, text=True, check=False
        )
        return result.stdout.strip()

    head = git("rev-parse", "--short=12", "HEAD") or "unknown"
    return head + (" with uncommitted changes" if git("status", "--porcelain") else "")


def render(cases: list[Case], when: datetime, commit: str) -> str:
    lines = [INTRO]
    lines += [
        "## Summary",
        "",
        "| Area | Cases | Passed | Failed | Skipped |",
        "|---|---:|---:|---:|---:|",
    ]
    totals: Counter[str] = Counter()
    for area in _areas(cases):
        counted = Counter(case.outcome for case in cases if case.area == area)
        total = sum(counted.values())
        totals.update(counted)
        lines.append(
            f"| {_cell(area)} | {total} | {counted['passed']} | {counted['failed']} "
            f"| {counted['skipped']} |"
        )
    lines.append(
        f"| **All** | **{sum(totals.values())}** | **{totals['passed']}** "
        f"| **{totals['failed']}** | **{totals['skipped']}** |"
    )
    if not cases:
        lines += ["", "No case ran."]
    for area in _areas(cases):
        lines += ["", f"## {area}", "", "| Group | Case | Result | Observed |", "|---|---|---|---|"]
        for case in sorted((c for c in cases if c.area == area), key=Case.sort_key):
            result = {"passed": "pass", "failed": "**FAIL**", "skipped": "skip"}[case.outcome]
            lines.append(
                f"| {_cell(case.group)} | {_cell(case.case)} | {result} "
                f"| {_cell(case.observed, MAX_OBSERVED)} |"
            )
    figures = sorted((case.area, figure, case.case) for case in cases for figure in case.figures)
    lines += ["", "## Figures", ""]
    if figures:
        lines += [
            f"- {area}: **{_cell(figure)}** ({_cell(case)})" for area, figure, case in figures
        ]
    else:
        lines.append("No figure was recorded.")
    lines += [
        "",
        f"Generated {when.strftime('%Y-%m-%d %H:%M UTC')} at commit {commit} by "
        "`tests/reliability/report.py`.",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    with tempfile.TemporaryDirectory(prefix="reliability-") as folder:
        junit = Path(folder) / "junit.xml"
        code = run_suite(junit, argv)
        cases = read_cases(junit) if junit.exists() else []
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text(render(cases, datetime.now(UTC), _commit()), encoding="utf-8")
    failed = sum(case.outcome == "failed" for case in cases)
    print(f"wrote {OUTPUT.relative_to(PROJECT)}: {len(cases)} case(s), {failed} failed")
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
