"""Parsing notice files: front matter, the heading tree, ids, line numbers and encodings."""

from __future__ import annotations

from datetime import date

import pytest
from support.repos import CORPUS, seed_text

from notifier.errors import NoticeFileError
from notifier.statement.notice import parse_notice


def test_seed_front_matter() -> None:
    """When the seed is parsed, then its release fields are typed."""
    notice = parse_notice(seed_text().encode(), "notices/privacy/zh-CN.md")
    assert notice.front is not None
    assert notice.front.version == "2018-11-01"
    assert notice.front.effective == date(2018, 11, 1)
    assert notice.front.published == date(2018, 11, 1)
    assert notice.front.services == ("azure", "office365", "powerbi")
    assert notice.front.material is None
    assert notice.name == "privacy" and notice.locale == "zh-CN"


def test_seed_sections() -> None:
    """When the seed is parsed, then nested headings have paths, parents and file lines."""
    notice = parse_notice(seed_text().encode(), "notices/privacy/zh-CN.md")
    customer = notice.section("customer-data")
    assert customer is not None
    assert customer.path == "我们如何收集和使用您的数据 > 客户数据"
    assert customer.parent_id == "collection-and-use"
    assert seed_text().split("\n")[customer.line - 1] == "### 客户数据 {#customer-data}"
    assert customer.body.startswith("客户数据是指通过您使用服务")
    assert "管理员数据是指" not in customer.body
    assert notice.section("privacy-statement") is not None
    assert notice.sections[0].body == "最后更新时间：2018 年 11 月 1 日"


def test_body_line_is_the_first_line_of_the_body() -> None:
    """When a heading (or the text before the first) is followed by blank lines, then its
    `body_line` is the file line its body starts on, past the front matter and those blanks;
    an empty body points at the line after its heading."""
    text = (
        "---\ntitle: 声明\nversion: 2027-01-15\n---\n"
        "\n\n前言\n\n"
        "## 甲 {#a}\n正文甲\n\n"
        "## 乙 {#b}\n\n\n\n正文乙第一行\n第二行\n\n"
        "## 丙 {#c}\n"
    )
    lines = text.split("\n")
    notice = parse_notice(text.encode(), "notices/privacy/zh-CN.md")
    found = {s.id: (s.line, s.body_line, lines[s.body_line - 1]) for s in notice.sections}
    assert found == {
        "preamble": (5, 7, "前言"),
        "a": (9, 10, "正文甲"),
        "b": (12, 16, "正文乙第一行"),
        "c": (19, 20, ""),
    }

def test_heading_attributes() -> None:
    """When headings use either attr_list form and declare services, then both are read."""
    text = '# T {#top}\n\n## 甲 {: #a .cls }\n\n正文\n\n## 乙 {#b services="azure powerbi"}\n'
    notice = parse_notice(text.encode(), "x.md")
    assert [s.id for s in notice.sections] == ["top", "a", "b"]
    assert notice.sections[2].services == ("azure", "powerbi")
    assert notice.front is None


def test_generated_ids_are_unique() -> None:
    """When headings have no ids and repeat, then generated ids get suffixes."""
    notice = parse_notice(b"## Data\n\nx\n\n## Data\n\ny\n", "x.md")
    assert [s.id for s in notice.sections] == ["data", "data-2"]
    assert not notice.sections[0].explicit_id


def test_gbk_file_is_refused_with_a_hint() -> None:
    """When a file is GBK-encoded, then the error names the line and suggests UTF-8."""
    data = "---\ntitle: 隐私声明\n---\n\n# 隐私声明\n".encode("gbk")
    with pytest.raises(NoticeFileError) as raised:
        parse_notice(data, "notices/privacy/zh-CN.md")
    assert raised.value.line == 2
    assert "GBK" in str(raised.value)


def test_binary_file_is_refused() -> None:
    """When a file holds binary data, then it is refused with its line."""
    with pytest.raises(NoticeFileError, match="binary data"):
        parse_notice(b"# a\n\x00\x01", "x.md")


def test_broken_yaml_names_the_line() -> None:
    """When the front matter is broken YAML, then the error names the file line."""
    with pytest.raises(NoticeFileError) as raised:
        parse_notice(b"---\ntitle: a\nversion: [1\n---\n# a\n", "x.md")
    assert raised.value.path == "x.md" and raised.value.line is not None


@pytest.mark.parametrize(
    ("line", "number"),
    [
        ("summary: 重要: 数据将存储在新加坡", 3),  # a colon and a space in a value
        ('summary: "未闭合的引号', 3),
        ("  version: 2024-01-01", 3),  # a key indented under another
    ],
)
def test_broken_yaml_hints_what_to_check(line: str, number: int) -> None:
    """When the front matter is invalid YAML, then the one-line error names the line and hints
    at quoting, a colon in a value and indentation."""
    data = f"---\ntitle: 隐私声明\n{line}\n---\n# 隐私声明\n".encode()
    with pytest.raises(NoticeFileError) as raised:
        parse_notice(data, "notices/privacy/zh-CN.md")
    text = str(raised.value)
    assert text.startswith(f"notices/privacy/zh-CN.md:{number}: front matter is not valid YAML")
    assert "\n" not in text
    assert raised.value.hint is not None
    assert all(word in raised.value.hint for word in ("quote", "': '", "beginning of its line"))


def test_unclosed_front_matter() -> None:
    """When the front matter never closes, then the error says how to close it."""
    with pytest.raises(NoticeFileError, match="not closed"):
        parse_notice(b"---\ntitle: a\n# a\n", "x.md")


def test_bom_and_crlf_corpus_file() -> None:
    """When a real Mozilla zh-CN file has a BOM and CRLF, then it parses and both are flagged."""
    folder = CORPUS / "mozilla-legal-docs" / "firefox_privacy_notice" / "zh-CN"
    flagged = []
    for path in sorted(folder.glob("*.md")):
        notice = parse_notice(path.read_bytes(), path.name)
        assert notice.sections, path.name
        assert "\r" not in notice.text
        flagged.append((notice.has_bom, notice.has_crlf))
    assert any(bom for bom, _ in flagged) and any(crlf for _, crlf in flagged)
