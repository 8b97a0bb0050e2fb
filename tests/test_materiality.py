"""Materiality verdicts on real notice texts run through the real diff: every rule in Chinese and
English, every quiet kind, overrides from notices.toml and from the front matter."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest
from support.materiality import EN_STATEMENT, default_rules, edited, verdict_of
from support.repos import CORPUS, SETTINGS, seed_text, with_front

from notifier.errors import ConfigError
from notifier.settings import load_settings
from notifier.statement.diff import compare
from notifier.statement.materiality import (
    TIERS,
    RuleSet,
    Verdict,
    assess,
    load_rules,
    rules_for,
    section_category,
    tier_max,
)
from notifier.statement.notice import parse_text

SEED = seed_text()
# The privacy officer's mail address moved (a postcode alone corrected is N14, not a move).
MOVED_FROM = "酒仙桥路 6 号院电子城 · 国际电子总部 6 号楼 12-14 层 邮编：100015"
MOVED_TO = "望京街 9 号 邮编：100102"

# (rule, language, text before, text after, tier of the rule's reason)
# Chinese examples edit the seed statement; English ones edit an English statement of the
# same shape (tests/support_materiality.py).
RULE_EXAMPLES = [
    (
        "M01",
        "zh",
        "上海蓝云网络科技有限公司（北京世纪互联宽带数据中心有限公司的全资子公司，下称",
        "北京蓝云网络科技有限公司（北京世纪互联宽带数据中心有限公司的全资子公司，下称",
        "T2",
    ),
    (
        "M01",
        "en",
        "Shanghai Blue Cloud Technology Co., Ltd.",
        "Beijing Blue Cloud Technology Co., Ltd.",
        "T2",
    ),
    (
        "M02",
        "zh",
        "当发生收购、兼并、重组等类似交易时",
        "当发生收购、兼并、重组、破产等类似交易时",
        "T2",
    ),
    (
        "M02",
        "en",
        "When a merger or an acquisition involves",
        "When a merger, an acquisition or a bankruptcy involves",
        "T2",
    ),
    (
        "M03",
        "zh",
        "改善服务及检测并防止诈骗。",
        "改善服务及检测并防止诈骗，并用于向您推送营销信息。",
        "T2",
    ),
    (
        "M03",
        "en",
        "We use customer data only to provide the services.",
        "We use customer data only to provide the services and for marketing.",
        "T2",
    ),
    (
        "M04",
        "zh",
        "此外还将其用于解决您的支持事件以及培训用途。",
        "此外还将其用于解决您的支持事件。",
        "T1",
    ),
    (
        "M04",
        "en",
        "With your permission, we also use administrator data for marketing.\n",
        "",
        "T1",
    ),
    (
        "M05",
        "zh",
        "包括姓名、地址、电话号码和电子邮箱地址。",
        "包括姓名、地址、电话号码、电子邮箱地址和设备标识。",
        "T2",
    ),
    (
        "M05",
        "en",
        "phone number and email address of the administrators",
        "phone number, email address and device identifiers of the administrators",
        "T2",
    ),
    (
        "M06",
        "zh",
        "管理员的手机号码或身份证件的扫描件。",
        "管理员的手机号码、身份证件的扫描件或人脸照片。",
        "T3",
    ),
    (
        "M06",
        "en",
        "We use payment data to complete",
        "We use payment data, including your bank account number, to complete",
        "T3",
    ),
    (
        "M07",
        "zh",
        "- 在没有您事先书面指令的情况下",
        "- 我们可能与合作伙伴共享您的管理员数据。\n- 在没有您事先书面指令的情况下",
        "T3",
    ),
    (
        "M07",
        "en",
        "- We disclose information when required by law.",
        "- We disclose information when required by law.\n- We share usage data with partners.",
        "T3",
    ),
    (
        "M08",
        "zh",
        "支持服务可通过电话、电子邮件或在线聊天的方式提供。",
        "支持服务可通过电话、电子邮件或在线聊天的方式提供，部分支持由外包服务提供商完成。",
        "T2",
    ),
    (
        "M08",
        "en",
        "we will tell you in advance.",
        "we will tell you in advance. A service provider hosts the services for us.",
        "T2",
    ),
    (
        "M09",
        "zh",
        "且可向其提供您的基本联系方式。",
        "且可向其提供您的基本联系方式，并可公开披露该投诉。",
        "T3",
    ),
    (
        "M09",
        "en",
        "- We disclose information when required by law.",
        "- We disclose information when required by law, and make public the accounts that break "
        "our rules.",
        "T3",
    ),
    (
        "M10",
        "zh",
        "客户数据将仅存储在位于中国的数据中心。",
        "客户数据将存储在位于中国和新加坡的数据中心。",
        "T3",
    ),
    ("M10", "en", "centers located in China.", "centers located in China and Singapore.", "T3"),
    (
        "M11",
        "zh",
        "我们将立即对您的信息进行删除或匿名化处理",
        "我们将在 180 天内对您的信息进行删除或匿名化处理",
        "T2",
    ),
    ("M11", "en", "information for 30 days", "information for 1 year", "T2"),
    ("M12", "zh", "并三十天内或法律法规规定的期限内", "并六十天内或法律法规规定的期限内", "T2"),
    (
        "M12",
        "en",
        "respond to your request within 30 days",
        "respond to your request within 60 days",
        "T2",
    ),
    ("M13", "zh", MOVED_FROM, MOVED_TO, "T1"),
    ("M13", "en", "privacy@21vianet.example", "privacy@bluecloud.example", "T1"),
    ("M14", "zh", "在存储和传输您的个人信息时，我们将采取加密等安全措施。", "", "T2"),
    ("M14", "en", "We use encryption and access controls", "We use access controls", "T2"),
    ("M15", "zh", "（例如站点分析）", "（例如站点分析和广告投放）", "T2"),
    (
        "M15",
        "en",
        "to remember your preferences and to authenticate you",
        "to remember your preferences, to authenticate you and for analytics",
        "T2",
    ),
    (
        "M16",
        "zh",
        "改善服务及检测并防止诈骗。",
        "改善服务及检测并防止诈骗，并据此进行个性化推荐。",
        "T2",
    ),
    (
        "M16",
        "en",
        "and to manage your account.",
        "and to manage your account and for profiling.",
        "T2",
    ),
    ("M17", "zh", "如您是 18 岁以下的未成年人", "如您是 14 岁以下的未成年人", "T3"),
    ("M17", "en", "under 18 years old", "under 13 years old", "T3"),
    (
        "M18",
        "zh",
        "    - 与国家安全、国防安全直接相关的；\n    - 与公共安全",
        "    - 与国家安全、国防安全直接相关的；\n    - 执法机关要求提供的；\n    - 与公共安全",
        "T2",
    ),
    (
        "M18",
        "en",
        "when required by law.",
        "when required by law or at a government request.",
        "T2",
    ),
    (
        "M19",
        "zh",
        "（1）Microsoft Azure；和（2）Office 365 和 Power BI",
        "（1）Microsoft Azure；（2）Office 365 和 Power BI；和（3）Dynamics 365",
        "T2",
    ),
    (
        "M19",
        "en",
        "applies to the services listed above.",
        "applies to the services listed above and to visitors of our websites.",
        "T2",
    ),
    (
        "M20",
        "zh",
        "但是，在服务试用期结束后，您的信息可能随时从服务中删除。",
        "但是，在服务试用期结束后，您的信息将在宽限期后从服务中删除。",
        "T2",
    ),
    (
        "M20",
        "en",
        "collected during the trial for a while",
        "collected during the trial and any preview for a while",
        "T2",
    ),
    ("M21", "zh", "但是，我们不会以此方式保存", "但是，我们会以此方式保存", "T2"),
    ("M21", "en", "We will not store the security", "We may store the security", "T2"),
    (
        "M22",
        "zh",
        "通过发布该等变更的通知或直接向您发送通知告知您",
        "通过发布该等变更的通知告知您",
        "T2",
    ),
    (
        "M22",
        "en",
        "we will notify you by email before the changes\ntake effect",
        "we will post them on this page",
        "T2",
    ),
    (
        "M23",
        "zh",
        "我们的客户支持人员将向您说明相关情况，并事先取得您的同意。",
        "我们的客户支持人员将向您说明相关情况。",
        "T3",
    ),
    ("M23", "en", "You can withdraw\nyour consent at any time. ", "", "T3"),
    ("M24", "zh", "- 涉及商业秘密的。", "- 涉及商业秘密的；\n- 涉及国家机密的。", "T2"),
    (
        "M24",
        "en",
        "general availability to get feedback",
        "general availability to gather opinions",
        "T2",
    ),
]


def _base(language: str) -> str:
    return SEED if language == "zh" else EN_STATEMENT


def _rule_example(rule: str, language: str) -> tuple[str, str, str]:
    for rid, lang, old, new, tier in RULE_EXAMPLES:
        if (rid, lang) == (rule, language):
            return old, new, tier
    raise LookupError((rule, language))


def test_every_rule_has_an_example_in_both_languages() -> None:
    """When the rule catalogue is loaded, then the example table covers each M-rule twice."""
    covered = {(rule, language) for rule, language, *_ in RULE_EXAMPLES}
    expected = {(rule, language) for rule in default_rules().rules for language in ("zh", "en")}
    assert covered == expected


@pytest.mark.parametrize(
    ("rule", "language", "old", "new", "tier"),
    RULE_EXAMPLES,
    ids=[f"{r}-{lang}" for r, lang, *_ in RULE_EXAMPLES],
)
def test_rule_fires(rule: str, language: str, old: str, new: str, tier: str) -> None:
    """When a statement is edited as in the rule's example, then the rule fires at its tier and
    the release is material at least at that tier."""
    base = _base(language)
    verdict = verdict_of(base, edited(base, old, new))
    reasons = [r for r in verdict.reasons if r.rule == rule]
    assert reasons, f"{rule} did not fire; fired: {verdict.rules_fired}"
    assert reasons[0].tier == tier
    # M24 explains nothing: the release is undecided, never material or not material
    assert verdict.decision == ("undecided" if rule == "M24" else "material")
    assert TIERS.index(verdict.tier) >= TIERS.index(tier)
    assert verdict.tier == tier_max(cv.tier for cv in verdict.changes)


@pytest.mark.parametrize(("rule", "language"), [(r, lang) for r, lang, *_ in RULE_EXAMPLES])
def test_explanations_name_rule_section_and_words(rule: str, language: str) -> None:
    """When a rule fires, then both explanations name the rule, the section and the words, and
    the reason cites sources."""
    old, new, _ = _rule_example(rule, language)
    base = _base(language)
    verdict = verdict_of(base, edited(base, old, new))
    change_verdict = next(cv for cv in verdict.changes if any(r.rule == rule for r in cv.reasons))
    reason = next(r for r in change_verdict.reasons if r.rule == rule)
    section = change_verdict.change.section
    assert reason.sources and reason.title_zh and reason.title_en and reason.triggers
    for text in (reason.explanation_zh, reason.explanation_en):
        assert text.startswith(rule + " ")
        assert f"「{section}」" in text or f"“{section}”" in text
        assert any(all(part in text for part in trigger.split("→")) for trigger in reason.triggers)


def test_seed_explanation_in_full() -> None:
    """When the seed drops 仅 and adds 新加坡 for customer data, then the verdict reads in full."""
    verdict = verdict_of(
        SEED,
        edited(
            SEED,
            "客户数据将仅存储在位于中国的数据中心。",
            "客户数据将存储在位于中国或新加坡的数据中心。",
        ),
    )
    assert (verdict.material, verdict.tier, verdict.rules_fired) == (True, "T3", ("M10", "M21"))
    m10, m21 = verdict.reasons
    assert m10.explanation_zh == (
        "M10 跨境传输或存储地点变化：「我们如何收集和使用您的数据 > 客户数据」中新增“新加坡”。"
        "个人信息出境须告知境外接收方并取得单独同意，并满足安全评估、认证或标准合同的要求。"
    )
    assert m10.explanation_en == (
        "M10 Cross-border transfer or storage location changed: in “我们如何收集和使用您的数据 > "
        "客户数据”, added “新加坡”. Sending personal information abroad requires naming the "
        "overseas recipient, separate consent and a CAC assessment, certification or standard "
        "contract."
    )
    assert (m21.triggers, m21.tier, m21.direction) == (("仅",), "T2", "adverse")
    assert "PIPL 39" in m10.sources


# --- direction -------------------------------------------------------------------------------


def test_restriction_is_t1_and_still_material() -> None:
    """When retention gets shorter (30 → 7 days), then M11 fires as favourable at T1: still
    material, because PIPL 17 ¶2 requires telling the changed part."""
    verdict = verdict_of(EN_STATEMENT, edited(EN_STATEMENT, "for 30 days", "for 7 days"))
    (reason,) = verdict.reasons
    assert (reason.rule, reason.tier, reason.direction) == ("M11", "T1", "favourable")
    assert verdict.material and verdict.tier == "T1"
    assert "PIPL art. 17" in reason.explanation_en and "第十七条" in reason.explanation_zh


def test_expansion_escalates_ai_training_to_consent() -> None:
    """When customer data is also used to train AI models, then M03 escalates to T3 and says why."""
    verdict = verdict_of(
        SEED,
        edited(
            SEED,
            "我们仅在提供服务时使用客户数据",
            "我们在提供服务时使用客户数据，并用于训练人工智能模型",
        ),
    )
    assert verdict.tier == "T3"
    m03 = next(r for r in verdict.reasons if r.rule == "M03")
    assert m03.tier == "T3" and "训练" in m03.explanation_zh and "(T3)" in m03.explanation_en


@pytest.mark.parametrize(
    ("old", "new", "flip"),
    [
        ("我们不会以此方式保存", "我们会以此方式保存", "不会→会"),
        ("我们仅在提供服务时使用客户数据", "我们可能在提供服务时使用客户数据", "仅→可能"),
        ("在该等变更生效前通过", "在该等变更生效后通过", "前→后"),
    ],
)
def test_polarity_flips(old: str, new: str, flip: str) -> None:
    """When a promise's polarity or modality flips, then M21 names the flip."""
    verdict = verdict_of(SEED, edited(SEED, old, new))
    m21 = next(r for r in verdict.reasons if r.rule == "M21")
    assert flip in m21.triggers and m21.direction == "adverse"


