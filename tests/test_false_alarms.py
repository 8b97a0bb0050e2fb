"""Fewer false alarms, no missed material change: rewording that keeps every fact, links within
the same site, place names that are no transfer, deleted statements, corrected postcodes; each
in Chinese and English, and the GitHub and Mozilla histories as regressions."""

from __future__ import annotations

import csv

import pytest
from support.materiality import EN_STATEMENT, default_rules, edited, verdict_of
from support.repos import CORPUS, seed_text

from notifier.statement.diff import compare
from notifier.statement.materiality import Verdict, assess
from notifier.statement.notice import parse_text

SEED = seed_text()

NOTICE = """\
# Privacy {#privacy}

## How we use your information {#collection-and-use}

{body}
"""


def _quiet_rules(verdict: Verdict) -> list[str]:
    return [r.rule for cv in verdict.changes for r in cv.reasons]


def _notice_verdict(old: str, new: str) -> Verdict:
    return verdict_of(NOTICE.replace("{body}", old), NOTICE.replace("{body}", new))


# --- rewording that keeps every fact ----------------------------------------------------------


@pytest.mark.parametrize(
    ("base", "old", "new"),
    [
        (SEED, "我们将在验证您身份后 30 天内予以回复。", "我们将在验证您身份后三十天内予以回复。"),
        (
            SEED,
            "我们不会以此方式保存与您支付工具有关的安全码。",
            "我们不以此方式保存与您支付工具有关的安全码。",
        ),
        (EN_STATEMENT, "We will not store the security", "We do not store the security"),
        (
            EN_STATEMENT,
            "we keep your\ninformation for 30 days",
            "we keep your\ninformation for thirty days",
        ),
    ],
    ids=["zh-30-三十", "zh-不会-不", "en-will-not-does-not", "en-30-thirty"],
)
def test_restatement_keeping_every_fact_is_quiet(base: str, old: str, new: str) -> None:
    """When a sentence says the same with the same number in another form, or 'does not' for
    'will not', then the change is quiet: N13, every fact kept (N01 when one character goes)."""
    verdict = verdict_of(base, edited(base, old, new))
    assert verdict.decision == "not-material"
    assert _quiet_rules(verdict) == (["N01"] if len(old) - len(new) == 1 else ["N13"])


@pytest.mark.parametrize(
    ("base", "old", "new", "rule"),
    [
        (
            SEED,
            "我们不会以此方式保存与您支付工具有关的安全码。",
            "我们会以此方式保存与您支付工具有关的安全码。",
            "M21",
        ),
        (
            SEED,
            "我们将在验证您身份后 30 天内予以回复。",
            "我们将在验证您身份后六十天内予以回复。",
            "M12",
        ),
        (EN_STATEMENT, "We will not store the security", "We may store the security", "M21"),
        (EN_STATEMENT, "information for 30 days", "information for ninety days", "M11"),
    ],
    ids=["zh-不会-会", "zh-30-六十", "en-will-not-may", "en-30-ninety"],
)
def test_changed_fact_stays_material(base: str, old: str, new: str, rule: str) -> None:
    """When the promise flips or the number changes, then the change stays material."""
    verdict = verdict_of(base, edited(base, old, new))
    assert verdict.material and rule in verdict.rules_fired


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (
            "We use your personal information when you join community-focused repos.",
            "We use your personal information when you join community-focused repositories.",
        ),
        (
            "You may delete cookie data as described [here](/privacy#cookie-choices).",
            "You may delete cookie data. For more information, see "
            '"[What are your cookie choices?](/privacy#cookie-choices)."',
        ),
        (
            'For more information, see "[Setting your email address](/account/email)."',
            'For more information, see "[AUTOTITLE](/settings/account/email)."',
        ),
        (
            "您可以通过[联系表单](https://support.example.cn/request?tags=policy)管理您的个人信息。",
            "您可以通过[支持门户](https://support.example.cn/)管理您的个人信息。",
        ),
    ],
    ids=["en-word-form", "en-pointer-title", "en-autotitle", "zh-same-site-link"],
)
def test_word_forms_and_links_within_the_same_site_are_quiet(old: str, new: str) -> None:
    """When a word is written in another form (repos → repositories), a link's title changes
    (AUTOTITLE, [here]) or a link moves within the same site, then the change is N13."""
    verdict = _notice_verdict(old, new)
    assert verdict.decision == "not-material", verdict.rules_fired
    assert _quiet_rules(verdict) == ["N13"]


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (
            "您可以通过[联系表单](https://support.example.cn/request)管理您的个人信息。",
            "您可以通过[支持门户](https://help.other.example/)管理您的个人信息。",
        ),
        (
            "We use your personal information from your biography to suggest projects.",
            "We use your personal information from an interest survey to suggest projects.",
        ),
        (
            "We use your personal information to suggest projects.",
            "We use your personal information to suggest projects. We learn from repos you star.",
        ),
    ],
    ids=["zh-other-site", "en-new-source", "en-added-sentence"],
)
def test_new_content_the_rules_do_not_know_stays_undecided(old: str, new: str) -> None:
    """When a link goes to another site, or a word the rules do not know brings a new fact (an
    interest survey), then the editor decides (M24): rewording is not a way round the net."""
    verdict = _notice_verdict(old, new)
    assert verdict.undecided and verdict.rules_fired == ("M24",)


