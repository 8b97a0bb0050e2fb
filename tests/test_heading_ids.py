"""Heading ids are promises: old ids are declared, ids are plain ASCII with nothing invisible,
published ids and notice paths are kept, and the site still lands on an old id."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest
from support.repos import CORPUS, SETTINGS, NoticeRepo, release_text, run_notices, seed_text
from support.site import install_site

from notifier.errors import Problem
from notifier.releases.check import check_file, run_check
from notifier.settings import load_settings
from notifier.statement.notice import id_candidates, parse_text

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


def _problems(repo: NoticeRepo, *rules: str) -> list[Problem]:
    return [p for p in run_check(load_settings(repo.path, {})) if p.rule in rules]


def _found(repo: NoticeRepo, *rules: str) -> list[tuple[str, str, str, int | None]]:
    """(severity, path, message, line) of the problems of `rules`, as `notices check` finds them."""
    return [
        (p.severity, p.path, p.message, p.line)
        for p in run_check(load_settings(repo.path, {}))
        if p.rule in rules
    ]


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


def test_id_candidates_hold_every_id_the_parser_finds() -> None:
    """When any text is scanned for id candidates without parsing, then every id and old id the
    parser finds is among them (check skips parsing a revision whose candidates are all known),
    and headings' `#` markers are not."""
    texts = [path.read_text(encoding="utf-8") for path in sorted(CORPUS.rglob("*.md"))]
    texts += [
        seed_text(),
        ENGLISH_TEXT,
        "Scope {#scope data-was='coverage'}\n=====\n\n## Contact us {#contact} ##\n",
        '## A {:\t#a data-was=b }\n\nLine one\nline two {:#c data-was="d  e"}\n---\n',
    ]
    for text in texts:
        candidates = id_candidates(text)
        assert candidates is not None
        assert parse_text(text, "x.md").anchor_ids <= candidates
    assert id_candidates(seed_text()) == parse_text(seed_text(), "x.md").anchor_ids
    assert id_candidates("## 范围 {#scope\x00}\n") is None


# --- what an id may be -----------------------------------------------------------------------


