"""Notify affected customers of a material release before it takes effect.

Planning decides who and when: active customers of the services the change touches, at
`effective - notice period`, at once when the release was published later than that, never on or
after the effective date. Sending claims batches from the ledger, hands each to a transport and
marks the outcome, so a rerun sends only what is still due and a crash resends at most one batch.
"""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from email_validator import EmailNotValidError, validate_email

from notifier.consent import links, records, report, texts
from notifier.consent.site import SiteMap, site_map
from notifier.consent.triggers import triggers_of
from notifier.delivery import content, customers, ledger, proof_chain, provenance, site_links
from notifier.delivery.mail import (
    Message,
    Recipient,
    Sent,
    Transport,
    as_test,
    consent_placeholder,
    lease_seconds,
    personalised,
    scrub,
)
from notifier.delivery.mail.render import render
from notifier.delivery.mail.transports import FALLBACK_NAME, configured_transport
from notifier.delivery.plan import Plan
from notifier.errors import MailError, MailFailure, NotifyError
from notifier.files import atomic_writer
from notifier.locales import LOCALES
from notifier.logs import mask_email, mask_url
from notifier.releases.history import (
    History,
    Release,
    ensure_not_rewritten,
    read_history,
    record_path,
    record_releases,
)
from notifier.releases.judgement_cache import of_repository
from notifier.releases.verdicts import assess_release, source_release
from notifier.settings import Settings
from notifier.statement.materiality import Verdict, rules_for
from notifier.storage import db

log = logging.getLogger(__name__)
TEST_OUTBOX = "outbox-test"  # under var/: where the outbox transport writes `--test-to` mails
GIVE_UP_AFTER = 3  # batches in a row failing alike (endpoint down, key refused) end a run
Progress = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class Status:
    """`notify status`: the ledger's counts, with `agreed`, `declined` and `no_answer` over
    every question where consent is asked; `consent` gives them per question (else empty)."""

    counts: dict[str, int]
    consent: dict[str, dict[str, int]]


@dataclass(frozen=True, slots=True)
class SendReport:
    release_id: str
    sent: int
    failed: int
    batches: int
    reclaimed: int
    not_due: bool
    counts: dict[str, int]
    bounced: int = 0  # deliveries withdrawn because their customer was suppressed meanwhile
    in_flight: int = 0  # still claimed by another worker (or one that died, until its lease ends)
    lost_workers: int = 0  # `--workers`: worker processes that died before reporting


def _now(settings: Settings, now: datetime | None) -> datetime:
    return now or datetime.now(settings.timezone)


def _release(settings: Settings, version: str, notice: str | None, locale: str | None) -> Release:
    history = read_history(settings.repo, settings)
    return history.find(version, notice, locale)


def _services(release: Release, verdict: Verdict | None) -> tuple[str, ...]:
    """The services of the changed sections where sections declare them, else the release's."""
    if verdict is not None:
        declared: set[str] = set()
        for judged in verdict.changes:
            if judged.material or judged.undecided:
                for section in release.notice_doc.lineage(judged.change.section_id):
                    declared.update(section.services)
        if declared:
            return tuple(sorted(declared))
    return release.services


def plan(
    settings: Settings,
    version: str,
    *,
    notice: str | None = None,
    locale: str | None = None,
    now: datetime | None = None,
) -> Plan:
    """Work out the audience and the send time; refuse when it is too late to give notice."""
    history = read_history(settings.repo, settings)
    return _plan(settings, history, history.find(version, notice, locale), _now(settings, now))


def _plan(settings: Settings, history: History, release: Release, current: datetime) -> Plan:
    # one notice per version: a translation's customers are told by its source locale's
    # release (each in their own language), so both name the same send and ledger
    release = source_release(history, release) or release
    rules = rules_for(settings)
    stored = of_repository(settings)  # the site build's: judged once, not on every run
    assessed = assess_release(history, release, rules, stored=stored)
    verdict = assessed.verdict
    effective_at = release.effective_at(settings.timezone)
    due_at = max(effective_at - settings.notice_period, release.published)
    services = _services(release, verdict)
    if verdict is not None and verdict.undecided:
        raise NotifyError(
            f"release {release.version} is undecided: a substantive change that no rule "
            "explains needs the editor's decision for this version",
            hint=f"`notices diff` shows the change; decide with `material: true` or `false` and "
            f"a `material_reason:` in the front matter of version {release.version}",
        )
    needed = verdict is not None and verdict.material
    if needed and current >= effective_at:
        raise NotifyError(
            f"release {release.version} takes effect on {release.effective.isoformat()}: "
            "it is too late to give notice",
            hint="move the effective date: publish a new version with a later effective date",
        )
    per_locale = ledger.locale_counts(db.engine(settings), services) if needed else {}
    editions = content.editions(history, release, rules, stored)
    return Plan(
        release, verdict, needed, services, due_at, effective_at, per_locale, editions, history
    )