def test_html_comment_in_the_preamble_is_quiet() -> None:
    """When a Markdown lint comment is added before the first heading, then nothing is said."""
    old = "Effective date: February 1, 2024\n\nThis statement covers your personal data.\n"
    new = "<!-- markdownlint-disable search-replace -->\n" + old
    assert (
        verdict_of(
            old + NOTICE.replace("{body}", "x"), new + NOTICE.replace("{body}", "x")
        ).decision
        == "not-material"
    )


# --- names and headings -----------------------------------------------------------------------

ZH_POLICY = """\
# 隐私政策 {#privacy}

## 范围 {#scope}

本隐私政策适用于我们的服务。我们按照本隐私政策处理您的个人信息。

## 联系我们 {#contact}

如对本隐私政策有疑问，请联系我们。
"""


@pytest.mark.parametrize(
    ("base", "old", "new"),
    [(ZH_POLICY, "隐私政策", "隐私声明"), (EN_STATEMENT, "statement", "policy")],
    ids=["zh", "en"],
)
def test_document_renamed_throughout_is_quiet(base: str, old: str, new: str) -> None:
    """When the document's name changes everywhere (隐私政策 → 隐私声明), then every section
    that only changed the name is N15 (its heading N12), and the release is not material."""
    renamed = base.replace(old, new).replace(old.capitalize(), new.capitalize())
    verdict = verdict_of(base, renamed)
    assert verdict.decision == "not-material"
    rules = _quiet_rules(verdict)
    assert "N15" in rules and set(rules) <= {"N12", "N15", "N01"}
    assert any(f"{old}→{new}" in r.explanation_en for cv in verdict.changes for r in cv.reasons)


def test_rename_beside_a_real_change_keeps_the_change() -> None:
    """When the name changes everywhere and a promise weakens in the same release, then the
    rename is quiet and the weakened promise is material."""
    renamed = ZH_POLICY.replace("隐私政策", "隐私声明").replace("我们按照", "我们可能按照")
    assert verdict_of(ZH_POLICY, renamed).rules_fired == ("M21",)


@pytest.mark.parametrize(
    ("base", "old", "new", "rule"),
    [
        (SEED, "第三方", "合作伙伴", "M07"),
        (EN_STATEMENT, "Shanghai Blue Cloud", "Beijing Blue Cloud", "M01"),
    ],
    ids=["zh-recipient-word", "en-company"],
)
def test_a_fact_renamed_throughout_is_no_rename(base: str, old: str, new: str, rule: str) -> None:
    """When the word changed everywhere is one of the rules' words (第三方 → 合作伙伴) or part
    of a company name, then it is a changed fact, not a rename: the rule fires."""
    assert rule in verdict_of(base, base.replace(old, new)).rules_fired


