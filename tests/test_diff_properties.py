"""Properties of the comparison on generated notices: it loses nothing and invents nothing."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from notifier.statement.diff import apply, apply_ops, compare, normalise, render_sections
from notifier.statement.notice import Notice, parse_text

SENTENCES = (
    "我们不会出售您的个人信息。",
    "我们会出售您的个人信息。",
    "客户数据将仅存储在位于中国的数据中心。",
    "客户数据将存储在位于中国或新加坡的数据中心。",
    "我们将保存您的信息一年。",
    "我们将保存您的信息三年。",
    "**重要**：请阅读[本声明](#)。",
    "重要：请阅读[本声明](https://example.com/)。",
    "服务包括 Microsoft Azure 和 Office 365（“服务”）。",
    "服务包括Microsoft Azure和Office 365(\"服务\")。",
    "最后更新时间：2018 年 11 月 1 日",
    "最后更新时间：2024 年 3 月 1 日",
    "Effective date: February 1, 2024",
    "We keep your account data for one year.",
    "We keep your account data for three years.",
    "We never sell your personal data.",
    "You can manage cookies in your *browser settings*.",
    "与国家安全、国防安全直接相关的；",
    "与公共安全、公共卫生、重大公共利益直接相关的；",
)
TITLES = ("范围", "客户数据", "我们如何共享您的信息", "Cookies", "Contact us", "试用期")
IDS = ("scope", "customer-data", "sharing", "cookies", "contact", "trials")
GLUE = ("", " ", "\n", "\n\n")


@st.composite
def paragraphs(draw: st.DrawFn) -> str:
    sentences = draw(st.lists(st.sampled_from(SENTENCES), min_size=1, max_size=4))
    if draw(st.booleans()):
        return "\n".join(f"- {s}" for s in sentences)
    return "".join(s + draw(st.sampled_from(GLUE)) for s in sentences).strip()


@st.composite
def notices(draw: st.DrawFn) -> str:
    parts = []
    if draw(st.booleans()):
        parts.append(draw(paragraphs()))
    for _ in range(draw(st.integers(0, 6))):
        title = draw(st.sampled_from(TITLES))
        level = draw(st.integers(1, 3))
        ident = draw(st.sampled_from((*IDS, None)))
        heading = "#" * level + " " + title + (f" {{#{ident}}}" if ident else "")
        body = "\n\n".join(draw(st.lists(paragraphs(), max_size=3)))
        parts.append(heading + ("\n\n" + body if body else ""))
    return "\n\n".join(parts) + "\n"


MARKDOWNISH = st.lists(
    st.sampled_from(
        list("我们的数据不会年一三。，、；：（）“”「」-*_#[]()<>{}!\\|`~\n\t 　abcAZ09.:;,\"'")
        + ["Azure", "平台", "**", "](#)", "{#id}", "<br>", "\n\n", "- ", "1. ", "## "]
    ),
    max_size=60,
).map("".join).filter(lambda text: not text.startswith("---"))  # that opens front matter
QUIET = {"whitespace", "reflow", "cjk-spacing", "punctuation-width", "markdown", "emphasis"}
SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def parsed(text: str, name: str) -> Notice:
    return parse_text(text, name)


def check_round_trip(old_text: str, new_text: str) -> None:
    old, new = parsed(old_text, "old.md"), parsed(new_text, "new.md")
    comparison = compare(old, new)
    assert apply(comparison) == render_sections(new.sections)
    for change in comparison.changes:
        assert apply_ops(change.old_text, change.ops) == change.new_text
        assert change.kind in ("added", "removed", "modified", "moved", "formatting")


@SETTINGS
@given(notices(), notices())
def test_applying_the_diff_to_a_gives_b(old: str, new: str) -> None:
    """When any two generated notices are compared, then applying the changes to A gives B."""
    check_round_trip(old, new)


@SETTINGS
@given(MARKDOWNISH, MARKDOWNISH)
def test_round_trip_on_arbitrary_markdownish_text(old: str, new: str) -> None:
    """When arbitrary Markdown-like text is compared, then the changes still rebuild B."""
    check_round_trip(old, new)


@SETTINGS
@given(st.one_of(notices(), MARKDOWNISH))
def test_diff_of_a_version_with_itself_is_empty(text: str) -> None:
    """When a notice is compared with itself, then there are no changes."""
    assert compare(parsed(text, "a.md"), parsed(text, "a.md")).changes == ()


@SETTINGS
@given(st.one_of(MARKDOWNISH, st.text(max_size=60), notices()))
def test_normalisation_is_idempotent(text: str) -> None:
    """When normalised text is normalised again, then it does not change."""
    once = normalise(text)
    assert normalise(once) == once


@SETTINGS
@given(notices())
def test_formatting_changes_normalise_alike(text: str) -> None:
    """When only widths, spaces and emphasis change, then no change carries wording."""
    noisy = (
        text.replace("（", "(")
        .replace("）", ")")
        .replace("Azure 平台", "Azure平台")
        .replace("**", "")
        .replace("。", "。 ")
    )
    comparison = compare(parsed(text, "a.md"), parsed(noisy, "b.md"))
    for change in comparison.changes:
        assert change.kind == "formatting", change
        assert change.inserted == change.deleted == ()
        assert normalise(change.old_text) == normalise(change.new_text)
        assert change.labels and set(change.labels) <= QUIET, change.labels