def test_english_only_to_also_flip() -> None:
    """When 'only' becomes 'also', then M21 names the flip."""
    verdict = verdict_of(
        EN_STATEMENT,
        edited(EN_STATEMENT, "We use customer data only to", "We also use customer data to"),
    )
    m21 = next(r for r in verdict.reasons if r.rule == "M21")
    assert m21.triggers == ("only→also",)


def test_removed_sentence_with_promise() -> None:
    """When a whole sentence holding a promise (不会) is deleted, then M21 reports the sentence."""
    sentence = "但是，我们不会以此方式保存与您支付工具有关的安全码。"
    verdict = verdict_of(SEED, edited(SEED, sentence, ""))
    m21 = next(r for r in verdict.reasons if r.rule == "M21")
    assert m21.triggers == ("不会",)
    assert "我们不会以此方式保存与您支付工具有关的安全码" in m21.explanation_zh


def test_whole_section_added_and_removed() -> None:
    """When a sharing section is removed and a new one about AI is added, then both are
    material and name the section."""
    new = edited(
        SEED,
        "## 我们如何共享、转让、公开披露您的信息 {#sharing}",
        "## 人工智能 {#ai}\n\n我们会使用管理员数据训练人工智能模型。\n\n"
        "## 我们如何共享、转让、公开披露您的信息 {#sharing}",
    )
    verdict = verdict_of(SEED, new)
    added = next(cv for cv in verdict.changes if cv.change.kind == "added")
    assert added.material and added.tier == "T3"
    assert [r.rule for r in added.reasons] == ["M03"]
    sharing_body = SEED.split("{#sharing}\n\n")[1].split("\n## ")[0]
    removed = verdict_of(SEED, edited(SEED, sharing_body, "除非法律要求，我们不共享您的信息。\n"))
    assert removed.material and removed.tier == "T3"


