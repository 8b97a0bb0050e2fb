"""`notices diff`: the real command on a real git repository with two releases."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from support.repos import (
    NoticeRepo,
    add_seed,
    empty_repo,
    release_text,
    run_notices,
    seed_text,
)

from notifier.settings import load_settings
from notifier.statement.diff import compare
from notifier.statement.materiality import assess, load_rules
from notifier.statement.notice import parse_text

PATH = "notices/privacy/zh-CN.md"
PROMISE_OLD = "但是，我们不会以此方式保存与您支付工具有关的安全码。"
PROMISE_NEW = "但是，我们会以此方式保存与您支付工具有关的安全码。"


def second_release() -> str:
    """2024-03-01: 不 deleted from a promise, a punctuation fix, the date line updated."""
    text = release_text(seed_text(), "2024-03-01", effective="2024-04-01")
    text = text.replace(PROMISE_OLD, PROMISE_NEW)
    return text.replace("（“服务”）。由世纪互联", '("服务")。由世纪互联')


def add_second_release(repo: NoticeRepo) -> NoticeRepo:
    """Commit a second release (2024-03-01) on top of the seed (2018-11-01)."""
    repo.commit(
        "Release 2024-03-01", when="2024-03-01T10:00:00+08:00", files={PATH: second_release()}
    )
    return repo


@pytest.fixture(scope="module")
def two_releases(tmp_path_factory: pytest.TempPathFactory) -> NoticeRepo:
    """Two releases, built once: the tests that use it only read it."""
    return add_second_release(add_seed(empty_repo(tmp_path_factory.mktemp("two") / "repo")))


def expected_reasons(old: str, new: str, repo: Path) -> list[list[dict[str, Any]]]:
    """The materiality rules' own reasons for each change (their wording is theirs to change)."""
    comparison = compare(parse_text(old, "a.md"), parse_text(new, "b.md"))
    rules = load_rules(load_settings(repo, {}).materiality_overrides)
    verdict = assess(comparison, rules, comparison.new.front)
    return [
        [
            {
                "rule": r.rule,
                "title": r.title_zh,
                "explanation": r.explanation_zh,
                "explanation_zh": r.explanation_zh,
                "explanation_en": r.explanation_en,
                "triggers": list(r.triggers),
                "sources": list(r.sources),
                "tier": r.tier,
                "direction": r.direction,
                "consent": r.consent,
                "evidence": [{"before": e.before, "after": e.after} for e in r.evidence],
            }
            for r in judged.reasons
        ]
        for judged in verdict.changes
    ]


def change(section: str, section_id: str, kind: str, **fields: Any) -> dict[str, Any]:
    title = section.rsplit(" > ", 1)[-1]
    return {
        "section": section,
        "section_id": section_id,
        "kind": kind,
        "material": (material := fields.pop("material", False)),
        "verdict": "material" if material else "not-material",
        "tier": fields.pop("tier", "T0"),
        "reasons": fields.pop("reasons"),
        "labels": fields.pop("labels", []),
        "inserted": fields.pop("inserted", []),
        "deleted": fields.pop("deleted", []),
        "moved_from": None,
        "moved_to": None,
        "moved_text": [],
        "old_section_id": section_id,
        "old_section": section,
        "old_title": title,
        "new_title": title,
        **fields,
    }


def test_json_between_two_releases(two_releases: NoticeRepo) -> None:
    """When two release versions are compared as JSON, then the whole contract is printed."""
    run = run_notices("diff", "2018-11-01", "2024-03-01", "--format", "json", cwd=two_releases.path)
    assert (run.code, run.err) == (0, "")
    date_line, scope, payment = expected_reasons(seed_text(), second_release(), two_releases.path)
    assert [r["rule"] for r in date_line + scope + payment] == ["N05", "N03", "M21"]
    assert json.loads(run.out) == {
        "material": True,
        "verdict": "material",
        "tier": "T2",
        "override_reason": None,
        "override": None,
        "stale_override": None,
        "rules_verdict": "material",
        "rules_tier": "T2",
        "old": {
            "label": "2018-11-01",
            "kind": "release",
            "path": PATH,
            "version": "2018-11-01",
            "release": "privacy/zh-CN/2018-11-01",
        },
        "new": {
            "label": "2024-03-01",
            "kind": "release",
            "path": PATH,
            "version": "2024-03-01",
            "release": "privacy/zh-CN/2024-03-01",
        },
        "changes": [
            change(
                "世纪互联运营的在线服务隐私声明",
                "privacy-statement",
                "modified",
                labels=["date-line"],
                reasons=date_line,
            ),
            change("范围", "scope", "formatting", labels=["punctuation-width"], reasons=scope),
            change(
                "我们如何收集和使用您的数据 > 付款数据",
                "payment-data",
                "modified",
                material=True,
                tier="T2",
                deleted=["不"],
                reasons=payment,
            ),
        ],
    }


