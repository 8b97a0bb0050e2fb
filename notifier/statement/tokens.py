"""Numbers and dates as a reader takes them in: whole. A redline that shows `201[-8-]{+6+}`
or `[-1-]1{+2+} 月` makes the reader rebuild both values; this module says where each number
and each date sits, so the diff can show the old value replaced by the new one.

`DATE` is also what makes a line a date line (`diff.is_date_line`), and `DATE_IN_TEXT` what
`wording.periods` sets aside so that 2018 年 11 月 is not read as a period of 2018 years: one
definition of a date for all three.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from dataclasses import dataclass

_MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
DATE = re.compile(
    r"\d{4}\s*年\s*\d{1,2}\s*月(?:\s*\d{1,2}\s*日)?|\d{4}[-/.]\d{1,2}[-/.]\d{1,2}"
    rf"|{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}|\d{{1,2}}\s+{_MONTH},?\s+\d{{4}}",
    re.IGNORECASE,
)
# A date in running text may leave out the year (11 月 1 日); a date line never does.
DATE_IN_TEXT = re.compile(rf"{DATE.pattern}|\d{{1,2}}\s*月\s*\d{{1,2}}\s*[日号]", re.IGNORECASE)
# Digits of any width with the decimal points and thousands separators inside them (3.5,
# 1,000, ２０１８), or a run of Chinese numerals (十四, 二十四, 一百).
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*|[〇零一二两三四五六七八九十百千万亿]+")


@dataclass(frozen=True, slots=True)
class Spans:
    """Where the numbers, or the dates, of one text are: ordered, never overlapping."""

    starts: tuple[int, ...]
    ends: tuple[int, ...]

    @classmethod
    def find(cls, pattern: re.Pattern[str], text: str) -> Spans:
        found = [match.span() for match in pattern.finditer(text)]
        return cls(tuple(s for s, _ in found), tuple(e for _, e in found))

    def around(self, offset: int) -> tuple[int, int] | None:
        """The span `offset` falls strictly inside: an edit starting or ending there would
        split it."""
        k = bisect_left(self.starts, offset) - 1
        if k >= 0 and self.ends[k] > offset:
            return self.starts[k], self.ends[k]
        return None


def numbers(text: str) -> Spans:
    """The numbers in `text`: 2018, 1,000, 3.5, ２０１８, 十四."""
    return Spans.find(_NUMBER, text)


def dates(text: str) -> Spans:
    """The dates written as one unit in `text`: 2018 年 11 月 1 日, 2018-11-01, 2018/11/1,
    November 1, 2018, 1 November 2018, 11 月 1 日."""
    return Spans.find(DATE_IN_TEXT, text)
