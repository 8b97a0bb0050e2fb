"""What a release asking consent must show, on real git repositories: each element PIPL 23, 39,
29 and 14 require is looked for in the section concerned, in Chinese and in English, and each
one missing is refused on its line; a complete request, and a release that needs only notice,
pass."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from support.repos import (
    PROJECT,
    NoticeRepo,
    for_you,
    release_text,
    run_notices,
    seed_text,
    with_front,
)

from notifier.demo.sandbox import AMENDMENT_EN, amend
from notifier.errors import Problem
from notifier.locales import format_date
from notifier.releases.consent_request import policy
from notifier.releases.history import read_history
from notifier.releases.rules import release_problems
from notifier.settings import load_settings
from notifier.statement.materiality import load_rules

ZH = "notices/privacy/zh-CN.md"
EN = "notices/privacy/en.md"
VERSION = "2024-03-01"
PUBLISHED = "2024-03-01T10:00:00+08:00"
EFFECTIVE = "2024-04-01"  # a full notice period after VERSION
NOW = datetime(2024, 3, 1, 12, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
Parts = tuple[tuple[str | None, str], ...]  # (the element a sentence shows, the sentence)
Added = tuple[str, str, Parts]  # a new section: its heading, the heading it goes before, text

# A new section giving customer data to a company abroad (PIPL 23 and 39), one sentence per
# element it must show, so that each can be left out alone. `None`: the sentence that asks.
TRANSFER_ZH = (
    (None, "为向您提供全球技术支持，我们会将您的部分个人信息提供给境外接收方。"),
    ("recipient", "境外接收方为微软公司（Microsoft Corporation）。"),
    ("contact", "您可以通过 https://aka.ms/privacyresponse 与其联系。"),
    ("purpose", "该接收方仅为提供技术支持之目的处理这些信息。"),
    ("method", "它通过加密连接远程访问这些信息。"),
    ("categories", "涉及的个人信息种类为姓名、电子邮箱地址和电话号码。"),
    ("rights", "您可以通过上述网址向其行使查阅、更正、删除您的个人信息等权利。"),
)
TRANSFER_EN = (
    (None, "To give you global technical support, we provide some of your personal information "
           "to an overseas recipient."),
    ("recipient", "The overseas recipient is Microsoft Corporation."),
    ("contact", "You can reach it at https://aka.ms/privacyresponse."),
    ("purpose", "It handles that information only for the purpose of technical support."),
    ("method", "It reaches the information remotely over encrypted connections."),
    ("categories", "The personal information concerned is your name, email address and phone "
                   "number."),
    ("rights", "You can exercise your rights to see, correct or delete your personal "
               "information against it at the same address."),
)
TRANSFER = {
    "zh-CN": ("## 个人信息出境 {#cross-border}", "## 隐私声明的更改 {#changes}", TRANSFER_ZH),
    "en": ("## Cross-Border Provision {#cross-border}",
           "## Changes to This Privacy Statement {#changes}", TRANSFER_EN),
}
# A facial image collected for real-name verification (sensitive, PIPL 29), after the
# section's first paragraph.
FACE = {
    "zh-CN": (
        "如您不提供上述信息，将无法完成实名认证，可能无法使用服务。",
        (
            (None, "我们还会收集管理员的人脸图像，以核验其身份。"),
            ("necessity", "人脸图像是完成实名认证所必需的。"),
            ("impact", "人脸信息一旦泄露，可能对管理员的人身和财产安全造成损害。"),
        ),
    ),
    "en": (
        "real-name verification cannot be completed, and you may be unable to use the Services.",
        (
            (None, "We will also collect a facial image of the administrator to verify their "
                   "identity."),
            ("necessity", "The facial image is necessary to complete real-name verification."),
            ("impact", "If it leaks, it could harm the administrator's personal and property "
                       "safety."),
        ),
    ),
}
# A new use of support data (PIPL 14: consent again for a new purpose).
TRAINING = {
    "zh-CN": (
        "## 产品改进 {#product-improvement}",
        "## 隐私声明的更改 {#changes}",
        (
            (None, "我们会将您的支持数据用于训练人工智能模型。"),
            ("method", "我们会在训练前对其进行分析。"),
        ),
    ),
    "en": (
        "## Product Improvement {#product-improvement}",
        "## Changes to This Privacy Statement {#changes}",
        (
            (None, "We will use your Support Data for the purpose of training artificial "
                   "intelligence models."),
            ("method", "We analyze it before training."),
        ),
    ),
}
FOR_YOU = {
    "zh-CN": "我们的做法有所变化，详见本节。",
    "en": "What we do here changes; this section says how.",
}
TRANSFER_ELEMENTS = [element for element, _ in TRANSFER_ZH if element]


def _seed(locale: str) -> str:
    return seed_text() if locale == "zh-CN" else (PROJECT / EN).read_text(encoding="utf-8")


def _path(locale: str) -> str:
    return ZH if locale == "zh-CN" else EN


def _release(locale: str, text: str, sections: list[str]) -> str:
    """`text` as release VERSION, telling customers what changes in `sections`."""
    said = for_you(dict.fromkeys(sections, FOR_YOU[locale]))
    if locale == "zh-CN":
        return release_text(text, VERSION, effective=EFFECTIVE, what_changes_for_you=said)
    text = re.sub(r"^published: .*\n", "", text, flags=re.M)
    dated = f"Last updated: {format_date(date.fromisoformat(VERSION), 'en')}"
    text = text.replace("Last updated: November 1, 2018", dated)
    return with_front(
        text,
        version=VERSION,
        last_updated=VERSION,
        effective=EFFECTIVE,
        summary="Changes of version 2024-03-01",
        what_changes_for_you=said,
    )


def _sentences(parts: Parts, leaving_out: str | None) -> str:
    joiner = "" if re.search(r"[\u4e00-\u9fff]", parts[0][1]) else " "
    return joiner.join(text for element, text in parts if element != leaving_out or not element)


def _new_section(locale: str, case: dict[str, Added], leaving_out: str | None) -> str:
    heading, before, parts = case[locale]
    seed = _seed(locale)
    assert before in seed
    added = f"{heading}\n\n{_sentences(parts, leaving_out)}\n\n{before}"
    return _release(locale, seed.replace(before, added, 1), [heading.split("{#")[1][:-1]])


def _face(locale: str, leaving_out: str | None) -> str:
    anchor, parts = FACE[locale]
    seed = _seed(locale)
    assert seed.count(anchor) == 1
    added = seed.replace(anchor, f"{anchor}\n\n{_sentences(parts, leaving_out)}")
    return _release(locale, added, ["real-name-data"])


def _published(repo: NoticeRepo, locale: str, text: str) -> NoticeRepo:
    """`repo` with the seed (in `locale`) as the first release and `text` as the next."""
    repo.commit("First release", "2024-01-02T09:00:00+08:00", {_path(locale): _seed(locale)})
    repo.commit(f"Release {VERSION}", PUBLISHED, {_path(locale): text})
    return repo


def _problems(repo: NoticeRepo) -> list[Problem]:
    settings = load_settings(repo.path, {})
    return release_problems(read_history(repo.path, settings), settings, load_rules({}), now=NOW)


def _line(text: str, fragment: str) -> int:
    return text[: text.index(fragment)].count("\n") + 1


# --- complete requests pass ------------------------------------------------------------------


@pytest.mark.parametrize("locale", ["zh-CN", "en"])
@pytest.mark.parametrize(
    "build",
    [
        lambda locale: _new_section(locale, TRANSFER, None),
        lambda locale: _face(locale, None),
        lambda locale: _new_section(locale, TRAINING, None),
    ],
    ids=["PIPL 23 and 39", "PIPL 29", "PIPL 14"],
)
def test_a_complete_request_passes(
    notice_repo: NoticeRepo, locale: str, build: Callable[[str], str]
) -> None:
    """When a release asking consent shows every element its article requires, then check has
    nothing to say about it."""
    text = build(locale)
    assert _problems(_published(notice_repo, locale, text)) == []


def test_the_demo_release_passes_check_in_both_languages(notice_repo: NoticeRepo) -> None:
    """When the demo's amendment (sharing with Microsoft abroad: PIPL 23 and 39) is released in
    Chinese and English, then `notices check` passes it."""
    english = (PROJECT / EN).read_text(encoding="utf-8")
    notice_repo.commit("First release", "2024-01-02T09:00:00+08:00", {ZH: seed_text(), EN: english})
    notice_repo.commit(
        "Example amendment",
        PUBLISHED,
        {ZH: amend(seed_text(), date(2024, 3, 1)), EN: amend(english, date(2024, 3, 1), "en")},
    )
    checked = run_notices("check", cwd=notice_repo.path)
    assert checked.code == 0, checked.out
    assert ": error: " not in checked.out


def test_a_release_that_needs_only_notice_is_untouched(seeded_repo: NoticeRepo) -> None:
    """When a release only shortens the retention (material, notice only), then no element is
    asked for, though its section names no recipient."""
    old = "我们将根据相关法律法规的要求保留您的信息"
    text = seed_text().replace(old, "我们将在 180 天内保留您的信息")
    said = for_you({"retention": "您注销账号后，我们会在 180 天内保留您的信息。"})
    released = release_text(text, VERSION, effective=EFFECTIVE, what_changes_for_you=said)
    seeded_repo.commit(f"Release {VERSION}", PUBLISHED, {ZH: released})
    assert _problems(seeded_repo) == []


# --- each missing element is named ---------------------------------------------------------


@pytest.mark.parametrize("locale", ["zh-CN", "en"])
@pytest.mark.parametrize("element", TRANSFER_ELEMENTS)
def test_each_element_missing_from_a_transfer_is_named(
    notice_repo: NoticeRepo, locale: str, element: str
) -> None:
    """When a new section provides data abroad and leaves out one element, then check refuses
    it once, on the section's heading, naming that element and the articles."""
    text = _new_section(locale, TRANSFER, element)
    found = _problems(_published(notice_repo, locale, text))
    heading = TRANSFER[locale][0]
    assert [(p.severity, p.rule, p.path, p.line) for p in found] == [
        ("error", "consent-request", _path(locale), _line(text, heading))
    ]
    (problem,) = found
    shown = policy().elements[element].what
    whats = {shown.format(recipient=word) for word in ("recipient", "overseas recipient")}
    title = heading[3:].split(" {#")[0]
    assert any(
        problem.message.endswith(f"needs {what} shown in “{title}” (cross-border)")
        for what in whats
    ), problem.message
    assert problem.message.startswith(("PIPL 39 ", "PIPL 23 and PIPL 39 "))
    assert problem.hint == policy().elements[element].hint


