"""Notifying customers: timing, audience, SendGrid batches, faults, resumption and privacy."""

from __future__ import annotations

import json
from datetime import datetime
from email import message_from_bytes, policy
from zoneinfo import ZoneInfo

import pytest
from support import sendgrid_standin
from support.notify import (
    API_KEY,
    NOTICE,
    VERSION,
    add_english,
    material_repo,
    sendgrid_env,
    standin,
    write_customers,
)
from support.repos import PROJECT, NoticeRepo, release_text, run_notices, seed_text

from notifier.delivery import notify
from notifier.delivery.mail.render import NoticeContent, render
from notifier.errors import NotifyError
from notifier.settings import load_settings

__all__ = ["standin"]
SHANGHAI = ZoneInfo("Asia/Shanghai")


def _settings(repo: NoticeRepo, server: sendgrid_standin.StandIn | None = None):  # type: ignore[no-untyped-def]
    env = sendgrid_env(server, repo) if server else {}
    return load_settings(repo.path, env)


def test_plan_timing_and_audience(seeded_repo: NoticeRepo) -> None:
    """When a release is material, then mail goes 30 days before it takes effect, per locale."""
    material_repo(seeded_repo)
    write_customers(seeded_repo.path / "c.csv", 50)
    assert run_notices("customers", "import", "c.csv", cwd=seeded_repo.path).code == 0
    result = run_notices("notify", "plan", VERSION, "--json", cwd=seeded_repo.path)
    assert result.code == 0, result.err
    assert json.loads(result.out) == {
        "release": f"privacy/zh-CN/{VERSION}",
        "material": True,
        "tier": "T3",
        "services": ["azure", "office365", "powerbi"],
        "send_at": "2029-12-02T00:00:00+08:00",
        "effective": "2030-01-01T00:00:00+08:00",
        "recipients": 50,
        "per_locale": {"en": 10, "zh-CN": 40},
    }


def test_published_late_sends_at_once(seeded_repo: NoticeRepo) -> None:
    """When a release is published under 30 days before it takes effect, then mail goes at once."""
    material_repo(seeded_repo, published="2029-12-20T09:30:00+08:00")
    plan = notify.plan(
        _settings(seeded_repo), VERSION, now=datetime(2029, 12, 20, 10, tzinfo=SHANGHAI)
    )
    assert plan.due_at.isoformat() == "2029-12-20T09:30:00+08:00"


def test_refuses_on_or_after_the_effective_date(seeded_repo: NoticeRepo) -> None:
    """When the effective date has come, then notifying is refused with what to do."""
    material_repo(seeded_repo)
    with pytest.raises(NotifyError) as raised:
        notify.plan(_settings(seeded_repo), VERSION, now=datetime(2030, 1, 1, tzinfo=SHANGHAI))
    assert "too late to give notice" in str(raised.value)
    assert "move the effective date" in str(raised.value)


def test_not_due_yet_sends_nothing(seeded_repo: NoticeRepo) -> None:
    """When the send time has not come, then send sends nothing and says so."""
    material_repo(seeded_repo)
    write_customers(seeded_repo.path / "c.csv", 5)
    run_notices("customers", "import", "c.csv", cwd=seeded_repo.path)
    report = notify.send(
        _settings(seeded_repo), VERSION, now=datetime(2029, 11, 5, tzinfo=SHANGHAI)
    )
    assert report.not_due and report.sent == 0