def transport_for(settings: Settings, release: Release, *, test: bool = False) -> Transport:
    """The transport NOTICES_MAIL_BACKEND names (outbox unless a SendGrid key is set). Test
    mails written to files go to a folder of their own (TEST_OUTBOX), never the outbox."""
    folder = settings.var_dir / TEST_OUTBOX if test else settings.outbox_dir
    return configured_transport(settings, folder / release.version)


def _messages(
    settings: Settings, plan_: Plan, locales: Sequence[str] | None = None
) -> dict[str, Message]:
    """One message per locale the version has an edition in (and we have templates for), each
    refused before anything is sent if it links to a page the site does not have. The site is
    generated once here, where mail is rendered, never to plan: it costs seconds. The consent
    questions' texts are kept from the same site, for each recipient's links."""
    site = site_map(settings, plan_.history)
    asking = bool(triggers_of(plan_.verdict))
    with_links = asking and links.ready(settings)
    if with_links:
        texts.remember(settings, plan_.history, plan_.release, site)
    elif asking:
        log.info(
            "release %s asks for consent, but no consent links can be made: the mail says "
            "consent is needed without a link (set [consent] url and NOTICES_CONSENT_KEYS)",
            plan_.release.id,
        )
    chosen = locales or content.mailed_locales(plan_)
    return {loc: _rendered(settings, plan_, loc, site, with_links) for loc in chosen}


def _rendered(
    settings: Settings, plan_: Plan, locale: str, site: SiteMap, with_links: bool
) -> Message:
    """The mail in `locale`, its links checked against the site built from the same releases."""
    notice = content.content_for(plan_, locale, site, links=with_links)
    message = render(notice, locale, settings)
    site_links.check_links(message, site)
    return message


def _recipient(
    settings: Settings, plan_: Plan, message: Message, delivery: ledger.Delivery, tag: str
) -> Recipient:
    """One addressee of `message`, with their personal consent links when it asks consent."""
    personal: tuple[tuple[str, str], ...] = ()
    if "-consent_" in message.text:
        personal = tuple(
            (consent_placeholder(article), url)
            for article, url in links.consent_links(
                settings, delivery.id, plan_.release, message.locale
            )
        )
    return Recipient(delivery.id, delivery.email, delivery.name, tag, personal)


def ready(
    settings: Settings,
    history: History,
    version: str,
    *,
    notice: str | None = None,
    locale: str | None = None,
    current: datetime,
    early: bool = False,
) -> tuple[Plan, bool]:
    """The plan of a send, and whether it is due; refuses a release that needs no notice or
    whose published text was rewritten (before anything is judged)."""
    ensure_not_rewritten(history, record_path(settings))
    plan_ = _plan(settings, history, history.find(version, notice, locale), current)
    if not plan_.needed:
        raise NotifyError(
            f"release {plan_.release.version} is not material: no notice is needed",
            hint="`notices diff` shows why; nothing was sent. To notify anyway, release it "
            "with `material: true` and a `material_reason:` in its front matter",
        )
    due = early or current >= plan_.due_at
    if due:  # customers are told of this text: record it as published
        _refuse_no_customers(settings)
        record_releases(history, record_path(settings))
    return plan_, due


def _refuse_no_customers(settings: Settings) -> None:
    """No customer at all is a wrong database (another folder, a mistyped URL), never a
    send that is done: "sent 0" would tell the editor everyone was told."""
    if not customers.counts(settings)["total"]:
        raise NotifyError(
            f"the database {mask_url(settings.database_url)} holds no customers",
            hint="import them with `notices customers import FILE.csv`, or check "
            "NOTICES_DATABASE_URL and the repository (--repo) name the database you meant",
        )


