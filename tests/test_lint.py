"""Tests for `notices lint`: every rule in Chinese and English, overrides, the seed, the corpus."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support.repos import CORPUS, SEED, NoticeRepo, run_notices, seed_text

from notifier.errors import ConfigError
from notifier.statement.lint import (
    Finding,
    LintRules,
    error_problems,
    language_of,
    lint_notice,
    load_lint_rules,
    packaged_rules,
)
from notifier.statement.notice import parse_notice

COMPLETE_ZH = """\
---
title: 示例云服务隐私声明
---

# 示例云服务隐私声明 {#privacy-statement}

最后更新时间：2024 年 1 月 1 日

## 范围 {#scope}

本声明由示例云计算有限公司（下称“示例云”）发布，适用于示例云运营的在线服务。

## 我们如何收集和使用您的个人信息 {#collection-and-use}

您注册账户时向我们提供姓名、电话号码和电子邮箱地址。我们使用这些信息用于开通账户和发送账单。

付款时我们收集支付工具账号。**个人敏感信息：支付工具账号属于敏感个人信息**，仅用于完成交易。

## 我们如何保存您的个人信息 {#retention}

我们在您的账户存续期间保存您的个人信息，账户注销后 30 天内删除。

## 境外提供 {#transfer}

我们将您的姓名和电子邮箱地址提供给境外接收方示例科技有限公司（privacy@example.com），\
用于提供全天候技术支持。您可以通过 privacy@example.com 向境外接收方行使本声明所述的权利。

## 您的权利 {#your-rights}

您可以在控制台查询、更正和删除您的个人信息，撤回您的同意，或注销账户。\
如对处理有异议，您可以向网信部门投诉。

## 未成年人保护 {#minors}

我们的服务不面向不满十四周岁的未成年人。

## 隐私声明的更改 {#changes}

如有重大变更，我们将在变更生效前 30 天通过电子邮件直接向您发送通知。

## 如何联系我们 {#contact}

电子邮件：privacy@example.com；邮寄地址：北京市朝阳区示例路 1 号，邮编：100000。
"""

COMPLETE_EN = """\
---
title: Example Cloud Privacy Statement
---

# Example Cloud Privacy Statement {#privacy-statement}

Last updated: 2024-01-01

## Who we are {#scope}

This statement is published by Example Cloud, Inc. (the "Company"), which operates the \
Example Cloud services.

## Personal data we collect {#collection}

When you sign up you provide your name, email address and phone number. We use this data to \
run your account and to bill you.

When you pay, we collect your payment card number. **Card numbers are sensitive personal \
information** and are used only to complete the payment.

## Retention {#retention}

We keep your personal data while your account is open and delete it within 30 days after you \
close it.

## International transfers {#transfers}

We transfer your name and email address outside China to Example Support Ltd \
(support@example.com) to provide support around the clock. You can exercise your rights against \
the recipient by writing to privacy@example.com.

## Your rights {#your-rights}

You can access, correct and delete your personal data in the console, withdraw your consent, or \
close your account. You can also lodge a complaint with your data protection authority.

## Children {#minors}

Our services are not directed to children under 14.

## Changes {#changes}

If we make material changes, we will notify you by email 30 days before they take effect.

## Contact us {#contact}