@pytest.mark.parametrize(
    ("base", "old", "new", "quiet"),
    [
        (SEED, "## 如何联系我们 {#contact}", "## 联系我们 {#contact}", True),
        (
            EN_STATEMENT,
            "## How long we keep your personal information {#retention}",
            "## How long we keep your information {#retention}",
            True,
        ),
        (
            EN_STATEMENT,
            "## How we share your information {#sharing}",
            "## How we share and sell your information {#sharing}",
            False,
        ),
    ],
    ids=["zh", "en", "en-adds-selling"],
)
def test_heading_changed_under_the_same_id(base: str, old: str, new: str, quiet: bool) -> None:
    """When only a heading's words change and its id stays, then it is N12; a heading that
    now says the data is sold states a new fact and is material."""
    verdict = verdict_of(base, edited(base, old, new))
    if quiet:
        assert verdict.decision == "not-material" and _quiet_rules(verdict) == ["N12"]
    else:
        assert verdict.material and "M07" in verdict.rules_fired


# --- place names, deleted statements, postcodes ------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "material"),
    [
        ("[日本語](/ja)", "[日本語のプライバシー・ステートメント](/ja) 日本", False),
        ("| Our office | Amsterdam |", "| Our United States HQ | Amsterdam |", False),
        ("我们在中国境内存储您的个人信息。", "我们在中国境内和日本存储您的个人信息。", True),
        (
            "We process your personal data in Ireland.",
            "We process your personal data in Ireland and the United States.",
            True,
        ),
    ],
    ids=["zh-translation", "en-office", "zh-stored-in-japan", "en-processed-in-us"],
)
def test_place_names_are_transfers_only_where_data_goes(old: str, new: str, material: bool) -> None:
    """When a place name comes in a line about a translation or an office, then it is no
    transfer (M10 does not fire); on a line that stores or processes data there, it is."""
    verdict = _notice_verdict(old, new)
    assert ("M10" in verdict.rules_fired) is material
    assert verdict.material is material


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (
            "我们与服务提供商共享您的个人信息。我们还与微软共享支持数据。",
            "我们与服务提供商共享您的个人信息。",
        ),
        (
            "We share your personal information with processors. To learn more about the "
            "countries where our partner processes personal data, see [this article](https://ec.example.eu/a).",
            "We share your personal information with processors.",
        ),
    ],
    ids=["zh", "en"],
)
def test_deleted_statement_is_no_narrowing(old: str, new: str) -> None:
    """When a sentence naming a recipient is deleted outright, then that is information gone,
    not a favourable narrowing: the editor decides (undecided), it is never quiet."""
    verdict = _notice_verdict(old, new)
    assert verdict.needs_notice
    assert all(r.direction != "favourable" for r in verdict.reasons)


def test_postcode_of_the_same_address_corrected_is_quiet_zh() -> None:
    """When only the 邮编 of the same address is corrected, then it is N14; another street is
    a new contact channel (M13)."""
    fixed = verdict_of(SEED, edited(SEED, "邮编：100015", "邮编：100016"))
    assert fixed.decision == "not-material" and _quiet_rules(fixed) == ["N14"]
    moved = edited(
        SEED,
        "酒仙桥路 6 号院电子城 · 国际电子总部 6 号楼 12-14 层 邮编：100015",
        "望京街 9 号 邮编：100102",
    )
    assert "M13" in verdict_of(SEED, moved).rules_fired