def test_a_missing_contact_is_named_in_full(notice_repo: NoticeRepo) -> None:
    """When the overseas recipient's contact is left out, then the finding reads in full: the
    articles, the release, the element, the section."""
    text = _new_section("zh-CN", TRANSFER, "contact")
    (problem,) = _problems(_published(notice_repo, "zh-CN", text))
    assert problem == Problem(
        "error",
        "consent-request",
        "PIPL 23 and PIPL 39 separate consent in release 2024-03-01 needs the recipient's contact "
        "(a phone number, an email, postal or web address) shown in “个人信息出境” (cross-border)",
        ZH,
        _line(text, "## 个人信息出境"),
        "write how to reach the recipient: its phone number, email address, postal address or "
        "web address",
    )


def test_one_article_names_its_own_recipient(notice_repo: NoticeRepo) -> None:
    """When only PIPL 39 asks (no recipient named, so no company words either), then the
    finding speaks of the overseas recipient."""
    text = _new_section("en", TRANSFER, "recipient")
    (problem,) = _problems(_published(notice_repo, "en", text))
    assert problem.message.startswith(
        "PIPL 39 separate consent in release 2024-03-01 needs the overseas recipient's name "
        "(a named organisation) shown in “Cross-Border Provision” (cross-border)"
    )


