"""Bad input (issue #10), customer CSVs for `notices customers import`.

Each bad file is refused as a whole: one line per bad row naming the file and row (or line, for
an encoding error), one summary line, exit 1, and the customers table as it was, including the
rows the file would have updated. A million rows with one bad row near the end import nothing,
in flat memory.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from support.reliability import (
    CUSTOMERS,
    Prop,
    error_line,
    prior_state,
    record,
    refused,
    run_measured,
    snapshot,
)
from support.repos import run_notices

GROUP = "CSV"
HEADER = "email,name,locale,services\n"
# Five valid rows: four new customers and one existing customer renamed (an update that must
# not happen either when the file is refused).
GOOD = (
    "li.na@example.com,李娜,zh-CN,azure\n"
    "wang.wei@example.com,王伟,zh-CN,azure;office365\n"
    "zhao.min@example.cn,赵敏,en,powerbi\n"
    "chen.jie@example.com,陈杰,zh-CN,azure;powerbi\n"
    "user000001@example.com,改过名的客户,en,azure\n"
)
BAD_ROW = 7  # the header is row 1, GOOD rows 2-6


def _xlsx() -> bytes:
    """What a user uploads after saving as Excel instead of CSV: a zip file."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        archive.writestr("xl/worksheets/sheet1.xml", "<worksheet/>" * 50)
    return buffer.getvalue()


# case → (file content, expected error: 'row N: …' or ':N: …' after the file name)
REFUSED: dict[str, tuple[Callable[[], bytes], str]] = {
    "invalid email": (
        lambda: (HEADER + GOOD + "not-an-email,坏地址,zh-CN,azure\n").encode(),
        f"row {BAD_ROW}: invalid email n***: An email address must have an @-sign.",
    ),
    "duplicate email (other letter case)": (
        lambda: (HEADER + GOOD + "Li.Na@Example.com,李娜,en,azure\n").encode(),
        f"row {BAD_ROW}: duplicate email l***@e***.com",
    ),
    "unknown service": (
        lambda: (HEADER + GOOD + "sun.li@example.com,孙丽,zh-CN,azure;xbox\n").encode(),
        f"row {BAD_ROW}: unknown service(s): xbox",
    ),
    "missing column": (
        lambda: ("email,name,locale\n" + "li.na@example.com,李娜,zh-CN\n").encode(),
        "row 1: missing column(s): services",
    ),
    "formula injection in the name (=cmd)": (
        lambda: (HEADER + GOOD + "sun.li@example.com,=cmd|' /C calc'!A0,zh-CN,azure\n").encode(),
        f"row {BAD_ROW}: the name starts like a spreadsheet formula",
    ),
    "formula injection in the email (=1+1@…)": (
        lambda: (HEADER + GOOD + "=1+1@example.com,孙丽,zh-CN,azure\n").encode(),
        f"row {BAD_ROW}: the email starts like a spreadsheet formula",
    ),
    "unclosed quote": (
        lambda: (HEADER + GOOD + 'sun.li@example.com,"孙丽,zh-CN,azure\n').encode(),
        f"row {BAD_ROW}: not valid CSV: unexpected end of data",
    ),
    "more fields than the header (unquoted comma)": (
        lambda: (HEADER + GOOD + "sun.li@example.com,孙丽,zh-CN,azure,office365\n").encode(),
        f"row {BAD_ROW}: more fields than the header has",
    ),
    "empty file": (
        lambda: b"",
        "row 1: missing column(s): email, name, locale, services",
    ),
}


@pytest.mark.parametrize("case", list(REFUSED))
def test_bad_csv_imports_nothing(
    case: str, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory, record_property: Prop
) -> None:
    """When a CSV has a bad row, then the row is named, one summary line follows, exit 1, and
    not one customer is added or updated."""
    make, expected = REFUSED[case]
    repo = prior_state(tmp_path_factory, tmp_path)
    listing = tmp_path / "customers.csv"
    listing.write_bytes(make())
    result = refused("customers", "import", str(listing), repo=repo.path)
    problem, summary = result.err.splitlines()
    assert problem.startswith(f"error: {listing}{'' if expected[0] == ':' else ': '}{expected}")
    assert summary == (
        f"error: {listing}: 1 invalid row(s); nothing imported (hint: fix the rows listed, "
        "or pass --skip-invalid to import the valid rows only)"
    )
    record(record_property, GROUP, case, problem)