def send(
    settings: Settings,
    version: str,
    *,
    notice: str | None = None,
    locale: str | None = None,
    now: datetime | None = None,
    early: bool = False,
    progress: Progress | None = None,
    transport: Transport | None = None,
    retry_failed: bool = False,
) -> SendReport:
    """Send what is due; safe to rerun at any time, and it resumes after a crash. Failed
    deliveries are retried up to `ledger.MAX_ATTEMPTS` times, and all again on `retry_failed`."""
    history = read_history(settings.repo, settings)
    plan_, due = ready(
        settings,
        history,
        version,
        notice=notice,
        locale=locale,
        current=_now(settings, now),
        early=early,
    )
    release = plan_.release
    engine = db.engine(settings)
    if not due:
        return SendReport(release.id, 0, 0, 0, 0, True, ledger.counts(engine, release.id))
    transport = transport or transport_for(settings, release)
    with db.sender_lock(settings) as alone:
        ledger.plan(engine, release.id, plan_.services, plan_.due_at)
        # Alone on SQLite, whatever is still `sending` was left by a sender that died; with
        # several workers, only a batch claimed longer ago than any batch can take, or by a
        # process of this host that is gone.
        reclaimed, _ = ledger.requeue(
            engine, release.id, stale_before(settings, alone), every_failure=retry_failed
        )
        _warn_reclaimed(reclaimed)
        bounced = ledger.withdraw_suppressed(engine, release.id)
        sent, failed, batches, taken_back = _send_batches(settings, plan_, transport, progress)
    counts = ledger.settled_counts(engine, release.id)
    return SendReport(
        release.id,
        sent,
        failed,
        batches,
        reclaimed + taken_back,
        False,
        counts,
        bounced,
        counts["sending"],
    )


def stale_before(settings: Settings, alone: bool) -> datetime | None:
    """Claims older than this are a dead worker's: no batch can take longer (see the lease)."""
    if alone:
        return None
    lease = timedelta(seconds=lease_seconds(settings.mail_timeout, settings.mail_max_retries))
    return datetime.now(settings.timezone) - lease


def _warn_reclaimed(reclaimed: int) -> None:
    if reclaimed:
        log.warning(
            "%d deliveries were in flight when a sender stopped; they are sent again "
            "and may arrive twice",
            reclaimed,
        )


def _send_batches(
    settings: Settings, plan_: Plan, transport: Transport, progress: Progress | None
) -> tuple[int, int, int, int]:
    """Claim, send, mark until nothing is planned, one mail per locale, batched apart; then take
    back what dead workers left and go on. Returns (sent, failed, batches, taken back)."""
    release, engine = plan_.release, db.engine(settings)
    messages = _messages(settings, plan_)
    key = provenance.events_key(settings)
    total = ledger.counts(engine, release.id)["planned"]
    sent = failed = batches = taken_back = 0
    streak = endpoint = Streak()  # endpoint: the last streak, kept when a batch succeeds
    while True:
        for group_locale in ledger.planned_locales(engine, release.id):
            message = messages[content.message_locale(plan_, group_locale)]
            last = 0  # claims go up the ids; the next pass starts again for what was taken back
            while batch := ledger.claim(
                engine,
                release.id,
                settings.mail_batch_size,
                datetime.now(settings.timezone),
                locale=group_locale,
                after=last,
            ):
                last = batch.deliveries[-1].id
                recipients = [
                    _recipient(settings, plan_, message, d, provenance.tag(key, release.id, d.id))
                    for d in batch.deliveries
                ]
                outcome = transport.send(message, recipients, release_id=release.id)
                done, missed = _record(settings, batch, recipients, outcome)
                sent, failed, batches = sent + done, failed + missed, batches + 1
                streak = streak.after(outcome)
                endpoint = streak if streak.kind is not None else endpoint
                if streak.batches >= GIVE_UP_AFTER:
                    raise _given_up(settings, release, streak, transport.name)
                if progress:
                    progress(sent + failed, total)
        reclaimed = ledger.reclaim(engine, release.id, stale_before(settings, alone=False))
        if endpoint.batches and ledger.settled_counts(engine, release.id)["planned"]:
            # batches put back unspent are not sent: never a quiet end
            raise _given_up(settings, release, endpoint, transport.name)
        if not reclaimed:
            return sent, failed, batches, taken_back
        _warn_reclaimed(reclaimed)
        taken_back += reclaimed