def test_git_revisions_compare_like_versions(two_releases: NoticeRepo) -> None:
    """When A and B are git revisions, then the changes are those of the two releases."""
    by_version = run_notices("diff", "2018-11-01", "2024-03-01", "--json", cwd=two_releases.path)
    by_revision = run_notices("diff", "HEAD~1", "HEAD", "--json", cwd=two_releases.path)
    assert (by_revision.code, by_revision.err) == (0, "")
    versions, revisions = json.loads(by_version.out), json.loads(by_revision.out)
    assert revisions["changes"] == versions["changes"]
    assert revisions["old"] == {
        "label": "HEAD~1",
        "kind": "revision",
        "path": f"HEAD~1:{PATH}",
        "version": "2018-11-01",
        "release": None,
    }
    assert revisions["new"]["kind"] == "revision"


def test_default_compares_the_latest_release_with_the_working_tree(
    seeded_repo: NoticeRepo,
) -> None:
    """When nothing is named and the working tree is a new version, then A is the latest release."""
    two_releases = add_second_release(seeded_repo)  # its own: the working tree is edited
    draft = release_text(second_release(), "2024-06-01").replace(
        "我们将在验证您身份后 30 天内予以回复。", "我们将在验证您身份后 15 天内予以回复。"
    )
    two_releases.write(PATH, draft)
    run = run_notices("diff", "--json", cwd=two_releases.path)
    assert (run.code, run.err) == (0, "")
    result = json.loads(run.out)
    assert (result["old"]["label"], result["new"]["label"]) == ("2024-03-01", "working tree")
    assert [
        (c["section_id"], c["kind"], c["inserted"], c["deleted"]) for c in result["changes"]
    ] == [
        ("privacy-statement", "modified", [], []),
        ("contact", "modified", ["15"], ["30"]),
    ]


def test_default_when_the_working_tree_is_the_latest_release(two_releases: NoticeRepo) -> None:
    """When the working tree holds the latest release, then A is the release before it."""
    run = run_notices("diff", "--json", cwd=two_releases.path)
    assert run.code == 0, run.err
    result = json.loads(run.out)
    assert (result["old"]["label"], result["new"]["label"]) == ("2018-11-01", "working tree")
    assert [c["section_id"] for c in result["changes"]] == [
        "privacy-statement",
        "scope",
        "payment-data",
    ]


def test_text_format_without_colour(two_releases: NoticeRepo) -> None:
    """When the text format goes to a pipe, then it is a plain section-by-section redline."""
    run = run_notices("diff", "2018-11-01", "2024-03-01", cwd=two_releases.path)
    assert (run.code, run.err) == (0, "")
    _, _, payment = expected_reasons(seed_text(), second_release(), two_releases.path)
    assert run.out == "\n".join(
        [
            f"{PATH}: 2018-11-01 → 2024-03-01",
            "verdict: material (T2); 3 change(s): 1 material",
            "",
            "== 世纪互联运营的在线服务隐私声明 [privacy-statement] · modified: date-line",
            "最后更新时间：[-2018 年 11 月 1 日-]{+2024 年 3 月 1 日+}",
            "",
            "== 范围 [scope] · formatting only: punctuation-width",
            "上海蓝云网络科技有限公司（北京世纪互联宽带数据中心有限公司的全资子公司，下称“世纪互联”"
            "或“我们”）运营的在线服务包括：（1）Microsoft Azure；和（2）Office 365 和 Power BI"
            '[-（“服务”）-]{+("服务")+}。由世纪互联运营的在线服务是基于微软的技术，但由世纪互联在'
            "位于中华人民共和国（不包括香港和澳门特别行政区以及台湾地区，以 … ",
            "",
            "== 我们如何收集和使用您的数据 > 付款数据 [payment-data] · modified · MATERIAL T2",
            f"   {payment[0]['explanation']} (words: {', '.join(payment[0]['triggers'])})",
            "      before: 但是，我们不会以此方式保存与您支付工具有关的安全码。",
            "      after: 但是，我们会以此方式保存与您支付工具有关的安全码。",
            "… 款数据监测和防止欺诈。",
            "",
            "当您使用经认证的付款数据时，我们将保存该数据以帮助您在将来交易时不必再次提供该信息。"
            "但是，我们[-不-]会以此方式保存与您支付工具有关的安全码。",
            "",
        ]
    )


