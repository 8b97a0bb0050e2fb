"""Release rules of `notices check`: what the materiality verdict forbids a release to do.

- An editorial revision (a later commit with the same `version`) must not be material: customers
  were told about the text as first published, so a material edit needs a new version.
- A material release must give the notice period between its publish date and its effective
  date (T2/T3: `notice_period_days`, 30 by default; T1: at the latest on the effective date).
- A release that removes most of the statement (more than half of its text or of its sections)
  is refused unless `material_reason` explains it: a broken export must never be published.
- A release whose verdict asks consent shows, in each section concerned, what the law requires
  the person to be told before agreeing (`releases.consent_request`).

Releases on `main` are checked, and so is each notice in the working tree against the release
it would follow (a pending release, or a pending editorial revision). Problems of releases that
are superseded and already in effect cannot be fixed any more and are reported as warnings.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from pathlib import Path

from notifier.errors import NoticeError, Problem
from notifier.releases.consent_request import missing_elements
from notifier.releases.history import History, Release
from notifier.settings import Settings
from notifier.statement.diff import Comparison, compare, normalise
from notifier.statement.materiality import TIERS, RuleSet, Verdict, assess
from notifier.statement.notice import Notice, covering, parse_notice, parse_text

log = logging.getLogger(__name__)

ADVANCE_TIERS = ("T2", "T3")  # tiers that need the whole notice period
MASS_REMOVAL_SHARE = 0.5


@dataclass(frozen=True, slots=True)
class _Candidate:
    """A version to check: a release on main or a notice file in the working tree."""

    path: str
    version: str
    doc: Notice
    published: datetime
    effective: date
    final: bool  # its problems can still be fixed (newest, or not yet in effect)
    where: str  # how to name it in messages


def release_problems(
    history: History, settings: Settings, rules: RuleSet, *, now: datetime | None = None
) -> list[Problem]:
    """Every release-rule problem of the releases on main and of the working tree's notices."""
    now = now or datetime.now(settings.timezone)
    problems: list[Problem] = []
    sources = _SourceVerdicts(settings.default_locale)
    for notice, locale in history.notices():  # the default locale first: it decides
        releases = history.releases_of(notice, locale)
        for index, release in enumerate(releases):
            final = index == len(releases) - 1 or release.effective_at(settings.timezone) > now
            problems += _revision_problems(release, rules, final)
            if index:
                candidate = _from_release(release, final)
                problems += _release_checks(
                    releases[index - 1].notice_doc, candidate, settings, rules, sources
                )
    problems += _working_tree_problems(history, settings, rules, now)
    return problems


@dataclass
class _SourceVerdicts:
    """The verdict of each version in the source (default) locale, which its translations
    share: one verdict per version (`releases.verdicts` decides the same way)."""

    locale: str
    verdicts: dict[tuple[str, str], Verdict] = field(default_factory=dict)

    def decide(self, candidate: _Candidate, own: Verdict) -> Verdict:
        key = (candidate.doc.name, candidate.version)
        if candidate.doc.locale == self.locale:
            self.verdicts[key] = own
            return own
        return self.verdicts.get(key, own)


def _from_release(release: Release, final: bool) -> _Candidate:
    return _Candidate(
        release.path,
        release.version,
        release.notice_doc,
        release.published,
        release.effective,
        final,
        f"release {release.version}",
    )


def _problem(candidate: _Candidate, rule: str, message: str, key: str | None, hint: str) -> Problem:
    front = candidate.doc.front
    line = front.line_of(key) if front is not None and key else None
    severity = "error" if candidate.final else "warning"
    if not candidate.final:
        hint = "already superseded and in effect, so it cannot be fixed; recorded as history"
    return Problem(severity, rule, message, candidate.path, line, hint)


def _summary(verdict: Verdict) -> str:
    """'T3: M10, M21' — the tier and the rules that fired."""
    rules = ", ".join(verdict.rules_fired[:6]) or ("override" if verdict.override else "none")
    return f"{verdict.tier}: {rules}"