def test_sendgrid_batches_everyone_once(
    seeded_repo: NoticeRepo, standin: sendgrid_standin.StandIn
) -> None:
    """When 2,300 customers are mailed, then batches of at most 1000 reach each exactly once."""
    material_repo(seeded_repo)
    write_customers(seeded_repo.path / "c.csv", 2300)
    env = sendgrid_env(standin, seeded_repo)
    assert run_notices("customers", "import", "c.csv", cwd=seeded_repo.path, env=env).code == 0
    result = run_notices("-vv", "notify", "send", VERSION, "--early", cwd=seeded_repo.path, env=env)
    assert result.code == 0, result.err
    recipients = standin.recipients()
    assert len(recipients) == 2300 and len(set(recipients)) == 2300
    assert standin.rejected == []
    assert all(len(body["personalizations"]) <= 1000 for body in standin.accepted)
    first = standin.accepted[0]
    assert first["custom_args"] == {"release": f"privacy/zh-CN/{VERSION}"}
    assert set(first["personalizations"][0]["custom_args"]) == {"delivery_id", "notices_mac"}
    again = run_notices("notify", "send", VERSION, "--early", cwd=seeded_repo.path, env=env)
    assert again.out.endswith("sent 0, failed 0 in 0 batch(es)\n")
    assert len(standin.recipients()) == 2300
    status = run_notices("notify", "status", VERSION, "--json", cwd=seeded_repo.path, env=env)
    assert json.loads(status.out) == {
        "version": VERSION,
        "counts": {"planned": 0, "sending": 0, "sent": 2300, "failed": 0, "bounced": 0},
        "failures": [],
        "suppressed": [],
    }
    output = result.out + result.err + again.out + again.err + status.out
    assert API_KEY not in output and "@example.com" not in output


def test_faults_are_retried(seeded_repo: NoticeRepo, standin: sendgrid_standin.StandIn) -> None:
    """When SendGrid answers 429, 5xx or drops the connection, then the batch is retried."""
    material_repo(seeded_repo)
    write_customers(seeded_repo.path / "c.csv", 10)
    settings = _settings(seeded_repo, standin)
    run_notices(
        "customers", "import", "c.csv", cwd=seeded_repo.path, env=sendgrid_env(standin, seeded_repo)
    )
    standin.faults.extend(["429", "503", "drop"])
    waits: list[float] = []
    from notifier.delivery.mail.sendgrid import SendGridTransport

    assert settings.sendgrid_api_key is not None
    transport = SendGridTransport(
        settings.sendgrid_api_key,
        standin.url,
        sender="a@example.com",
        sender_name="甲",
        reply_to="",
        fallback_name="客户",
        timeout=5,
        max_retries=5,
        sleep=waits.append,
    )
    report = notify.send(settings, VERSION, early=True, transport=transport)
    assert report.sent == 10 and report.failed == 0
    assert len(waits) == 3 and 0 <= waits[0] <= 2
    assert len(standin.recipients()) == 10


def test_a_rejected_batch_fails_alone(
    seeded_repo: NoticeRepo, standin: sendgrid_standin.StandIn
) -> None:
    """When SendGrid rejects one batch with 400, then it is recorded failed; the rest go on."""
    material_repo(seeded_repo)
    write_customers(seeded_repo.path / "c.csv", 2500)
    env = sendgrid_env(standin, seeded_repo)
    run_notices("customers", "import", "c.csv", cwd=seeded_repo.path, env=env)
    standin.faults.append("400")
    result = run_notices("notify", "send", VERSION, "--early", cwd=seeded_repo.path, env=env)
    assert result.code == 1
    counts = notify.status(_settings(seeded_repo, standin), VERSION).counts
    assert counts["failed"] > 0 and counts["sent"] + counts["failed"] == 2500
    retry = run_notices("notify", "send", VERSION, "--early", cwd=seeded_repo.path, env=env)
    assert retry.code == 0
    assert len(set(standin.recipients())) == 2500 == len(standin.recipients())


def test_names_cannot_inject_html() -> None:
    """When a name holds HTML, then the HTML part carries it escaped."""
    from notifier.delivery.mail import Recipient, personalised

    settings = load_settings(PROJECT, {})
    content = NoticeContent(
        "隐私声明",
        "v",
        "摘要",
        datetime(2030, 1, 1).date(),
        "0" * 64,
        "https://x/",
        "https://x/changes/",
        (),
        ("azure",),
    )
    message = render(content, "zh-CN", settings)
    text, html = personalised(message, Recipient(1, "a@example.com", "<b>王</b>"), "客户")
    assert "&lt;b&gt;王&lt;/b&gt;，您好" in html and "<b>王</b>，您好" in text


