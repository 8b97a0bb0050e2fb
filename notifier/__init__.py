"""notices: a privacy statement as versioned Markdown in git, with advance notice of changes."""

from notifier.errors import NoticeError
from notifier.releases.history import History, Release, read_history
from notifier.releases.rules import release_problems
from notifier.settings import Settings, load_settings
from notifier.statement.diff import Change, Comparison, normalise
from notifier.statement.lint import Finding, lint_notice, load_lint_rules
from notifier.statement.materiality import (
    ChangeVerdict,
    Reason,
    RuleSet,
    Verdict,
    assess,
    load_rules,
)
from notifier.statement.notice import Notice, Section, parse_notice

__all__ = [
    "Change",
    "ChangeVerdict",
    "Comparison",
    "Finding",
    "History",
    "Notice",
    "NoticeError",
    "Reason",
    "Release",
    "RuleSet",
    "Section",
    "Settings",
    "Verdict",
    "assess",
    "lint_notice",
    "load_lint_rules",
    "load_rules",
    "load_settings",
    "normalise",
    "parse_notice",
    "read_history",
    "release_problems",
]