# --- editorial revisions ---------------------------------------------------------------------


def _revision_problems(release: Release, rules: RuleSet, final: bool) -> Iterator[Problem]:
    """Each revision compared with the text as first published: none may be material."""
    if not release.revisions:
        return
    first = parse_text(release.first_text, release.path)
    candidate = _from_release(release, final)
    for revision in release.revisions:
        doc = parse_text(revision.text, release.path)
        problem = _revision_problem(first, doc, candidate, rules, f"commit {revision.commit[:12]}")
        if problem is not None:
            yield problem
            return  # later revisions carry the same change; one report is enough


def _revision_problem(
    first: Notice, doc: Notice, candidate: _Candidate, rules: RuleSet, where: str
) -> Problem | None:
    comparison = compare(first, doc)
    verdict = assess(comparison, rules)  # the release's own override is about the release
    removal = _mass_removal(comparison)
    if removal and not (doc.front and doc.front.material_reason):
        return _problem(
            candidate,
            "mass-removal",
            f"{where} removes {removal} of version {candidate.version}",
            "version",
            "restore the text (a broken export?), or explain in material_reason",
        )
    if not verdict.needs_notice:
        return None
    how = "materially" if verdict.material else "in substance, and no rule explains it"
    return _problem(
        candidate,
        "material-revision",
        f"{where} changes version {candidate.version} {how} ({_summary(verdict)}); "
        "an editorial revision must not",
        "version",
        "give the change a new version (with its own notice period), or undo it",
    )


# --- releases --------------------------------------------------------------------------------


def _release_checks(
    previous: Notice,
    candidate: _Candidate,
    settings: Settings,
    rules: RuleSet,
    sources: _SourceVerdicts,
) -> list[Problem]:
    comparison = compare(previous, candidate.doc)
    front = candidate.doc.front
    problems = []
    removal = _mass_removal(comparison)
    broken = bool(removal) and not (front and front.material_reason)
    if broken:
        problems.append(
            _problem(
                candidate,
                "mass-removal",
                f"{candidate.where} removes {removal} of the statement",
                "version",
                "check the export is complete; if the removal is intended, say why in "
                "material_reason",
            )
        )
    verdict = assess(comparison, rules, front, previous=previous.front)
    for problem in (
        _copied_summary_problem(previous, candidate),
        _stale_override_problem(verdict, previous, candidate),
        _undecided_problem(verdict, candidate),
        _notice_period_problem(verdict, candidate, settings),
    ):
        if problem is not None:
            problems.append(problem)
    if not broken:  # a broken export is fixed first; then say what changes
        shared = sources.decide(candidate, verdict)
        problems += _for_you_problems(shared, candidate, previous)
        problems += _consent_request_problems(shared, comparison, candidate)
    return problems


def _for_you_problems(
    verdict: Verdict, candidate: _Candidate, previous: Notice
) -> list[Problem]:
    """A material release says, in every locale, what changes for the customer in each material
    (or undecided) section: the words customers read instead of rule codes. An entry for a
    section covers its subsections (one for the title heading covers the whole statement)."""
    front = candidate.doc.front
    written = front.what_changes_for_you if front else {}
    before = previous.front.what_changes_for_you if previous.front else {}
    fresh = {sid for sid, text in written.items() if before.get(sid) != text}  # not copied
    problems: list[Problem] = []
    if not verdict.material:
        return problems
    needed = [c.change for c in verdict.changes if c.material or c.undecided]
    if not needed and not written:  # material by the editor's decision alone
        return [
            *problems,
            _problem(
                candidate,
                "what-changes-for-you",
                f"{candidate.where} is material by the editor's decision but does not say what "
                f"changes for customers in {candidate.doc.locale}",
                "material",
                "add `what_changes_for_you:` with a line `  <section-id>: <one or two plain "
                "sentences>` for a changed section",
            ),
        ]
    missing = {
        change.section_id: change.section or change.section_id
        for change in needed
        if covering(change.section_id, fresh, candidate.doc, previous) is None
    }
    if missing:
        named = ", ".join(f"“{title}” ({sid})" for sid, title in missing.items())
        key = "what_changes_for_you" if front and front.line_of("what_changes_for_you") else None
        problems.append(
            _problem(
                candidate,
                "what-changes-for-you",
                f"{candidate.where} does not say what changes for customers in "
                f"{candidate.doc.locale} for {named}",
                key or "version",
                "add under `what_changes_for_you:` a line `  <section-id>: <one or two plain "
                "sentences a lawyer signed off, in this file's language>` for each (an entry "
                "for a section covers its subsections; one copied unchanged from the version "
                "before does not count)",
            )
        )
    return problems


