"""What the notice mail says, per customer language: the editor's plain words and the changed
sentences of the customer's own edition, links to their pages, and no rule codes."""

from __future__ import annotations

import re
from email import message_from_bytes, policy
from pathlib import Path

from support.notify import english_text, material_repo, write_customers
from support.repos import PROJECT, NoticeRepo, for_you, release_text, run_notices, seed_text

ZH = "notices/privacy/zh-CN.md"
EN = "notices/privacy/en.md"
VERSION = "2030-01-02"
ZH_EDIT = ("我们将在验证您身份后 30 天内予以回复。", "我们将在验证您身份后 15 个工作日内予以回复。")
EN_EDIT = (
    "We will reply within 30 days after verifying your identity.",
    "We will reply within 15 business days after verifying your identity.",
)
ZH_FOR_YOU = "您联系我们后，我们的答复期限由 30 天缩短为 15 个工作日。"
EN_FOR_YOU = "When you contact us, we will reply within 15 business days instead of 30 days."
RULE_CODE = re.compile(r"\b[MN]\d\d\b|PIPL|GB/T|WP260")


def _edited(text: str, edit: tuple[str, str]) -> str:
    assert edit[0] in text
    return text.replace(edit[0], edit[1])


def _bilingual_release(repo: NoticeRepo) -> None:
    english = (PROJECT / EN).read_text(encoding="utf-8")
    repo.commit("English translation", "2024-01-03T09:00:00+08:00", {EN: english})
    zh = release_text(
        _edited(seed_text(), ZH_EDIT),
        VERSION,
        effective="2030-03-05",
        summary="缩短答复期限。",
        what_changes_for_you=for_you({"contact": ZH_FOR_YOU}),
    )
    en = english_text(VERSION, "2030-03-05").replace(
        "material: auto", "material: auto\n" + f"what_changes_for_you:\n  contact: {EN_FOR_YOU}"
    )
    en = re.sub(r"^summary: .*$", "summary: We will answer sooner.", en, count=1, flags=re.M)
    files = {ZH: zh, EN: _edited(en, EN_EDIT)}
    repo.commit(f"Release {VERSION}", f"{VERSION}T10:00:00+08:00", files)


def test_each_customer_reads_their_own_language(seeded_repo: NoticeRepo, tmp_path: Path) -> None:
    """When a release exists in Chinese and English, then the English mail is English throughout
    (title, section, the editor's words, the sentences, links to /en/ pages) and the Chinese mail
    Chinese, each with the changed sentence before and after, and neither with a rule code."""
    _bilingual_release(seeded_repo)
    environ = {"NOTICES_DATABASE_URL": f"sqlite:///{seeded_repo.path / 'var' / 'notices.db'}"}
    assert run_notices("check", cwd=seeded_repo.path).code == 0
    customers = write_customers(tmp_path / "customers.csv", 5)  # number 5 reads English
    assert run_notices("customers", "import", str(customers), cwd=seeded_repo.path,
                       env=environ).code == 0
    sent = run_notices("notify", "send", VERSION, "--early", cwd=seeded_repo.path, env=environ)
    assert sent.code == 0, sent.err
    mails = {}
    for path in (seeded_repo.path / "var" / "outbox").rglob("*.eml"):
        mail = message_from_bytes(path.read_bytes(), policy=policy.default)
        mails[str(mail["To"])] = mail
    english = mails["user000005@example.com"]
    chinese = mails["user000001@example.com"]
    text_en = english.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    text_zh = chinese.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "Privacy Statement for Online Services Operated by 21Vianet" in text_en
    assert "How to Contact Us" in text_en
    assert EN_FOR_YOU in text_en
    assert f"Before: {EN_EDIT[0]}" in text_en and f"After: {EN_EDIT[1]}" in text_en
    assert f"https://privacy.example.com/en/archive/{VERSION}/changes/" in text_en
    greeting, _, rest = text_en.partition("\n")  # the name is the customer's own
    assert not re.search(r"[\u4e00-\u9fff]", rest.split("Postal address")[0])
    assert ZH_FOR_YOU in text_zh
    assert f"原文：{ZH_EDIT[0]}" in text_zh and f"修改后：{ZH_EDIT[1]}" in text_zh
    assert f"https://privacy.example.com/archive/{VERSION}/changes/" in text_zh
    assert "applies to your use" in text_en and "起适用于您对服务的使用" in text_zh  # no consent
    assert "This English text is a translation" in text_en and "本文为译文" not in text_zh
    for mail in (english, chinese):
        html = mail.get_body(("html",)).get_content()  # type: ignore[union-attr]
        text = mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]
        assert not RULE_CODE.search(text + html)