def test_text_format_in_colour(two_releases: NoticeRepo) -> None:
    """When colour is asked for, then deletions are red and struck through."""
    run = run_notices("diff", "2018-11-01", "2024-03-01", "--color", cwd=two_releases.path)
    assert run.code == 0
    assert "\x1b[31;9m不\x1b[0m" in run.out
    assert "\x1b[33;9m2018 年 11 月 1 日\x1b[0m" in run.out  # the date line in its own colour
    assert "[-" not in run.out


def test_html_format_is_a_redline_fragment(two_releases: NoticeRepo) -> None:
    """When html is asked for, then each change is a section with <ins>/<del> marks."""
    run = run_notices("diff", "2018-11-01", "2024-03-01", "--format", "html", cwd=two_releases.path)
    assert (run.code, run.err) == (0, "")
    html = run.out
    assert html.startswith('<div class="notices-redline-set">\n') and html.endswith("</div>\n")
    assert '<p class="notices-verdict">verdict: material (T2); 3 change(s): 1 material</p>' in html
    assert html.count("<section ") == html.count("</section>") == 3
    assert (
        '<section class="notices-change notices-change--modified notices-change--material"'
        ' data-section-id="payment-data">' in html
    )
    assert "<h3>我们如何收集和使用您的数据 &gt; 付款数据 <small>modified · T2</small></h3>" in html
    assert "但是，我们<del>不</del>会以此方式保存" in html
    assert (
        '<del class="notices-formatting">（“服务”）</del>'
        '<ins class="notices-formatting">(&quot;服务&quot;)</ins>' in html
    )
    assert (
        '<del class="notices-date-line">2018 年 11 月 1 日</del>'
        '<ins class="notices-date-line">2024 年 3 月 1 日</ins>' in html
    )


def test_md_format_is_a_summary(two_releases: NoticeRepo) -> None:
    """When md is asked for, then the verdict, a table and the material redline are printed."""
    run = run_notices("diff", "2018-11-01", "2024-03-01", "--format", "md", cwd=two_releases.path)
    assert (run.code, run.err) == (0, "")
    lines = run.out.splitlines()
    assert lines[:9] == [
        "### Changes to 世纪互联运营的在线服务隐私声明: `2018-11-01` → `2024-03-01`",
        "",
        "**Material change** — customers must be notified before it takes effect (tier T2); "
        "3 change(s): 1 material.",
        "",
        "| Section | Change | Material | Why |",
        "|---|---|---|---|",
        "| 世纪互联运营的在线服务隐私声明 (`privacy-statement`) | modified: date-line | no | "
        "N05 仅更新日期行 |",
        "| 范围 (`scope`) | formatting only: punctuation-width | no | N03 全角半角标点或引号 |",
        "| 我们如何收集和使用您的数据 > 付款数据 (`payment-data`) | modified | **yes** (T2) | "
        "M21 承诺被删除或否定被翻转 |",
    ]
    assert lines[-1].endswith("但是，我们<del>不</del>会以此方式保存与您支付工具有关的安全码。")
    assert "#### 我们如何收集和使用您的数据 > 付款数据 (`payment-data`)" in lines
    assert "  - before: 但是，我们不会以此方式保存与您支付工具有关的安全码。" in lines
    assert "  - after: 但是，我们会以此方式保存与您支付工具有关的安全码。" in lines