def _consent_request_problems(
    verdict: Verdict, comparison: Comparison, candidate: _Candidate
) -> list[Problem]:
    """A release asking consent shows, in each section concerned and in every locale, what the
    law requires the person to be told before agreeing (`releases.consent_request`): a request
    that lacks it cannot give valid consent, so it is refused like a missing notice period."""
    problems = []
    for missing in missing_elements(verdict, comparison):
        kinds: dict[str, list[str]] = {}
        for article in missing.articles:
            kinds.setdefault(article.consent, []).append(article.id)
        asking = " and ".join(f"{' and '.join(ids)} {kind} consent" for kind, ids in kinds.items())
        section = missing.section
        what = missing.element.what.format(recipient=missing.recipient)
        problem = _problem(
            candidate,
            "consent-request",
            f"{asking} in {candidate.where} {'needs' if len(kinds) == 1 else 'need'} {what} "
            f"shown in “{section.path or section.title}” ({section.id})",
            None,
            missing.element.hint,
        )
        problems.append(replace(problem, line=missing.line))
    return problems


def _copied_summary_problem(previous: Notice, candidate: _Candidate) -> Problem | None:
    """A release's summary is the first thing customers read about it: last release's words
    describe last release's change."""
    summary = candidate.doc.front.summary if candidate.doc.front else None
    before = previous.front.summary if previous.front else None
    if not summary or summary != before:
        return None
    version = previous.front.version if previous.front else None
    return _problem(
        candidate,
        "copied-summary",
        f"{candidate.where} has the summary of version {version} unchanged",
        "summary",
        "say in one line what this version changes",
    )


def _stale_override_problem(
    verdict: Verdict, previous: Notice, candidate: _Candidate
) -> Problem | None:
    """An override copied from the release before: it decided that version, not this one."""
    stale = verdict.stale_override
    if stale is None:
        return None
    before = previous.front.version if previous.front else None
    decided = "true" if stale.material else "false"
    rated = "material" if verdict.material else verdict.decision.replace("-", " ")
    return _problem(
        candidate,
        "stale-override",
        f"{candidate.where} carries version {before}'s override (material: {decided}, "
        f"“{stale.reason}”) forward; an override belongs to its release, so the rules' "
        f"verdict stands: {rated} ({_summary(verdict)})",
        "material",
        f"remove `material:` and `material_reason:`, or decide version {candidate.version} "
        "anew with its own material_reason",
    )


def _undecided_problem(verdict: Verdict, candidate: _Candidate) -> Problem | None:
    """A substantive change no rule explains blocks publication until the editor decides."""
    if not verdict.undecided:
        return None
    sections = ", ".join(
        dict.fromkeys(
            f"“{c.change.section or c.change.section_id}”" for c in verdict.changes if c.undecided
        )
    )
    return _problem(
        candidate,
        "undecided",
        f"{candidate.where} is undecided: {sections} changed in substance and no rule "
        "explains it",
        "version",
        f"`notices diff` shows the change; decide for version {candidate.version} with "
        "`material: true` or `material: false` and a material_reason",
    )


