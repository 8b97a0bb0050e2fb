"""The packaged rules, as data: `materiality.yaml`, `lint.yaml` and `consent_request.yaml`, each
read once per process.

Both the statement layer (which applies the rules) and the settings schema (which checks that
notices.toml names only rules, tiers and categories that exist) read them here, so neither has
to import the other.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

import yaml

from notifier.errors import ConfigError

SEVERITIES = ("error", "warning", "info")


@functools.cache
def packaged(name: str) -> Mapping[str, Any]:
    """`notifier/rules/<name>.yaml`, parsed with libyaml (8x faster than the pure-Python loader,
    and it is read at the start of every command that judges or lints)."""
    text = resources.files(__name__).joinpath(f"{name}.yaml").read_text(encoding="utf-8")
    data = yaml.load(text, Loader=yaml.CSafeLoader)
    if not isinstance(data, dict):  # pragma: no cover - package data
        raise ConfigError(f"the packaged {name} rules are not a mapping", path=f"{name}.yaml")
    return data


@dataclass(frozen=True, slots=True)
class MaterialityNames:
    """What `[materiality]` in notices.toml may name."""

    rules: tuple[str, ...]  # material rules, which can be tuned
    quiet: tuple[str, ...]  # quiet rules, which can only be disabled
    categories: tuple[str, ...]
    tiers: Mapping[str, str]  # tier → what it means, in English


def materiality_names() -> MaterialityNames:
    data = packaged("materiality")
    return MaterialityNames(
        rules=tuple(str(rule) for rule in data["rules"]),
        quiet=tuple(str(rule) for rule in data["quiet"]),
        categories=tuple(str(category) for category in data["categories"]),
        tiers={str(tier): str(meaning["en"]) for tier, meaning in data["tiers"].items()},
    )


@dataclass(frozen=True, slots=True)
class LintNames:
    """What `[lint]` in notices.toml may name."""

    rules: tuple[str, ...]
    thresholds: tuple[str, ...]  # the rules that count something, whose threshold can be set
    severities: tuple[str, ...] = SEVERITIES


def lint_names() -> LintNames:
    rules = sorted(packaged("lint")["rules"].items())
    return LintNames(
        tuple(str(rule) for rule, _ in rules),
        tuple(str(rule) for rule, raw in rules if raw.get("threshold") is not None),
    )