# --- quiet kinds -----------------------------------------------------------------------------

QUIET_EXAMPLES = [
    ("N01", "zh", "故障排查", "故障排察"),
    ("N01", "en", "to remember your preferences", "to remmeber your preferences"),
    (
        "N02",
        "zh",
        "您可以通过改变浏览器的设置拒绝或管理 Cookies。但请注意，",
        "您可以通过改变浏览器的设置拒绝或管理 Cookies。\n但请注意，",
    ),
    ("N02", "en", "- We share administrator data", "* We share administrator data"),
    (
        "N03",
        "zh",
        "我们可能在提供有关新认购、账单及重要服务更新的信息（包括安全或其他技术问题的信息）时联系您。",
        "我们可能在提供有关新认购、账单及重要服务更新的信息(包括安全或其他技术问题的信息)时联系您。",
    ),
    ("N03", "en", "code of your payment instrument.", "code of your payment instrument;"),
    (
        "N04",
        "zh",
        "    - 与国家安全、国防安全直接相关的；\n"
        "    - 与公共安全、公共卫生、重大公共利益直接相关的；",
        "    - 与公共安全、公共卫生、重大公共利益直接相关的；\n"
        "    - 与国家安全、国防安全直接相关的；",
    ),
    (
        "N04",
        "en",
        "- We share administrator data with payment processors to process payments.\n"
        "- We disclose information when required by law.",
        "- We disclose information when required by law.\n"
        "- We share administrator data with payment processors to process payments.",
    ),
    ("N05", "zh", "最后更新时间：2018 年 11 月 1 日", "最后更新时间：2019 年 1 月 1 日"),
    ("N05", "en", "Last updated: November 1, 2018", "Last updated: March 1, 2024"),
    ("N06", "zh", "[客户支持](#)", "[客户支持](https://support.example.com/)"),
    (
        "N06",
        "en",
        "privacy officer at privacy@21vianet.example",
        "privacy officer at [privacy@21vianet.example](mailto:privacy@21vianet.example)",
    ),
    ("N07", "zh", "Office 365 和 Power BI（“服务”）", "Microsoft 365 和 Power BI（“服务”）"),
    (
        "N07",
        "en",
        "Microsoft Azure, Office 365 and Power BI",
        "Microsoft Azure, Microsoft 365 and Power BI",
    ),
    ("N08", "zh", "您的个人信息将存储在中国境内。", "您的个人资料将存储在中国境内。"),
    (
        "N08",
        "en",
        "Your personal information is stored in China.",
        "Your personal data is stored in China.",
    ),
    ("N12", "zh", "## 试用期 {#trials}", "## 服务试用期 {#trials}"),
    ("N12", "en", "## Trials {#trials}", "## Free trials {#trials}"),
]


