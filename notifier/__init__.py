"""notices: a privacy statement as versioned Markdown in git, with advance notice of changes."""

from notifier.config import Settings, load_settings
from notifier.diff import Change, Comparison, normalise
from notifier.errors import NoticeError
from notifier.history import History, Release, read_history
from notifier.lint import Finding, lint_notice, load_lint_rules
from notifier.materiality import ChangeVerdict, Reason, RuleSet, Verdict, assess, load_rules
from notifier.notice import Notice, Section, parse_notice
from notifier.release_rules import release_problems

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
