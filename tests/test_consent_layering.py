"""Imports point one way between the two packages that talk to customers: delivery (notices,
the mails that carry consent links, the server) uses consent (questions, texts, tokens,
records, pages); consent never imports delivery, at any depth of a module."""

from __future__ import annotations

import ast
from pathlib import Path

from support.repos import PROJECT

PACKAGE = PROJECT / "notifier"


def _imported(path: Path) -> set[str]:
    """Every module `path` imports, wherever in it the import statement stands."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def test_consent_never_imports_delivery() -> None:
    """When every module of notifier/consent is read, then none imports notifier.delivery."""
    modules = sorted((PACKAGE / "consent").rglob("*.py"))
    assert len(modules) > 5
    reaching = {
        path.relative_to(PROJECT).as_posix(): sorted(
            name for name in _imported(path) if name.startswith("notifier.delivery")
        )
        for path in modules
    }
    assert {path: names for path, names in reaching.items() if names} == {}


def test_delivery_uses_consent() -> None:
    """When delivery is read, then it does import consent: the direction is this one, not
    two packages that merely stopped talking."""
    users = [
        p
        for p in (PACKAGE / "delivery").rglob("*.py")
        if any(name.startswith("notifier.consent") for name in _imported(p))
    ]
    assert {p.name for p in users} >= {"notify.py", "serving.py", "fresh_links.py"}
