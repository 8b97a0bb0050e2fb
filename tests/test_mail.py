"""Rendering the notice mail: what it must say in zh-CN and en, and what it must never let in."""

from __future__ import annotations

import re
from datetime import date
from email import message_from_bytes, policy
from importlib import resources

import pytest
from support.repos import PROJECT

from notifier.delivery.mail import Message, Recipient, as_test, personalised, scrub
from notifier.delivery.mail.outbox import build_email
from notifier.delivery.mail.render import ChangeNote, ConsentNote, NoticeContent, render
from notifier.locales import LOCALES
from notifier.settings import load_settings

SETTINGS = load_settings(PROJECT, {})
SHA = "e07fbecebbd2674492ceb1587ccb746c30ba89a40f7558fc5b38e5db7b84a497"
CONTENT = NoticeContent(
    title="世纪互联运营的在线服务隐私声明",
    version="2029-11-01",
    summary="新增向境外关联方共享，并缩短答复期限。",
    effective=date(2030, 1, 1),
    sha256=SHA,
    version_url="https://privacy.example.com/archive/2029-11-01/",
    redline_url="https://privacy.example.com/archive/2029-11-01/changes/",
    changes=(
        ChangeNote(
            "我们如何共享、转让、公开披露您的信息",
            "为提供全球技术支持，我们可能与微软位于中国境外的关联方共享管理员数据。",
            (("", "我们可能与微软及其位于中国境外的关联方共享管理员数据。"),),
        ),
        ChangeNote(
            "如何联系我们",
            "我们答复您请求的期限由 30 天缩短为 15 个工作日。",
            (
                (
                    "我们将在验证您身份后 30 天内予以回复。",
                    "我们将在验证您身份后 15 个工作日内予以回复。",
                ),
            ),
            more=2,
        ),
    ),
    services=("azure", "powerbi"),
)


@pytest.mark.parametrize("locale", LOCALES)
def test_the_notice_says_everything_the_promise_needs(locale: str) -> None:
    """When a notice is rendered, then both parts carry every element of a dedicated notice."""
    message = render(CONTENT, locale, SETTINGS)
    effective = "2030 年 1 月 1 日" if locale == "zh-CN" else "January 1, 2030"
    do_nothing = "如果您不采取任何行动" if locale == "zh-CN" else "If you do nothing"
    services = "Microsoft Azure、Power BI" if locale == "zh-CN" else "Microsoft Azure, Power BI"
    no_marketing = "不含任何营销内容" if locale == "zh-CN" else "it contains no marketing"
    assert effective in message.subject
    for part in (message.text, message.html):
        for expected in (
            CONTENT.summary,
            "为提供全球技术支持，我们可能与微软位于中国境外的关联方共享管理员数据。",
            "我们答复您请求的期限由 30 天缩短为 15 个工作日。",
            "我们将在验证您身份后 30 天内予以回复。",
            "我们将在验证您身份后 15 个工作日内予以回复。",
            "原文" if locale == "zh-CN" else "Before",
            "另有 2 处更改" if locale == "zh-CN" else "2 more change(s)",
            effective,
            CONTENT.version_url,
            CONTENT.redline_url,
            SHA,
            do_nothing,
            SETTINGS.contact_url,
            SETTINGS.postal_addresses[locale],  # each locale's own
            services,
            no_marketing,
        ):
            assert expected in part, expected
    assert message.text.count("-name-") == 1 and message.html.count("-name_html-") == 1
    assert "unsubscribe" not in message.html.lower() and "<img" not in message.html


@pytest.mark.parametrize("locale", LOCALES)
def test_a_test_mail_is_marked_in_every_locale(locale: str) -> None:
    """When a notice is made a test mail, then its subject starts with the literal [TEST] marker
    in every locale, it is flagged for the transports, and nothing else changes."""
    message = render(CONTENT, locale, SETTINGS)
    test = as_test(message)
    assert (test.subject, test.test, message.test) == (f"[TEST] {message.subject}", True, False)
    assert (test.locale, test.text, test.html) == (message.locale, message.text, message.html)


def test_zh_cn_subject_and_greeting() -> None:
    """When the zh-CN notice is rendered, then its subject and greeting are the agreed wording."""
    message = render(CONTENT, "zh-CN", SETTINGS)
    assert message.subject == "【重要】世纪互联运营的在线服务隐私声明将于 2030 年 1 月 1 日更新"
    assert message.text.startswith("-name-，您好：\n\n我们将更新《世纪互联运营的在线服务隐私声明》")
    assert '<html lang="zh-CN">' in message.html