@pytest.mark.parametrize("locale", ["zh-CN", "en"])
@pytest.mark.parametrize("element", ["necessity", "impact"])
def test_sensitive_information_needs_necessity_and_impact(
    notice_repo: NoticeRepo, locale: str, element: str
) -> None:
    """When a facial image is collected (PIPL 29) without saying why it is needed or how it may
    affect the person, then check names what is missing on the paragraph that added it."""
    text = _face(locale, element)
    found = _problems(_published(notice_repo, locale, text))
    first = FACE[locale][1][0][1]
    assert [(p.rule, p.line) for p in found] == [("consent-request", _line(text, first))]
    assert found[0].message.startswith("PIPL 29 separate consent in release 2024-03-01 needs ")
    assert policy().elements[element].what in found[0].message


@pytest.mark.parametrize("locale", ["zh-CN", "en"])
def test_renewed_consent_needs_the_method(notice_repo: NoticeRepo, locale: str) -> None:
    """When support data gets a new use (PIPL 14) and the section does not say how it is
    processed, then check asks for the method, as renewed consent."""
    text = _new_section(locale, TRAINING, "method")
    found = _problems(_published(notice_repo, locale, text))
    heading = TRAINING[locale][0]
    assert [(p.rule, p.line) for p in found] == [("consent-request", _line(text, heading))]
    assert found[0].message.startswith(
        "PIPL 14 renewed consent in release 2024-03-01 needs the method of processing"
    )