def test_proof_csv_masks_addresses(seeded_repo: NoticeRepo) -> None:
    """When proof is written after an outbox send, then every row is there with masked emails."""
    material_repo(seeded_repo)
    write_customers(seeded_repo.path / "c.csv", 20)
    run_notices("customers", "import", "c.csv", cwd=seeded_repo.path)
    assert run_notices("notify", "send", VERSION, "--early", cwd=seeded_repo.path).code == 0
    assert len(list((seeded_repo.path / "var" / "outbox" / VERSION).glob("*.eml"))) == 20
    result = run_notices("notify", "proof", VERSION, "--out", "proof.csv", cwd=seeded_repo.path)
    assert result.out == "wrote 20 row(s) to proof.csv\n"
    lines = (seeded_repo.path / "proof.csv").read_text(encoding="utf-8").splitlines()
    assert lines[0] == (
        "version,sha256,customer_id,email,locale,status,sent_at,message_id,"
        "delivery_state,event_at,delivery_id,article,text_sha256,decision,decided_at,"
        "decision_seq,withdraws_seq,client,decision_chain,release,row_hash"
    )
    assert lines[1].split(",")[3] == "u***@e***.com" and len(lines) == 21
    assert "@example.com" not in "".join(lines)


def test_preview_writes_each_mailed_locale(seeded_repo: NoticeRepo) -> None:
    """When legal asks for a preview, then subject, text and HTML are written per locale the
    version is mailed in (here only Chinese: it has no English edition)."""
    material_repo(seeded_repo)
    result = run_notices("notify", "preview", VERSION, "--out", "preview", cwd=seeded_repo.path)
    assert result.code == 0, result.err
    folder = seeded_repo.path / "preview"
    assert sorted(p.name for p in folder.iterdir()) == [
        f"{VERSION}.zh-CN.html",
        f"{VERSION}.zh-CN.txt",
    ]
    text = (folder / f"{VERSION}.zh-CN.txt").read_text(encoding="utf-8")
    assert text.startswith(
        "Subject: 【重要】世纪互联运营的在线服务隐私声明将于 2030 年 1 月 1 日更新"
    )
    assert "尊敬的客户，您好" in text and "2030 年 1 月 1 日" in text
    assert f"https://privacy.example.com/archive/{VERSION}/changes/" in text
    assert "不视为您同意" in text and "SHA-256" in text  # sharing abroad needs consent


SUBJECT_ZH = "【重要】世纪互联运营的在线服务隐私声明将于 2030 年 1 月 1 日更新"
SUBJECT_EN = "Important: our privacy statement changes on January 1, 2030"
# `notify status --json` after the five customers of `_mail_test_then_send` were told
TOLD_FIVE = {
    "version": VERSION,
    "counts": {"planned": 0, "sending": 0, "sent": 5, "failed": 0, "bounced": 0},
    "failures": [],
    "suppressed": [],
}


def _mail_test_then_send(repo: NoticeRepo, env: dict[str, str] | None = None) -> list[str]:
    """Import five customers, send a test mail to legal@example.com in each locale (the ledger
    and its counts untouched by each), then the real send; returns the proof CSV's lines."""
    write_customers(repo.path / "c.csv", 5)
    assert run_notices("customers", "import", "c.csv", cwd=repo.path, env=env).code == 0
    untouched = run_notices("notify", "status", VERSION, "--json", cwd=repo.path, env=env).out
    for locale in ("zh-CN", "en"):
        test = run_notices(
            "notify",
            "send",
            VERSION,
            "--test-to",
            "legal@example.com",
            "--locale",
            locale,
            cwd=repo.path,
            env=env,
        )
        assert test.code == 0, test.err
        assert test.out.startswith("test mail sent to l***@e***.com")
        status = run_notices("notify", "status", VERSION, "--json", cwd=repo.path, env=env)
        assert status.out == untouched
    sent = run_notices("notify", "send", VERSION, "--early", cwd=repo.path, env=env)
    assert sent.out.endswith("sent 5, failed 0 in 2 batch(es)\n"), sent.err
    status = run_notices("notify", "status", VERSION, "--json", cwd=repo.path, env=env)
    assert json.loads(status.out) == TOLD_FIVE
    proof = run_notices("notify", "proof", VERSION, "--out", "proof.csv", cwd=repo.path, env=env)
    assert proof.out == "wrote 5 row(s) to proof.csv\n"
    return (repo.path / "proof.csv").read_text(encoding="utf-8").splitlines()


