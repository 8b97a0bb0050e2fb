"""Comparing two versions: alignment, character-level wording, moves and every quiet kind."""

from __future__ import annotations

import pytest
from support.repos import seed_text

from notifier.statement.diff import (
    DATE_LINE,
    DELETE,
    EQUAL,
    INSERT,
    MOVED,
    Change,
    Comparison,
    Move,
    apply,
    apply_ops,
    char_diff,
    compare,
    explain,
    is_date_line,
    normalise,
    render_sections,
)
from notifier.statement.notice import parse_text

ENGLISH = """---
title: Example Privacy Statement
version: 2024-02-01
---

# Example Privacy Statement {#privacy-statement}

Effective date: February 1, 2024

## Summary {#summary}

This statement explains how Example Cloud collects and uses your personal data.
We never sell your personal data to third parties.

## What information we collect {#collection}

We collect the information you give us when you create an account, such as your name and
email address. We also collect usage data from our servers.

We keep your account data for one year after you close your account.

### Cookies {#cookies}

We use cookies to keep you signed in. You can manage cookies in your
[browser settings](https://example.com/cookies).

## How we share information {#sharing}

We share information with:

- service providers that process data on our behalf;
- law enforcement when the law requires it;
- a successor in a merger or acquisition.

## Contact us {#contact}

Write to privacy@example.com with any question about this statement.
"""


def diff(old: str, new: str) -> Comparison:
    comparison = compare(parse_text(old, "old.md"), parse_text(new, "new.md"))
    assert apply(comparison) == render_sections(parse_text(new, "new.md").sections)
    for change in comparison.changes:
        assert apply_ops(change.old_text, change.ops) == change.new_text
        assert len(change.tags) == len(change.ops)
    return comparison


def only(comparison: Comparison) -> Change:
    assert len(comparison.changes) == 1, [(c.section_id, c.kind) for c in comparison.changes]
    return comparison.changes[0]


def edited(text: str, old: str, new: str, count: int = 1) -> str:
    assert text.count(old) == count, old
    return text.replace(old, new)


def test_same_text_has_no_changes() -> None:
    """When a version is compared with itself, then there are no changes at all."""
    comparison = diff(seed_text(), seed_text())
    assert comparison.changes == ()
    assert not comparison.changed
    assert all(p.matched_by == "id" and p.change is None for p in comparison.pairs)


def test_deleted_negation_is_one_character() -> None:
    """When 不 is deleted from a promise, then the change is exactly that character."""
    new = edited(seed_text(), "我们不会以此方式保存", "我们会以此方式保存")
    change = only(diff(seed_text(), new))
    assert change.kind == "modified"
    assert change.section == "我们如何收集和使用您的数据 > 付款数据"
    assert change.section_id == "payment-data"
    assert change.deleted == ("不",)
    assert change.inserted == ()
    assert change.labels == ()
    assert (DELETE, "不") in change.ops


def test_one_year_becomes_three_years() -> None:
    """When 一年 becomes 三年, then only 一 is deleted and only 三 inserted."""
    old = edited(seed_text(), "我们持续保存您提供的信息。", "我们持续保存您提供的信息一年。")
    new = edited(old, "信息一年。", "信息三年。")
    change = only(diff(old, new))
    assert (change.kind, change.section_id) == ("modified", "retention")
    assert (change.deleted, change.inserted) == (("一",), ("三",))
    assert change.ops[1:4] == ((DELETE, "一"), (INSERT, "三"), (EQUAL, change.ops[3][1]))
    assert change.ops[3][1].startswith("年。")


def test_english_wording_change() -> None:
    """When an English retention period changes, then the words are the change."""
    new = edited(ENGLISH, "for one year after", "for three years after")
    change = only(diff(ENGLISH, new))
    assert (change.kind, change.section_id) == ("modified", "collection")
    assert change.section == "What information we collect"
    assert change.deleted == ("one year",)
    assert change.inserted == ("three years",)


