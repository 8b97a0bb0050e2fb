"""The consent pages in the customer's language: Jinja2 templates, autoescaped, and a catalogue
of texts per supported locale, kept beside them in `templates/`.

Pages hold no script: the two answers are plain buttons of one form, styled alike, none chosen.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from functools import cache
from importlib.resources import files
from typing import Any

import yaml
from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup, escape

from notifier.locales import LOCALES, format_date, ui_locale

STYLESHEET = "consent.css"

_environment = Environment(
    loader=PackageLoader("notifier.consent", "templates"),
    autoescape=True,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


@dataclass(frozen=True, slots=True)
class Standing:
    """The answer a page mentions: agree, decline or withdraw, and the day it was given."""

    decision: str
    day: date


@cache
def _catalogue() -> Mapping[str, Mapping[str, Markup]]:
    folder = files("notifier.consent") / "templates"
    loaded = {
        code: yaml.safe_load((folder / f"{code}.yaml").read_text(encoding="utf-8"))
        for code in LOCALES
    }
    return {
        code: {key: escape(value) for key, value in texts.items()} for code, texts in loaded.items()
    }


@cache
def stylesheet() -> bytes:
    return (files("notifier.consent") / "templates" / STYLESHEET).read_bytes()


def render(name: str, locale: str, prefix: str, **context: Any) -> bytes:
    """Template `name` in the language of `locale`, as UTF-8."""
    texts = _catalogue()[ui_locale(locale).code]

    def t(key: str, **fields: object) -> Markup:
        return texts[key].format(**fields) if fields else texts[key]

    page = _environment.get_template(name).render(
        context, t=t, date=lambda value: format_date(value, locale), prefix=prefix
    )
    return page.encode("utf-8")
