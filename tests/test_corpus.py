"""Every consecutive pair of real privacy-notice histories diffs without error and loses nothing."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from support.repos import CORPUS

from notifier.statement.diff import (
    DATE_LINE,
    Comparison,
    apply,
    apply_ops,
    compare,
    render_sections,
)
from notifier.statement.notice import Notice, parse_notice

FOLDERS = sorted(p.parent for p in CORPUS.rglob("index.csv"))
# Columns of index.csv holding the date a version states, and whether it changed.
DATE_COLUMNS = (("effective_date", "effective_date_changed"), ("doc_date", "doc_date_changed"))


def versions(folder: Path) -> list[tuple[dict[str, str], Notice]]:
    """The extracted versions of one folder in index.csv order, parsed."""
    with (folder / "index.csv").open(encoding="utf-8", newline="") as stream:
        rows = [row for row in csv.DictReader(stream) if row["file"]]
    return [(row, parse_notice((folder / row["file"]).read_bytes(), row["file"])) for row in rows]


def check_lossless(comparison: Comparison) -> None:
    assert apply(comparison) == render_sections(comparison.new.sections)
    for change in comparison.changes:
        assert apply_ops(change.old_text, change.ops) == change.new_text
        assert len(change.tags) == len(change.ops)


@pytest.mark.parametrize("folder", FOLDERS, ids=lambda p: str(p.relative_to(CORPUS)))
def test_every_consecutive_pair_round_trips(folder: Path) -> None:
    """When each version is compared with the next, then the changes rebuild the next exactly
    and every stated date that changed is labelled as a date line."""
    found = versions(folder)
    assert len(found) >= 2
    for (old_row, old), (new_row, new) in zip(found, found[1:], strict=False):
        comparison = compare(old, new)
        check_lossless(comparison)
        for date, changed in DATE_COLUMNS:
            if new_row.get(changed) == "yes" and old_row.get(date) and new_row.get(date):
                labelled = [c for c in comparison.changes if DATE_LINE in c.labels]
                assert labelled, f"{old.path} → {new.path}: the stated date changed"


def test_line_ending_and_bom_fix_has_no_changes() -> None:
    """When Mozilla only fixed line endings and a byte-order mark, then nothing changed."""
    folder = CORPUS / "mozilla-legal-docs" / "firefox_privacy_notice" / "zh-CN"
    old = parse_notice((folder / "2023-10-31.md").read_bytes(), "2023-10-31.md")
    new = parse_notice((folder / "2023-10-31_2.md").read_bytes(), "2023-10-31_2.md")
    assert old.has_crlf != new.has_crlf or old.has_bom != new.has_bom
    assert compare(old, new).changes == ()


def test_http_to_https_links_are_link_targets_only() -> None:
    """When Mozilla switched links from http to https, then every change is a link target."""
    folder = CORPUS / "mozilla-legal-docs" / "firefox_privacy_notice" / "zh-CN"
    old = parse_notice((folder / "2017-09-27.md").read_bytes(), "2017-09-27.md")
    new = parse_notice((folder / "2017-10-17.md").read_bytes(), "2017-10-17.md")
    changes = compare(old, new).changes
    assert changes
    assert {(c.kind, c.labels) for c in changes} == {("formatting", ("link-target", "markdown"))}

