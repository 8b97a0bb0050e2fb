"""notices: a privacy statement as versioned Markdown in git, with advance notice of changes.

The public names are imported on first use: `notices --help` must not pay for git or YAML."""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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

_HOMES = {
    "notifier.errors": ("NoticeError",),
    "notifier.releases.history": ("History", "Release", "read_history"),
    "notifier.releases.rules": ("release_problems",),
    "notifier.settings": ("Settings", "load_settings"),
    "notifier.statement.diff": ("Change", "Comparison", "normalise"),
    "notifier.statement.lint": ("Finding", "lint_notice", "load_lint_rules"),
    "notifier.statement.materiality": (
        "ChangeVerdict", "Reason", "RuleSet", "Verdict", "assess", "load_rules",
    ),
    "notifier.statement.notice": ("Notice", "Section", "parse_notice"),
}
_HOME_OF = {name: module for module, names in _HOMES.items() for name in names}


def __getattr__(name: str) -> Any:
    """Import a public name from its module the first time it is asked for."""
    if name not in _HOME_OF:
        raise AttributeError(f"module 'notifier' has no attribute {name!r}")
    value = getattr(import_module(_HOME_OF[name]), name)
    globals()[name] = value
    return value


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