def test_notice_text_is_escaped_in_html_only() -> None:
    """When notice text holds markup, then the HTML part escapes it and the text part keeps it."""
    hostile = NoticeContent(
        **{
            **{field: getattr(CONTENT, field) for field in CONTENT.__dataclass_fields__},
            "summary": '<script>alert("x")</script> & 共享',
            "changes": (
                ChangeNote("<b>范围</b>", "<img src=x onerror=alert(1)>", (("<i>", "<u>"),)),
            ),
        }
    )
    message = render(hostile, "en", SETTINGS)
    assert "<script>" not in message.html and "<img" not in message.html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; 共享" in message.html
    assert "&lt;b&gt;范围&lt;/b&gt;" in message.html
    assert '<script>alert("x")</script> & 共享' in message.text


@pytest.mark.parametrize(
    "name,text_name,html_name",
    [
        ("王<b>伟</b>", "王<b>伟</b>", "王&lt;b&gt;伟&lt;/b&gt;"),
        (
            "李娜\r\nBcc: evil@example.com",
            "李娜 Bcc: evil@example.com",
            "李娜 Bcc: evil@example.com",
        ),
        ("", "尊敬的客户", "尊敬的客户"),
    ],
)
def test_names_are_escaped_and_kept_on_one_line(name: str, text_name: str, html_name: str) -> None:
    """When a customer's name holds HTML or CR/LF, then HTML gets it escaped, both on one line."""
    message = render(CONTENT, "zh-CN", SETTINGS)
    text, html = personalised(message, Recipient(1, "a@example.com", name), "尊敬的客户")
    assert text.startswith(f"{text_name}，您好：\n")
    assert f"<p>{html_name}，您好：</p>" in html


def test_a_name_never_reaches_a_header() -> None:
    """When a name tries header injection, then the built email has only our headers."""
    message = render(CONTENT, "en", SETTINGS)
    recipient = Recipient(9, "a@example.com", "Eve\r\nBcc: evil@example.com\r\nX-Evil: 1")
    mail = build_email(
        message,
        recipient,
        sender=SETTINGS.sender_email,
        sender_name=SETTINGS.sender_name,
        reply_to=SETTINGS.reply_to,
        fallback_name="customer",
        message_id="<t.9@example.com>",
    )
    parsed = message_from_bytes(mail.as_bytes(), policy=policy.default)
    assert sorted(parsed.keys()) == sorted(
        [
            "Subject",
            "From",
            "To",
            "Reply-To",
            "Date",
            "Message-ID",
            "Content-Language",
            "MIME-Version",
            "Content-Type",
        ]
    )
    assert parsed["To"] == "a@example.com" and parsed["Bcc"] is None


def test_new_and_removed_sentences_are_named_not_blank() -> None:
    """When a sentence is new or gone, then the mail says so instead of an empty before/after,
    and no rule code or trigger word appears."""
    for locale, new, gone in (
        ("zh-CN", "原文：（原版本中没有此句）", "修改后：（此句已删除）"),
        ("en", "Before: (not in the previous version)", "After: (removed)"),
    ):
        note = ChangeNote("范围", "说明", (("", "新句。"), ("旧句。", "")))
        message = render(_with_changes((note,)), locale, SETTINGS)
        assert new in message.text and gone in message.text
        assert not re.search(r"\b[MN]\d\d\b", message.text + message.html)


def _with_changes(changes: tuple[ChangeNote, ...]) -> NoticeContent:
    fields = {field: getattr(CONTENT, field) for field in CONTENT.__dataclass_fields__}
    return NoticeContent(**{**fields, "changes": changes})


def test_templates_ship_as_package_data() -> None:
    """When the package is installed, then every template is readable as package data."""
    folder = resources.files("notifier.delivery.mail") / "templates"
    names = sorted(entry.name for entry in folder.iterdir())
    assert names == [
        "consent.en.html",
        "consent.en.txt",
        "consent.zh-CN.html",
        "consent.zh-CN.txt",
        "consent_subject.en.txt",
        "consent_subject.zh-CN.txt",
        "notice.en.html",
        "notice.en.txt",
        "notice.zh-CN.html",
        "notice.zh-CN.txt",
        "subject.en.txt",
        "subject.zh-CN.txt",
    ]