@dataclass(frozen=True, slots=True)
class Streak:
    """Batches in a row that failed alike because of the endpoint (down, or refusing the key),
    not because of what they held: the last one's error, and how many."""

    kind: MailFailure | None = None
    batches: int = 0
    error: str = ""

    def after(self, outcome: Sent) -> Streak:
        if outcome.ok or outcome.kind is MailFailure.OTHER:
            return Streak()
        batches = self.batches + 1 if outcome.kind is self.kind else 1
        return Streak(outcome.kind, batches, outcome.error)


def _record(
    settings: Settings, batch: ledger.Batch, recipients: list[Recipient], outcome: Sent
) -> tuple[int, int]:
    """Mark the transport's answer; a batch whose key was refused goes back unspent instead.
    Returns (sent, failed)."""
    engine = db.engine(settings)
    if not outcome.ok and outcome.kind is MailFailure.UNAUTHORIZED:
        ledger.put_back(engine, batch, outcome.error)
        log.error(
            "batch %s: %d recipient(s) put back, no attempt spent: %s",
            batch.id[:8],
            len(recipients),
            scrub(outcome.error),
        )
        return 0, 0
    done, missed = ledger.mark(engine, batch, outcome, datetime.now(settings.timezone))
    if missed:
        _log_failure(batch.id, recipients, missed, outcome.error or outcome.failures[0][1])
    return done, missed


# What to check when the endpoint refuses the key, or nothing answers there, per transport.
_CHECK = {
    MailFailure.UNAUTHORIZED: {
        "sendgrid": "SENDGRID_API_KEY (a key of this account allowed to send mail)",
    },
    MailFailure.UNREACHABLE: {
        "sendgrid": "SENDGRID_API_HOST, and that the service answers there",
    },
}


def _given_up(settings: Settings, release: Release, streak: Streak, transport: str) -> MailError:
    """One line for a run that stopped because the endpoint is down or refuses the key."""
    assert streak.kind is not None
    counts = ledger.counts(db.engine(settings), release.id)
    unsent = counts["planned"] + counts["failed"]
    what = {
        MailFailure.UNAUTHORIZED: "the mail service refused the key",
        MailFailure.UNREACHABLE: "the mail service could not be reached",
    }[streak.kind]
    check = _CHECK[streak.kind].get(transport, f"the {transport} settings")
    spent = "; refused batches spent no attempt" if streak.kind is MailFailure.UNAUTHORIZED else ""
    return MailError(
        f"{what} ({streak.batches} batch(es) in a row): {scrub(streak.error)}; sending "
        f"stopped with {unsent} delivery(ies) of {release.id} not sent",
        kind=streak.kind,
        hint=f"check {check}, then rerun{spent}; `notices notify status {release.version}` "
        "says why each failed",
    )


def _log_failure(batch_id: str, recipients: list[Recipient], missed: int, error: str) -> None:
    log.error(
        "batch %s: %d of %d recipient(s) failed (first %s): %s",
        batch_id[:8],
        missed,
        len(recipients),
        mask_email(recipients[0].email),
        scrub(error),
    )


def send_test(settings: Settings, version: str, address: str, *, locale: str | None = None) -> str:
    """One real mail to `address` through the configured transport, marked `[TEST]` and kept
    apart (see `as_test`, `transport_for`): the ledger, its counts and the outbox are untouched."""
    try:
        validate_email(address, check_deliverability=False)
    except EmailNotValidError as error:
        raise NotifyError(
            f"--test-to {mask_email(address)} is not a mail address: {error}",
            hint="give the full address of a mailbox you read, e.g. legal@example.com",
        ) from None
    plan_ = plan(settings, version, now=datetime.now(settings.timezone))
    chosen = content.message_locale(plan_, locale or plan_.release.locale)
    message = as_test(_messages(settings, plan_, [chosen])[chosen])
    example = ledger.Delivery(0, 0, address, "", message.locale)  # links that record nothing
    outcome = transport_for(settings, plan_.release, test=True).send(
        message, [_recipient(settings, plan_, message, example, "")], release_id=plan_.release.id
    )
    if not outcome.ok:
        raise NotifyError(f"the test mail to {mask_email(address)} failed: {outcome.error}")
    return outcome.message_id