def test_ids_are_lower_case_ascii_words_joined_by_dashes(tmp_path: Path) -> None:
    """When an id has capitals, an underscore, a double dash or Chinese, or an old id is not even
    in the form ids had before (`Contact-Us` was), then check names each heading's line."""
    text = (
        seed_text()
        .replace("{#scope}", "{#Scope}")
        .replace("{#retention}", "{#data_retention}")
        .replace("{#sharing}", "{#sharing--data}")
        .replace("{#minors}", "{#未成年人}")
        .replace("{#contact}", '{#contact data-was="Contact-Us 联系"}')
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
            _line(text, '## 如何联系我们 {#contact data-was="Contact-Us 联系"}'),
            "old id '联系' is not an ASCII id (letters, digits, '_' and '-')",
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


# --- published ids are kept ------------------------------------------------------------------


def test_a_changed_id_is_refused_until_the_heading_declares_it(seeded_repo: NoticeRepo) -> None:
    """When the working tree changes a published id, then check names the heading's line and
    shows the declaration; once the heading declares the old id, check passes."""
    renamed = RETENTION.replace("{#retention}", "{#data-retention}")
    text = seed_text().replace(RETENTION, renamed)
    seeded_repo.write(NOTICE, text)
    line = _line(text, renamed)
    assert _found(seeded_repo, "published-id") == [
        (
            "error",
            NOTICE,
            "heading id 'retention' ('我们如何保存您的个人信息'), published in release "
            "2018-11-01, is gone",
            line,
        )
    ]
    result = run_notices("check", cwd=seeded_repo.path)
    assert result.code == 1
    assert (
        f"{NOTICE}:{line}: error: heading id 'retention' ('我们如何保存您的个人信息'), published "
        "in release 2018-11-01, is gone [published-id] (hint: declare it on the heading that "
        'took its place: {#data-retention data-was="retention"})'
    ) in result.out
    seeded_repo.write(
        NOTICE, text.replace("{#data-retention}", '{#data-retention data-was="retention"}')
    )
    assert _found(seeded_repo, "published-id") == []
    assert run_notices("check", cwd=seeded_repo.path).code == 0


def test_a_removed_english_section_is_refused(notice_repo: NoticeRepo) -> None:
    """When the English working tree drops a published section, then check points at the
    heading before where it was and says how to keep its id."""
    notice_repo.commit(
        "Add the statement in Chinese and English",
        "2024-01-02T09:00:00+08:00",
        {NOTICE: seed_text(), ENGLISH: ENGLISH_TEXT},
    )
    start = ENGLISH_TEXT.index("## How long we keep your data")
    text = ENGLISH_TEXT[:start] + ENGLISH_TEXT[ENGLISH_TEXT.index("## Contact us") :]
    notice_repo.write(ENGLISH, text)
    assert [
        p for p in run_check(load_settings(notice_repo.path, {})) if p.rule == "published-id"
    ] == [
        Problem(
            "error",
            "published-id",
            "heading id 'retention' ('How long we keep your data'), published in release "
            "2018-11-01, is gone",
            ENGLISH,
            _line(text, "## Scope {#scope}"),
            "keep the id, or declare it on the heading that took its place: "
            '{#new-id data-was="retention"}',
        )
    ]


def test_an_id_from_any_earlier_release_is_kept(seeded_repo: NoticeRepo) -> None:
    """When release 2 renamed an id and declared the old one, and the working tree renames it
    again declaring only release 2's id, then check asks for both old ids."""
    second = release_text(seed_text(), "2024-03-01").replace(
        RETENTION, '## 我们如何保存您的个人信息 {#data-retention data-was="retention"}'
    )
    seeded_repo.commit("Release 2024-03-01", "2024-02-01T10:00:00+08:00", {NOTICE: second})
    heading = '## 我们如何保存您的个人信息 {#keeping data-was="data-retention"}'
    text = second.replace(
        '## 我们如何保存您的个人信息 {#data-retention data-was="retention"}', heading
    )
    seeded_repo.write(NOTICE, text)
    problems = [
        p for p in run_check(load_settings(seeded_repo.path, {})) if p.rule == "published-id"
    ]
    assert [(p.severity, p.message, p.line, p.hint) for p in problems] == [
        (
            "error",
            "heading id 'retention' ('我们如何保存您的个人信息'), published in release "
            "2018-11-01, is gone",
            _line(text, heading),
            "declare it on the heading that took its place: "
            '{#keeping data-was="data-retention retention"}',
        )
    ]


def test_an_id_only_the_first_published_text_had_is_kept(seeded_repo: NoticeRepo) -> None:
    """When a release was first published with a section that a later revision removed, then
    its id was published all the same, and the working tree must keep or declare it."""
    beta = "## 测试版服务 {#beta}\n\n测试版服务可能随时变更。\n\n"
    second = release_text(seed_text(), "2024-03-01").replace(PREVIEWS, beta + PREVIEWS)
    seeded_repo.commit("Release 2024-03-01", "2024-02-01T10:00:00+08:00", {NOTICE: second})
    revised = second.replace(beta, "")
    seeded_repo.commit("Revise 2024-03-01", "2024-02-02T10:00:00+08:00", {NOTICE: revised})
    assert [(p.message, p.line) for p in _problems(seeded_repo, "published-id")] == [
        (
            "heading id 'beta' ('测试版服务'), published in release 2024-03-01, is gone",
            _line(revised, "## 试用期 {#trials}"),
        ),
    ]


def _drop_previews(text: str) -> str:
    start = text.index(PREVIEWS)
    return text[:start] + text[text.index("## 未成年人保护") :]


def test_a_release_on_main_that_dropped_an_id(seeded_repo: NoticeRepo) -> None:
    """When a release on main dropped an id and a later one is on main too, then check warns
    at the dropping release (superseded and in effect: history) and refuses the working tree."""
    reason = "预览条款并入试用期条款"
    second = _drop_previews(release_text(seed_text(), "2024-03-01", material_reason=reason))
    third = release_text(second, "2024-06-01", material_reason=reason)
    seeded_repo.commit("Release 2024-03-01", "2024-02-01T10:00:00+08:00", {NOTICE: second})
    seeded_repo.commit("Release 2024-06-01", "2024-05-01T10:00:00+08:00", {NOTICE: third})
    assert _found(seeded_repo, "published-id") == [
        (
            "warning",
            NOTICE,
            "release 2024-03-01 drops heading id 'previews', published in release 2018-11-01",
            _line(second, "version: 2024-03-01"),
        ),
        (
            "error",
            NOTICE,
            "heading id 'previews' ('预览发行'), published in release 2018-11-01, is gone",
            _line(third, "## 试用期 {#trials}"),
        ),
    ]
    restored = third.replace("## 试用期 {#trials}", '## 试用期 {#trials data-was="previews"}')
    seeded_repo.write(NOTICE, restored)
    assert [s for s, *_ in _found(seeded_repo, "published-id")] == ["warning"]


def test_an_upcoming_release_that_dropped_an_id_is_an_error(seeded_repo: NoticeRepo) -> None:
    """When a release on main that is not yet in effect dropped an id, then it can still be
    fixed, and check refuses it even after a later release."""
    reason = "预览条款并入试用期条款"
    second = _drop_previews(release_text(seed_text(), "2099-03-01", material_reason=reason))
    third = release_text(second, "2099-06-01", material_reason=reason).replace(
        "## 试用期 {#trials}", '## 试用期 {#trials data-was="previews"}'
    )
    seeded_repo.commit("Release 2099-03-01", "2024-02-01T10:00:00+08:00", {NOTICE: second})
    seeded_repo.commit("Release 2099-06-01", "2024-05-01T10:00:00+08:00", {NOTICE: third})
    assert _found(seeded_repo, "published-id") == [
        (
            "error",
            NOTICE,
            "release 2099-03-01 drops heading id 'previews', published in release 2018-11-01",
            _line(second, "version: 2099-03-01"),
        )
    ]


def test_the_newest_release_is_reported_once(seeded_repo: NoticeRepo) -> None:
    """When the newest release on main dropped an id and the working tree is that release, then
    the one finding is the working tree's; a revision that declares the id leaves only a
    warning."""
    reason = "预览条款并入试用期条款"
    second = _drop_previews(
        release_text(seed_text(), "2024-03-01", effective="2024-04-01", material_reason=reason)
    )
    seeded_repo.commit("Release 2024-03-01", "2024-02-01T10:00:00+08:00", {NOTICE: second})
    assert [(s, line) for s, _, _, line in _found(seeded_repo, "published-id")] == [
        ("error", _line(second, "## 试用期 {#trials}"))
    ]
    revision = second.replace("## 试用期 {#trials}", '## 试用期 {#trials data-was="previews"}')
    seeded_repo.write(NOTICE, revision)
    assert _found(seeded_repo, "published-id") == [
        (
            "warning",
            NOTICE,
            "release 2024-03-01 drops heading id 'previews', published in release 2018-11-01",
            _line(second, "version: 2024-03-01"),
        )
    ]


# --- notice files are never renamed ----------------------------------------------------------


def test_a_case_only_rename_of_a_file_is_refused(seeded_repo: NoticeRepo) -> None:
    """When zh-CN.md is renamed zh-cn.md (git mv), then check refuses the new name on line 1."""
    seeded_repo.git("mv", NOTICE, "notices/privacy/zh-cn.md")
    result = run_notices("check", cwd=seeded_repo.path)
    assert result.code == 1
    assert (
        "notices/privacy/zh-cn.md:1: error: renames the released notices/privacy/zh-CN.md: only "
        "the case differs [notice-path] (hint: name it notices/privacy/zh-CN.md again: history "
        "is read by exact path)"
    ) in result.out
    assert result.out.count("[notice-path]") == 1


def test_a_case_only_rename_of_a_folder_is_refused(seeded_repo: NoticeRepo) -> None:
    """When privacy/ is renamed Privacy/, then check refuses the new path."""
    seeded_repo.git("mv", "notices/privacy", "notices/Privacy")
    assert _found(seeded_repo, "notice-path") == [
        (
            "error",
            "notices/Privacy/zh-CN.md",
            "renames the released notices/privacy/zh-CN.md: only the case differs",
            1,
        )
    ]


def test_a_rename_committed_on_main_is_refused(seeded_repo: NoticeRepo) -> None:
    """When the case-only rename was committed on main itself, then check still refuses it."""
    seeded_repo.git("mv", NOTICE, "notices/privacy/zh-cn.md")
    seeded_repo.commit("Rename", "2024-02-01T10:00:00+08:00")
    assert _found(seeded_repo, "notice-path") == [
        (
            "error",
            "notices/privacy/zh-cn.md",
            "renames the released notices/privacy/zh-CN.md: only the case differs",
            1,
        )
    ]


def test_a_copy_differing_in_case_is_refused(seeded_repo: NoticeRepo) -> None:
    """When zh-cn.md is added beside the released zh-CN.md, then check refuses the copy:
    case-insensitive file systems take them for one file."""
    seeded_repo.write("notices/privacy/zh-cn.md", seed_text())
    assert _found(seeded_repo, "notice-path") == [
        (
            "error",
            "notices/privacy/zh-cn.md",
            "differs only in case from notices/privacy/zh-CN.md",
            1,
        )
    ]


def test_a_renamed_notice_is_refused(seeded_repo: NoticeRepo) -> None:
    """When privacy/ is renamed policy/, then check names the released path and the new one."""
    seeded_repo.git("mv", "notices/privacy", "notices/policy")
    assert _problems(seeded_repo, "notice-path") == [
        Problem(
            "error",
            "notice-path",
            "is renamed notices/policy/zh-CN.md: a released notice file keeps its path",
            NOTICE,
            None,
            f"move notices/policy/zh-CN.md back to {NOTICE}: history is read by exact path",
        )
    ]


def test_a_notice_renamed_to_another_locale_is_refused(seeded_repo: NoticeRepo) -> None:
    """When zh-CN.md is renamed zh-Hans.md with its text unchanged, then check refuses the
    rename as it does within a locale: history is read by exact path."""
    seeded_repo.git("mv", NOTICE, "notices/privacy/zh-Hans.md")
    assert [(p.severity, p.message) for p in _problems(seeded_repo, "notice-path")] == [
        ("error", "is renamed notices/privacy/zh-Hans.md: a released notice file keeps its path")
    ]


def test_a_moved_english_notice_is_refused(notice_repo: NoticeRepo) -> None:
    """When a released English file moves to another notice's folder with its text unchanged,
    then check refuses the rename."""
    notice_repo.commit(
        "Add the statement in Chinese and English",
        "2024-01-02T09:00:00+08:00",
        {NOTICE: seed_text(), ENGLISH: ENGLISH_TEXT},
    )
    (notice_repo.path / "notices" / "statement").mkdir()
    notice_repo.git("mv", ENGLISH, "notices/statement/en.md")
    assert _found(notice_repo, "notice-path") == [
        (
            "error",
            ENGLISH,
            "is renamed notices/statement/en.md: a released notice file keeps its path",
            None,
        )
    ]


def test_a_deleted_english_notice_is_a_warning(notice_repo: NoticeRepo) -> None:
    """When a released English file is not in the working tree and nothing took its place, then
    check warns (a branch made before the file reached main lacks it too) and passes."""
    notice_repo.commit(
        "Add the statement in Chinese and English",
        "2024-01-02T09:00:00+08:00",
        {NOTICE: seed_text(), ENGLISH: ENGLISH_TEXT},
    )
    notice_repo.git("rm", "-q", ENGLISH)
    assert _problems(notice_repo, "notice-path") == [
        Problem(
            "warning",
            "notice-path",
            "has releases on main but is not in the working tree",
            ENGLISH,
            None,
            f"a released notice file is never removed: restore it (git checkout main -- "
            f"{ENGLISH}), or merge main if this branch is older than the file",
        )
    ]
    assert run_notices("check", cwd=notice_repo.path).code == 0


# --- the site --------------------------------------------------------------------------------


@pytest.mark.slow
def test_the_site_keeps_an_anchor_for_each_old_id(seeded_repo: NoticeRepo) -> None:
    """When a release renames a heading's id and declares the old one, then the built page has
    an empty anchor with the old id right before the heading, each id once, and no attribute
    left over."""
    heading = '## 我们如何保存您的个人信息 {#data-retention data-was="retention storage"}'
    second = release_text(seed_text(), "2024-03-01").replace(RETENTION, heading)
    seeded_repo.commit("Release 2024-03-01", "2024-02-01T10:00:00+08:00", {NOTICE: second})
    install_site(seeded_repo)
    result = run_notices("site", "build", "--today", "2024-12-01", cwd=seeded_repo.path)
    assert (result.code, result.err) == (0, "")
    site = seeded_repo.path / "build" / "site"
    page = (site / "index.html").read_text(encoding="utf-8")
    assert (
        '<span class="old-id" id="retention"></span>\n'
        '<span class="old-id" id="storage"></span>\n'
        '<h2 id="data-retention">我们如何保存您的个人信息'
    ) in page
    for anchor in ("retention", "storage", "data-retention"):
        assert page.count(f'id="{anchor}"') == 1
    assert "data-was" not in page
    first = (site / "archive" / "2018-11-01" / "index.html").read_text(encoding="utf-8")
    assert '<h2 id="retention">我们如何保存您的个人信息' in first


@pytest.mark.parametrize("broken", ["保留", "reten\u200btion", "retention\u00a0"])
def test_the_hint_for_a_broken_new_id_never_repeats_it(
    seeded_repo: NoticeRepo, broken: str
) -> None:
    """When a published id is replaced by one that is no id itself (Chinese, or holding an
    invisible character), then the hint says to keep the published id, not to declare it on
    the broken one."""
    text = seed_text().replace(RETENTION, RETENTION.replace("{#retention}", f"{{#{broken}}}"))
    seeded_repo.write(NOTICE, text)
    result = run_notices("check", cwd=seeded_repo.path)
    (line,) = [line for line in result.out.splitlines() if "[published-id]" in line]
    assert line.endswith("(hint: keep the id: {#retention})")
    assert broken not in line.split("(hint:")[1]
