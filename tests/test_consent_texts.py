"""Which consent questions a release asks, and the exact text of each: hashed, per locale."""

from __future__ import annotations

import hashlib
import re

import pytest
from support.consent import KEYS
from support.notify import VERSION, add_english, material_repo
from support.repos import NoticeRepo, seed_text

from notifier.consent.texts import UnknownConsent, consent_text, texts_of
from notifier.consent.triggers import Trigger, triggers_of
from notifier.delivery.site_links import site_map
from notifier.demo.sandbox import WHAT_CHANGES_FOR_YOU
from notifier.releases.history import read_history
from notifier.releases.verdicts import assess_release
from notifier.settings import Settings, load_settings
from notifier.statement.materiality import rules_for

RELEASE = f"privacy/zh-CN/{VERSION}"
RULE_CODE = re.compile(r"\b[MN]\d\d\b|PIPL|GB/T|\bT\d\b")


def _settings(repo: NoticeRepo) -> Settings:
    return load_settings(repo.path, {"NOTICES_CONSENT_KEYS": KEYS})


def test_a_release_sharing_data_abroad_asks_two_separate_questions(
    seeded_repo: NoticeRepo,
) -> None:
    """When a release shares data with affiliates abroad, then it asks one question for giving
    data to another company (art. 23) and one for sending it abroad (art. 39), both separate;
    its first release, needing nothing, asks none."""
    material_repo(seeded_repo)
    settings = _settings(seeded_repo)
    history = read_history(seeded_repo.path, settings)
    rules = rules_for(settings)
    first, amended = history.releases
    assert triggers_of(assess_release(history, amended, rules).verdict) == (
        Trigger("PIPL 23", True),
        Trigger("PIPL 39", True),
    )
    assert triggers_of(assess_release(history, first, rules).verdict) == ()
    assert triggers_of(None) == ()


def test_a_release_needing_notice_alone_asks_nothing(seeded_repo: NoticeRepo) -> None:
    """When a release only shortens the reply period (material, notice alone), then it asks no
    consent question, and asking for one names what it asks."""
    text = seed_text().replace("version: 2018-11-01", "version: 2029-11-01")
    shorter = text.replace(
        "我们将在验证您身份后 30 天内予以回复。", "我们将在验证您身份后 15 个工作日内予以回复。"
    )
    seeded_repo.commit("Shorter replies", "2029-11-01T10:00:00+08:00",
                       {"notices/privacy/zh-CN.md": shorter})
    settings = _settings(seeded_repo)
    history = read_history(seeded_repo.path, settings)
    verdict = assess_release(history, history.releases[-1], rules_for(settings)).verdict
    assert verdict is not None and verdict.material
    assert triggers_of(verdict) == ()
    with pytest.raises(UnknownConsent, match="asks no consent for 'PIPL 39'"):
        consent_text(settings, history.releases[-1].id, "zh-CN", "PIPL 39")


def test_the_text_is_plain_hashed_and_stable(seeded_repo: NoticeRepo) -> None:
    """When a question's text is made twice (kept, then from scratch), then it is the same text
    with the SHA-256 of its UTF-8 bytes; it holds the editor's sentence for the section, the
    links, the question, and no rule code."""
    material_repo(seeded_repo)
    settings = _settings(seeded_repo)
    kept = consent_text(settings, RELEASE, "zh-CN", "PIPL 39")
    history = read_history(seeded_repo.path, settings)
    again = texts_of(history, history.releases[-1], rules_for(settings),
                     site_map(settings, history))[("zh-CN", "PIPL 39")]
    assert again == kept
    assert kept.sha256 == hashlib.sha256(kept.body.encode("utf-8")).hexdigest()
    assert kept.title == "将您的个人信息传输到境外"
    assert kept.sections == ("我们如何共享、转让、公开披露您的信息",)
    assert kept.what_changes == (WHAT_CHANGES_FOR_YOU["sharing"],)
    assert kept.body.startswith("将您的个人信息传输到境外\n\n")
    assert kept.body.endswith("您是否同意我们按上述说明将您的个人信息传输到境外？")
    for url in (kept.version_url, kept.redline_url):
        assert url.startswith("https://") and url in kept.body
    assert "您不回答，我们不会视为同意" in kept.body
    assert not RULE_CODE.search(kept.body)
    other = consent_text(settings, RELEASE, "zh-CN", "PIPL 23")
    assert other.sha256 != kept.sha256 and other.title == "向其他公司提供您的个人信息"


def test_each_locale_has_its_own_text_and_hash(seeded_repo: NoticeRepo) -> None:
    """When the version has an English edition, then the English question is English
    throughout, with another hash; a customer's tag (`en-GB`) finds it, and a locale without
    an edition reads the text its mail was written in."""
    material_repo(seeded_repo)
    add_english(seeded_repo)
    settings = _settings(seeded_repo)
    chinese = consent_text(settings, RELEASE, "zh-CN", "PIPL 39")
    english = consent_text(settings, RELEASE, "en", "PIPL 39")
    assert (english.locale, chinese.locale) == ("en", "zh-CN")
    assert english.sha256 != chinese.sha256
    assert english.body.endswith(
        "Do you agree that we send your personal information abroad as described above?"
    )
    assert "/en/" in english.version_url and not re.search(r"[\u4e00-\u9fff]", english.body)
    assert consent_text(settings, RELEASE, "en-GB", "PIPL 39") == english
    assert consent_text(settings, RELEASE, "fr", "PIPL 39") == chinese


def test_an_unknown_release_is_named(seeded_repo: NoticeRepo) -> None:
    """When a link names a release main does not have, then the error says which."""
    material_repo(seeded_repo)
    with pytest.raises(UnknownConsent, match="no release 'privacy/zh-CN/2031-01-01' on main"):
        consent_text(_settings(seeded_repo), "privacy/zh-CN/2031-01-01", "zh-CN", "PIPL 39")