def test_whitespace_and_reflow_are_formatting_in_chinese() -> None:
    """When a Chinese paragraph is re-wrapped and spaces added, then it is formatting."""
    new = edited(
        seed_text(),
        "服务允许您以不同的隐私权实践购买、认购或使用",
        "服务允许您以不同的隐私权实践\n购买、认购或使用",
    )
    new = edited(new, "我们使用管理员数据以完成", "我们使用管理员数据 以完成")
    comparison = diff(seed_text(), new)
    scope, admin = comparison.changes
    assert (scope.section_id, scope.kind, scope.labels) == (
        "scope",
        "formatting",
        ("reflow", "whitespace"),
    )
    assert (admin.section_id, admin.kind, admin.labels) == (
        "administrator-data",
        "formatting",
        ("whitespace",),
    )
    assert scope.inserted == scope.deleted == admin.inserted == admin.deleted == ()


def test_reflow_in_english_is_formatting() -> None:
    """When an English paragraph is wrapped at other words, then it is formatting (reflow)."""
    new = edited(
        ENGLISH,
        "such as your name and\nemail address. We also",
        "such\nas your name and email address.  We also",
    )
    change = only(diff(ENGLISH, new))
    assert (change.kind, change.labels) == ("formatting", ("reflow", "whitespace"))


def test_full_and_half_width_punctuation_is_formatting() -> None:
    """When full-width brackets, quotes and commas become half-width, then it is formatting."""
    new = edited(seed_text(), "（“服务”）。由世纪互联", '("服务")。由世纪互联')
    new = edited(new, "如雇主或学校）提供", "如雇主或学校)提供")
    change = only(diff(seed_text(), new))
    assert (change.section_id, change.kind) == ("scope", "formatting")
    assert change.labels == ("punctuation-width",)


def test_cjk_latin_spacing_is_formatting() -> None:
    """When the space between Azure and 平台 is dropped, then it is CJK–Latin spacing."""
    new = edited(seed_text(), "[Azure 平台开发人员中心](#)", "[Azure平台开发人员中心](#)")
    change = only(diff(seed_text(), new))
    assert (change.section_id, change.kind, change.labels) == (
        "scope",
        "formatting",
        ("cjk-spacing",),
    )


def test_emphasis_is_formatting() -> None:
    """When a sentence is made bold, then it is a Markdown-only change."""
    new = edited(
        seed_text(), "我们致力于保护您的个人信息安全。", "**我们致力于保护您的个人信息安全。**"
    )
    change = only(diff(seed_text(), new))
    assert (change.section_id, change.kind) == ("security", "formatting")
    assert change.labels == ("emphasis", "markdown")
    assert [op for op, _ in change.ops if op != EQUAL] == [INSERT, INSERT]


def test_link_target_is_formatting() -> None:
    """When a link keeps its text but gets a new target, then it is labelled link-target."""
    new = edited(
        seed_text(), "[客户支持](#)联系我们", "[客户支持](https://support.example.com/)联系我们"
    )
    change = only(diff(seed_text(), new))
    assert (change.section_id, change.kind) == ("contact", "formatting")
    assert change.labels == ("link-target", "markdown")
    english = edited(
        ENGLISH, "(https://example.com/cookies)", "(https://example.com/privacy#cookies)"
    )
    assert only(diff(ENGLISH, english)).labels == ("link-target", "markdown")


def test_list_reorder_is_formatting() -> None:
    """When two list items swap places, then it is a reorder, not a deletion and an insertion."""
    first = "- 与国家安全、国防安全直接相关的；\n- 与公共安全、公共卫生、重大公共利益直接相关的；"
    swapped = "- 与公共安全、公共卫生、重大公共利益直接相关的；\n- 与国家安全、国防安全直接相关的；"
    change = only(diff(seed_text(), edited(seed_text(), first, swapped)))
    assert (change.section_id, change.kind, change.labels) == (
        "your-rights",
        "formatting",
        ("reorder",),
    )
    assert change.inserted == change.deleted == ()
    assert change.moves == ()