def status(settings: Settings, version: str) -> Status:
    """The ledger's counts of the release whose customers were told (a translation's: its
    source's); where it asks consent by link (a consent server is set up), the answers too,
    counted once for both views."""
    history = read_history(settings.repo, settings)
    named = history.find(version)
    release = source_release(history, named) or named
    engine = db.engine(settings)
    counts = ledger.counts(engine, release.id)
    asked = report.articles(settings, history, release) if links.ready(settings) else ()
    if not asked:
        return Status(counts, {})
    per_article = records.counts_by_article(engine, release.id, asked)
    return Status(counts | report.totals(per_article), per_article)


def failures(settings: Settings, version: str) -> list[ledger.Failure]:
    """Why deliveries of the release are not sent: each stored error with its count."""
    release = _release(settings, version, None, None)
    return ledger.failures(db.engine(settings), release.id)


def suppressed(settings: Settings, version: str) -> list[ledger.Suppressed]:
    """Customers of the release who bounced or were dropped: to be told by another channel."""
    release = _release(settings, version, None, None)
    return ledger.suppressed(db.engine(settings), release.id)


def verify_proof(path: Path) -> proof_chain.Verified:
    return proof_chain.verify(path)


def preview(
    settings: Settings, version: str, out: Path, *, locale: str | None = None
) -> list[Path]:
    """Write the rendered mail (subject, text, HTML per locale) for legal review."""
    if locale is not None and locale not in LOCALES:
        raise NotifyError(
            f"no mail template for locale '{locale}'", hint=f"use one of: {', '.join(LOCALES)}"
        )
    plan_ = plan(settings, version, now=datetime.now(settings.timezone))
    written = []
    chosen_locales = [content.message_locale(plan_, locale)] if locale else None
    for chosen, message in _messages(settings, plan_, chosen_locales).items():
        fallback = FALLBACK_NAME.get(chosen, "")
        reader = ledger.Delivery(0, 0, "", fallback, chosen)  # links that record nothing
        text, html = personalised(message, _recipient(settings, plan_, message, reader, ""), "")
        for suffix, body in (("txt", text), ("html", html)):
            target = out / f"{plan_.release.version}.{chosen}.{suffix}"
            header = f"Subject: {message.subject}\n\n" if suffix == "txt" else ""
            with atomic_writer(target) as stream:
                stream.write((header + body).encode("utf-8"))
            written.append(target)
    return written


PROOF_COLUMNS = proof_chain.COLUMNS


def proof(settings: Settings, version: str, out: Path) -> tuple[int, int]:
    """Write the proof-of-notice CSV atomically: every delivery (masked address, delivery
    state), then every consent decision in its chain's order, all under one hash chain.
    Returns (deliveries, decisions)."""
    release = _release(settings, version, None, None)
    engine = db.engine(settings)
    rows = decisions = 0
    with atomic_writer(out, mode=0o600) as raw:
        stream = io.TextIOWrapper(raw, encoding="utf-8", newline="")
        writer = csv.writer(stream)
        writer.writerow(PROOF_COLUMNS)
        previous = proof_chain.seed(release.id, release.sha256)
        of_release = {"version": release.version, "sha256": release.sha256, "release": release.id}
        for row in ledger.proof_rows(engine, release.id):
            fields = proof_chain.fields(
                of_release,
                customer_id=str(row.customer_id),
                email=mask_email(row.email),
                locale=row.locale,
                status=row.status,
                sent_at=row.sent_at.isoformat() if row.sent_at else "",
                message_id=row.message_id or "",
                delivery_state=row.delivery_state or "",
                event_at=row.event_at.isoformat() if row.event_at else "",
                delivery_id=str(row.delivery_id),
            )
            previous = proof_chain.row_hash(previous, fields)
            writer.writerow([*fields, previous])
            rows += 1
        for proved in records.history(engine, release.id):
            decision = proved.decision
            withdraws = proved.withdraws_seq
            fields = proof_chain.fields(
                of_release,
                customer_id=str(proved.customer_id),
                email=mask_email(proved.email),
                locale=decision.locale,
                delivery_id=str(decision.delivery_id),
                article=decision.article,
                text_sha256=decision.text_sha256,
                decision=decision.decision,
                decided_at=proved.decided_at,
                decision_seq=str(decision.seq),
                withdraws_seq=str(withdraws) if withdraws is not None else "",
                client=decision.client or "",
                decision_chain=decision.chain,
            )
            previous = proof_chain.row_hash(previous, fields)
            writer.writerow([*fields, previous])
            decisions += 1
        stream.flush()
        stream.detach()  # the atomic writer closes the file itself
    return rows, decisions