def test_two_files_without_front_matter(tmp_path: Path) -> None:
    """When A and B are plain Markdown files outside any repository, then they still compare."""
    old = tmp_path / "old.md"
    new = tmp_path / "new.md"
    old.write_text("# 隐私声明\n\n我们将保存您的信息一年。\n", encoding="utf-8")
    new.write_text("# 隐私声明\n\n我们将保存您的信息三年。\n", encoding="utf-8")
    run = run_notices("diff", "old.md", str(new), "--json", cwd=tmp_path)
    assert (run.code, run.err) == (0, "")
    result = json.loads(run.out)
    assert result["old"] == {
        "label": "old.md",
        "kind": "file",
        "path": "old.md",
        "version": None,
        "release": None,
    }
    [only] = result["changes"]
    assert (only["section"], only["section_id"], only["kind"]) == (
        "隐私声明",
        "隐私声明",
        "modified",
    )
    assert (only["deleted"], only["inserted"]) == (["一"], ["三"])


def test_json_reason_names_consent_and_quotes_sentences(tmp_path: Path) -> None:
    """When a new sentence shares data with a named company for its own purposes, then the JSON
    reason says which article requires separate consent and quotes the sentence as written."""
    sentence = "我们会将您的个人信息提供给北京某某科技有限公司，用于其自身目的。"
    (tmp_path / "old.md").write_text("# 隐私声明\n\n我们收集您的姓名。\n", encoding="utf-8")
    (tmp_path / "new.md").write_text(
        f"# 隐私声明\n\n我们收集您的姓名。{sentence}\n", encoding="utf-8"
    )
    run = run_notices("diff", "old.md", "new.md", "--json", cwd=tmp_path)
    assert (run.code, run.err) == (0, "")
    [only] = json.loads(run.out)["changes"]
    m07 = next(r for r in only["reasons"] if r["rule"] == "M07")
    assert (m07["consent"], m07["tier"]) == ("PIPL 23", "T3")
    assert m07["evidence"] == [{"before": None, "after": sentence}]
    assert "北京某某科技有限公司" in m07["triggers"]


def test_html_escapes_text_and_marks_moves(tmp_path: Path) -> None:
    """When text holds markup and a sentence moves, then the html escapes it and marks the move."""
    moved = "我们不会出售您的个人信息。"
    (tmp_path / "a.md").write_text(
        f"## 范围 {{#scope}}\n\n本声明适用于全部服务。{moved}\n\n## 共享 {{#sharing}}\n\n"
        "我们与 <script>alert(1)</script> 共享数据。\n",
        encoding="utf-8",
    )
    (tmp_path / "b.md").write_text(
        "## 范围 {#scope}\n\n本声明适用于全部服务。\n\n## 共享 {#sharing}\n\n"
        f"我们与 <script>alert(2)</script> 共享数据。{moved}\n",
        encoding="utf-8",
    )
    run = run_notices("diff", "a.md", "b.md", "--format", "html", cwd=tmp_path)
    assert (run.code, run.err) == (0, "")
    assert "<script>" not in run.out
    assert "&lt;script&gt;alert(<del>1</del><ins>2</ins>)&lt;/script&gt;" in run.out
    assert f'<del class="notices-moved">{moved}</del>' in run.out
    assert f'<ins class="notices-moved">{moved}</ins>' in run.out
    assert "<h3>范围 <small>moved to sharing</small></h3>" in run.out
    assert "<h3>共享 <small>modified from scope" in run.out


def test_release_against_a_file(two_releases: NoticeRepo, tmp_path: Path) -> None:
    """When A is a release and B a file, then the release's text is compared with the file."""
    draft = tmp_path / "draft.md"
    draft.write_text(second_release().replace("Power BI", "Power BI 和 Dynamics 365"), "utf-8")
    run = run_notices("diff", "2024-03-01", str(draft), "--json", cwd=two_releases.path)
    assert run.code == 0, run.err
    [scope] = json.loads(run.out)["changes"]
    assert (scope["section_id"], scope["inserted"]) == ("scope", [" 和 Dynamics 365"])


def test_unknown_version_is_a_one_line_error(two_releases: NoticeRepo) -> None:
    """When A is neither a release, a revision nor a file, then exit 1 with one line."""
    run = run_notices("diff", "2099-01-01", cwd=two_releases.path)
    assert (run.code, run.out) == (1, "")
    assert run.err == (
        "error: no release, git revision or file named '2099-01-01' "
        "(hint: known versions: 2024-03-01, 2018-11-01)\n"
    )