def test_list_reorder_in_english() -> None:
    """When English list items are reordered, then it is formatting with label reorder."""
    old = "- law enforcement when the law requires it;\n- a successor in a merger or acquisition."
    new = "- a successor in a merger or acquisition.\n- law enforcement when the law requires it;"
    change = only(diff(ENGLISH, edited(ENGLISH, old, new)))
    assert (change.section_id, change.kind) == ("sharing", "formatting")
    assert change.labels == ("reorder", "whitespace")  # the last item gained a line break


def test_moved_paragraph_within_a_section() -> None:
    """When a paragraph moves to the end of its section, then it is one move, not green text."""
    paragraph = "我们除使用付款数据完成交易外，也将使用付款数据监测和防止欺诈。"
    old = seed_text()
    new = edited(old, paragraph + "\n\n", "")
    new = edited(
        new,
        "但是，我们不会以此方式保存与您支付工具有关的安全码。",
        "但是，我们不会以此方式保存与您支付工具有关的安全码。\n\n" + paragraph,
    )
    change = only(diff(old, new))
    assert (change.section_id, change.kind) == ("payment-data", "moved")
    assert change.inserted == change.deleted == ()
    assert change.moves == (Move(paragraph, "payment-data", "payment-data"),)
    assert (change.moved_from, change.moved_to) == ("payment-data", "payment-data")


def test_moved_sentence_across_sections() -> None:
    """When a sentence moves to another section, then both sections report a move."""
    sentence = "我们除使用付款数据完成交易外，也将使用付款数据监测和防止欺诈。"
    anchor = "我们使用管理员数据以完成您要求的交易、管理您的账户、改善服务及检测并防止诈骗。"
    new = edited(edited(seed_text(), sentence + "\n\n", ""), anchor, anchor + sentence)
    comparison = diff(seed_text(), new)
    arrived, left = comparison.changes
    assert (arrived.section_id, arrived.kind, arrived.moved_from) == (
        "administrator-data",
        "moved",
        "payment-data",
    )
    assert (left.section_id, left.kind, left.moved_to) == (
        "payment-data",
        "moved",
        "administrator-data",
    )
    assert arrived.moves == left.moves == (Move(sentence, "payment-data", "administrator-data"),)
    assert arrived.inserted == arrived.deleted == left.inserted == left.deleted == ()
    assert [tag for tag in left.tags if tag] == [MOVED]


def test_moved_paragraph_across_sections_is_one_move() -> None:
    """When a paragraph of two sentences moves to another section, then it is one move."""
    paragraph = (
        "We collect the information you give us when you create an account, such as your name "
        "and\nemail address. We also collect usage data from our servers."
    )
    new = edited(ENGLISH, paragraph + "\n\n", "")
    new = edited(
        new,
        "We use cookies to keep you signed in.",
        paragraph + "\n\nWe use cookies to keep you signed in.",
    )
    collection, cookies = diff(ENGLISH, new).changes
    assert (collection.kind, collection.moved_to) == ("moved", "cookies")
    assert (cookies.kind, cookies.moved_from) == ("moved", "collection")
    assert cookies.moves == (Move(paragraph, "collection", "cookies"),)
    assert cookies.inserted == cookies.deleted == collection.inserted == collection.deleted == ()


def test_moved_english_sentence_with_an_edit_elsewhere() -> None:
    """When a sentence moves and another word changes, then the move is not wording."""
    sentence = "We never sell your personal data to third parties."
    new = edited(ENGLISH, "\n" + sentence, "")
    new = edited(new, "with any question about", "with any question about our practices or")
    new = edited(new, "this statement.\n", "this statement. " + sentence + "\n")
    comparison = diff(ENGLISH, new)
    summary, contact = comparison.changes
    assert (summary.kind, summary.moved_to, summary.deleted) == ("moved", "contact", ())
    assert (contact.kind, contact.moved_from) == ("modified", "summary")
    assert contact.inserted == ("our practices or ",)
    assert contact.moves == (Move(sentence, "summary", "contact"),)