@pytest.mark.parametrize(
    ("quiet", "language", "old", "new"),
    QUIET_EXAMPLES,
    ids=[f"{q}-{lang}" for q, lang, *_ in QUIET_EXAMPLES],
)
def test_quiet_kinds(quiet: str, language: str, old: str, new: str) -> None:
    """When an edit is a typo, formatting, punctuation, reorder, date line, link target, rename,
    synonym or heading wording, then nothing is material and the quiet rule is named."""
    base = _base(language)
    verdict = verdict_of(base, edited(base, old, new))
    assert not verdict.material and verdict.tier == "T0"
    assert verdict.changes, "the edit must show up as a change"
    for change_verdict in verdict.changes:
        assert not change_verdict.material
        assert [r.rule for r in change_verdict.reasons] == [quiet]
        (reason,) = change_verdict.reasons
        assert reason.tier == "T0" and reason.explanation_zh.startswith(quiet + " ")


def test_doubled_word_removed_is_a_typo() -> None:
    """When a doubled 'and and' is fixed, then it is a typo (N01), not a review."""
    base = edited(
        EN_STATEMENT,
        "to complete transactions and to manage",
        "to complete transactions and and to manage",
    )
    verdict = verdict_of(base, EN_STATEMENT)
    assert [r.rule for cv in verdict.changes for r in cv.reasons] == ["N01"]


def test_typo_size_edit_that_deletes_a_negation_is_not_a_typo() -> None:
    """When one character is deleted but it is 不, then the change is material, not a typo."""
    verdict = verdict_of(SEED, edited(SEED, "我们不会以此方式保存", "我们会以此方式保存"))
    assert verdict.material and verdict.rules_fired == ("M21",)


def test_unexplained_change_outside_personal_sections_is_quiet() -> None:
    """When a section about nothing personal is reworded, then it is not material (N08)."""
    base = EN_STATEMENT.replace(
        "## Scope {#scope}",
        "## About this page {#about}\n\n"
        "This page is maintained by the legal team in Beijing.\n\n"
        "## Scope {#scope}",
    )
    verdict = verdict_of(base, edited(base, "in Beijing", "in Shanghai"))
    assert not verdict.material
    assert [r.rule for cv in verdict.changes for r in cv.reasons] == ["N08"]


def test_no_changes_is_not_material() -> None:
    """When two versions differ only in front matter, then the verdict is empty and T0."""
    comparison = compare(
        parse_text(SEED, "a.md"), parse_text(with_front(SEED, summary="另一个摘要"), "b.md")
    )
    verdict = assess(comparison, default_rules())
    assert verdict == Verdict("not-material", "T0", (), None, "not-material", "T0")


# --- front matter override -------------------------------------------------------------------


def _overridden(material: str, reason: str, old: str, new: str) -> Verdict:
    new_text = with_front(edited(SEED, old, new), material=material, material_reason=reason)
    new_doc = parse_text(new_text, "b.md")
    return assess(compare(parse_text(SEED, "a.md"), new_doc), default_rules(), new_doc.front)


def test_front_matter_false_wins_and_is_shown() -> None:
    """When the editor sets material: false with a reason, then it wins over the rules and the
    rules' own verdict is kept beside it."""
    verdict = _overridden("false", "新地址已在官网公告", MOVED_FROM, MOVED_TO)
    assert (verdict.material, verdict.tier, verdict.override_reason) == (
        False,
        "T0",
        "新地址已在官网公告",
    )
    assert (verdict.rules_decision, verdict.rules_tier) == ("material", "T1")
    assert verdict.changes[0].reasons[0].rule == "M13"


def test_front_matter_true_wins_on_a_quiet_change() -> None:
    """When the editor sets material: true on a typo fix, then the release is material at T2."""
    verdict = _overridden("true", "按法务要求通知客户", "故障排查", "故障排察")
    assert (verdict.material, verdict.tier, verdict.override_reason) == (
        True,
        "T2",
        "按法务要求通知客户",
    )
    assert (verdict.rules_decision, verdict.rules_tier) == ("not-material", "T0")


def test_front_matter_auto_leaves_the_rules() -> None:
    """When material is auto, then the rules decide and no override is shown."""
    verdict = _overridden("auto", "无", MOVED_FROM, MOVED_TO)
    assert (verdict.material, verdict.tier, verdict.override_reason) == (True, "T1", None)


# --- overrides in notices.toml ---------------------------------------------------------------


