"""The archived 2018-11-01 statement is the seed PDF text, character for character."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from support.repos import DATA

REPO = Path(__file__).resolve().parents[1]
SEED = DATA / "seed" / "privacy-statement-2018-11-01.zh-CN.txt"
NOTICE = REPO / "notices" / "privacy" / "zh-CN.md"

EXPECTED_HEADINGS = [
    (1, "privacy-statement"),
    (2, "scope"),
    (2, "collection-and-use"),
    (3, "definitions"),
    (3, "customer-data"),
    (3, "administrator-data"),
    (3, "real-name-data"),
    (3, "payment-data"),
    (3, "support-data"),
    (2, "cookies"),
    (2, "local-software"),
    (2, "retention"),
    (2, "sharing"),
    (2, "security"),
    (2, "your-rights"),
    (2, "legal-compliance"),
    (2, "trials"),
    (2, "previews"),
    (2, "minors"),
    (2, "changes"),
    (2, "contact"),
]
COLLECTION_CHILDREN = [
    "definitions",
    "customer-data",
    "administrator-data",
    "real-name-data",
    "payment-data",
    "support-data",
]

FRONT_MATTER = re.compile(r"\A---\n.*?\n---\n", re.DOTALL)
HEADING = re.compile(r"^(#{1,6}) (\S.*?) \{#([a-z0-9-]+)\}$")
ID_ATTR = re.compile(r"\s*\{#[A-Za-z0-9_-]+\}\s*$")
MARKER = re.compile(r"^\s*(?:#{1,6}|-)\s+")
HEADING_TAGS = {"h1", "h2", "h3", "h4", "h5", "h6"}


@pytest.fixture
def seed_text() -> str:
    return SEED.read_text(encoding="utf-8")


@pytest.fixture
def notice_body() -> str:
    text = NOTICE.read_text(encoding="utf-8")
    match = FRONT_MATTER.match(text)
    assert match, f"{NOTICE} has no front matter"
    return text[match.end() :]


def plain_lines(text: str) -> list[str]:
    """Lines without heading ids, heading markers, list markers or surrounding whitespace."""
    lines = []
    for line in text.splitlines():
        if line.lstrip().startswith("#"):
            line = ID_ATTR.sub("", line)
        lines.append(MARKER.sub("", line).strip())
    return [line for line in lines if line]


def first_difference(left: str, right: str) -> str:
    for index, (a, b) in enumerate(zip(left, right, strict=False)):
        if a != b:
            window = slice(max(index - 20, 0), index + 20)
            return f"at {index}: {left[window]!r} != {right[window]!r}"
    return f"lengths differ: {len(left)} != {len(right)}"


def headings(body: str) -> list[tuple[int, str, str]]:
    found = []
    for line in body.splitlines():
        match = HEADING.match(line)
        if match:
            found.append((len(match[1]), match[2], match[3]))
    return found


def test_text_is_the_seed_character_for_character(seed_text: str, notice_body: str) -> None:
    """When Markdown syntax and all whitespace are removed, then the notice equals the seed."""
    seed = re.sub(r"\s+", "", "".join(plain_lines(seed_text)))
    notice = re.sub(r"\s+", "", "".join(plain_lines(notice_body)))
    assert notice == seed, first_difference(notice, seed)


def test_spaces_within_lines_are_the_seeds(seed_text: str, notice_body: str) -> None:
    """When hard-wrapped lines are rejoined, then no space is added or lost inside any sentence."""
    seed = "".join(plain_lines(seed_text))
    notice = "".join(plain_lines(notice_body))
    assert notice == seed, first_difference(notice, seed)


def test_every_heading_has_an_id(notice_body: str) -> None:
    """When a line is a heading, then it ends with an explicit ASCII `{#id}`."""
    heading_lines = [line for line in notice_body.splitlines() if line.startswith("#")]
    assert heading_lines
    assert [line for line in heading_lines if not HEADING.match(line)] == []


def test_heading_ids_are_the_stable_list(notice_body: str) -> None:
    """When the headings are read in order, then their levels and ids are the agreed list."""
    assert [(level, anchor) for level, _, anchor in headings(notice_body)] == EXPECTED_HEADINGS


def test_data_headings_sit_under_collection_and_use(notice_body: str) -> None:
    """When a heading is level 3, then it is one of the six data headings of collection-and-use."""
    parents: dict[str, str] = {}
    current = ""
    for level, _, anchor in headings(notice_body):
        if level == 2:
            current = anchor
        elif level == 3:
            parents[anchor] = current
    assert list(parents) == COLLECTION_CHILDREN
    assert set(parents.values()) == {"collection-and-use"}


def test_rendered_structure_keeps_ids_and_repaired_lists(notice_body: str) -> None:
    """When rendered by Python-Markdown, then ids apply and the repaired lists nest as intended."""
    markdown = pytest.importorskip("markdown")
    html = markdown.markdown(notice_body, extensions=["attr_list"])
    root = ET.fromstring(f"<div>{html}</div>")
    children = list(root)

    rendered = [(int(el.tag[1]), el.get("id")) for el in children if el.tag in HEADING_TAGS]
    assert rendered == EXPECTED_HEADINGS
    assert children[1].tag == "p"
    assert children[1].text == "最后更新时间：2018 年 11 月 1 日"

    lists: dict[str, list[ET.Element]] = {}
    section = ""
    for el in children:
        if el.tag == "h2":
            section = el.get("id", "")
        elif el.tag == "ul":
            lists.setdefault(section, []).append(el)

    def items(ul: ET.Element) -> list[ET.Element]:
        return ul.findall("li")

    def sub_items(li: ET.Element) -> list[ET.Element]:
        nested = li.find("ul")
        return [] if nested is None else items(nested)

    (sharing,) = lists["sharing"]
    assert [len(sub_items(li)) for li in items(sharing)] == [0, 0, 0, 0, 0, 0, 6]
    assert sub_items(items(sharing)[-1])[-1].text == (
        "从合法公开披露的信息中收集个人信息的，如合法的新闻报道、政府信息公开等渠道。"
    )

    prohibited, agreed = lists["legal-compliance"]
    assert [len(sub_items(li)) for li in items(prohibited)] == [9, 0]
    assert [len(sub_items(li)) for li in items(agreed)] == [2, 0, 0, 0]
    assert [(li.text or "")[:7] for li in items(agreed)] == [
        "若您使用服务开",
        "若您为一家使用",
        "您在注册服务时",
        "您保证您所提供",
    ]
