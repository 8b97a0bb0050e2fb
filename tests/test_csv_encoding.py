"""Which encoding a customers CSV is read in: decided on the whole file, rows named as imported."""

from __future__ import annotations

from pathlib import Path

import pytest

from notifier.delivery.csv_encoding import choose, first_undecodable_row
from notifier.errors import NoticeError

HEADER = "email,name,locale,services\n"


def test_rows_are_numbered_as_the_import_numbers_them(tmp_path: Path) -> None:
    """When a quoted name spans two lines and a blank line comes before the GBK row, then the
    row named is the CSV row (4), not the line (6)."""
    path = tmp_path / "c.csv"
    path.write_bytes(
        (HEADER + 'a@example.com,"Wang\nWei",en,azure\n\nb@example.com,Li Na,en,azure\n').encode()
        + "\nc@example.com,赵敏,zh-CN,azure\n".encode("gbk")
    )
    assert first_undecodable_row(path, "utf-8") == 4
    with pytest.raises(NoticeError) as raised:
        choose(path)
    assert raised.value.row == 4 and "--encoding gbk" in str(raised.value.hint)


def test_a_utf8_file_with_a_bom_is_utf8(tmp_path: Path) -> None:
    """When Excel saves CSV UTF-8 (with its byte order mark), then the file is read as UTF-8."""
    path = tmp_path / "c.csv"
    path.write_bytes(b"\xef\xbb\xbf" + (HEADER + "a@example.com,王伟,zh-CN,azure\n").encode())
    assert choose(path) == "utf-8"


def test_gbk_rows_pasted_under_a_utf8_bom_get_no_gbk_hint(tmp_path: Path) -> None:
    """When a file starts with a UTF-8 byte order mark but holds GBK rows, then it is mixed, and
    the hint is to save it as UTF-8, not --encoding gbk (which would garble its header)."""
    path = tmp_path / "c.csv"
    path.write_bytes(
        b"\xef\xbb\xbf" + HEADER.encode() + "a@example.com,王伟,zh-CN,azure\n".encode("gbk")
    )
    with pytest.raises(NoticeError) as raised:
        choose(path)
    assert str(raised.value) == (
        f"{path}: row 2: not UTF-8 text (it looks like another encoding) "
        "(hint: save the CSV as UTF-8 (in Excel: CSV UTF-8) and import it again)"
    )


def test_a_workbook_is_binary_data(tmp_path: Path) -> None:
    """When the file holds NUL bytes and is not UTF-8 (a workbook saved as .xlsx), then it is
    called binary data, never GBK."""
    path = tmp_path / "c.csv"
    path.write_bytes(b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00\xb5U\x9a\x1e")
    with pytest.raises(NoticeError) as raised:
        choose(path)
    assert str(raised.value).startswith(
        f"{path}: row 1: not UTF-8 text (it looks like binary data)"
    )


def test_an_unknown_encoding_is_refused(tmp_path: Path) -> None:
    """When a caller asks for an encoding the import does not read, then it is refused."""
    path = tmp_path / "c.csv"
    path.write_text(HEADER, encoding="utf-8")
    with pytest.raises(NoticeError, match="unknown encoding 'latin-1'"):
        choose(path, "latin-1")