# --- changed paragraphs, translations, history ---------------------------------------------


def test_a_translation_lacking_an_element_is_refused_alone(notice_repo: NoticeRepo) -> None:
    """When the Chinese demo amendment is complete but its English translation leaves out the
    recipient's web address, then only the English file is refused, on the changed bullet."""
    english = (PROJECT / EN).read_text(encoding="utf-8")
    notice_repo.commit("First release", "2024-01-02T09:00:00+08:00", {ZH: seed_text(), EN: english})
    reach = "You can reach Microsoft Corporation at https://aka.ms/privacyresponse, and exercise"
    assert any(reach in new for _, new in AMENDMENT_EN)
    translated = amend(english, date(2024, 3, 1), "en").replace(reach, "You can exercise")
    notice_repo.commit(
        "Example amendment",
        PUBLISHED,
        {ZH: amend(seed_text(), date(2024, 3, 1)), EN: translated},
    )
    found = [p for p in _problems(notice_repo) if p.rule == "consent-request"]
    bullet = "- To provide you with global technical support"
    assert [(p.path, p.line) for p in found] == [(EN, _line(translated, bullet))]
    assert "needs the recipient's contact" in found[0].message
    assert "“How We Share, Transfer and Publicly Disclose Your Information” (sharing)" in (
        found[0].message
    )


def test_the_line_is_the_changed_paragraph_of_a_pending_release(seeded_repo: NoticeRepo) -> None:
    """When the working tree adds to the sharing section a bullet for a company abroad and
    names nothing of it, then `notices check` refuses the pending release on that bullet's line,
    once per missing element, and exits 1."""
    anchor = "- 在没有您事先书面指令的情况下，"
    bullet = "- 我们可能与位于中国境外的关联方共享管理员数据，用于提供技术支持。\n"
    text = release_text(
        seed_text().replace(anchor, bullet + anchor),
        "2030-01-01",
        effective="2030-12-01",
        what_changes_for_you=for_you({"sharing": "我们可能与境外关联方共享管理员数据。"}),
    )
    seeded_repo.write(ZH, text)
    checked = run_notices("check", cwd=seeded_repo.path)
    assert checked.code == 1
    line = _line(text, bullet)
    refused = [ln for ln in checked.out.splitlines() if "[consent-request]" in ln]
    assert [ln.split(": error: ")[0] for ln in refused] == [f"{ZH}:{line}"] * 3
    named = [
        "the recipient's name (a named organisation)",
        "the recipient's contact (a phone number, an email, postal or web address)",
        "how to exercise rights against the recipient",
    ]
    for found, what in zip(refused, named, strict=True):
        assert (
            "PIPL 23 and PIPL 39 separate consent in pending release 2030-01-01 needs "
            f"{what} shown in “我们如何共享、转让、公开披露您的信息” (sharing)"
        ) in found


def test_an_incomplete_request_in_effect_and_superseded_is_a_warning(
    notice_repo: NoticeRepo,
) -> None:
    """When a release that lacked the recipient's contact is superseded and already in effect,
    then it is reported as history, not as an error."""
    text = _new_section("zh-CN", TRANSFER, "contact")
    _published(notice_repo, "zh-CN", text)
    later = release_text(text, "2024-06-01", effective="2024-06-01")
    notice_repo.commit("Release 2024-06-01", "2024-06-01T10:00:00+08:00", {ZH: later})
    settings = load_settings(notice_repo.path, {})
    found = release_problems(
        read_history(notice_repo.path, settings),
        settings,
        load_rules({}),
        now=datetime(2024, 7, 1, tzinfo=ZoneInfo("Asia/Shanghai")),
    )
    assert [(p.severity, p.rule) for p in found] == [("warning", "consent-request")]
    assert found[0].hint == (
        "already superseded and in effect, so it cannot be fixed; recorded as history"
    )