def test_renamed_heading_with_same_id() -> None:
    """When a heading is reworded but keeps its id, then it is a heading change of that id."""
    new = edited(seed_text(), "## 试用期 {#trials}", "## 服务试用 {#trials}")
    change = only(diff(seed_text(), new))
    assert (change.section_id, change.kind, change.labels) == ("trials", "modified", ("heading",))
    assert (change.old_title, change.new_title) == ("试用期", "服务试用")
    assert change.inserted == change.deleted == ()
    assert all(op == EQUAL for op, _ in change.ops)


def test_renamed_id_pairs_by_similarity() -> None:
    """When an id is renamed but heading and text stay, then the sections still pair up."""
    new = edited(seed_text(), "## 试用期 {#trials}", "## 试用期 {#trial-period}")
    comparison = diff(seed_text(), new)
    change = only(comparison)
    assert (change.section_id, change.old_section_id) == ("trial-period", "trials")
    assert (change.kind, change.labels) == ("formatting", ("section-id",))
    pair = next(p for p in comparison.pairs if p.change is change)
    assert pair.matched_by == "similarity" and pair.similarity == 1.0


def test_renamed_heading_and_id_with_edited_text_pair_by_similarity() -> None:
    """When heading, id and a few words change together, then it is one modified section."""
    new = edited(seed_text(), "## 未成年人保护 {#minors}", "## 儿童的个人信息 {#children}")
    new = edited(new, "如您是 18 岁以下的未成年人", "如您是 14 岁以下的儿童")
    change = only(diff(seed_text(), new))
    assert (change.section_id, change.old_section_id, change.kind) == (
        "children",
        "minors",
        "modified",
    )
    assert set(change.labels) == {"heading", "section-id"}


def test_added_and_removed_sections() -> None:
    """When a section is added and another removed, then each is reported with its text."""
    added = (
        "## 自动化决策 {#automated-decisions}\n\n"
        "我们不会仅通过自动化决策对您作出有重大影响的决定。\n\n"
    )
    new = edited(seed_text(), "## 未成年人保护 {#minors}", added + "## 未成年人保护 {#minors}")
    trials = seed_text()[seed_text().index("## 试用期") : seed_text().index("## 预览发行")]
    new = edited(new, trials, "")
    removed, new_section = diff(seed_text(), new).changes
    assert (removed.kind, removed.section_id, removed.section) == ("removed", "trials", "试用期")
    assert removed.deleted == (trials.split("\n\n", 1)[1].strip("\n"),)
    assert (new_section.kind, new_section.section_id) == ("added", "automated-decisions")
    assert new_section.inserted == ("我们不会仅通过自动化决策对您作出有重大影响的决定。",)
    assert new_section.old_text == "" and removed.new_text == ""


def test_date_line_is_labelled() -> None:
    """When only the 最后更新时间 line changes, then the change is labelled date-line."""
    new = edited(seed_text(), "最后更新时间：2018 年 11 月 1 日", "最后更新时间：2024 年 3 月 1 日")
    change = only(diff(seed_text(), new))
    assert (change.section_id, change.kind, change.labels) == (
        "privacy-statement",
        "modified",
        (DATE_LINE,),
    )
    assert change.inserted == change.deleted == ()
    assert set(change.tags) == {"", DATE_LINE}


def test_english_effective_date_is_labelled() -> None:
    """When the Effective date line changes, then it is a date-line change, not wording."""
    new = edited(ENGLISH, "Effective date: February 1, 2024", "Effective date: **March 15, 2025**")
    change = only(diff(ENGLISH, new))
    assert (change.kind, change.labels, change.inserted, change.deleted) == (
        "modified",
        (DATE_LINE,),
        (),
        (),
    )