def test_postcode_of_the_same_address_corrected_is_quiet_en() -> None:
    """When 'CA 94110' becomes 'CA 94107' at the same street number and city, then it is N14;
    a new email next to it is still a new contact channel."""
    old = "Contact GitHub, Inc., 88 Colin P. Kelly, San Francisco, CA 94110, privacy@github.com.\n"
    new = old.replace("Kelly,", "Kelly Jr. Street,").replace("94110", "94107")
    page = "# Contact {#contact}\n\n{body}"
    fixed = verdict_of(page.replace("{body}", old), page.replace("{body}", new))
    assert fixed.decision == "not-material" and _quiet_rules(fixed) == ["N14"]
    other = new.replace("privacy@github.com", "dpo@github.com")
    assert verdict_of(page.replace("{body}", old), page.replace("{body}", other)).material


# --- the real histories ------------------------------------------------------------------------


def _history(folder: str) -> list[tuple[dict[str, str], Verdict]]:
    path = CORPUS / folder
    rows = list(csv.DictReader((path / "index.csv").read_text(encoding="utf-8").splitlines()))
    texts = [
        (path / r["file"]).read_bytes().decode("utf-8-sig").replace("\r\n", "\n") for r in rows
    ]
    notices = [parse_text(text, row["file"]) for text, row in zip(texts, rows, strict=True)]
    return [
        (row, assess(compare(old, new), default_rules()))
        for row, old, new in zip(rows[1:], notices, notices[1:], strict=False)
    ]


GITHUB_PAIRS = {
    "2018-05-29.md": "material",  # recommendations from an interest survey and starred projects
    "2018-09-24.md": "undecided",  # "Our United States HQ" in the complaints table: no transfer
    "2019-09-13.md": "undecided",  # a Japanese translation: no transfer
    "2020-05-18.md": "not-material",  # CA 94110 → 94107 at 88 Colin P. Kelly
    "2020-08-28.md": "undecided",  # "when it goes into effect we will" → "we": no flipped promise
    "2023-02-22_3.md": "material",  # the transfer mechanism (adequacy, SCC copy) changed
    "2023-02-22_5.md": "undecided",  # a sentence about Microsoft's countries deleted
    "2023-03-15.md": "not-material",  # AUTOTITLE links
    "2023-12-27_6.md": "undecided",  # the DPO's address deleted
    "2023-12-27_10.md": "not-material",  # contact form → support portal on the same site
    "2023-12-27_11.md": "not-material",  # <!-- markdownlint-disable --> in the preamble
    "2023-12-27_12.md": "not-material",  # repos → repositories
    "2025-09-29.md": "not-material",  # a dataprivacyframework.gov link moved within the site
}


def test_github_history_false_alarms() -> None:
    """When GitHub kept its effective date, then at most 3 releases are material and 8 undecided
    (of 53), each named pair has its verdict, and every release with a new date stays material."""
    history = _history("github-site-policy")
    decisions = {row["file"]: verdict.decision for row, verdict in history}
    assert {f: decisions[f] for f in GITHUB_PAIRS} == GITHUB_PAIRS
    kept = [v for row, v in history if row["effective_date_changed"] == "no"]
    moved = [v for row, v in history if row["effective_date_changed"] == "yes"]
    assert len(kept) == 53 and len(moved) == 16
    assert sum(v.material for v in kept) <= 3
    assert sum(v.undecided for v in kept) <= 8
    assert all(v.material for v in moved)


def test_mozilla_zh_cn_new_document_dates_stay_material() -> None:
    """When the Firefox zh-CN notice's document date moved, then the release is material (one
    known date-only bump aside), and releases that kept it are fewer than half flagged."""
    history = _history("mozilla-legal-docs/firefox_privacy_notice/zh-CN")
    moved = [v for row, v in history if row["doc_date_changed"] == "yes" and row["file"]]
    kept = [v for row, v in history if row["doc_date_changed"] == "no"]
    assert sum(not v.material for v in moved) <= 1
    assert sum(v.needs_notice for v in kept) < len(kept) / 2
