"""Each recipient's mail carries a personal link per consent question, bound to the text the
page will show; a mail that needs no consent, or a project without a consent server, has none."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email import message_from_bytes, policy
from pathlib import Path

from support import sendgrid_standin
from support.consent import ARTICLE, KEYS, RELEASE, consent_release
from support.notify import VERSION, material_repo, sendgrid_env, standin, write_customers
from support.repos import NoticeRepo, run_notices

from notifier.consent.texts import consent_text
from notifier.consent.tokens import verify
from notifier.storage import db

__all__ = ["standin"]
NOW = datetime(2029, 11, 2, tzinfo=UTC)
TOKEN = re.compile(r"https?://[^\s\"<>]+/consent/([A-Za-z0-9_-]+)")


def _parts(mail: Path) -> tuple[str, str]:
    parsed = message_from_bytes(mail.read_bytes(), policy=policy.default)
    text, html = parsed.get_body(("plain",)), parsed.get_body(("html",))
    assert text is not None and html is not None
    return text.get_content(), html.get_content()


def test_each_mail_links_each_question_for_its_recipient(seeded_repo: NoticeRepo) -> None:
    """When a release asking two questions is mailed, then each recipient's mail (text and
    HTML alike) has one link per question, signed for their delivery, that question and the
    hash of the text in their mail's language; no placeholder is left."""
    settings, ids = consent_release(seeded_repo, 3)
    expected = {
        article: consent_text(settings, RELEASE, "zh-CN", article).sha256
        for article in ("PIPL 23", ARTICLE)
    }
    seen: set[str] = set()
    for delivery_id in ids:
        text, html = _parts(settings.outbox_dir / VERSION / f"{delivery_id}.eml")
        tokens = list(dict.fromkeys(TOKEN.findall(text)))
        assert tokens == list(dict.fromkeys(TOKEN.findall(html)))
        grants = [verify(token, settings.consent_keys, NOW) for token in tokens]
        assert [(g.delivery_id, g.release_id, g.article, g.text_sha256) for g in grants] == [
            (delivery_id, RELEASE, article, sha) for article, sha in expected.items()
        ]
        # the end of the 30th day after the effective date (2030-01-01), in Shanghai
        assert {g.expires for g in grants} == {datetime(2030, 1, 31, 16, tzinfo=UTC)}
        assert "【向其他公司提供您的个人信息】" in text
        assert "同意或不同意：http://127.0.0.1:" in text
        assert "-consent_" not in text + html
        seen.update(tokens)
    assert len(seen) == 6
    db.dispose_all()


def test_sendgrid_carries_the_links_as_substitutions(
    seeded_repo: NoticeRepo, standin: sendgrid_standin.StandIn
) -> None:
    """When the mail goes through SendGrid, then the body has one placeholder per question and
    each personalization substitutes its own link (1,000 recipients per request)."""
    env = {**sendgrid_env(standin, seeded_repo)}
    settings, ids = consent_release(seeded_repo, 2, env)
    body = standin.accepted[0]
    assert "-consent_pipl_39-" in body["content"][0]["value"]
    links = [p["substitutions"]["-consent_pipl_39-"] for p in body["personalizations"]]
    grants = [verify(TOKEN.fullmatch(link).group(1), settings.consent_keys, NOW)  # type: ignore[union-attr]
              for link in links]
    assert [g.delivery_id for g in grants] == ids
    db.dispose_all()


def test_without_a_consent_server_the_mail_only_says_consent_is_needed(
    seeded_repo: NoticeRepo,
) -> None:
    """When no consent URL and key are set, then the mail names each question and says silence
    is not consent, links to no consent page, and the send says why at -v."""
    material_repo(seeded_repo)
    write_customers(seeded_repo.path / "c.csv", 1)
    run_notices("customers", "import", "c.csv", cwd=seeded_repo.path)
    sent = run_notices("-v", "notify", "send", VERSION, "--early", cwd=seeded_repo.path)
    assert sent.code == 0 and "no consent links can be made" in sent.err
    text, html = _parts(next((seeded_repo.path / "var" / "outbox" / VERSION).glob("*.eml")))
    assert "【将您的个人信息传输到境外】" in text and "您的沉默不视为您同意" in text
    assert "/consent/" not in text + html and "-consent_" not in text + html


def test_the_test_mail_links_to_pages_that_record_nothing(seeded_repo: NoticeRepo) -> None:
    """When legal sends itself a test mail, then its links are real pages of delivery 0, which
    no decision can be recorded for."""
    settings, _ = consent_release(seeded_repo, 1)
    sent = run_notices("notify", "send", VERSION, "--test-to", "legal@example.com",
                       cwd=seeded_repo.path, env={"NOTICES_CONSENT_KEYS": KEYS})
    assert sent.code == 0, sent.err
    mail = next((seeded_repo.path / "var" / "outbox-test" / VERSION).glob("*.eml"))
    tokens = TOKEN.findall(_parts(mail)[0])
    assert {verify(t, settings.consent_keys, NOW).delivery_id for t in tokens} == {0}
    db.dispose_all()