def test_date_line_with_other_wording_keeps_the_wording() -> None:
    """When the date line and a sentence of the same section change, then only the sentence is
    wording."""
    new = edited(ENGLISH, "Effective date: February 1, 2024", "Effective date: March 1, 2025")
    new = edited(new, "how Example Cloud collects", "how Example Cloud and its affiliates collect")
    comparison = diff(ENGLISH, new)
    date_section, summary = comparison.changes
    assert date_section.labels == (DATE_LINE,)
    assert summary.inserted == ("and its affiliates ",)
    assert summary.deleted == ("s",)


def test_sections_swapped_are_moved() -> None:
    """When two sections swap places, then one is reported as moved, with no text change."""
    seed = seed_text()
    i, j, k = seed.index("## 试用期"), seed.index("## 预览发行"), seed.index("## 未成年人保护")
    change = only(diff(seed, seed[:i] + seed[j:k] + seed[i:j] + seed[k:]))
    assert (change.kind, change.labels) == ("moved", ("section-order",))
    assert change.section_id in ("trials", "previews")


def test_any_two_versions_compare() -> None:
    """When versions further apart are compared, then every change between them appears."""
    v2 = edited(seed_text(), "我们不会以此方式保存", "我们会以此方式保存")
    v3 = edited(v2, "30 天内予以回复", "15 个工作日内予以回复")
    assert [c.section_id for c in diff(seed_text(), v3).changes] == ["payment-data", "contact"]
    assert [c.section_id for c in diff(v3, seed_text()).changes] == ["payment-data", "contact"]


def test_files_without_front_matter_or_headings() -> None:
    """When plain Markdown without front matter or headings changes, then it still compares."""
    change = only(diff("我们收集您的姓名。\n", "我们收集您的姓名和电话号码。\n"))
    assert (change.section_id, change.section, change.kind) == ("preamble", "", "modified")
    assert change.inserted == ("和电话号码",)


def test_normalise_folds_what_does_not_change_meaning() -> None:
    """When text differs only in width, spacing, reflow or Markdown, then it normalises alike."""
    assert normalise("**客户数据**（“服务”）\n包括 Azure 平台。") == normalise(
        '客户数据("服务")包括Azure平台.'
    )
    assert normalise("- see [our policy](https://a.example/p) for *details*") == normalise(
        "* see [our policy](/policy) for details"
    )
    assert normalise("我们不会出售") != normalise("我们会出售")
    assert normalise("（详见下文）") == "(详见下文)"


def test_explain_names_each_quiet_kind() -> None:
    """When two texts differ only quietly, then explain names why."""
    assert explain("Azure 平台", "Azure平台") == ("cjk-spacing",)
    assert explain("（服务）", "(服务)") == ("punctuation-width",)
    assert explain("*数据*", "数据") == ("emphasis", "markdown")
    assert explain("中国\n境内", "中国境内") == ("reflow", "whitespace")


def test_date_lines_are_recognised() -> None:
    """When a line only states a date of update or effect, then it is a date line."""
    for line in (
        "最后更新时间：2018 年 11 月 1 日",
        "Effective date: **May 25, 2018**",
        "2026 年 5 月 4 日生效",
        "*生效时间：2017 年 9 月 28 日*",
        '{: datetime="2026-05-04" }',
        "Effective February 25, 2025",
    ):
        assert is_date_line(line), line
    assert not is_date_line("我们将在验证您身份后 30 天内予以回复。")
    assert not is_date_line("We delete data 30 days after May 25, 2018 at the latest.")


@pytest.mark.parametrize(
    ("old", "new"),
    [("我们保存一年", "我们保存三年"), ("", "新增"), ("删除", ""), ("abc", "abc")],
)
def test_char_diff_round_trips(old: str, new: str) -> None:
    """When two strings are diffed by character, then the ops rebuild both."""
    ops = char_diff(old, new)
    assert apply_ops(old, ops) == new
    assert "".join(t for op, t in ops if op != INSERT) == old


def test_apply_refuses_ops_of_another_text() -> None:
    """When ops are applied to a text they were not made from, then it is an error."""
    with pytest.raises(ValueError, match="do not start"):
        apply_ops("我们保存两年", char_diff("我们保存一年", "我们保存三年"))