def test_scrub_masks_every_address() -> None:
    """When an error text quotes addresses, then scrub leaves only their masked form."""
    text = 'rejected <wang.wei@example.com>, "li@example.cn" and zhao@sub.example.org.'
    assert scrub(text) == 'rejected <w***@e***.com>, "l***@e***.cn" and z***@s***.org.'
    assert Message("en", "s", "t", "h").locale == "en"


@pytest.mark.parametrize("locale", LOCALES)
def test_consent_is_never_deemed_by_doing_nothing(locale: str) -> None:
    """When a change needs separate consent, then the mail says doing nothing is not consent and
    what the customer can do, and never that the new version applies if they do nothing."""
    plain = render(CONTENT, locale, SETTINGS)
    consent = render(_with_consent(), locale, SETTINGS)
    applies = "起适用于您对服务的使用" if locale == "zh-CN" else "applies to your use"
    not_consent = "沉默不视为您同意上述更改" if locale == "zh-CN" else "silence is not consent"
    separate = "须取得您的单独同意" if locale == "zh-CN" else "needs your separate consent"
    unchanged = "其余内容没有实质变化。" if locale == "zh-CN" else "Nothing else in the statement"
    for part in (plain.text, plain.html):
        assert applies in part and not_consent not in part and unchanged in part
    for part in (consent.text, consent.html):
        assert not_consent in part and applies not in part and unchanged in part
        assert "我们如何共享、转让、公开披露您的信息" in part and separate in part  # which, how
        assert SETTINGS.contact_url in part and "2030" in part  # whom to contact, by when


@pytest.mark.parametrize("locale", LOCALES)
def test_the_text_part_says_what_the_html_part_says(locale: str) -> None:
    """When a notice is rendered, then both parts link to the same addresses and carry the same
    words, and the HTML loads nothing from anywhere (no image, pixel, style sheet or script)."""
    message = render(_with_consent(), locale, SETTINGS)
    text_links = set(re.findall(r"https?://[^\s<>\"）)]+", message.text))
    html_links = set(re.findall(r'href="([^"]+)"', message.html))
    assert text_links == html_links
    html_words = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", message.html)).replace("&#34;", '"')
    for note in CONTENT.changes:
        for words in (note.section, note.for_you, *(w for pair in note.sentences for w in pair)):
            assert words in message.text and (not words or words in html_words)
    assert not re.search(r"<(img|link|script|iframe|object|style)\b|\bsrc=|url\(", message.html)


def _with_consent() -> NoticeContent:
    fields = {field: getattr(CONTENT, field) for field in CONTENT.__dataclass_fields__}
    consent = (
        ConsentNote("向其他公司提供您的个人信息", ("我们如何共享、转让、公开披露您的信息",), True),
    )
    return NoticeContent(**{**fields, "consent": consent})


def test_the_sign_off_and_address_are_written_per_locale() -> None:
    """When the settings give the sender's name and postal address per locale, then each mail
    signs and addresses in its own language."""
    english, chinese = render(CONTENT, "en", SETTINGS), render(CONTENT, "zh-CN", SETTINGS)
    assert english.text.rstrip().endswith("21Vianet Privacy Notices")
    assert "Jiuxianqiao Road, Chaoyang District, Beijing 100015" in english.text
    assert chinese.text.rstrip().endswith("世纪互联隐私声明通知")
    assert "北京市朝阳区酒仙桥路" in chinese.text and "Jiuxianqiao" not in chinese.text


def test_the_from_name_is_the_mail_s_language() -> None:
    """When a mail is built for an English customer, then its From header carries the sender's
    English name; the Chinese mail the Chinese one."""
    for locale, name in (("en", "21Vianet Privacy Notices"), ("zh-CN", "世纪互联隐私声明通知")):
        mail = build_email(
            render(CONTENT, locale, SETTINGS),
            Recipient(1, "a@example.com", "A"),
            sender=SETTINGS.sender_email,
            sender_name=SETTINGS.sender_name,
            reply_to=SETTINGS.reply_to,
            fallback_name="customer",
            message_id="<t.1@example.com>",
        )
        parsed = message_from_bytes(mail.as_bytes(), policy=policy.default)
        assert parsed["From"].addresses[0].display_name == name
