"""`notices check` file rules: each rule fires with file and line, and the seed passes."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.repos import SETTINGS, NoticeRepo, release_text, run_notices, seed_text, with_front

from notifier.errors import Problem
from notifier.releases.check import check_file, version_key
from notifier.settings import load_settings

NOTICE = "notices/privacy/zh-CN.md"


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
    """When one locale is released and another is left behind, then check refuses the drift."""
    english = release_text(seed_text(), "2018-11-01")
    seeded_repo.write("notices/privacy/en.md", english.replace("最后更新时间", "最后更新时间"))
    seeded_repo.write(NOTICE, release_text(seed_text(), "2026-12-01", effective="2027-01-15"))
    result = run_notices("check", cwd=seeded_repo.path)
    assert result.code == 1
    assert (
        "notices/privacy/en.md:3: error: version 2018-11-01 but another locale is at 2026-12-01 "
        "[translation-drift] (hint: release every locale of a notice together)"
    ) in result.out