def _rules_from_toml(tmp_path: Path, table: str) -> RuleSet:
    (tmp_path / "notices.toml").write_text(
        SETTINGS.read_text(encoding="utf-8") + "\n" + table, encoding="utf-8"
    )
    settings = load_settings(tmp_path, {})
    return rules_for(settings)


def test_overrides_from_notices_toml(tmp_path: Path) -> None:
    """When notices.toml disables M15, raises M13 to T2 and adds 微信, then verdicts follow."""
    rules = _rules_from_toml(
        tmp_path,
        '[materiality]\ndisabled = ["M15"]\n\n[materiality.rules.M13]\ntier = "T2"\n'
        'keywords_zh = ["微信"]\n',
    )
    assert "M15" not in rules.rules and rules.disabled == {"M15"}
    cookies = verdict_of(
        SEED, edited(SEED, "（例如站点分析）", "（例如站点分析和广告投放）"), rules
    )
    assert "M15" not in cookies.rules_fired
    assert (
        "M15"
        in verdict_of(
            SEED, edited(SEED, "（例如站点分析）", "（例如站点分析和广告投放）")
        ).rules_fired
    )
    postcode = verdict_of(SEED, edited(SEED, MOVED_FROM, MOVED_TO), rules)
    assert (postcode.rules_fired, postcode.tier) == (("M13",), "T2")
    wechat = verdict_of(
        SEED,
        edited(SEED, "请通过[客户支持](#)联系我们。", "请通过[客户支持](#)或微信公众号联系我们。"),
        rules,
    )
    assert "M13" in wechat.rules_fired and "微信" in wechat.reasons[0].triggers


def test_synonym_override(tmp_path: Path) -> None:
    """When notices.toml declares 门户/管理门户 synonyms, then swapping them is quiet (N08)."""
    rules = _rules_from_toml(tmp_path, '[materiality]\nsynonyms = [["门户", "管理门户"]]\n')
    new = edited(SEED, "在门户中指定", "在管理门户中指定")
    assert verdict_of(SEED, new).rules_fired == ("M24",)
    verdict = verdict_of(SEED, new, rules)
    assert not verdict.material and verdict.changes[0].reasons[0].rule == "N08"


@pytest.mark.parametrize(
    ("table", "message", "line"),
    [
        (
            '[materiality]\ndisabled = ["M99"]\n',
            "setting 'materiality.disabled' names unknown rules: M99",
            2,
        ),
        (
            '[materiality.rules.M77]\ntier = "T2"\n',
            "unknown materiality rule 'M77' in [materiality.rules.M77]",
            1,
        ),
        (
            '[materiality.rules.M13]\ntiers = "T2"\n',
            "unknown setting 'materiality.rules.M13.tiers'",
            2,
        ),
        (
            '[materiality.rules.M13]\ntier = "T9"\n',
            "setting 'materiality.rules.M13.tier' must be one of T0, T1, T2, T3, not 'T9'",
            2,
        ),
        (
            '[materiality.rules.M13]\nwatch = ["kontakt"]\n',
            "setting 'materiality.rules.M13.watch' names unknown section categories: kontakt",
            2,
        ),
        ("[materiality]\nthreshold = 3\n", "unknown setting 'materiality.threshold'", 2),
        (
            '[materiality.rules.M13]\nkeywords_zh = "微信"\n',
            "setting 'materiality.rules.M13.keywords_zh' must be a list of non-empty strings",
            2,
        ),
    ],
)
def test_bad_overrides_name_the_key_and_line(
    tmp_path: Path, table: str, message: str, line: int
) -> None:
    """When [materiality] has an unknown rule, key, tier or category, then a ConfigError names
    the key and its line in notices.toml."""
    settings_lines = SETTINGS.read_text(encoding="utf-8").count("\n") + 1
    with pytest.raises(ConfigError) as raised:
        _rules_from_toml(tmp_path, table)
    error = raised.value
    assert error.message == message
    assert error.path == str(tmp_path / "notices.toml")
    assert error.line == settings_lines + line
    assert error.hint


def test_override_without_source_names_notices_toml() -> None:
    """When load_rules has no file, then its errors still name notices.toml."""
    with pytest.raises(ConfigError) as raised:
        load_rules({"rules": {"M99": {}}})
    assert str(raised.value).startswith("notices.toml: unknown materiality rule 'M99'")


# --- categories of other notices -------------------------------------------------------------


@pytest.mark.parametrize(
    ("title", "parents", "category"),
    [
        ("Sharing of Personal Data", [], "sharing"),
        ("International data transfers", [], "transfers"),
        (
            "Lawful Bases for Processing Personal Data (Applicable to EEA and UK)",
            [],
            "collection-and-use",
        ),
        ("Our use of cookies and tracking technologies", [], "cookies"),
        ("Information for Minors", [], "minors"),
        ("From You", ["Personal Data We Collect"], "collection-and-use"),
        ("我们如何共享您的个人数据", [], "sharing"),
        ("我们保留您数据的期限", [], "retention"),
        (
            "为遵守适用法律并识别和预防有害、未经授权或非法活动",
            ["我们会如何使用您的数据？"],
            "collection-and-use",
        ),
        ("适用范围（Firefox 版本）", [], "scope"),
        ("Translations", [], None),
    ],
)
def test_headings_of_other_notices_map_to_categories(
    title: str, parents: list[str], category: str | None
) -> None:
    """When a section of GitHub's or Mozilla's notice has no seed id, then its heading (or its
    parent's) maps it to a category."""
    assert section_category(["some-id"], [title, *parents], default_rules()) == category


