"""Heading ids are promises: old ids are declared, ids are plain ASCII with nothing invisible."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest
from support.repos import SETTINGS, seed_text

from notifier.errors import Problem
from notifier.releases.check import check_file
from notifier.settings import load_settings
from notifier.statement.notice import parse_text

NOTICE = "notices/privacy/zh-CN.md"
ENGLISH = "notices/privacy/en.md"
RETENTION = "## 我们如何保存您的个人信息 {#retention}"
PREVIEWS = "## 预览发行 {#previews}"

ENGLISH_TEXT = """---
title: Privacy Statement
version: 2018-11-01
last_updated: 2018-11-01
effective: 2018-11-01
services: [azure]
summary: The first statement
---

# Privacy Statement {#privacy-statement}

Last updated: November 1, 2018

## Scope {#scope}

This statement applies to the online services operated by 21Vianet.

## How long we keep your data {#retention}

We keep personal data for as long as the service needs it.

## Contact us {#contact}

Write to privacy@example.com.
"""


def _line(text: str, wanted: str) -> int:
    return text.split("\n").index(wanted) + 1


def _file_problems(tmp_path: Path, content: str, relative: str = NOTICE) -> list[Problem]:
    (tmp_path / "notices.toml").write_text(SETTINGS.read_text(encoding="utf-8"), encoding="utf-8")
    target = tmp_path / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(content.encode("utf-8"))
    _, problems = check_file(target, load_settings(tmp_path, {}))
    return [p for p in problems if p.rule == "heading-id"]


# --- declaring old ids -----------------------------------------------------------------------


def test_old_ids_are_read_from_the_attribute_list() -> None:
    """When headings declare old ids (quoted, several, bare), then each section carries them
    and the text's anchors are its ids and old ids."""
    notice = parse_text(
        '## 数据保留 {#retention data-was="data-retention storage"}\n\n保存期限。\n\n'
        "## Contact us {: #contact data-was='contact-us' }\n\nWrite to us.\n\n"
        '## Scope {#scope data-was=coverage services="azure"}\n',
        "x.md",
    )
    assert [(s.id, s.title, s.aliases) for s in notice.sections] == [
        ("retention", "数据保留", ("data-retention", "storage")),
        ("contact", "Contact us", ("contact-us",)),
        ("scope", "Scope", ("coverage",)),
    ]
    assert notice.sections[2].services == ("azure",)
    assert notice.anchor_ids == {
        "retention",
        "data-retention",
        "storage",
        "contact",
        "contact-us",
        "scope",
        "coverage",
    }


def test_declared_old_ids_pass_check(tmp_path: Path) -> None:
    """When the seed and an English notice declare old ids, then check finds no error in them:
    `data-was` is a harmless attribute, not unsafe markup."""
    chinese = seed_text().replace(RETENTION, RETENTION[:-1] + ' data-was="data-retention"}')
    english = ENGLISH_TEXT.replace("{#contact}", '{#contact data-was="contact-us write-to-us"}')
    (tmp_path / "notices.toml").write_text(SETTINGS.read_text(encoding="utf-8"), encoding="utf-8")
    settings = load_settings(tmp_path, {})
    errors = []
    for relative, text in ((NOTICE, chinese), (ENGLISH, english)):
        target = tmp_path / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        errors += [p for p in check_file(target, settings)[1] if p.severity == "error"]
    assert errors == []


# --- what an id may be -----------------------------------------------------------------------


def test_ids_are_lower_case_ascii_words_joined_by_dashes(tmp_path: Path) -> None:
    """When an id or an old id has capitals, an underscore, a double dash or Chinese, then check
    names each heading's line."""
    text = (
        seed_text()
        .replace("{#scope}", "{#Scope}")
        .replace("{#retention}", "{#data_retention}")
        .replace("{#sharing}", "{#sharing--data}")
        .replace("{#minors}", "{#未成年人}")
        .replace("{#contact}", '{#contact data-was="Contact-Us"}')
    )
    found = [(p.line, p.message) for p in _file_problems(tmp_path, text)]
    rule = "is not lower-case ASCII letters and digits joined by single dashes"
    assert found == [
        (_line(text, "## 范围 {#Scope}"), f"heading id 'Scope' {rule}"),
        (
            _line(text, "## 我们如何保存您的个人信息 {#data_retention}"),
            f"heading id 'data_retention' {rule}",
        ),
        (
            _line(text, "## 我们如何共享、转让、公开披露您的信息 {#sharing--data}"),
            f"heading id 'sharing--data' {rule}",
        ),
        (_line(text, "## 未成年人保护 {#未成年人}"), f"heading id '未成年人' {rule}"),
        (
            _line(text, '## 如何联系我们 {#contact data-was="Contact-Us"}'),
            f"old id 'Contact-Us' {rule}",
        ),
    ]


