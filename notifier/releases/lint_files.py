"""`notices lint` on a repository: which notice files to lint, read and judged by the rules.

The rules themselves are pure (`notifier.statement.lint`); this module is where they meet files.
"""

from __future__ import annotations

from pathlib import Path

from notifier.errors import NoticeFileError, VersionNotFound
from notifier.settings import SETTINGS_FILE, Settings
from notifier.statement.lint import LintReport, LintRules, language_of, lint_notice, load_lint_rules
from notifier.statement.notice import parse_notice


def rules_for(settings: Settings) -> LintRules:
    """The packaged lint rules as the repository's notices.toml changes them."""
    return load_lint_rules(settings.lint_overrides, path=settings.repo / SETTINGS_FILE)


def _display(path: Path, settings: Settings) -> str:
    resolved = path.resolve()
    repo = settings.repo.resolve()
    return resolved.relative_to(repo).as_posix() if resolved.is_relative_to(repo) else str(path)


def _targets(settings: Settings, target: str | None, cwd: Path) -> list[Path]:
    if target is None:
        files = sorted(settings.notices_dir.glob("*/*.md"))
        if not files:
            raise NoticeFileError(
                "no notice files found",
                path=_display(settings.notices_dir, settings),
                hint="add notices/<notice>/<locale>.md, or name a .md file",
            )
        return files
    named = sorted((settings.notices_dir / target).glob("*.md")) if "/" not in target else []
    if named and not target.endswith(".md"):
        return named
    given = Path(target)
    for candidate in (given,) if given.is_absolute() else (cwd / given, settings.repo / given):
        if candidate.is_file():
            return [candidate]
    known = sorted(p.name for p in settings.notices_dir.glob("*") if p.is_dir())
    raise VersionNotFound(
        f"no notice named '{target}' and no such file",
        hint=f"give a notice name ({', '.join(known) or 'none yet'}) or a path to a .md file",
    )


def lint_paths(settings: Settings, target: str | None, cwd: Path) -> tuple[LintReport, ...]:
    """Lint a notice by name (every locale), one .md file, or by default every notice file."""
    rules = rules_for(settings)
    reports = []
    for path in _targets(settings, target, cwd):
        notice = parse_notice(path.read_bytes(), _display(path, settings))
        reports.append(LintReport(notice.path, language_of(notice), lint_notice(notice, rules)))
    return tuple(reports)
