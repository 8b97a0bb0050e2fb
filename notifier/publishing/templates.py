"""The site's Jinja2 templates and its catalogue of texts, one YAML file per supported locale.

Autoescape is on for every template, Markdown ones too: text that lands in Markdown goes
through the `md` filter, which also escapes the characters Markdown would read as markup.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from functools import cache, lru_cache
from importlib.resources import files
from typing import Any

import yaml
from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup, escape

from notifier.locales import LOCALES, format_date, ui_locale
from notifier.publishing.links import md_link, relative_url
from notifier.publishing.model import SOURCE_FILE

_MD_SPECIAL = re.compile(r"([\\`*_\[\]{}|#!])")

_environment = Environment(
    loader=PackageLoader("notifier.publishing", "templates"),
    autoescape=True,
    auto_reload=False,  # packaged templates: no stat() of the file on every page
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    # `{#id}` is Markdown's heading id here, so Jinja comments are written `<# … #>`
    comment_start_string="<#",
    comment_end_string="#>",
)


def markdown_text(value: str) -> Markup:
    """Text safe inside Markdown (and table cells): markup characters escaped, one line."""
    return _markdown_text(value.unescape() if isinstance(value, Markup) else str(value))


@lru_cache(maxsize=4096)  # versions and summaries recur on every comparison page
def _markdown_text(text: str) -> Markup:
    one_line = " ".join(text.split())
    return Markup(html.escape(_MD_SPECIAL.sub(r"\\\1", one_line), quote=False))


_environment.filters["md"] = markdown_text
_environment.globals.update(md_link=md_link, relative_url=relative_url, source_file=SOURCE_FILE)


@cache
def catalogue() -> Mapping[str, Mapping[str, str]]:
    """Locale → key → text, read once from the package's `catalogue/<locale>.yaml`."""
    folder = files("notifier.publishing") / "catalogue"
    return {
        locale: yaml.safe_load((folder / f"{locale}.yaml").read_text(encoding="utf-8"))
        for locale in LOCALES
    }


def text(locale: str, key: str, **fields: object) -> str:
    """The catalogue's text for `key` in the language of `locale`, as plain text."""
    return catalogue()[ui_locale(locale).code][key].format(**fields)


@cache
def _escaped(locale: str) -> Mapping[str, Markup]:
    return {key: escape(value) for key, value in catalogue()[locale].items()}


class Texts:
    """Catalogue look-ups for templates: escaped text whose fields are escaped too."""

    def __init__(self, locale: str) -> None:
        self.texts = _escaped(ui_locale(locale).code)

    def __call__(self, key: str, **fields: object) -> Markup:
        return self.texts[key].format(**fields) if fields else self.texts[key]


def render(name: str, locale: str, **context: Any) -> str:
    """Template `name` with, for `locale`, its texts as `t`, `date()` and its UI locale `ui`."""
    template = _environment.get_template(name)
    return template.render(
        context,
        t=Texts(locale),
        date=lambda value: format_date(value, locale),
        ui=ui_locale(locale).code,
    )