def test_english_ids_follow_the_same_rule(tmp_path: Path) -> None:
    """When an English heading's id is `Contact_Us`, then check names its line."""
    text = ENGLISH_TEXT.replace("{#contact}", "{#Contact_Us}")
    found = [(p.line, p.message) for p in _file_problems(tmp_path, text, ENGLISH)]
    assert found == [
        (
            _line(text, "## Contact us {#Contact_Us}"),
            "heading id 'Contact_Us' is not lower-case ASCII letters and digits joined by single "
            "dashes",
        )
    ]


@pytest.mark.parametrize(
    ("before", "after", "shown"),
    [
        (
            "## 范围 {#scope}",
            "## 范\u200b围 {#scope}",
            "heading '范<U+200B>围'",
        ),  # zero-width space
        ("## 范围 {#scope}", "## 范围 {#scope\u200d}", "heading '范围'"),  # zero-width joiner
        ("## 范围 {#scope}", "## 范围 {#sco\u200cpe}", "heading '范围'"),  # zero-width non-joiner
        ("## 范围 {#scope}", "## \ufeff范围 {#scope}", "heading '<U+FEFF>范围'"),  # BOM in text
        ("## 范围 {#scope}", "## 范围\u202e {#scope}", "heading '范围<U+202E>'"),  # bidi override
        ("## Scope {#scope}", "## Sco\u00adpe {#scope}", "heading 'Sco<U+00AD>pe'"),  # soft hyphen
    ],
)
def test_invisible_characters_in_a_heading_are_refused(
    tmp_path: Path, before: str, after: str, shown: str
) -> None:
    """When a heading or its id holds an invisible character, then check names the heading's
    line and the character, once."""
    base = ENGLISH_TEXT if before.startswith("## Scope") else seed_text()
    text = base.replace(before, after)
    relative = ENGLISH if base is ENGLISH_TEXT else NOTICE
    found = [(p.line, p.message) for p in _file_problems(tmp_path, text, relative)]
    char = next(c for c in after if c not in before)
    name = f"U+{ord(char):04X} {unicodedata.name(char)}"
    assert found == [(_line(text, after), f"{shown} holds an invisible character ({name})")]


def test_a_no_break_space_inside_an_id_is_refused(tmp_path: Path) -> None:
    """When an id holds a no-break space (it looks like the space that would end it), then
    check names the line; in a title it is only a space."""
    text = seed_text().replace("{#your-rights}", "{#your\u00a0rights}")
    text = text.replace("## 范围 {#scope}", "## 范\u00a0围 {#scope}")
    found = [(p.line, p.message) for p in _file_problems(tmp_path, text)]
    assert found == [
        (
            _line(text, "## 您如何管理您的个人信息 {#your\u00a0rights}"),
            "heading id 'your<U+00A0>rights' holds an invisible character (U+00A0 NO-BREAK SPACE)",
        )
    ]


def test_an_id_is_one_heading_s_id_or_old_id(tmp_path: Path) -> None:
    """When an old id is another heading's id, is declared twice, or is the heading's own id,
    then check names the later line."""
    text = (
        ENGLISH_TEXT.replace("{#retention}", '{#retention data-was="scope"}')
        .replace("{#contact}", '{#contact data-was="contact keep"}')
        .replace("{#scope}", '{#scope data-was="keep"}')
    )
    found = [(p.line, p.message) for p in _file_problems(tmp_path, text, ENGLISH)]
    scope = _line(text, '## Scope {#scope data-was="keep"}')
    assert found == [
        (
            _line(text, '## How long we keep your data {#retention data-was="scope"}'),
            f"old id 'scope' is already used on line {scope}",
        ),
        (
            _line(text, '## Contact us {#contact data-was="contact keep"}'),
            "old id 'contact' is already used on this heading",
        ),
        (
            _line(text, '## Contact us {#contact data-was="contact keep"}'),
            f"old id 'keep' is already used on line {scope}",
        ),
    ]