def _notice_period_problem(
    verdict: Verdict, candidate: _Candidate, settings: Settings
) -> Problem | None:
    if not verdict.material:
        return None
    tz = settings.timezone
    published = candidate.published.astimezone(tz)
    takes_effect = datetime.combine(candidate.effective, time(0), tzinfo=tz)
    if verdict.tier in ADVANCE_TIERS:
        needed = settings.notice_period
        earliest = _earliest_effective(published, needed)
        if takes_effect - published >= needed:
            return None
        days = (takes_effect.date() - published.date()).days
        what = f"{needed.days} days' notice required"
    elif TIERS.index(verdict.tier) >= TIERS.index("T1"):
        earliest = published.date()
        if candidate.effective >= earliest:
            return None
        days = (candidate.effective - published.date()).days
        what = "customers must be told by the effective date"
    else:  # pragma: no cover - a material verdict has tier T1 or higher
        return None
    gap = f"{days} days' notice" if days >= 0 else f"{-days} days before it is published"
    return _problem(
        candidate,
        "notice-period",
        f"{candidate.where} is material ({_summary(verdict)}) and published "
        f"{published.date().isoformat()} but takes effect {candidate.effective.isoformat()}: "
        f"{gap}, {what}",
        "effective",
        f"set effective: {earliest.isoformat()} or later",
    )


def _earliest_effective(published: datetime, period: timedelta) -> date:
    """The first effective date (00:00 that day) at least `period` after `published`."""
    moment = published + period
    day = moment.date()
    return day if moment.timetz() == time(0, tzinfo=moment.tzinfo) else day + timedelta(days=1)


def _mass_removal(comparison: Comparison) -> str:
    """'62% of its text' / '12 of 21 sections' when more than half is gone, else ''."""
    old_sections = [s for s in comparison.old.sections if s.level > 0 or s.body.strip()]
    if not old_sections:
        return ""
    removed_sections = [c for c in comparison.changes if c.kind == "removed"]
    if len(removed_sections) > MASS_REMOVAL_SHARE * len(old_sections):
        return f"{len(removed_sections)} of {len(old_sections)} sections"
    total = sum(len(normalise(s.body)) for s in old_sections)
    gone = sum(len(normalise(c.old_text)) for c in removed_sections)
    gone += sum(
        len(normalise("".join(c.deleted))) for c in comparison.changes if c.kind != "removed"
    )
    if total and gone > MASS_REMOVAL_SHARE * total:
        return f"{round(100 * gone / total)}% of its text"
    return ""


# --- the working tree ------------------------------------------------------------------------


def _working_tree_problems(
    history: History, settings: Settings, rules: RuleSet, now: datetime
) -> list[Problem]:
    """Each notice file that differs from its latest release: a pending release or revision."""
    problems: list[Problem] = []
    sources = _SourceVerdicts(settings.default_locale)
    paths = settings.notices_dir.glob("*/*.md")  # the default locale first: it decides
    for path in sorted(paths, key=lambda p: (p.parent.name, p.stem != sources.locale, p.stem)):
        relative = _relative(path, settings.repo)
        try:
            doc = parse_notice(path.read_bytes(), relative)
        except (NoticeError, OSError) as error:
            log.debug("release rules skip %s: %s", relative, error)  # file rules report it
            continue
        latest = history.latest(doc.name, doc.locale)
        front = doc.front
        if latest is None or front is None or not front.version or doc.text == latest.text:
            continue
        if front.version == latest.version:
            candidate = _Candidate(
                relative,
                latest.version,
                doc,
                latest.published,
                front.effective or latest.effective,
                True,
                "the working tree",
            )
            first = parse_text(latest.first_text, latest.path)
            found = _revision_problem(first, doc, candidate, rules, "the working tree")
            problems += [found] if found is not None else []
            continue
        published = (
            datetime.combine(front.published, time(0), tzinfo=settings.timezone)
            if front.published
            else now
        )
        effective = front.effective or published.astimezone(settings.timezone).date()
        candidate = _Candidate(
            relative,
            front.version,
            doc,
            published,
            effective,
            True,
            f"pending release {front.version}",
        )
        problems += _release_checks(latest.notice_doc, candidate, settings, rules, sources)
    return problems


def _relative(path: Path, repo: Path) -> str:
    try:
        return path.resolve().relative_to(repo.resolve()).as_posix()
    except ValueError:
        return str(path)
