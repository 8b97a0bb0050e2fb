"""Examples for the README, produced by running the tool on the seed and the demo amendment."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from tempfile import TemporaryDirectory

from notifier.demo.sandbox import NOTICE, amend, project_root
from notifier.releases.version_diff import diff_versions, render
from notifier.settings import load_settings

EXAMPLE_DAY = date(2027, 1, 15)


def example_summary() -> str:
    """`notices diff --format md` between the seed and the example amendment, as Markdown."""
    root = project_root()
    seed = (root / NOTICE).read_text(encoding="utf-8")
    with TemporaryDirectory() as folder:
        old, new = Path(folder) / "2018-11-01.md", Path(folder) / f"{EXAMPLE_DAY}.md"
        old.write_text(seed, encoding="utf-8")
        new.write_text(amend(seed, EXAMPLE_DAY), encoding="utf-8")
        result = diff_versions(load_settings(root, {}), old.name, new.name, cwd=Path(folder))
        summary = render(result, "md")
    return "\n".join("> " + line if line else ">" for line in summary.strip().split("\n")) + "\n"