def test_github_announced_changes_are_material() -> None:
    """When GitHub moved its effective date (its announced changes), then the verdict is
    material; link, whitespace and capitalisation fixes are not."""
    folder = CORPUS / "github-site-policy"
    rows = list(csv.DictReader((folder / "index.csv").read_text(encoding="utf-8").splitlines()))
    quiet_messages = ("eol-spaces", "avoid-redirect", "Fix capitalization", "Fix GitHub capital")
    announced, quiet = 0, 0
    for before, after in zip(rows, rows[1:], strict=False):
        old = parse_text((folder / before["file"]).read_text(encoding="utf-8"), before["file"])
        new = parse_text((folder / after["file"]).read_text(encoding="utf-8"), after["file"])
        verdict = assess(compare(old, new), default_rules())
        if after["effective_date_changed"] == "yes":
            announced += 1
            assert verdict.material, after["file"]
        if any(m in after["message"] for m in quiet_messages):
            quiet += 1
            assert not verdict.material, (after["file"], verdict.rules_fired)
    assert announced >= 15 and quiet >= 4


def test_mozilla_encoding_only_commit_is_quiet() -> None:
    """When the Mozilla zh-CN notice's commit only normalised encoding and whitespace, then no
    version pair of that kind is material."""
    folder = CORPUS / "mozilla-legal-docs" / "firefox_privacy_notice" / "zh-CN"
    rows = list(csv.DictReader((folder / "index.csv").read_text(encoding="utf-8").splitlines()))
    checked = 0
    for before, after in zip(rows, rows[1:], strict=False):
        old_text = (folder / before["file"]).read_bytes().decode("utf-8-sig").replace("\r\n", "\n")
        new_text = (folder / after["file"]).read_bytes().decode("utf-8-sig").replace("\r\n", "\n")
        old, new = parse_text(old_text, "a.md"), parse_text(new_text, "b.md")
        comparison = compare(old, new)
        if all(c.kind == "formatting" for c in comparison.changes):
            checked += 1
            assert not assess(comparison, default_rules()).material
    assert checked >= 1


def test_readme_example_loads(tmp_path: Path) -> None:
    """When the [materiality] example from the README is put in notices.toml, then it loads and
    does what its comments say."""
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    block = next(
        part.split("```", 1)[0]
        for part in readme.split("```toml\n")[1:]
        if part.startswith("[materiality]")
    )
    rules = _rules_from_toml(tmp_path, block)
    assert "M15" not in rules.rules
    assert rules.rules["M13"].tier == "T2"
    assert rules.rules["M13"].watch == ("contact", "your-rights")
    new = edited(
        SEED, "Office 365 和 Power BI（“服务”）", "Office 365 和 Microsoft Fabric（“服务”）"
    )
    assert not verdict_of(SEED, new, rules).material


@pytest.mark.parametrize("language", ["zh", "en"])
def test_deleting_any_sentence_is_never_quiet(language: str) -> None:
    """When any one sentence is deleted from a section about personal information, then the
    release is material or undecided: no removal slips through as quiet."""
    base = _base(language)
    body = base.split("\n---\n", 1)[1]
    ends = r"[^。\n]+。" if language == "zh" else r"[A-Z][^.\n]*(?:\n[^.\n#-][^.\n]*)*\."
    sentences = [s for s in dict.fromkeys(re.findall(ends, body)) if "Last updated" not in s]
    assert len(sentences) > (100 if language == "zh" else 25)
    quiet = []
    for sentence in sentences:
        verdict = verdict_of(base, base.replace(sentence, "", 1))
        if not verdict.needs_notice:
            quiet.append(sentence)
    assert quiet == []


# --- sensitive personal information, recipients and processors, evidence -----------------------

# A sentence added to the cookies section, which M06 does not watch: sensitive information counts
# in every section.
ZH_COOKIES = "拒绝或管理 Cookies。"
EN_COOKIES = "manage cookies in your browser settings."

SENSITIVE = [
    ("zh", "我们还会收集您的人脸识别特征。", "人脸"),
    ("zh", "我们还会处理您的宗教信仰信息。", "宗教信仰"),
    ("zh", "我们还会处理您的特定身份信息。", "特定身份"),
    ("zh", "我们还会收集您的医疗健康信息。", "医疗健康"),
    ("zh", "我们还会收集您的银行卡号。", "银行卡号"),
    ("zh", "我们还会记录您的行踪轨迹。", "行踪轨迹"),
    ("zh", "我们还会收集您的精准定位信息。", "精准定位"),
    ("zh", "我们还会处理不满十四周岁未成年人的个人信息。", "不满十四周岁"),
    ("en", "We also collect your biometric identifiers.", "biometric"),
    ("en", "We also process information about your religious beliefs.", "religious"),
    ("en", "We also process your specific identity.", "specific identity"),
    ("en", "We also collect your health records.", "health"),
    ("en", "We also collect your financial account details.", "financial account"),
    ("en", "We also record your whereabouts.", "whereabouts"),
    ("en", "We also collect your precise location.", "precise location"),
    ("en", "We also process personal information of children under 14.", "children under 14"),
]


def _added_to_cookies(language: str, sentence: str) -> tuple[str, str]:
    base = _base(language)
    anchor = ZH_COOKIES if language == "zh" else EN_COOKIES
    assert anchor in base
    return base, edited(base, anchor, anchor + ("" if language == "zh" else " ") + sentence)


@pytest.mark.parametrize(
    ("language", "sentence", "word"), SENSITIVE, ids=[w for _, _, w in SENSITIVE]
)
def test_sensitive_information_fires_in_any_section(
    language: str, sentence: str, word: str
) -> None:
    """When a sentence in the cookies section starts processing one of the kinds of sensitive
    personal information (PIPL 28, GB/T 35273 Annex B), then M06 fires at T3, names the word
    and articles 28 and 29, says separate consent is needed, and quotes the sentence."""
    verdict = verdict_of(*_added_to_cookies(language, sentence))
    m06 = next(r for r in verdict.reasons if r.rule == "M06")
    assert (m06.tier, m06.consent, m06.direction) == ("T3", "PIPL 29", "adverse")
    assert word in m06.triggers
    assert "第二十八条" in m06.explanation_zh and "第二十九条" in m06.explanation_zh
    assert "单独同意" in m06.explanation_zh
    assert "art. 28" in m06.explanation_en and "art. 29" in m06.explanation_en
    assert "separate consent" in m06.explanation_en
    (evidence,) = m06.evidence
    assert evidence.after is not None and evidence.after.endswith(sentence)
    assert verdict.material and verdict.tier == "T3"