Email privacy@example.com or write to 1 Example Road, Springfield.
"""

BASE = {"zh": COMPLETE_ZH, "en": COMPLETE_EN}
PATHS = {"zh": "notices/privacy/zh-CN.md", "en": "notices/privacy/en.md"}
ZH_RETENTION = (
    "## 我们如何保存您的个人信息 {#retention}\n\n我们在您的账户存续期间保存您的个人信息，\
账户注销后 30 天内删除。\n\n"
)
EN_RETENTION = "## Retention {#retention}\n\nWe keep your personal data while your account is open \
and delete it within 30 days after you close it.\n\n"
ZH_RIGHTS = (
    "## 您的权利 {#your-rights}\n\n您可以在控制台查询、更正和删除您的个人信息，撤回您的同意，\
或注销账户。如对处理有异议，您可以向网信部门投诉。\n\n"
)
EN_RIGHTS = (
    "## Your rights {#your-rights}\n\nYou can access, correct and delete your personal data \
in the console, withdraw your consent, or close your account. You can also lodge a complaint with \
your data protection authority.\n\n"
)
ZH_TRANSFER_RIGHTS = "您可以通过 privacy@example.com 向境外接收方行使本声明所述的权利。"
EN_TRANSFER_RIGHTS = (
    "You can exercise your rights against the recipient by writing to privacy@example.com."
)
ZH_PARTNERS = (
    "## 合作伙伴 {#partners}\n\n"
    "我们可能会不时与某些合作伙伴共享一些信息，也可能将其用于某些其他目的。\n\n"
)
EN_PARTNERS = "## Partners {#partners}\n\nWe may share some data with certain partners from time \
to time, and may use it for other purposes such as research.\n\n"

# (rule, language, replacements that make a complete notice trigger the rule)
CASES: list[tuple[str, str, list[tuple[str, str]]]] = [
    ("L01", "zh", [("示例云计算有限公司", "示例云"), ("示例科技有限公司", "示例科技")]),
    (
        "L01",
        "en",
        [("Example Cloud, Inc.", "Example Cloud"), ("Example Support Ltd", "Example Support")],
    ),
    (
        "L02",
        "zh",
        [
            (
                "电子邮件：privacy@example.com；邮寄地址：北京市朝阳区示例路 1 号，邮编：100000。",
                "请在控制台提交工单。",
            ),
            ("（privacy@example.com）", ""),
            ("通过 privacy@example.com ", "通过控制台"),
        ],
    ),
    (
        "L02",
        "en",
        [
            (
                "Email privacy@example.com or write to 1 Example Road, Springfield.",
                "Use the console.",
            ),
            (" (support@example.com)", ""),
            ("by writing to privacy@example.com", "in the console"),
        ],
    ),
    (
        "L03",
        "zh",
        [
            ("我们使用这些信息用于开通账户和发送账单。", ""),
            ("，仅用于完成交易", ""),
            ("，用于提供全天候技术支持", ""),
        ],
    ),
    (
        "L03",
        "en",
        [
            (" We use this data to run your account and to bill you.", ""),
            ("and are used only to complete the payment", "and are protected"),
            (" to provide support around the clock", ""),
        ],
    ),
    (
        "L04",
        "zh",
        [("姓名、电话号码和电子邮箱地址", "资料"), ("您的姓名和电子邮箱地址", "您的资料")],
    ),
    (
        "L04",
        "en",
        [
            ("your name, email address and phone number", "your details"),
            ("your name and email address", "your details"),
        ],
    ),
    (
        "L05",
        "zh",
        [
            ("我们如何收集和使用", "我们如何使用"),
            ("付款时我们收集支付工具账号", "付款时使用支付工具账号"),
        ],
    ),
    (
        "L05",
        "en",
        [
            ("Personal data we collect", "Personal data"),
            ("When you sign up you provide your name", "Your account holds your name"),
            ("we collect your payment card number", "we charge your payment card"),
        ],
    ),
    ("L06", "zh", [(ZH_RETENTION, "")]),
    ("L06", "en", [(EN_RETENTION, "")]),
    (
        "L07",
        "zh",
        [("30 天内删除。", "30 天内删除。注销后的交易记录，我们将根据法律法规的要求保留。")],
    ),
    (
        "L07",
        "en",
        [("after you close it.", "after you close it. Invoices are kept as required by law.")],
    ),
    ("L08", "zh", [(ZH_RIGHTS, ""), (ZH_TRANSFER_RIGHTS, "")]),
    ("L08", "en", [(EN_RIGHTS, ""), (EN_TRANSFER_RIGHTS, "")]),
    ("L09", "zh", [("，或注销账户", "")]),
    ("L09", "en", [(", or close your account", "")]),
    ("L10", "zh", [(ZH_TRANSFER_RIGHTS, "")]),
    ("L10", "en", [(EN_TRANSFER_RIGHTS, "")]),
    ("L11", "zh", [("**个人敏感信息：支付工具账号属于敏感个人信息**，", "")]),
    (
        "L11",
        "en",
        [
            (
                " **Card numbers are sensitive personal information**"
                " and are used only to complete the payment.",
                "",
            )
        ],
    ),
    (
        "L12",
        "zh",
        [
            (
                "**个人敏感信息：支付工具账号属于敏感个人信息**",
                "个人敏感信息：支付工具账号属于敏感个人信息",
            )
        ],
    ),
    (
        "L12",
        "en",
        [
            (
                "**Card numbers are sensitive personal information**",
                "Card numbers are sensitive personal information",
            )
        ],
    ),
    (
        "L13",
        "zh",
        [("## 未成年人保护 {#minors}\n\n我们的服务不面向不满十四周岁的未成年人。\n\n", "")],
    ),
    (
        "L13",
        "en",
        [("## Children {#minors}\n\nOur services are not directed to children under 14.\n\n", "")],
    ),
    ("L14", "zh", [("## 隐私声明的更改", ZH_PARTNERS + "## 隐私声明的更改")]),
    ("L14", "en", [("## Changes", EN_PARTNERS + "## Changes")]),
    (
        "L15",
        "zh",
        [
            (
                "如有重大变更，我们将在变更生效前 30 天通过电子邮件直接向您发送通知。",
                "我们鼓励您定期查看本声明以了解变更。",
            )
        ],
    ),
    (
        "L15",
        "en",
        [
            (
                "If we make material changes, we will notify you by email"
                " 30 days before they take effect.",
                "Please check this page regularly for changes.",
            )
        ],
    ),
    ("L16", "zh", [("直接向您发送通知。", "直接向您发送通知。我们也鼓励您定期查看本声明。")]),
    (
        "L16",
        "en",
        [
            (
                "before they take effect.",
                "before they take effect."
                " We also encourage you to review this statement periodically.",
            )
        ],
    ),
    (
        "L17",
        "zh",
        [("适用于示例云运营的在线服务。", "适用于示例云运营的在线服务，详见[服务条款](#)。")],
    ),
    ("L17", "en", [("Example Cloud services.", "Example Cloud services (see the [terms](#)).")]),
    (
        "L18",
        "zh",
        [
            (
                "适用于示例云运营的在线服务。",
                "适用于示例云运营的在线服务。您可以在“安全中心”查看访问记录。",
            )
        ],
    ),
    (
        "L18",
        "en",
        [
            (
                "Example Cloud services.",
                'Example Cloud services. You can see the access log in the "Security Center".',
            )
        ],
    ),
]


def case(rule: str, language: str) -> list[tuple[str, str]]:
    """The replacements that make the complete `language` notice trigger `rule`."""
    return next(r for i, lang, r in CASES if (i, lang) == (rule, language))


def variant(language: str, replacements: list[tuple[str, str]]) -> str:
    """The complete notice in `language` with each replacement applied (each must apply)."""
    text = BASE[language]
    for old, new in replacements:
        assert old in text, f"replacement target not in the {language} notice: {old!r}"
        text = text.replace(old, new)
    return text


def lint(text: str, language: str = "zh", rules: LintRules | None = None) -> tuple[Finding, ...]:
    notice = parse_notice(text.encode("utf-8"), PATHS[language])
    return lint_notice(notice, rules or load_lint_rules({}))


def ids(findings: tuple[Finding, ...]) -> set[str]:
    return {finding.rule for finding in findings}


def only(findings: tuple[Finding, ...], rule: str) -> list[Finding]:
    return [finding for finding in findings if finding.rule == rule]


# ---------------------------------------------------------------------------- the rules


def test_packaged_rules_are_complete() -> None:
    """When the packaged rules are read, then L01-L18 each have titles, sources and suggestions."""
    rules = packaged_rules()
    assert [rule.id for rule in rules] == [f"L{n:02d}" for n in range(1, 19)]
    for rule in rules:
        assert rule.severity in ("error", "warning", "info")
        assert rule.title_zh and rule.title_en and rule.suggestion_zh and rule.suggestion_en
        assert rule.sources


@pytest.mark.parametrize("language", ["zh", "en"])
def test_complete_notice_has_no_findings(language: str) -> None:
    """When a notice covers every PIPL 17 item plainly, then no rule fires."""
    assert lint(BASE[language], language) == ()


@pytest.mark.parametrize(("rule", "language", "replacements"), CASES)
def test_rule_fires(rule: str, language: str, replacements: list[tuple[str, str]]) -> None:
    """When the item a rule looks for is missing or unclear, then that rule reports it."""
    text = variant(language, replacements)
    findings = only(lint(text, language), rule)
    packaged = next(r for r in packaged_rules() if r.id == rule)
    assert findings, f"{rule} did not fire"
    lines = text.split("\n")
    for finding in findings:
        assert finding.severity == packaged.severity
        assert finding.source == "; ".join(packaged.sources)
        assert 1 <= finding.line <= len(lines)
        assert finding.message_zh.startswith(packaged.title_zh)
        assert finding.message_en.startswith(packaged.title_en)


def test_every_rule_has_a_case_in_both_languages() -> None:
    """When the cases are listed, then every packaged rule has a Chinese and an English one."""
    covered = {(rule, language) for rule, language, _ in CASES}
    assert covered == {(r.id, lang) for r in packaged_rules() for lang in ("zh", "en")}


def test_missing_identity_is_an_error_at_the_scope_section() -> None:
    """When no legal entity is named, then L01 is an error placed at the scope heading."""
    text = variant("zh", case("L01", "zh"))
    [finding] = only(lint(text), "L01")
    assert (finding.severity, finding.section_id, finding.line) == ("error", "scope", 9)
    assert finding.section == "范围"


def test_missing_item_without_a_matching_section_goes_to_the_title() -> None:
    """When no section is about minors, then L13 points at the document title line."""
    [finding] = only(lint(variant("en", case("L13", "en")), "en"), "L13")
    assert (finding.section_id, finding.line) == ("privacy-statement", 5)


def test_retention_by_reference_to_law_names_the_sentence() -> None:
    """When retention is only 'as the law requires', then L07 quotes that sentence and its line."""
    [finding] = only(lint(variant("zh", case("L07", "zh"))), "L07")
    assert finding.line == 21
    assert finding.section_id == "retention"
    assert finding.message_zh.endswith(
        "：“注销后的交易记录，我们将根据法律法规的要求保留。”（法律法规的要求）"
    )
    assert finding.message_en.endswith(
        ": “注销后的交易记录，我们将根据法律法规的要求保留。” (法律法规的要求)"
    )


@pytest.mark.parametrize(
    ("language", "sentence"),
    [
        ("zh", "注销后的交易记录，我们将根据法律法规的要求保留五年。"),
        ("zh", "注销后的交易记录，我们将根据法律法规的要求保留至税务审计结束为止。"),
        ("en", "Invoices are kept for 7 years as required by law."),
        ("en", "Invoices are kept as required by law until the tax audit ends."),
    ],
)
def test_retention_with_a_period_or_criterion_is_fine(language: str, sentence: str) -> None:
    """When a retention sentence citing the law also gives a period or criterion, then no L07."""
    anchor = "30 天内删除。" if language == "zh" else "after you close it."
    text = variant(language, [(anchor, anchor + " " + sentence)])
    assert only(lint(text, language), "L07") == []


def test_missing_rights_are_listed() -> None:
    """When account closure and complaint are missing, then L09 lists exactly those two."""
    text = variant("zh", [("，或注销账户", ""), ("如对处理有异议，您可以向网信部门投诉。", "")])
    [finding] = only(lint(text), "L09")
    assert finding.message_zh == "未说明部分个人权利的行使方式：缺少注销账户、投诉和举报"
    assert finding.message_en.endswith(": missing account closure, complaint")
    assert finding.section_id == "your-rights"


def test_cross_border_finding_lists_missing_items() -> None:
    """When a transfer names no recipient and no way to exercise rights, then L10 lists both."""
    text = variant("en", [(EN_TRANSFER_RIGHTS, ""), ("Example Support Ltd", "a support vendor")])
    [finding] = only(lint(text, "en"), "L10")
    assert finding.message_en.endswith(
        "missing the recipient's name or identity, how to exercise rights against the recipient"
    )
    assert (finding.section_id, finding.line) == ("transfers", 23)


@pytest.mark.parametrize("language", ["zh", "en"])
def test_no_transfer_no_cross_border_finding(language: str) -> None:
    """When the notice never mentions a transfer abroad, then L10 has nothing to ask for."""
    section = (
        ZH_TRANSFER_RIGHTS if language == "zh" else EN_TRANSFER_RIGHTS,
        "",
    )
    start = "## 境外提供" if language == "zh" else "## International transfers"
    text = variant(language, [section])
    head, _, rest = text.partition(start)
    text = head + rest[rest.index("\n## ") + 1 :]
    assert only(lint(text, language), "L10") == []


def test_vague_qualifiers_are_counted_per_section() -> None:
    """When a section piles up qualifiers, then one L14 finding lists each word with its count."""
    [finding] = only(lint(variant("zh", case("L14", "zh"))), "L14")
    assert finding.section_id == "partners"
    assert finding.message_zh == "本节模糊限定词过多：6 处（可能×2、某些×2、不时×1、一些×1）"


@pytest.mark.parametrize(
    ("language", "section"),
    [
        ("zh", "## 合作伙伴 {#partners}\n\n我们可能会与某些合作伙伴共享信息。\n\n"),
        ("en", "## Partners {#partners}\n\nWe may share some data with partners.\n\n"),
    ],
)
def test_few_vague_qualifiers_are_fine(language: str, section: str) -> None:
    """When a section has fewer qualifiers than the threshold, then no L14."""
    anchor = "## 隐私声明的更改" if language == "zh" else "## Changes"
    assert only(lint(variant(language, [(anchor, section + anchor)]), language), "L14") == []


def test_check_regularly_severity_depends_on_direct_notice() -> None:
    """When 'check regularly' stands alone it is a warning; beside a direct notice, only info."""
    alone = lint(variant("zh", case("L15", "zh")))
    beside = lint(variant("zh", case("L16", "zh")))
    assert [(f.rule, f.severity) for f in alone] == [("L15", "warning")]
    assert [(f.rule, f.severity) for f in beside] == [("L16", "info")]


def test_every_placeholder_link_is_reported() -> None:
    """When two links point nowhere, then L17 reports each with its own line."""
    text = variant("en", case("L17", "en")).replace(
        "Email privacy@example.com", "Email privacy@example.com or use the [form]()"
    )
    found = only(lint(text, "en"), "L17")
    assert [(f.line, f.message_en) for f in found] == [
        (11, "A link points nowhere: [terms](#)"),
        (41, "A link points nowhere: [form]()"),
    ]


@pytest.mark.parametrize(
    ("language", "defining"),
    [
        ("zh", "“安全中心”是指控制台中的审计页面。您可以在“安全中心”查看访问记录。"),
        ("zh", "您可以在控制台的审计页面（下称“安全中心”）查看访问记录。"),
        ("zh", "您可以在“安全中心”查看访问记录。\n\n## 安全中心 {#security-center}\n\n审计页面。"),
        ("en", 'The "Security Center" means the audit page of the console.'),
        ("en", 'You can see the access log on the audit page (the "Security Center").'),
        ("en", 'See the "Security Center". **Security Center**: the audit page of the console.'),
        ("en", 'You can read the "log", the "audit trail" and other records.'),
    ],
)
def test_defined_or_lowercase_quoted_terms_are_fine(language: str, defining: str) -> None:
    """When a quoted term is defined (or is a lowercase English scare quote), then no L18."""
    anchor = "适用于示例云运营的在线服务。" if language == "zh" else "Example Cloud services."
    text = variant(language, [(anchor, anchor + defining)])
    assert only(lint(text, language), "L18") == []


def test_undefined_term_is_reported_once_at_first_use() -> None:
    """When an undefined quoted term is used twice, then L18 reports it once, at its first use."""
    text = variant("zh", case("L18", "zh")).replace(
        "## 未成年人保护", "“安全中心”保留日志。\n\n## 未成年人保护"
    )
    [finding] = only(lint(text), "L18")
    assert (finding.line, finding.message_zh) == (11, "引号中的术语没有定义：“安全中心”")


def test_language_follows_the_file_name_then_the_text() -> None:
    """When a file is zh-CN it is Chinese, en English; an unnamed file goes by its text."""
    assert language_of(parse_notice(b"# Privacy", "notices/privacy/zh-CN.md")) == "zh"
    assert language_of(parse_notice("# 隐私声明".encode(), "notices/privacy/en.md")) == "en"
    assert language_of(parse_notice("# 隐私声明\n\n正文。".encode(), "/tmp/draft.md")) == "zh"
    assert language_of(parse_notice(b"# Privacy\n\nText.", "/tmp/draft.md")) == "en"


def test_empty_notice_reports_every_missing_item_at_its_first_line() -> None:
    """When a notice has no text at all, then every completeness rule fires and nothing crashes."""
    findings = lint("---\ntitle: 空\n---\n")
    assert ids(findings) == {"L01", "L02", "L03", "L04", "L05", "L06", "L08", "L09", "L13"}
    assert {(f.line, f.section_id) for f in findings} == {(4, "")}


# ---------------------------------------------------------------------------- overrides


def test_disabled_rule_is_not_run() -> None:
    """When L12 is disabled, then the seed has no L12 finding and the rest is unchanged."""
    seed = parse_notice(SEED.read_bytes(), "notices/privacy/zh-CN.md")
    default = ids(lint_notice(seed, load_lint_rules({})))
    rules = load_lint_rules({"disabled": ["L12"]})
    assert rules.disabled == ("L12",) and rules.get("L12") is None
    assert ids(lint_notice(seed, rules)) == default - {"L12"}


def test_severity_override_applies() -> None:
    """When [lint.rules.L03] sets severity = "error", then a missing purpose is an error."""
    rules = load_lint_rules({"rules": {"L03": {"severity": "error"}}})
    [finding] = only(lint(variant("zh", case("L03", "zh")), rules=rules), "L03")
    assert finding.severity == "error"


def test_threshold_override_applies() -> None:
    """When L14's threshold is raised above a section's count, then that section is not reported."""
    text = variant("en", case("L14", "en"))
    assert only(lint(text, "en", load_lint_rules({"rules": {"L14": {"threshold": 6}}})), "L14")
    assert not only(lint(text, "en", load_lint_rules({"rules": {"L14": {"threshold": 7}}})), "L14")


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        ({"disable": ["L12"]}, "unknown setting 'lint.disable'"),
        ({"disabled": "L12"}, "setting 'lint.disabled' must be a list"),
        ({"disabled": ["L99"]}, "unknown lint rule 'L99' in 'lint.disabled'"),
        ({"rules": {"L99": {"severity": "info"}}}, "unknown lint rule 'lint.rules.L99'"),
        ({"rules": {"L03": "error"}}, "'lint.rules.L03' must be a table"),
        ({"rules": {"L03": {"level": "error"}}}, "unknown setting 'lint.rules.L03.level'"),
        ({"rules": {"L03": {"threshold": 2}}}, "unknown setting 'lint.rules.L03.threshold'"),
        ({"rules": {"L03": {"severity": "fatal"}}}, "setting 'lint.rules.L03.severity' must be"),
        ({"rules": {"L14": {"threshold": 0}}}, "setting 'lint.rules.L14.threshold' must be"),
    ],
)
def test_bad_overrides_name_the_key(overrides: dict[str, object], named: str) -> None:
    """When [lint] has an unknown id, key or bad value, then ConfigError names the key."""
    with pytest.raises(ConfigError) as raised:
        load_lint_rules(overrides, path="notices.toml")
    assert named in raised.value.message
    assert raised.value.path == "notices.toml"


# ---------------------------------------------------------------------------- the seed and corpus


def test_seed_findings() -> None:
    """When the seed is linted, then it has these rules' findings, no errors, and real warnings."""
    seed = parse_notice(seed_text().encode("utf-8"), "notices/privacy/zh-CN.md")
    findings = lint_notice(seed, load_lint_rules({}))
    assert ids(findings) == {"L07", "L09", "L10", "L12", "L14", "L16", "L17", "L18"}
    assert [f for f in findings if f.severity == "error"] == []
    by_rule = {rule: [f for f in findings if f.rule == rule] for rule in ids(findings)}
    assert {f.section_id for f in by_rule["L07"]} == {"retention", "trials"}
    assert "法律法规的要求" in by_rule["L07"][0].message_zh
    assert {f.section_id for f in by_rule["L17"]} == {"scope", "administrator-data", "contact"}
    assert [f.message_zh for f in by_rule["L09"]] == ["未说明部分个人权利的行使方式：缺少注销账户"]
    assert [f.section_id for f in by_rule["L10"]] == ["sharing"]
    assert [(f.section_id, f.severity) for f in by_rule["L16"]] == [("changes", "info")]
    assert [f.message_zh for f in by_rule["L18"]] == ["引号中的术语没有定义：“最近更新”"]


