"""The JSON objects `--json` prints: the documented contracts, in one place.

Outside checks and scripts read these keys (DESIGN.md lists the ones they may rely on), so a
field is added here once and never renamed. Domain objects stay free of their JSON form.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from notifier.consent.report import Report as ConsentReport
    from notifier.delivery.customers import ImportResult
    from notifier.delivery.ledger import Failure, Suppressed
    from notifier.delivery.notify import SendReport
    from notifier.delivery.plan import Plan
    from notifier.errors import Problem
    from notifier.publishing.publish import BuiltSite
    from notifier.releases.history import Release
    from notifier.releases.verdicts import AssessedRelease
    from notifier.releases.version_diff import DiffResult, Side
    from notifier.scheduling.schedule import JobStatus, SyncChange
    from notifier.statement.diff import Change
    from notifier.statement.lint import Finding, LintReport
    from notifier.statement.materiality import ChangeVerdict, Override, Reason, Verdict


# --- notices check, lint ---------------------------------------------------------------------


def check(problems: Sequence[Problem]) -> dict[str, Any]:
    return {
        "ok": not any(p.severity == "error" for p in problems),
        "problems": [problem(p) for p in problems],
    }


def problem(found: Problem) -> dict[str, Any]:
    return {
        "severity": found.severity,
        "rule": found.rule,
        "message": found.message,
        "path": found.path,
        "line": found.line,
        "hint": found.hint,
    }


def lint(reports: Sequence[LintReport], counts: dict[str, int]) -> dict[str, Any]:
    findings = [finding(r.path, f) for r in reports for f in r.findings]
    return {"findings": findings, "counts": counts}


def finding(path: str, found: Finding) -> dict[str, Any]:
    return {
        "path": path,
        "rule": found.rule,
        "severity": found.severity,
        "section": found.section,
        "section_id": found.section_id,
        "line": found.line,
        "source": found.source,
        "message": {"zh": found.message_zh, "en": found.message_en},
        "suggestion": {"zh": found.suggestion_zh, "en": found.suggestion_en},
    }


# --- notices log -----------------------------------------------------------------------------


def release(found: Release) -> dict[str, Any]:
    """A release as history knows it; `log` adds its verdict."""
    return {
        "id": found.id,
        "notice": found.notice,
        "locale": found.locale,
        "path": found.path,
        "version": found.version,
        "title": found.title,
        "published": found.published.isoformat(),
        "effective": found.effective.isoformat(),
        "last_updated": found.last_updated.isoformat(),
        "sha256": found.sha256,
        "first_sha256": found.first_sha256,
        "commit": found.commit,
        "summary": found.summary,
        "services": list(found.services),
        "material_override": found.override.material if found.override else None,
        "material_reason": found.override.reason if found.override else None,
        "revisions": [
            {
                "commit": r.commit,
                "committed": r.committed.isoformat(),
                "sha256": r.sha256,
                "message": r.message,
            }
            for r in found.revisions
        ],
    }


def log(entries: Sequence[AssessedRelease]) -> dict[str, Any]:
    return {"releases": [log_entry(entry) for entry in entries]}


def log_entry(entry: AssessedRelease) -> dict[str, Any]:
    return {
        **release(entry.release),
        "previous": entry.previous.version if entry.previous else None,
        **(verdict(entry.verdict) if entry.verdict else FIRST_RELEASE),
    }


# A notice's first release is compared with nothing: no change to tell anyone about.
FIRST_RELEASE: dict[str, Any] = {
    "material": False,
    "verdict": "not-material",
    "tier": "T0",
    "override_reason": None,
    "override": None,
    "stale_override": None,
    "rules_verdict": "not-material",
    "rules_tier": "T0",
}


def verdict(found: Verdict) -> dict[str, Any]:
    """`material` is true, false, or null while undecided; `verdict` names the answer."""
    return {
        "material": None if found.undecided else found.material,
        "verdict": found.decision,
        "tier": found.tier,
        "override_reason": found.override_reason,
        "override": override(found.override),
        "stale_override": override(found.stale_override),
        "rules_verdict": found.rules_decision,
        "rules_tier": found.rules_tier,
    }


def override(found: Override | None) -> dict[str, Any] | None:
    if found is None:
        return None
    return {
        "material": found.material,
        "reason": found.reason,
        "version": found.version,
        "commit": found.commit,
    }


# --- notices diff ----------------------------------------------------------------------------


def diff(result: DiffResult) -> dict[str, Any]:
    locale = result.new.notice.locale
    judged = result.verdict
    return {
        **verdict(judged),
        "old": side(result.old),
        "new": side(result.new),
        "changes": [change(c, judged.of(c), locale) for c in result.comparison.changes],
    }


def side(found: Side) -> dict[str, Any]:
    front = found.notice.front
    return {
        "label": found.label,
        "kind": found.kind,
        "path": found.notice.path,
        "version": front.version if front else None,
        "release": found.release.id if found.release else None,
    }


def change(found: Change, judged: ChangeVerdict | None, locale: str) -> dict[str, Any]:
    return {
        "section": found.section,
        "section_id": found.section_id,
        "kind": found.kind,
        "material": bool(judged and judged.material),
        "verdict": judged.decision if judged else "not-material",
        "tier": judged.tier if judged else "T0",
        "reasons": [reason(r, locale) for r in judged.reasons] if judged else [],
        "labels": list(found.labels),
        "inserted": list(found.inserted),
        "deleted": list(found.deleted),
        "moved_from": found.moved_from,
        "moved_to": found.moved_to,
        "moved_text": [move.text for move in found.moves],
        "old_section_id": found.old_section_id,
        "old_section": found.old_section,
        "old_title": found.old_title,
        "new_title": found.new_title,
    }


def reason(found: Reason, locale: str) -> dict[str, Any]:
    zh = locale.lower().startswith("zh")
    return {
        "rule": found.rule,
        "title": found.title_zh if zh else found.title_en,
        "explanation": found.explanation_zh if zh else found.explanation_en,
        "explanation_zh": found.explanation_zh,
        "explanation_en": found.explanation_en,
        "triggers": list(found.triggers),
        "sources": list(found.sources),
        "tier": found.tier,
        "direction": found.direction,
        "consent": found.consent,
        "evidence": [{"before": e.before, "after": e.after} for e in found.evidence],
    }


# --- customers, notify -----------------------------------------------------------------------


def customers_import(result: ImportResult) -> dict[str, Any]:
    return {
        "imported": result.imported,
        "skipped": [str(p) for p in result.skipped],
        "locale_fallbacks": dict(result.fallbacks),
    }


def plan(found: Plan) -> dict[str, Any]:
    return {
        "release": found.release.id,
        "material": found.needed,
        "tier": found.verdict.tier if found.verdict else "T0",
        "services": list(found.services),
        "send_at": found.due_at.isoformat(),
        "effective": found.effective_at.isoformat(),
        "recipients": found.audience,
        "per_locale": found.per_locale,
    }


def send(report: SendReport) -> dict[str, Any]:
    return {
        "release": report.release_id,
        "sent": report.sent,
        "failed": report.failed,
        "batches": report.batches,
        "reclaimed": report.reclaimed,
        "bounced": report.bounced,
        "in_flight": report.in_flight,
        "lost_workers": report.lost_workers,
        "not_due": report.not_due,
        "counts": report.counts,
    }


def status(
    version: str,
    counts: dict[str, int],
    held: Sequence[Suppressed],
    why: Sequence[Failure],
    consent: dict[str, dict[str, int]] | None = None,
) -> dict[str, Any]:
    """Ledger counts (with `agreed`, `declined`, `no_answer` where consent is asked, and
    `consent`: the same per article); why deliveries failed (errors were masked when stored);
    suppressed customers with their address masked, never whole."""
    from notifier.logs import mask_email

    return {
        "version": version,
        "counts": counts,
        **({"consent": consent} if consent else {}),
        "failures": [
            {
                "reason": f.reason,
                "count": f.count,
                "status": f.status,
                "last_at": f.last_at.isoformat() if f.last_at else None,
            }
            for f in why
        ],
        "suppressed": [
            {"customer_id": s.customer_id, "email": mask_email(s.email), "reason": s.reason}
            for s in held
        ],
    }


# how `consent report` names where a recipient stands: a withdrawal is a decline from then on
ANSWER_STATES = {
    None: "no_answer",
    "decline": "declined",
    "withdraw": "withdrew",
    "agree": "agreed",
}


def consent_report(found: ConsentReport) -> dict[str, Any]:
    """Per question, the counts; then who has not agreed, address masked, never whole."""
    from notifier.logs import mask_email

    return {
        "version": found.version,
        "release": found.release_id,
        "effective": found.effective.isoformat(),
        "questions": found.counts,
        "outstanding": [
            {
                "article": a.article,
                "state": ANSWER_STATES[a.decision],
                "customer_id": a.customer_id,
                "email": mask_email(a.email),
                "locale": a.locale,
                "at": a.at.isoformat() if a.at else None,
            }
            for a in found.outstanding
        ],
    }


# --- schedule, site --------------------------------------------------------------------------


def jobs(statuses: Sequence[JobStatus]) -> dict[str, Any]:
    return {
        "jobs": [
            {
                "id": job.id,
                "kind": job.kind,
                "release": job.release,
                "next_run": job.next_run.isoformat() if job.next_run else None,
                "state": job.state,
                "detail": job.detail,
            }
            for job in statuses
        ]
    }


def sync(changes: Sequence[SyncChange]) -> dict[str, Any]:
    return {
        "changes": [
            {
                "id": c.id,
                "action": c.action,
                "run_at": c.run_at.isoformat() if c.run_at else None,
                "detail": c.detail,
            }
            for c in changes
        ]
    }


def site_build(built: BuiltSite) -> dict[str, Any]:
    return {
        "path": str(built.path),
        "pages": built.pages,
        "files": built.files,
        "seconds": round(built.seconds, 2),
    }