# case → (file content, the one error line after the file name): refused before any row is read
NOT_TEXT: dict[str, tuple[Callable[[], bytes], str]] = {
    "GBK-encoded rows": (
        lambda: HEADER.encode() + GOOD.encode("gbk"),
        ": row 2: not UTF-8 text (it looks like GBK/GB18030) "
        "(hint: import it with --encoding gbk, or save it as CSV UTF-8 in Excel)",
    ),
    "Excel workbook instead of CSV": (
        _xlsx,
        ": row 1: not UTF-8 text (it looks like binary data) "
        "(hint: save the CSV as UTF-8 (in Excel: CSV UTF-8) and import it again)",
    ),
}


@pytest.mark.parametrize("case", list(NOT_TEXT))
def test_a_file_not_in_utf8_imports_nothing(
    case: str, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory, record_property: Prop
) -> None:
    """When a CSV is not UTF-8 text, then one line names the file, its first such row and what
    to do, exit 1, and not one customer is added or updated."""
    make, expected = NOT_TEXT[case]
    repo = prior_state(tmp_path_factory, tmp_path)
    listing = tmp_path / "customers.csv"
    listing.write_bytes(make())
    result = refused("customers", "import", str(listing), repo=repo.path)
    assert result.err == f"error: {listing}{expected}\n"
    record(record_property, GROUP, case, error_line(result))


def test_missing_file(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory, record_property: Prop
) -> None:
    """When the CSV does not exist, then one line names it."""
    repo = prior_state(tmp_path_factory, tmp_path)
    result = refused("customers", "import", str(tmp_path / "nope.csv"), repo=repo.path)
    line = error_line(result)
    assert line == f"error: {tmp_path / 'nope.csv'}: file not found (hint: check the path)"
    record(record_property, GROUP, "file does not exist", line)


def test_byte_order_mark_is_accepted(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory, record_property: Prop
) -> None:
    """When Excel saves 'CSV UTF-8' (with a BOM), then the header is still read and every row
    is imported: four new customers, one renamed."""
    repo = prior_state(tmp_path_factory, tmp_path)
    listing = tmp_path / "customers.csv"
    listing.write_bytes(b"\xef\xbb\xbf" + (HEADER + GOOD).encode())
    before = {row[1]: row for row in snapshot(repo.path, {})["database"]["customers"]}
    result = run_notices("customers", "import", str(listing), cwd=repo.path)
    assert (result.code, result.err) == (0, "")
    after = {row[1]: row for row in snapshot(repo.path, {})["database"]["customers"]}
    assert len(after) == CUSTOMERS + 4 and set(before) < set(after)
    assert after["user000001@example.com"][2:4] == ("改过名的客户", "en")
    record(record_property, GROUP, "UTF-8 byte-order mark (accepted)", result.out.strip())


MILLION = 1_000_000
BAD_AT = MILLION - 10  # the data row that is bad: near the end, after 199 full chunks
PEAK_LIMIT_MB = 300


def _million_rows(path: Path) -> None:
    """A million customers, one invalid address near the end, written in large blocks."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        handle.write(HEADER)
        for start in range(1, MILLION + 1, 50_000):
            handle.write(
                "".join(
                    "broken-address,坏行,zh-CN,azure\n"
                    if number == BAD_AT
                    else f"m{number:07d}@example.com,客户{number},zh-CN,azure;powerbi\n"
                    for number in range(start, start + 50_000)
                )
            )


@pytest.mark.slow
def test_a_million_rows_with_one_bad_row_import_nothing(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory, record_property: Prop
) -> None:
    """When row 999,991 of a million is bad, then the error names it, the 999,989 rows written
    before it are rolled back, and the import's memory stays flat."""
    repo = prior_state(tmp_path_factory, tmp_path)
    listing = tmp_path / "million.csv"
    _million_rows(listing)
    before = snapshot(repo.path, {})
    result, peak_kib = run_measured("customers", "import", str(listing), cwd=repo.path)
    assert result.code == 1
    assert snapshot(repo.path, {}) == before
    problem, summary = result.err.splitlines()
    assert problem.startswith(f"error: {listing}: row {BAD_AT + 1}: invalid email b***")
    assert summary.startswith(f"error: {listing}: 1 invalid row(s); nothing imported")
    peak_mb = peak_kib / 1024
    assert peak_mb < PEAK_LIMIT_MB, f"peak {peak_mb:.0f} MB for {listing.stat().st_size} bytes"
    record(
        record_property,
        GROUP,
        "a million rows, one bad row near the end",
        f"{problem}; 0 of 999,999 valid rows kept; peak memory {peak_mb:.0f} MB "
        f"for a {listing.stat().st_size / 1e6:.0f} MB file",
    )
    record_property("figure", f"peak_rss_mb={peak_mb:.0f}")
    record_property("figure", "imported=0")