MOZILLA_ZH = sorted(CORPUS.glob("mozilla-legal-docs/*/zh-CN/*.md"))
GITHUB = sorted(CORPUS.glob("github-site-policy/*.md"))


@pytest.mark.parametrize(
    ("relative", "expected"),
    [
        (
            "mozilla-legal-docs/firefox_privacy_notice/zh-CN/2025-12-09_2.md",
            {"L09", "L10", "L13", "L14", "L18"},
        ),
        ("github-site-policy/2026-03-23.md", {"L07", "L09", "L10", "L11", "L14", "L18"}),
    ],
)
def test_latest_corpus_statements(relative: str, expected: set[str]) -> None:
    """When the latest Mozilla zh-CN and GitHub statements are linted, then these rules fire."""
    notice = parse_notice((CORPUS / relative).read_bytes(), relative)
    findings = lint_notice(notice, load_lint_rules({}))
    assert ids(findings) == expected
    assert not [f for f in findings if f.severity == "error"]


def test_every_corpus_version_lints_with_valid_locations() -> None:
    """When every Mozilla zh-CN and GitHub version is linted, then nothing crashes and every
    finding points at a real line of a real section."""
    assert len(MOZILLA_ZH) > 80 and len(GITHUB) > 60
    rules = load_lint_rules({})
    total = 0
    for path in MOZILLA_ZH + GITHUB:
        notice = parse_notice(path.read_bytes(), str(path))
        lines = notice.text.count("\n") + 1
        section_ids = {s.id for s in notice.sections} | {""}
        for finding in lint_notice(notice, rules):
            assert 1 <= finding.line <= lines, (path, finding)
            assert finding.section_id in section_ids, (path, finding)
            total += 1
    assert total > len(MOZILLA_ZH) + len(GITHUB)