def test_a_test_mail_stays_out_of_the_outbox(seeded_repo: NoticeRepo) -> None:
    """When test mails go to the outbox before the real send, then they are in a folder of their
    own with [TEST] subjects, and the outbox, ledger, status and proof hold the customers only."""
    material_repo(seeded_repo)
    add_english(seeded_repo)
    proof = _mail_test_then_send(seeded_repo)
    var = seeded_repo.path / "var"
    outbox = sorted((var / "outbox" / VERSION).iterdir())
    assert [p.name for p in outbox] == ["1.eml", "2.eml", "3.eml", "4.eml", "5.eml"]
    real = [message_from_bytes(p.read_bytes(), policy=policy.default) for p in outbox]
    assert {m["To"] for m in real} == {f"user00000{n}@example.com" for n in range(1, 6)}
    assert not any(m["Subject"].startswith("[TEST]") for m in real)
    (path,) = (var / "outbox-test" / VERSION).iterdir()  # the latest test mail: en
    test = message_from_bytes(path.read_bytes(), policy=policy.default)
    assert (test["To"], test["Content-Language"]) == ("legal@example.com", "en")
    assert test["Subject"] == f"[TEST] {SUBJECT_EN}"
    assert sorted(row.split(",")[2] for row in proof[1:]) == ["1", "2", "3", "4", "5"]
    assert "l***@e***.com" not in "".join(proof)


def test_a_test_mail_through_sendgrid_is_marked_apart(
    seeded_repo: NoticeRepo, standin: sendgrid_standin.StandIn
) -> None:
    """When test mails go through SendGrid before the real send, then they reach the test address
    alone, with [TEST] in every locale's subject and a test category and custom arg, and the
    real requests, ledger, status and proof are the customers' only."""
    material_repo(seeded_repo)
    add_english(seeded_repo)
    proof = _mail_test_then_send(seeded_repo, sendgrid_env(standin, seeded_repo))
    zh, en, *real = standin.accepted
    release = f"privacy/zh-CN/{VERSION}"
    for test in (zh, en):
        assert [p["to"] for p in test["personalizations"]] == [[{"email": "legal@example.com"}]]
        assert (test["categories"], test["custom_args"]) == (
            ["privacy-notice-test"],
            {"release": release, "test": "true"},
        )
    assert zh["subject"] == f"[TEST] {SUBJECT_ZH}"
    assert en["subject"] == f"[TEST] {SUBJECT_EN}"
    assert sorted(standin.recipients()[2:]) == [f"user00000{n}@example.com" for n in range(1, 6)]
    for body in real:
        assert (body["categories"], body["custom_args"]) == (
            ["privacy-notice"],
            {"release": release},
        )
        assert not body["subject"].startswith("[TEST]")
    assert len(proof) == 6 and "l***@e***.com" not in "".join(proof)
    assert not (seeded_repo.path / "var" / "outbox").exists()
    assert not (seeded_repo.path / "var" / "outbox-test").exists()


def test_section_services_narrow_the_audience(seeded_repo: NoticeRepo) -> None:
    """When the changed section declares its services, then only their customers are told."""
    text = material_repo(seeded_repo).path / "notices" / "privacy" / "zh-CN.md"
    content = text.read_text(encoding="utf-8")
    content = (
        content.replace("{#sharing}", '{#sharing services="powerbi"}')
        .replace("{#contact}", '{#contact services="powerbi"}')
        .replace("{#retention}", '{#retention services="powerbi"}')
    )
    seeded_repo.commit(
        "Declare section services",
        "2029-11-01T11:00:00+08:00",
        {"notices/privacy/zh-CN.md": content},
    )
    (seeded_repo.path / "c.csv").write_text(
        "email,name,locale,services\na@example.com,甲,zh-CN,azure\nb@example.com,乙,en,powerbi\n",
        encoding="utf-8",
    )
    run_notices("customers", "import", "c.csv", cwd=seeded_repo.path)
    plan = notify.plan(_settings(seeded_repo), VERSION, now=datetime(2029, 11, 2, tzinfo=SHANGHAI))
    assert plan.services == ("powerbi",) and plan.per_locale == {"en": 1}


