"""Which encoding a customers CSV is in, judged on the whole file before a row is imported.

Excel on Chinese Windows saves "CSV" in GBK. Its ASCII rows are valid UTF-8 too, and now and then
so is a row of Chinese names: judged line by line, such rows would go in as mojibake. So a file is
read as UTF-8 only when all of it decodes as UTF-8; a GBK/GB18030 file is refused with the option
that reads it, and read in the encoding the user names.
"""

from __future__ import annotations

import codecs
import csv
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from notifier.errors import NoticeError

ENCODINGS = ("utf-8", "gbk", "gb18030")  # what `--encoding` accepts
_CJK = ("gbk", "gb18030")  # the narrower first: the hint names the first that reads the file
_CHUNK = 1 << 20
_SAVE_AS_UTF8 = "save the CSV as UTF-8 (in Excel: CSV UTF-8) and import it again"


def choose(path: Path, asked: str | None = None) -> str:
    """The encoding to read `path` in: `asked`, else UTF-8 when the whole file is UTF-8.

    Refuses (NoticeError naming the file and the first row that does not decode) a file that is
    not in the encoding asked; UTF-16 text; and a file asked to be read as GBK/GB18030 that is
    UTF-8 with non-ASCII text, which the other encoding would garble.
    """
    if asked is not None and asked not in ENCODINGS:
        raise NoticeError(f"unknown encoding '{asked}'", hint=f"use one of: {', '.join(ENCODINGS)}")
    with path.open("rb") as handle:
        start = handle.read(2)
    if start in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        raise NoticeError(
            'UTF-16 text (Excel\'s "Unicode Text", tab-separated), not a CSV',
            path=path,
            hint='in Excel, save it as "CSV UTF-8 (Comma delimited)" and import that',
        )
    if asked is None or asked == "utf-8":
        if _decodes(path, "utf-8"):
            return "utf-8"
        raise _not_utf8(path)
    if _decodes(path, "utf-8") and not _is_ascii(path):
        raise NoticeError(
            f"the file is UTF-8 text: read as {asked.upper()}, its names would be garbled",
            path=path,
            hint=f"import it without --encoding {asked}",
        )
    if _decodes(path, asked):
        return asked
    raise NoticeError(
        f"not {asked.upper()} text",
        path=path,
        row=first_undecodable_row(path, asked),
        hint=_SAVE_AS_UTF8,
    )


def _not_utf8(path: Path) -> NoticeError:
    """Why a file that is not UTF-8 is refused, and the option that reads it if there is one."""
    row = first_undecodable_row(path, "utf-8")
    guess = "another encoding"
    if _holds(path, b"\x00"):
        guess = "binary data"
    elif not _starts_with_utf8_bom(path):
        readable = next((e for e in _CJK if _decodes(path, e)), None)
        if readable is not None:
            return NoticeError(
                "not UTF-8 text (it looks like GBK/GB18030)",
                path=path,
                row=row,
                hint=f"import it with --encoding {readable}, or save it as CSV UTF-8 in Excel",
            )
    return NoticeError(
        f"not UTF-8 text (it looks like {guess})", path=path, row=row, hint=_SAVE_AS_UTF8
    )


def _chunks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            yield chunk


def _decodes(path: Path, encoding: str) -> bool:
    """Whether the whole file decodes, read in chunks: memory stays flat however big it is."""
    decoder = codecs.getincrementaldecoder(encoding)()
    try:
        for chunk in _chunks(path):
            decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _is_ascii(path: Path) -> bool:
    return all(chunk.isascii() for chunk in _chunks(path))


def _holds(path: Path, byte: bytes) -> bool:
    return any(byte in chunk for chunk in _chunks(path))


def _starts_with_utf8_bom(path: Path) -> bool:
    """A UTF-8 byte order mark on a file that is not UTF-8: rows pasted in from elsewhere, not
    a GBK file (whose decoding would turn the mark into the header's first characters)."""
    with path.open("rb") as handle:
        return handle.read(len(codecs.BOM_UTF8)) == codecs.BOM_UTF8


def first_undecodable_row(path: Path, encoding: str) -> int:
    """The CSV row holding the first byte that does not decode, numbered as the import numbers
    rows: the header is row 1, a quoted line break joins lines into one row, blank lines are no
    rows. Lines split at b"\\n" alike in UTF-8, GBK and GB18030 (no multibyte character holds it).
    """
    bad = False

    def lines(handle: BinaryIO) -> Iterator[str]:
        nonlocal bad
        for raw in handle:
            try:
                yield raw.decode(encoding)
            except UnicodeDecodeError:
                bad = True
                yield raw.decode(encoding, "replace")

    row = 0
    with path.open("rb") as handle:
        try:
            for record in csv.reader(lines(handle)):
                row += bool(record)
                if bad:
                    return row
        except csv.Error:  # a field past csv's size limit: the bad byte is in the row it was in
            pass
    return row + 1