# ---------------------------------------------------------------------------- CLI and check


def _write(repo: NoticeRepo, text: str, relative: str = "notices/privacy/zh-CN.md") -> None:
    repo.write(relative, text)


def test_cli_json_is_exact(notice_repo: NoticeRepo) -> None:
    """When `notices lint privacy --json` runs on a notice with one dead link, then the JSON is
    exactly that finding and the counts, and the exit code is 0."""
    _write(notice_repo, variant("zh", case("L17", "zh")))
    result = run_notices("lint", "privacy", "--json", cwd=notice_repo.path)
    assert (result.code, result.err) == (0, "")
    assert json.loads(result.out) == {
        "findings": [
            {
                "path": "notices/privacy/zh-CN.md",
                "rule": "L17",
                "severity": "warning",
                "section": "范围",
                "section_id": "scope",
                "line": 11,
                "source": "PIPL 17 (便于查阅); EDPB WP260 rev.01 ¶11 (easily accessible)",
                "message": {
                    "zh": "链接没有实际地址：[服务条款](#)",
                    "en": "A link points nowhere: [服务条款](#)",
                },
                "suggestion": {
                    "zh": "给链接填上实际地址，或删去链接、直接写出所指的页面。",
                    "en": "Give the link a real address, "
                    "or remove it and name the page in the text.",
                },
            }
        ],
        "counts": {"error": 0, "warning": 1, "info": 0},
    }


