"""`notices check` file rules: each rule fires with file and line, and the seed passes."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.repos import (
    PROJECT,
    SETTINGS,
    NoticeRepo,
    for_you,
    release_text,
    run_notices,
    seed_text,
    with_front,
)

from notifier.errors import Problem
from notifier.releases.check import check_file, translation_problems, version_key
from notifier.settings import load_settings
from notifier.statement.sanitize import safe_markdown

NOTICE = "notices/privacy/zh-CN.md"
EN = "notices/privacy/en.md"


def _problems(tmp_path: Path, content: str | bytes, relative: str = NOTICE) -> list[Problem]:
    (tmp_path / "notices.toml").write_text(SETTINGS.read_text(encoding="utf-8"), encoding="utf-8")
    target = tmp_path / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(content.encode() if isinstance(content, str) else content)
    _, problems = check_file(target, load_settings(tmp_path, {}))
    return problems


def _errors(problems: list[Problem]) -> list[tuple[str, int | None]]:
    return [(p.rule, p.line) for p in problems if p.severity == "error"]


def test_seed_passes_with_placeholder_warnings(tmp_path: Path) -> None:
    """When the seed is checked, then it has no errors and warns about its three (#) links."""
    problems = _problems(tmp_path, seed_text())
    assert _errors(problems) == []
    warnings = [p for p in problems if p.rule == "placeholder-link"]
    assert [p.message for p in warnings] == [
        "link 'Azure 平台开发人员中心' points nowhere (#)",
        "link '账户信息' points nowhere (#)",
        "link '客户支持' points nowhere (#)",
    ]
    line = seed_text().split("\n")[warnings[0].line - 1]  # type: ignore[operator]
    assert "[Azure 平台开发人员中心](#)" in line


def test_missing_front_matter(tmp_path: Path) -> None:
    """When a notice has no front matter, then check says so on line 1."""
    body = seed_text().partition("\n---\n")[2]
    assert _errors(_problems(tmp_path, body))[0] == ("front-matter", 1)


@pytest.mark.parametrize("field", ["title", "version", "effective", "services", "summary"])
def test_required_fields(tmp_path: Path, field: str) -> None:
    """When a required field is missing, then check names it."""
    lines = [ln for ln in seed_text().split("\n") if not ln.startswith(f"{field}:")]
    problems = _problems(tmp_path, "\n".join(lines))
    assert any(p.rule == "required-field" and f"'{field}'" in p.message for p in problems)


def test_impossible_date(tmp_path: Path) -> None:
    """When a date does not exist, then check names the field's line."""
    problems = _problems(tmp_path, with_front(seed_text(), effective="2018-11-31"))
    assert ("real-date", 5) in _errors(problems)


def test_last_updated_must_match_body(tmp_path: Path) -> None:
    """When last_updated disagrees with the 最后更新时间 line, then check points at that line."""
    problems = _problems(tmp_path, with_front(seed_text(), last_updated="2018-11-02"))
    line = seed_text().split("\n").index("最后更新时间：2018 年 11 月 1 日") + 1
    assert ("last-updated-line", line) in _errors(problems)


def test_effective_before_last_updated(tmp_path: Path) -> None:
    """When a release takes effect before it was last updated, then check refuses it."""
    problems = _problems(tmp_path, with_front(seed_text(), effective="2018-10-01"))
    assert ("effective-date", 5) in _errors(problems)


def test_override_needs_reason(tmp_path: Path) -> None:
    """When material is overridden without a reason, then check asks for material_reason."""
    problems = _problems(tmp_path, with_front(seed_text(), material="false"))
    assert ("material-reason", 8) in _errors(problems)
    problems = _problems(tmp_path, with_front(seed_text(), material="maybe"))
    assert ("material", 8) in _errors(problems)


def test_unknown_service(tmp_path: Path) -> None:
    """When a service is not in the catalogue, then check names it and the known ones."""
    problems = _problems(tmp_path, with_front(seed_text(), services="[azure, dynamics365]"))
    found = [p for p in problems if p.rule == "services"]
    assert found and "dynamics365" in found[0].message and "azure" in (found[0].hint or "")


def test_gbk_file(tmp_path: Path) -> None:
    """When the file is GBK, then check reports it as one error with a hint, not a traceback."""
    problems = _problems(tmp_path, seed_text().encode("gbk"))
    assert len(problems) == 1 and problems[0].rule == "parse"
    assert "GBK" in str(problems[0])


def test_bom_and_crlf_are_reported_not_refused(tmp_path: Path) -> None:
    """When the file has a BOM and CRLF line ends, then check warns and has no other errors."""
    data = b"\xef\xbb\xbf" + seed_text().replace("\n", "\r\n").encode()
    problems = _problems(tmp_path, data)
    assert _errors(problems) == []
    assert [p.message for p in problems if p.rule == "encoding"] == [
        "the file starts with a UTF-8 byte-order mark",
        "the file has CRLF line endings",
    ]


def test_heading_ids(tmp_path: Path) -> None:
    """When an id is missing, repeated or not ASCII, then check names each heading line."""
    text = seed_text()
    text = text.replace("## 试用期 {#trials}", "## 试用期")
    text = text.replace("## 预览发行 {#previews}", "## 预览发行 {#scope}")
    text = text.replace("## 未成年人保护 {#minors}", "## 未成年人保护 {#未成年人}")
    lines = text.split("\n")
    problems = _problems(tmp_path, text)
    assert _errors(problems) == [
        ("heading-id", lines.index("## 试用期") + 1),
        ("heading-id", lines.index("## 预览发行 {#scope}") + 1),
        ("heading-id", lines.index("## 未成年人保护 {#未成年人}") + 1),
    ]


@pytest.mark.parametrize(
    "snippet",
    [
        "<script>alert(1)</script>",
        '<iframe src="https://example.com"></iframe>',
        '<img src="x.png" onerror="alert(1)">',
        "[点击这里](javascript:alert(1))",
        '<a href="JavaScript:alert(1)">链接</a>',
    ],
)
def test_unsafe_html(tmp_path: Path, snippet: str) -> None:
    """When the body has script, iframe, event handler or javascript: link, then it is refused."""
    text = seed_text().replace("## 范围 {#scope}\n", f"## 范围 {{#scope}}\n\n{snippet}\n")
    line = text.split("\n").index(snippet) + 1
    assert ("unsafe-html", line) in _errors(_problems(tmp_path, text))


def _with_snippet(snippet: str) -> str:
    return seed_text().replace("## 范围 {#scope}\n", f"## 范围 {{#scope}}\n\n{snippet}\n")


@pytest.mark.parametrize(
    ("snippet", "message"),
    [
        ("[本地文件](file:///etc/passwd)", "a file: link is refused"),
        ("[点击](&#106;avascript:alert(1))", "a javascript: link is refused"),
        ("[点击](&#x6A;&#x61;vascript:alert(1))", "a javascript: link is refused"),
        ("[点击](java&#10;script:alert(1))", "a javascript: link is refused"),
        ("<&#106;avascript:alert(1)>", "a javascript: link is refused"),
        ("<javascript:alert(1)>", "a javascript: link is refused"),
        ("[参考]: &#106;avascript:alert(1)", "a javascript: link is refused"),
        ("[参考]: data:text/html,<b>x</b>", "a data: link is refused"),
        ("<svg/onload=alert(1)>", "an HTML event handler (onload) is refused"),
        ('<span style="color:red">红色</span>', "the attribute style= on <span> is refused"),
        ("<font>字体</font>", "raw <font> HTML is refused"),
        ('说明 {: style="x" }', "the key style= in an attribute list is refused"),
    ],
)
def test_unsafe_markup_is_refused_with_a_hint(tmp_path: Path, snippet: str, message: str) -> None:
    """When the body holds markup the site would show as text, then check refuses it on its
    line, saying what it is and what to do."""
    text = _with_snippet(snippet)
    line = text.split("\n").index(snippet) + 1
    found = [p for p in _problems(tmp_path, text) if p.rule == "unsafe-html"]
    assert [(p.line, p.message) for p in found] == [(line, message)]
    assert found[0].hint


@pytest.mark.parametrize(
    "snippet",
    [
        "| 数据 | 期限 |\n|------|------|\n| 账户 | 一年 |",
        "[隐私](https://example.com/privacy) 与 [邮件](mailto:privacy@example.com)",
        "<https://example.com/> 与 <privacy@example.com>",
        "代码 `<script>alert(1)</script>` 只是文字",
        "年龄 < 14 岁，或 a<3",
        '<b>粗体</b> 与 <a href="https://example.com/" title="安全">链接</a><br>',
        '段落 {: .note services="azure" }',
    ],
)
def test_harmless_markup_passes(tmp_path: Path, snippet: str) -> None:
    """When the body holds tables, ids, https/mailto links, inline code or plain tags, then
    check does not refuse them and the site shows them untouched."""
    text = _with_snippet(snippet)
    assert [p for p in _problems(tmp_path, text) if p.rule == "unsafe-html"] == []
    assert safe_markdown(text) == text


def test_check_refuses_exactly_what_the_site_alters(tmp_path: Path) -> None:
    """When a body mixes hostile and harmless markup, then the lines check refuses are the
    lines the site's safe_markdown changes."""
    snippets = [
        "<script>alert(1)</script>",
        "[a](file:///x) 与 [b](https://example.com/)",
        "`<svg/onload=alert(1)>` 是代码",
        "`a` <svg/onload=alert(1)>",
        "[x]: &#106;avascript:alert(1)",
        "还有 <b>粗体</b>",
    ]
    text = _with_snippet("\n\n".join(snippets))
    body_start = text.split("\n").index("---", 1) + 2
    body = "\n".join(text.split("\n")[body_start - 1 :])
    altered = [
        body_start + number
        for number, (old, new) in enumerate(
            zip(body.split("\n"), safe_markdown(body).split("\n"), strict=True)
        )
        if old != new
    ]
    refused = [p.line for p in _problems(tmp_path, text) if p.rule == "unsafe-html"]
    lines = text.split("\n")
    assert refused == altered
    assert [lines[n - 1] for n in refused] == [
        "<script>alert(1)</script>",
        "[a](file:///x) 与 [b](https://example.com/)",
        "`a` <svg/onload=alert(1)>",
        "[x]: &#106;avascript:alert(1)",
    ]


def test_misspelt_key_is_named_with_a_suggestion(tmp_path: Path) -> None:
    """When a front matter key is misspelt, then check names it as unknown once, suggests the
    close key and lists the known ones, without also reporting the key as missing."""
    text = seed_text().replace("version: 2018-11-01", "verison: 2018-11-01", 1)
    errors = [p for p in _problems(tmp_path, text) if p.severity == "error"]
    assert [str(p) for p in errors] == [
        "notices/privacy/zh-CN.md:3: error: unknown front matter key 'verison' [unknown-field] "
        "(hint: did you mean `version`? known keys: title, version, last_updated, effective, "
        "published, services, material, material_reason, summary, what_changes_for_you)"
    ]


def test_unknown_key_lists_the_known_ones(tmp_path: Path) -> None:
    """When a front matter key is like no known key, then check names it and lists the keys."""
    text = with_front(seed_text(), reviewer="张三")
    errors = [p for p in _problems(tmp_path, text) if p.severity == "error"]
    assert [(p.rule, p.message) for p in errors] == [
        ("unknown-field", "unknown front matter key 'reviewer'")
    ]
    assert errors[0].hint is not None and "did you mean" not in errors[0].hint
    assert "known keys: title, version" in errors[0].hint


def test_impossible_date_is_one_error(seeded_repo: NoticeRepo) -> None:
    """When a material release on main has an impossible effective date, then check reports
    that date once, and no notice-period finding computed from a default in its place."""
    text = release_text(
        seed_text(),
        "2024-02-01",
        effective="2024-02-30",
        material="true",
        material_reason="测试：改变数据存储地点",
        summary="新的数据存储地点",
        what_changes_for_you=for_you({"scope": "您的数据将存储在新的地点。"}),
    )
    seeded_repo.commit("Impossible date", "2024-01-05T09:00:00+08:00", {NOTICE: text})
    result = run_notices("check", cwd=seeded_repo.path)
    assert result.code == 1
    errors = [line for line in result.out.splitlines() if ": error: " in line]
    assert errors == [
        "notices/privacy/zh-CN.md:5: error: 'effective' is not a real date: '2024-02-30' "
        "[real-date] (hint: write dates as YYYY-MM-DD)"
    ]


def test_version_order_is_natural() -> None:
    """When versions are compared, then dates and revision numbers sort naturally."""
    versions = ["2019-01-01", "2018-11-01.10", "2018-11-01", "2018-11-01.2"]
    assert sorted(versions, key=version_key) == [
        "2018-11-01",
        "2018-11-01.2",
        "2018-11-01.10",
        "2019-01-01",
    ]


def test_translation_drift(seeded_repo: NoticeRepo) -> None:
    """When one locale is released and another is left behind, then check warns about a
    translation the settings do not require, and refuses it once they require it."""
    settings = (seeded_repo.path / "notices.toml").read_text(encoding="utf-8")
    required = 'required_locales = ["en"]\n'
    assert required in settings  # this project releases its English text with every version
    seeded_repo.write("notices.toml", settings.replace(required, ""))
    english = release_text(seed_text(), "2018-11-01")
    seeded_repo.write("notices/privacy/en.md", english)
    seeded_repo.write(NOTICE, release_text(seed_text(), "2026-12-01", effective="2027-01-15"))
    result = run_notices("check", cwd=seeded_repo.path)
    assert (
        "notices/privacy/en.md:3: warning: version 2018-11-01 but another locale is at "
        "2026-12-01 [translation-drift] (hint: release every locale of a notice together (this "
        "locale is not required))"
    ) in result.out
    seeded_repo.write("notices.toml", settings)
    result = run_notices("check", cwd=seeded_repo.path)
    assert result.code == 1
    assert (
        "notices/privacy/en.md:3: error: version 2018-11-01 but another locale is at 2026-12-01 "
        "[translation-drift] (hint: release every locale of a notice together)"
    ) in result.out


def test_a_translation_has_the_sections_of_its_source(tmp_path: Path) -> None:
    """When the English text of the same version lacks a section and adds one, then check
    names both: the one missing on the version line, the extra one on its heading."""
    english = (PROJECT / EN).read_text(encoding="utf-8")
    english = english.replace("## Protection of Minors {#minors}", "## Protection of Minors")
    trials = "## Trial Period {#trials}"
    english = english.replace(trials, trials + "\n\n## Extra {#extra}")
    (tmp_path / "notices.toml").write_text(SETTINGS.read_text(encoding="utf-8"), encoding="utf-8")
    for relative, text in ((NOTICE, seed_text()), (EN, english)):
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_text(text, encoding="utf-8")
    settings = load_settings(tmp_path, {})
    notices = [check_file(tmp_path / relative, settings)[0] for relative in (NOTICE, EN)]
    found = [(p.line, p.message) for p in translation_problems(notices, settings)]
    lines = english.split("\n")
    assert found == [
        (lines.index("version: 2018-11-01") + 1, "lacks the section(s) minors of zh-CN"),
        (lines.index("## Extra {#extra}") + 1, "section 'extra' is not in zh-CN"),
        (
            lines.index("## Protection of Minors") + 1,
            "section 'protection-of-minors' is not in zh-CN",
        ),
    ]


@pytest.mark.parametrize("key", ["title", "summary", "material_reason"])
def test_script_in_front_matter_text_is_refused(tmp_path: Path, key: str) -> None:
    """When the title, summary or reason (shown on the site and in the feed as written) holds
    script, then check refuses it on its front matter line."""
    text = with_front(seed_text(), **{key: '"隐私声明 </title><script>alert(1)</script>"'})
    line = text.split("\n").index(f'{key}: "隐私声明 </title><script>alert(1)</script>"') + 1
    found = [p for p in _problems(tmp_path, text) if p.rule == "unsafe-html"]
    assert [(p.line, p.message) for p in found] == [
        (line, f"raw <title> HTML in '{key}' is refused"),
        (line, f"raw <script> HTML in '{key}' is refused"),
    ]


def test_what_changes_for_you_names_sections_of_the_file(tmp_path: Path) -> None:
    """When `what_changes_for_you` names an id that is no heading, or gives a list instead of
    text, then check refuses each on its own line; a mapping that is not one is refused once."""
    entries = "\n  cusotmer-data: 存储地点改变\n  contact: [a, b]\n  retention: 保存期限缩短"
    text = with_front(seed_text(), what_changes_for_you=entries)
    first = next(n for n, line in enumerate(text.split("\n"), 1) if "cusotmer-data" in line)
    problems = _problems(tmp_path, text)
    errors = [(p.rule, p.line, p.message) for p in problems if p.severity == "error"]
    assert errors == [
        (
            "what-changes-for-you",
            first,
            "what_changes_for_you names 'cusotmer-data', which is no section of this file",
        ),
        ("what-changes-for-you", first + 1, "what_changes_for_you.contact must be text"),
    ]
    flat = with_front(seed_text(), what_changes_for_you="存储地点改变")
    assert [(p.rule, p.message) for p in _problems(tmp_path, flat) if p.severity == "error"] == [
        ("what-changes-for-you", "what_changes_for_you must map section ids to text")
    ]