@pytest.mark.parametrize(
    ("language", "sentence"),
    [
        ("zh", "我们不会收集您的生物识别信息。"),
        ("zh", "我们绝不会处理您的宗教信仰或医疗健康信息。"),
        ("zh", "我们禁止受托方收集您的行踪轨迹，但会保存浏览记录。"),
        ("zh", "您的生物识别信息不会被收集。"),
        ("en", "We do not collect biometric data."),
        ("en", "We will never process your health or religious information."),
        ("en", "Biometric data is never collected."),
    ],
)
def test_sensitive_information_said_not_collected_does_not_fire(
    language: str, sentence: str
) -> None:
    """When the added sentence says sensitive information is NOT collected, then M06 does not
    fire (the negation reaches to the end of its clause, and a passive one back to its start)."""
    verdict = verdict_of(*_added_to_cookies(language, sentence))
    fired = {r.rule for cv in verdict.changes for r in cv.reasons}
    assert "M06" not in fired


@pytest.mark.parametrize(
    ("language", "negated", "affirmed", "cue"),
    [
        ("zh", "我们不会收集您的生物识别信息。", "我们会收集您的生物识别信息。", "不会"),
        ("en", "We do not collect biometric data.", "We collect biometric data.", "not"),
    ],
)
def test_removed_negation_fires_and_says_why(
    language: str, negated: str, affirmed: str, cue: str
) -> None:
    """When the negation of a sensitive-information sentence is removed, then M06 fires, its
    explanation names the negation that went, and M21 still reports the flip."""
    _, with_negation = _added_to_cookies(language, negated)
    verdict = verdict_of(with_negation, edited(with_negation, negated, affirmed))
    m06 = next(r for r in verdict.reasons if r.rule == "M06")
    assert m06.tier == "T3" and m06.consent == "PIPL 29"
    assert f"“{cue}”" in m06.explanation_zh and "否定或限定" in m06.explanation_zh
    assert f"“{cue}”" in m06.explanation_en and "negation or limit" in m06.explanation_en
    assert [(e.before, e.after) for e in m06.evidence] == [(negated, affirmed)]
    assert "M21" in verdict.rules_fired


@pytest.mark.parametrize(
    ("language", "old", "limited", "open_ended"),
    [
        (
            "zh",
            "改善服务及检测并防止诈骗。",
            "改善服务及检测并防止诈骗，仅为履行合同之目的。",
            "改善服务及检测并防止诈骗，并用于营销目的。",
        ),
        (
            "zh",
            "改善服务及检测并防止诈骗。",
            "改善服务及检测并防止诈骗。该等关联方仅可为提供技术支持之目的使用该等数据。",
            "改善服务及检测并防止诈骗。该等关联方可为营销目的使用该等数据。",
        ),
        (
            "en",
            "We use customer data only to provide the services.",
            "We use customer data solely for the purpose of providing the services.",
            "We use customer data for the purpose of advertising.",
        ),
    ],
)
def test_limited_purpose_does_not_fire(
    language: str, old: str, limited: str, open_ended: str
) -> None:
    """When a sentence states its purpose as a limit ("仅为……之目的", "solely for the purpose
    of"), then the new purpose word does not fire M03; stated openly, it does."""
    base = _base(language)
    assert "M03" not in verdict_of(base, edited(base, old, limited)).rules_fired
    m03 = next(
        r for r in verdict_of(base, edited(base, old, open_ended)).reasons if r.rule == "M03"
    )
    assert m03.consent == "PIPL 14"


RECIPIENTS = [
    (
        "zh",
        "我们会将您的管理员数据提供给北京某某科技有限公司，用于其自身目的。",
        "M07",
        "北京某某科技有限公司",
    ),
    (
        "zh",
        "我们委托受托方北京某某科技有限公司代表我们处理您的管理员数据。",
        "M08",
        "北京某某科技有限公司",
    ),
    (
        "en",
        "We share administrator data with Acme Analytics Inc., which uses it for its own purposes.",
        "M07",
        "Acme Analytics Inc.",
    ),
    (
        "en",
        "Acme Analytics Inc. processes administrator data on our behalf as our service provider.",
        "M08",
        "Acme Analytics Inc.",
    ),
]


@pytest.mark.parametrize(
    ("language", "sentence", "rule", "company"),
    RECIPIENTS,
    ids=[f"{r}-{lang}" for lang, _, r, _ in RECIPIENTS],
)
def test_recipient_or_processor(language: str, sentence: str, rule: str, company: str) -> None:
    """When a named company receives administrator data for its own purposes, then it is a
    recipient (M07, PIPL 23, T3, separate consent); when it processes it on our behalf, a
    processor (M08, PIPL 21, T2); either way the reason names the company, and neither is
    taken for a new operator (M01)."""
    base = _base(language)
    anchor = (
        "管理您的账户、改善服务及检测并防止诈骗。"
        if language == "zh"
        else "to manage your account."
    )
    assert anchor in base
    verdict = verdict_of(base, edited(base, anchor, anchor + " " + sentence))
    other = "M08" if rule == "M07" else "M07"
    assert rule in verdict.rules_fired and other not in verdict.rules_fired
    assert "M01" not in verdict.rules_fired
    reason = next(r for r in verdict.reasons if r.rule == rule)
    assert company in reason.triggers and company in reason.explanation_en
    expected = ("T3", "PIPL 23") if rule == "M07" else ("T2", None)
    assert (reason.tier, reason.consent) == expected
    assert ("第二十三条" if rule == "M07" else "第二十一条") in reason.explanation_zh


