"""Numbers and dates change whole in every redline: never `201[-8-]{+6+}`, never digit by digit."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from notifier.statement.diff import (
    DATE_LINE,
    DELETE,
    EQUAL,
    FORMAT,
    INSERT,
    Change,
    Op,
    apply_ops,
    char_diff,
    compare,
)
from notifier.statement.notice import parse_text
from notifier.statement.redline import redline_html, redline_text, summary_markdown
from notifier.statement.tokens import Spans, dates, numbers

ZH = "## 生效 {{#effect}}\n\n我们保存您的信息。本声明自 {} 起生效。\n"
EN = (
    "## Effect {{#effect}}\n\n"
    "We keep your data. This statement takes effect on {} for all services.\n"
)
DATES = [
    ("2018 年 11 月 1 日", "2026 年 12 月 4 日"),
    ("2018年11月1日", "2018年11月21日"),
    ("2018-11-01", "2026-12-04"),
    ("2018/11/1", "2026/12/4"),
    ("November 1, 2018", "November 4, 2026"),
    ("1 November 2018", "4 November 2026"),
]
NUMBERS = [
    ("我们将保存日志 13 个月。", "我们将保存日志 14 个月。", "13", "14"),
    ("每月最多导出 1,000 条记录。", "每月最多导出 1,500 条记录。", "1,000", "1,500"),
    ("单个文件不超过 3.5 GB。", "单个文件不超过 3.25 GB。", "3.5", "3.25"),
    ("本声明自２０１８年起适用。", "本声明自２０２６年起适用。", "２０１８", "２０２６"),
    ("我们将在十四日内回复。", "我们将在十八日内回复。", "十四", "十八"),
    ("We keep logs for 18 months.", "We keep logs for 13 months.", "18", "13"),
    (
        "Export up to 1,000 records a month.",
        "Export up to 1,500 records a month.",
        "1,000",
        "1,500",
    ),
]


def only_change(old: str, new: str) -> Change:
    comparison = compare(parse_text(old, "old.md"), parse_text(new, "new.md"))
    assert len(comparison.changes) == 1, comparison.changes
    change = comparison.changes[0]
    assert apply_ops(change.old_text, change.ops) == change.new_text
    return change


@pytest.mark.parametrize("template", [ZH, EN], ids=["zh", "en"])
@pytest.mark.parametrize(("old", "new"), DATES)
def test_a_changed_date_is_replaced_whole(template: str, old: str, new: str) -> None:
    """When a date written as one unit changes, then the redline replaces the whole date,
    in text, HTML and Markdown alike."""
    change = only_change(template.format(old), template.format(new))
    assert (change.deleted, change.inserted) == ((old,), (new,))
    expected = (
        f"本声明自 [-{old}-]{{+{new}+}} 起生效。"
        if template is ZH
        else f"This statement takes effect on [-{old}-]{{+{new}+}} for all services."
    )
    assert redline_text(change, color=False, context=None).endswith(expected)
    assert f"<del>{old}</del><ins>{new}</ins>" in redline_html(change)
    comparison = compare(
        parse_text(template.format(old), "old.md"), parse_text(template.format(new), "new.md")
    )
    assert f"<del>{old}</del><ins>{new}</ins>" in summary_markdown(comparison, None)


@pytest.mark.parametrize(("old", "new", "before", "after"), NUMBERS)
def test_a_changed_number_is_replaced_whole(old: str, new: str, before: str, after: str) -> None:
    """When a number changes (digits of either width, separators, Chinese numerals), then the
    whole old number is deleted and the whole new one inserted."""
    change = only_change(f"# 范围 {{#scope}}\n\n{old}\n", f"# 范围 {{#scope}}\n\n{new}\n")
    assert (change.deleted, change.inserted) == ((before,), (after,))
    assert [op for op in change.ops if op[0] != EQUAL] == [(DELETE, before), (INSERT, after)]


def test_the_date_line_changes_whole_and_stays_a_date_line() -> None:
    """When only the 最后更新时间 line changes, then it is still a date-line change, shown as the
    old date replaced by the new one."""
    old = "# 隐私声明 {#privacy}\n\n最后更新时间：2018 年 11 月 1 日\n\n我们保存您的信息。\n"
    change = only_change(old, old.replace("2018 年 11 月 1 日", "2026 年 12 月 4 日"))
    assert (change.kind, change.labels, change.inserted, change.deleted) == (
        "modified",
        (DATE_LINE,),
        (),
        (),
    )
    assert redline_text(change, color=False, context=None) == (
        "最后更新时间：[-2018 年 11 月 1 日-]{+2026 年 12 月 4 日+}\n\n我们保存您的信息。"
    )


def test_spacing_inside_a_date_stays_formatting() -> None:
    """When only the spaces around a date's words change, then the change is formatting and
    the year stays unchanged text: the date is not shown as replaced."""
    old = "# 范围 {#scope}\n\n本声明自2018年11月1日起生效。\n"
    change = only_change(old, old.replace("2018年11月1日", " 2018 年 11 月 1 日"))
    assert (change.kind, change.labels) == ("formatting", ("cjk-spacing",))
    assert (EQUAL, "2018") in change.ops
    assert set(change.tags) <= {"", FORMAT}


def test_unchanged_numbers_around_an_edit_stay_unchanged() -> None:
    """When one number of a sentence changes, then the numbers and words around it stay
    unchanged text."""
    ops = char_diff(
        "在 30 天内删除 2018 年的 1,000 条记录。", "在 30 天内删除 2026 年的 1,000 条记录。"
    )
    assert ops == [
        (EQUAL, "在 30 天内删除 "),
        (DELETE, "2018"),
        (INSERT, "2026"),
        (EQUAL, " 年的 1,000 条记录。"),
    ]


def test_numbers_and_dates_are_found_in_any_form() -> None:
    """When text holds numbers and dates, then each is found as one span."""
    text = "自 2018 年 11 月 1 日起，每月 1,000 条、3.5 GB、２０１８、十四天；November 1, 2018。"
    assert spans(numbers, text) == [
        "2018", "11", "1", "1,000", "3.5", "２０１８", "十四", "1", "2018"
    ]  # fmt: skip
    assert spans(dates, text) == ["2018 年 11 月 1 日", "November 1, 2018"]
    for form in ("2018-11-01", "2018/11/1", "1 November 2018", "11 月 1 日"):
        assert spans(dates, f"于 {form} 生效") == [form]


def spans(find: Callable[[str], Spans], text: str) -> list[str]:
    found = find(text)
    return [text[start:end] for start, end in zip(found.starts, found.ends, strict=True)]


# --- the property: no edit boundary inside a number -------------------------------------------

NUMBER = re.compile(r"\d+(?:[.,]\d+)*|[〇零一二两三四五六七八九十百千万亿]+")
PIECES = (
    "2018", "2026", "11", "12", "1", "4", "30", "13", "0", "1,000", "1,500", "3.5", "3.25",
    "２０１８", "２", "十四", "十八", "二十四", "一", "年", "月", "日", " ", "-", "/", ".", ",",
    "November", "May", "我们保存", "天", "个月", "days", "。", "\n",
)  # fmt: skip
SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def edited(draw: st.DrawFn) -> tuple[str, str]:
    """A text of numbers, dates and words, and the same text with a few pieces changed."""
    old = draw(st.lists(st.sampled_from(PIECES), max_size=16))
    new = list(old)
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(new)))
        piece = draw(st.sampled_from(PIECES))
        action = draw(st.sampled_from(("replace", "insert", "delete")))
        if action == "insert" or at == len(new):
            new.insert(at, piece)
        elif action == "replace":
            new[at] = piece
        else:
            del new[at]
    return "".join(old), "".join(new)


def split_numbers(ops: tuple[Op, ...] | list[Op]) -> list[tuple[str, str]]:
    """The numbers of either text that an insertion or deletion starts or ends inside."""
    split = []
    for side, skipped in (("old", INSERT), ("new", DELETE)):
        text = "".join(t for op, t in ops if op != skipped)
        cuts: set[int] = set()
        at = 0
        for op, piece in ops:
            if op == skipped:
                cuts.add(at)  # the other side's text goes in here
            else:
                if op != EQUAL:
                    cuts.update((at, at + len(piece)))
                at += len(piece)
        for match in NUMBER.finditer(text):
            if any(match.start() < cut < match.end() for cut in cuts):
                split.append((side, match.group()))
    return split


@SETTINGS
@given(edited())
def test_no_edit_splits_a_number(pair: tuple[str, str]) -> None:
    """When any text of numbers and dates is edited, then no insertion or deletion starts or
    ends between two digits (or numerals) of one number, and the ops still rebuild both."""
    old, new = pair
    ops = char_diff(old, new)
    assert apply_ops(old, ops) == new
    assert split_numbers(ops) == []


@SETTINGS
@given(edited(), edited())
def test_no_redline_of_a_notice_splits_a_number(
    body: tuple[str, str], title: tuple[str, str]
) -> None:
    """When notices with numbers in headings and sentences are compared, then no change's
    redline (body or heading) splits a number."""
    old = f"## 范围{title[0].strip()} {{#scope}}\n\n{body[0]}\n"
    new = f"## 范围{title[1].strip()} {{#scope}}\n\n{body[1]}\n"
    for change in compare(parse_text(old, "old.md"), parse_text(new, "new.md")).changes:
        assert apply_ops(change.old_text, change.ops) == change.new_text
        assert split_numbers(change.ops) == []
        assert split_numbers(change.title_ops) == []