def test_cli_text_speaks_the_notice_language(notice_repo: NoticeRepo) -> None:
    """When every notice is linted as text, then each line is `path:line: severity: [id] message
    (suggestion)` in that file's language, then a count line."""
    _write(notice_repo, variant("zh", case("L17", "zh")))
    _write(notice_repo, variant("en", case("L17", "en")), "notices/privacy/en.md")
    result = run_notices("lint", cwd=notice_repo.path)
    assert result.code == 0
    assert result.out.splitlines() == [
        "notices/privacy/en.md:11: warning: [L17] A link points nowhere: [terms](#) "
        "(Give the link a real address, or remove it and name the page in the text.)",
        "notices/privacy/zh-CN.md:11: warning: [L17] 链接没有实际地址：[服务条款](#) "
        "(给链接填上实际地址，或删去链接、直接写出所指的页面。)",
        "0 error(s), 2 warning(s), 0 info",
    ]


def test_cli_exits_1_on_errors_only(notice_repo: NoticeRepo, tmp_path: Path) -> None:
    """When a file lacks the processor's name, then lint exits 1; warnings alone exit 0."""
    draft = tmp_path / "draft.md"
    draft.write_text(variant("en", case("L01", "en")), encoding="utf-8")
    failed = run_notices("lint", str(draft), cwd=notice_repo.path)
    assert failed.code == 1
    assert f"{draft}:9: error: [L01] The processor's name is not stated (" in failed.out
    assert failed.out.endswith("1 error(s), 1 warning(s), 0 info\n")
    draft.write_text(variant("en", case("L09", "en")), encoding="utf-8")
    assert run_notices("lint", str(draft), cwd=notice_repo.path).code == 0