def test_a_release_that_is_not_material_needs_no_notice(seeded_repo: NoticeRepo) -> None:
    """When a release only reformats, then plan says no notice is needed and send refuses."""
    text = release_text(seed_text(), VERSION, effective="2030-01-01", summary="仅调整格式。")
    seeded_repo.commit(
        "Reformat", "2029-11-01T10:00:00+08:00", {NOTICE: text.replace("。\n", "。 \n", 3)}
    )
    planned = run_notices("notify", "plan", VERSION, cwd=seeded_repo.path)
    assert (planned.code, planned.out) == (
        0,
        f"privacy/zh-CN/{VERSION}: not material, no notice is needed\n",
    )
    sent = run_notices("notify", "send", VERSION, "--early", cwd=seeded_repo.path)
    assert sent.code == 1 and sent.out == ""
    assert "is not material: no notice is needed" in sent.err
    assert "`material: true` and a `material_reason:`" in sent.err


def test_customers_suppressed_after_a_failed_send_are_withdrawn(
    seeded_repo: NoticeRepo, standin: sendgrid_standin.StandIn
) -> None:
    """When a customer is suppressed after their batch failed, then the rerun withdraws them."""
    material_repo(seeded_repo)
    write_customers(seeded_repo.path / "c.csv", 4)
    env = sendgrid_env(standin, seeded_repo)
    run_notices("customers", "import", "c.csv", cwd=seeded_repo.path, env=env)
    standin.faults.append("400")
    failed = run_notices(
        "notify", "send", VERSION, "--early", "--json", cwd=seeded_repo.path, env=env
    )
    assert failed.code == 1 and json.loads(failed.out)["failed"] == 4
    suppressed = run_notices(
        "customers",
        "suppress",
        "USER000002@example.com",
        "--reason",
        "hard bounce",
        cwd=seeded_repo.path,
        env=env,
    )
    assert suppressed.out == "suppressed U***@e***.com: hard bounce\n"
    rerun = run_notices("notify", "send", VERSION, "--early", cwd=seeded_repo.path, env=env)
    assert rerun.code == 0, rerun.err
    assert "1 delivery(ies) withdrawn: customer suppressed" in rerun.out
    assert standin.recipients() == [
        "user000001@example.com",
        "user000003@example.com",
        "user000004@example.com",
    ]
    counts = notify.status(_settings(seeded_repo, standin), VERSION).counts
    assert counts == {"planned": 0, "sending": 0, "sent": 3, "failed": 0, "bounced": 1}


def test_customers_count_never_names_anyone(seeded_repo: NoticeRepo) -> None:
    """When the directory is counted, then only numbers come out."""
    write_customers(seeded_repo.path / "c.csv", 12)
    run_notices("customers", "import", "c.csv", cwd=seeded_repo.path)
    run_notices(
        "customers",
        "suppress",
        "user000007@example.com",
        "--reason",
        "account closed",
        cwd=seeded_repo.path,
    )
    result = run_notices("customers", "count", "--json", cwd=seeded_repo.path)
    assert json.loads(result.out) == {"total": 12, "active": 11, "suppressed": 1}


def test_preview_of_an_unknown_locale_is_a_usage_error(seeded_repo: NoticeRepo) -> None:
    """When a preview asks for a locale without templates, then it is refused with the choices."""
    material_repo(seeded_repo)
    result = run_notices("notify", "preview", VERSION, "--locale", "fr", cwd=seeded_repo.path)
    assert (result.code, result.err) == (
        1,
        "error: no mail template for locale 'fr' (hint: use one of: zh-CN, en)\n",
    )