def test_a_language_without_an_edition_reads_the_source(seeded_repo: NoticeRepo,
                                                        tmp_path: Path) -> None:
    """When the version has no English edition, then the preview writes only the Chinese mail:
    an English customer is never sent an English frame around Chinese text."""
    zh = release_text(
        _edited(seed_text(), ZH_EDIT), VERSION, effective="2030-03-05",
        what_changes_for_you=for_you({"contact": ZH_FOR_YOU}),
    )
    seeded_repo.commit(f"Release {VERSION}", f"{VERSION}T10:00:00+08:00", {ZH: zh})
    environ = {"NOTICES_DATABASE_URL": f"sqlite:///{seeded_repo.path / 'var' / 'notices.db'}"}
    out = tmp_path / "preview"
    run = run_notices("notify", "preview", VERSION, "--out", str(out), cwd=seeded_repo.path,
                      env=environ)
    assert run.code == 0, run.err
    written = sorted(p.name for p in out.iterdir())
    assert written == [f"{VERSION}.zh-CN.html", f"{VERSION}.zh-CN.txt"]


def test_a_change_needing_consent_is_never_accepted_by_silence(seeded_repo: NoticeRepo) -> None:
    """When the release shares data with affiliates abroad (PIPL art. 23 and 39: separate
    consent), then the mail says doing nothing is not consent, and never that the new version
    applies to a customer who does nothing."""
    material_repo(seeded_repo)
    run = run_notices("notify", "preview", "2029-11-01", "--out", "preview", cwd=seeded_repo.path)
    assert run.code == 0, run.err
    text = (seeded_repo.path / "preview" / "2029-11-01.zh-CN.txt").read_text(encoding="utf-8")
    shared = "（涉及：我们如何共享、转让、公开披露您的信息）依照法律规定，须取得您的单独同意。"
    assert f"【向其他公司提供您的个人信息】{shared}" in text
    assert f"【将您的个人信息传输到境外】{shared}" in text
    assert "新版本将于 2030 年 1 月 1 日生效，但您的沉默不视为您同意上述更改" in text
    assert "起适用于您对服务的使用" not in text


def test_a_version_in_two_languages_is_one_notice(seeded_repo: NoticeRepo, tmp_path: Path) -> None:
    """When the version is released in Chinese and English, then the schedule plans one notice
    (the source locale's), and sending it by either locale's name mails each customer once."""
    _bilingual_release(seeded_repo)
    environ = {"NOTICES_DATABASE_URL": f"sqlite:///{seeded_repo.path / 'var' / 'notices.db'}"}
    customers = write_customers(tmp_path / "customers.csv", 5)
    run_notices("customers", "import", str(customers), cwd=seeded_repo.path, env=environ)
    synced = run_notices("schedule", "sync", cwd=seeded_repo.path, env=environ)
    assert f"privacy/zh-CN/{VERSION}:notify" in synced.out
    assert f"privacy/en/{VERSION}:notify" not in synced.out
    for locale in ("en", "zh-CN"):
        sent = run_notices("notify", "send", VERSION, "--locale", locale, "--early",
                           cwd=seeded_repo.path, env=environ)
        assert sent.code == 0, sent.err
    mails = list((seeded_repo.path / "var" / "outbox").rglob("*.eml"))
    assert len(mails) == 5