def test_cli_seed_counts(seeded_repo: NoticeRepo) -> None:
    """When the committed seed is linted, then it passes (no errors) with warnings and info."""
    result = run_notices("lint", "--json", cwd=seeded_repo.path)
    assert result.code == 0
    assert json.loads(result.out)["counts"] == {"error": 0, "warning": 7, "info": 6}


def test_cli_unknown_notice_and_bad_file(notice_repo: NoticeRepo) -> None:
    """When the notice does not exist or is not UTF-8, then a one-line error names it, exit 1."""
    _write(notice_repo, COMPLETE_ZH)
    missing = run_notices("lint", "cookies", cwd=notice_repo.path)
    assert (missing.code, missing.out) == (1, "")
    assert missing.err == (
        "error: no notice named 'cookies' and no such file "
        "(hint: give a notice name (privacy) or a path to a .md file)\n"
    )
    notice_repo.write("notices/privacy/zh-CN.md", "# 隐私声明\n\n第二行".encode("gbk"))
    broken = run_notices("lint", cwd=notice_repo.path)
    assert broken.code == 1
    assert broken.err.startswith("error: notices/privacy/zh-CN.md:1: not valid UTF-8 text")


def test_cli_reads_lint_table_of_notices_toml(notice_repo: NoticeRepo) -> None:
    """When notices.toml disables L17, then the dead link is not reported; a bad key fails."""
    _write(notice_repo, variant("zh", case("L17", "zh")))
    settings = notice_repo.path / "notices.toml"
    original = settings.read_text(encoding="utf-8")
    settings.write_text(original + '\n[lint]\ndisabled = ["L17"]\n', encoding="utf-8")
    quiet = run_notices("lint", "--json", cwd=notice_repo.path)
    assert json.loads(quiet.out) == {
        "findings": [],
        "counts": {"error": 0, "warning": 0, "info": 0},
    }
    settings.write_text(original + '\n[lint.rules.L17]\nlevel = "info"\n', encoding="utf-8")
    bad = run_notices("lint", cwd=notice_repo.path)
    assert bad.code == 1
    level_line = len(original.split("\n")) + 2  # the line of `level = ...`
    assert bad.err == (
        f"error: {settings.resolve()}:{level_line}: unknown setting 'lint.rules.L17.level' "
        "(hint: settings of L17: severity)\n"
    )


def test_error_problems_for_check() -> None:
    """When a notice lacks the processor's name, then error_problems gives check one error
    Problem; the seed gives none."""
    rules = load_lint_rules({})
    lacking = parse_notice(variant("zh", case("L01", "zh")).encode(), "notices/privacy/zh-CN.md")
    [problem] = error_problems([lacking], rules)
    assert (problem.severity, problem.rule, problem.path, problem.line) == (
        "error",
        "L01",
        "notices/privacy/zh-CN.md",
        9,
    )
    assert problem.message == "未写明个人信息处理者的名称"
    seed = parse_notice(seed_text().encode(), "notices/privacy/zh-CN.md")
    assert error_problems([seed], rules) == []
