"""The MkDocs configuration of each language's build: the package's defaults, then the
repository's own mkdocs.yml (optional), then what notices decides for that language.

The defaults (`mkdocs.defaults.yml`) and each language's additions (`mkdocs.languages.yml`,
by Material's language code) ship in the package, so a repository needs no mkdocs.yml at all.
Layers merge in this order, each over the one before: defaults, the language's additions, the
repository's mkdocs.yml, then per build: site_name, site_url, site_dir, docs_dir,
theme.language and extra.alternate.

The merge rule:
- mappings merge key by key, the later layer winning (`theme: material` reads as
  `theme: {name: material}`);
- `plugins` and `markdown_extensions` are lists of names or `{name: options}`: an entry named
  again keeps its place and its options merge as a mapping; a new entry is appended;
- any other value (a string, a number, another list) replaces the earlier one.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Mapping, Sequence
from importlib.resources import files
from pathlib import Path
from typing import Any

import yaml
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import ConfigurationError
from mkdocs.utils.yaml import get_yaml_loader, yaml_load

from notifier.errors import SiteError
from notifier.locales import ui_locale
from notifier.publishing.model import Language

log = logging.getLogger(__name__)

CONFIG_FILE = "mkdocs.yml"
NAMED_LISTS = ("plugins", "markdown_extensions")
# Material's language (its texts and `<html lang>`) for the locale whose catalogue a page uses
MATERIAL_LANGUAGE = {"zh-CN": "zh", "en": "en"}

Config = dict[str, Any]


def material_language(locale: str) -> str:
    return MATERIAL_LANGUAGE[ui_locale(locale).code]


def merge(base: Mapping[str, Any], over: Mapping[str, Any]) -> Config:
    """`over` merged into `base` by the rule in this module's docstring (neither is changed)."""
    merged = dict(base)
    for key, value in over.items():
        old = merged.get(key)
        if key == "theme":
            old, value = _theme(old), _theme(value)
        if key in NAMED_LISTS and isinstance(old, list) and isinstance(value, list):
            merged[key] = _merge_named(old, value)
        elif isinstance(old, Mapping) and isinstance(value, Mapping):
            merged[key] = merge(old, value)
        else:
            merged[key] = value
    return merged


def _theme(value: Any) -> Any:
    return {"name": value} if isinstance(value, str) else value


def _entry(item: Any) -> tuple[Any, Any]:
    """A list entry as (name, options): `toc` → ('toc', {}), `{toc: {…}}` → ('toc', {…})."""
    if isinstance(item, Mapping) and len(item) == 1:
        name, options = next(iter(item.items()))
        return name, options if options is not None else {}
    return item, {}


def _merge_named(base: list[Any], over: list[Any]) -> list[Any]:
    entries = dict(_entry(item) for item in base)
    for item in over:
        name, options = _entry(item)
        old = entries.get(name)
        both = isinstance(old, Mapping) and isinstance(options, Mapping)
        entries[name] = merge(old, options) if both else options  # type: ignore[arg-type]
    return [{name: options} if options else name for name, options in entries.items()]


@functools.cache
def _packaged_text(name: str) -> str:
    return (files("notifier.publishing") / name).read_text(encoding="utf-8")


def _packaged(name: str) -> Config:
    """A packaged file, read once per process and parsed per call (callers change the result)."""
    loaded: Config = yaml.load(_packaged_text(name), Loader=get_yaml_loader())  # noqa: S506
    return loaded


def defaults() -> Config:
    return _packaged("mkdocs.defaults.yml")


def language_additions(locale: str) -> Config:
    additions: Config = _packaged("mkdocs.languages.yml").get(material_language(locale), {})
    return additions


def config_path(repo: Path) -> Path:
    """What an error about the site's configuration names: mkdocs.yml, or the repository."""
    path = repo / CONFIG_FILE
    return path if path.is_file() else repo


def repository_config(repo: Path) -> Config:
    """The repository's mkdocs.yml as written (INHERIT followed), or {} when it has none."""
    path = repo / CONFIG_FILE
    if not path.is_file():
        return {}
    try:
        with path.open("rb") as stream:
            loaded = yaml_load(stream)
    except (ConfigurationError, OSError) as error:
        raise SiteError(
            f"mkdocs.yml cannot be read: {' '.join(str(error).split())}",
            path=path,
            line=_line(error),
            hint="fix its YAML; every key it sets is added to the package's defaults",
        ) from error
    if not isinstance(loaded, dict):
        raise SiteError("mkdocs.yml is not a mapping of settings", path=path, line=1)
    return loaded


def _line(error: Exception) -> int | None:
    mark = getattr(error.__context__, "problem_mark", None)
    return mark.line + 1 if mark is not None else None


def validated(raw: Mapping[str, Any], repo: Path) -> MkDocsConfig:
    """`raw` checked by MkDocs; its first error, in one line naming mkdocs.yml, is a SiteError."""
    config = MkDocsConfig(config_file_path=str(repo / CONFIG_FILE))
    config.load_dict(dict(raw))
    errors, warnings = config.validate()
    for name, warning in warnings:
        log.warning("mkdocs.yml: setting '%s': %s", name, warning)
    if errors:
        name, message = errors[0]
        raise SiteError(
            f"setting '{name}': {' '.join(str(message).split())}",
            path=repo / CONFIG_FILE,
            hint="fix it in mkdocs.yml (or remove the setting to keep the package's default)",
        )
    return config


def language_config(
    repository: Mapping[str, Any],
    language: Language,
    *,
    repo: Path,
    site_url: str,
    site_dir: Path,
    empty: Path,
    others: Sequence[str],
) -> Config:
    """The raw configuration of `language`'s build into `site_dir`.

    Its hand-written pages are `docs_dir` for the root language and `docs_dir/<locale>` for the
    others (`empty` where there is no such folder); `others` are the folders the root language
    leaves to the other languages.
    """
    raw = merge(merge(defaults(), language_additions(language.locale)), repository)
    docs = repo / str(raw.get("docs_dir", "docs"))
    if language.prefix:
        docs = docs / language.locale
    else:
        excluded = "".join(f"/{locale}/\n" for locale in others)
        raw["exclude_docs"] = f"{raw.get('exclude_docs') or ''}\n{excluded}".lstrip("\n")
    extra: Config = {"notices_root": language.root}
    if language.alternates:
        extra["alternate"] = [
            {"name": alt.name, "link": alt.url, "lang": alt.lang} for alt in language.alternates
        ]
    return merge(
        raw,
        {
            "site_name": language.title,
            "site_url": site_url + language.prefix,
            "site_dir": str(site_dir),
            "docs_dir": str(docs if docs.is_dir() else empty),
            "theme": {"language": material_language(language.locale)},
            "extra": extra,
        },
    )