def test_missing_file_is_a_one_line_error(two_releases: NoticeRepo) -> None:
    """When a .md path does not exist, then exit 1 naming the file."""
    run = run_notices("diff", "nowhere.md", cwd=two_releases.path)
    assert (run.code, run.out) == (1, "")
    assert run.err == "error: nowhere.md: file does not exist (hint: check the path)\n"


def test_first_release_has_nothing_before_it(seeded_repo: NoticeRepo) -> None:
    """When the working tree is the only release, then the default A is an error that names the
    file and line and hints a command that works, and that command does."""
    run = run_notices("diff", cwd=seeded_repo.path)
    assert (run.code, run.out) == (1, "")
    assert run.err == (
        "error: notices/privacy/zh-CN.md:3: 2018-11-01 is the first release of privacy/zh-CN: "
        "there is no earlier release to compare it with (hint: compare it with a file or "
        "revision: notices diff 2018-11-01 <path or revision>; `notices log` lists the releases)\n"
    )
    hinted = run_notices("diff", "2018-11-01", "notices/privacy/zh-CN.md", cwd=seeded_repo.path)
    assert (hinted.code, hinted.err) == (0, "")
    assert run_notices("log", cwd=seeded_repo.path).code == 0


@pytest.mark.parametrize(
    "args",
    [("diff", "--format", "pdf"), ("diff", "a", "b", "c"), ("diff", "--nope")],
)
def test_usage_errors_exit_2(two_releases: NoticeRepo, args: tuple[str, ...]) -> None:
    """When the command line is wrong, then exit 2 with click's usage message."""
    run = run_notices(*args, cwd=two_releases.path)
    assert run.code == 2
    assert run.out == ""
    assert "Usage: " in run.err and "Error: " in run.err


WHOLE_OLD = """# 隐私声明 {#privacy}

最后更新时间：2018 年 11 月 1 日

我们将在验证您身份后 30 天内予以回复，每月最多处理 1,000 项请求。

## Contact us {#contact}

This statement takes effect on November 1, 2018. We answer within 13 days.
"""


def test_numbers_and_dates_change_whole_in_every_format(tmp_path: Path) -> None:
    """When dates and numbers change, then text, HTML, Markdown and JSON all show each old value
    replaced whole by the new one, never digit by digit."""
    (tmp_path / "old.md").write_text(WHOLE_OLD, encoding="utf-8")
    new = (
        WHOLE_OLD.replace("2018 年 11 月 1 日", "2026 年 12 月 4 日")
        .replace("1,000", "1,500")
        .replace("November 1, 2018", "November 4, 2026")
        .replace("13 days", "14 days")
    )
    (tmp_path / "new.md").write_text(new, encoding="utf-8")
    text = run_notices("diff", "old.md", "new.md", cwd=tmp_path)
    assert (text.code, text.err) == (0, "")
    lines = text.out.splitlines()
    assert "最后更新时间：[-2018 年 11 月 1 日-]{+2026 年 12 月 4 日+}" in lines
    assert "我们将在验证您身份后 30 天内予以回复，每月最多处理 [-1,000-]{+1,500+} 项请求。" in lines
    assert (
        "This statement takes effect on [-November 1, 2018-]{+November 4, 2026+}. "
        "We answer within [-13-]{+14+} days."
    ) in lines
    assert not re.search(r"\d[.,]?(?:\[-|\{\+)|(?:-\]|\+\})[.,]?\d", text.out)
    html = run_notices("diff", "old.md", "new.md", "--format", "html", cwd=tmp_path).out
    assert (
        '<del class="notices-date-line">2018 年 11 月 1 日</del>'
        '<ins class="notices-date-line">2026 年 12 月 4 日</ins>'
    ) in html
    assert "<del>1,000</del><ins>1,500</ins>" in html
    assert "<del>November 1, 2018</del><ins>November 4, 2026</ins>" in html
    md = run_notices("diff", "old.md", "new.md", "--format", "md", cwd=tmp_path).out
    assert "<del>1,000</del><ins>1,500</ins>" in md
    assert "<del>13</del><ins>14</ins>" in md
    changes = json.loads(run_notices("diff", "old.md", "new.md", "--json", cwd=tmp_path).out)
    deleted = [(c["section_id"], c["deleted"], c["inserted"]) for c in changes["changes"]]
    assert deleted == [
        ("privacy", ["1,000"], ["1,500"]),
        ("contact", ["November 1, 2018", "13"], ["November 4, 2026", "14"]),
    ]