def test_processor_barred_from_own_purposes_is_no_recipient() -> None:
    """When a processor is forbidden to use the data for its own purposes (不得), then that is
    no recipient (M07 does not fire)."""
    anchor = "管理您的账户、改善服务及检测并防止诈骗。"
    new = edited(SEED, anchor, anchor + "受托方不得将您的信息用于其自身目的。")
    assert "M07" not in verdict_of(SEED, new).rules_fired


def test_evidence_is_the_sentence_as_written() -> None:
    """When a reason fires, then its evidence is the whole sentence before and after, with its
    original full-width punctuation, and the explanation quotes whole words."""
    verdict = verdict_of(
        SEED,
        edited(
            SEED,
            "管理员的手机号码或身份证件的扫描件。",
            "管理员的手机号码、身份证件的扫描件或人脸照片。",
        ),
    )
    (m06,) = verdict.reasons
    assert m06.triggers == ("人脸",)
    assert [(e.before, e.after) for e in m06.evidence] == [
        (
            "实名认证数据是指您在实名认证时提供的企业营业执照、管理员的手机号码或身份证件的扫描件。",
            "实名认证数据是指您在实名认证时提供的企业营业执照、管理员的手机号码、身份证件的扫描件"
            "或人脸照片。",
        )
    ]


@pytest.mark.parametrize(("language"), ["zh", "en"])
def test_undecided_quotes_whole_words(language: str) -> None:
    """When no rule explains a change (M24), then its explanation quotes whole changed words,
    never a lone character or a fragment cut mid-word, and its evidence is the sentence."""
    old, new, _ = _rule_example("M24", language)
    base = _base(language)
    verdict = verdict_of(base, edited(base, old, new))
    (m24,) = verdict.reasons
    quoted = re.findall(r"“([^”]*)”", m24.explanation_zh + m24.explanation_en)
    assert quoted and all(len(q) >= 2 for q in quoted)
    assert not any(q.endswith("…") for q in quoted)
    assert m24.evidence and all(e.after for e in m24.evidence)
    if language == "en":
        assert m24.triggers == ("get→gather", "feedback→opinions")


@pytest.mark.parametrize(
    ("language", "anchor", "right"),
    [
        (
            "zh",
            "世纪互联将根据可适用的法律法规要求监督该等访问并在问题解决时终止该等访问。",
            "您可以通过“如何联系我们”一节所列方式获取副本，了解相关的数据保护安排。",
        ),
        (
            "en",
            "GitHub relies on Standard Contractual Clauses for these transfers.",
            "You may request a copy of the Standard Contractual Clauses using the contact details "
            "below.",
        ),
    ],
)
def test_a_right_to_a_copy_removed_anywhere_is_material(
    language: str, anchor: str, right: str
) -> None:
    """When a sentence giving the right to a copy (of one's data, of the transfer safeguards)
    goes, in whatever section, then M12 fires at T3; when it comes, it is favourable."""
    base = _base(language) if language == "zh" else _base(language) + f"\n\n{anchor}\n"
    assert anchor in base
    with_right = base.replace(anchor, f"{anchor}{right if language == 'zh' else ' ' + right}")
    removed = verdict_of(with_right, base)
    assert ("M12", "T3") in [(r.rule, r.tier) for r in removed.reasons]
    assert (removed.decision, removed.tier) == ("material", "T3")
    added = verdict_of(base, with_right)
    assert [r.direction for r in added.reasons if r.rule == "M12"] == ["favourable"]


def test_a_new_limit_is_a_narrower_promise_not_a_removed_one() -> None:
    """When a sentence gains a limit (仅为……之目的) and loses none, then M21 is favourable (T1),
    never the adverse reading of a promise removed."""
    old = "使用管理员数据以完成您要求的交易"
    verdict = verdict_of(SEED, edited(SEED, old, "仅为完成您要求的交易之目的使用管理员数据"))
    assert [(r.rule, r.direction, r.tier) for r in verdict.reasons] == [
        ("M21", "favourable", "T1")
    ]


def test_a_new_purpose_asks_consent_again_a_new_recipient_separate_consent() -> None:
    """When a purpose is added (PIPL 14), then the reason asks for consent again, not separate
    consent; when data goes to a company for its own purposes (art. 23), separate consent."""
    purpose = verdict_of(SEED, edited(SEED, "改善服务及检测并防止诈骗。",
                                      "改善服务及检测并防止诈骗，并用于向您推送营销信息。"))
    (m03,) = [r for r in purpose.reasons if r.rule == "M03"]
    assert (m03.consent, m03.separate_consent) == ("PIPL 14", False)
    old = "这包括配置、技术设置或服务记录信息，或下述管理员数据、实名认证数据和付款数据。"
    shared = "我们会将客户数据提供给北京某某科技有限公司用于其自身的营销目的。"
    recipient = verdict_of(SEED, edited(SEED, old, old + shared))
    (m07,) = [r for r in recipient.reasons if r.rule == "M07"]
    assert (m07.consent, m07.separate_consent) == ("PIPL 23", True)


@pytest.mark.parametrize(
    ("language", "sentence"),
    [
        ("zh", "- 我们可能与微软及其位于中国境外的关联方共享管理员数据和支持数据。\n"),
        ("en", "- We may share Administrator Data with affiliates outside mainland China.\n"),
    ],
)
def test_a_place_in_china_named_to_say_what_is_outside_it_is_no_promise(
    language: str, sentence: str
) -> None:
    """When a sentence about affiliates outside China (位于中国境外, outside mainland China)
    is removed, then no transfer abroad is found and no consent is asked: the words naming
    China there are no promise to keep data in China."""
    base = SEED if language == "zh" else EN_STATEMENT
    anchor = "- 在没有您事先书面指令的情况下，" if language == "zh" else "- We disclose information"
    with_sharing = edited(base, anchor, sentence + anchor)
    verdict = verdict_of(with_sharing, base)
    assert [r.consent for r in verdict.reasons if r.consent] == []
    assert "M10" not in verdict.rules_fired
