"""The MkDocs configuration of each language: package defaults, the repository's file, merged."""

from __future__ import annotations

from pathlib import Path

import pytest

from notifier.errors import SiteError
from notifier.publishing.mkdocs_config import (
    defaults,
    language_additions,
    merge,
    repository_config,
    validated,
)
from notifier.publishing.pages import heading_slug


def test_named_lists_merge_entry_by_entry() -> None:
    """When the repository names a plugin or extension again, then its options merge into the
    default ones in place; a new entry is appended; other lists and strings are replaced."""
    base = {
        "theme": {"name": "material", "features": ["a", "b"]},
        "markdown_extensions": ["attr_list", {"toc": {"permalink": True, "slugify": "s"}}],
        "plugins": ["notices", "search"],
    }
    over = {
        "theme": {"features": ["c"], "palette": {"primary": "teal"}},
        "markdown_extensions": [{"toc": {"permalink": "#"}}, "footnotes"],
        "plugins": [{"search": {"lang": "en"}}],
    }
    assert merge(base, over) == {
        "theme": {"name": "material", "features": ["c"], "palette": {"primary": "teal"}},
        "markdown_extensions": [
            "attr_list",
            {"toc": {"permalink": "#", "slugify": "s"}},
            "footnotes",
        ],
        "plugins": ["notices", {"search": {"lang": "en"}}],
    }
    assert base["plugins"] == ["notices", "search"], "the defaults are not changed"
    assert merge({"theme": {"name": "mkdocs", "x": 1}}, {"theme": "material"}) == {
        "theme": {"name": "material", "x": 1}
    }


def test_each_language_searches_its_own_way() -> None:
    """When a Chinese and an English build are configured, then Chinese search splits on the
    segmenter's U+200B, and neither stems (a prefix typed so far is never stemmed)."""
    chinese = merge(defaults(), language_additions("zh-CN"))
    english = merge(defaults(), language_additions("en"))
    zh_search = next(p["search"] for p in chinese["plugins"] if isinstance(p, dict))
    en_search = next(p["search"] for p in english["plugins"] if isinstance(p, dict))
    assert "\\u200b" in zh_search["separator"] and zh_search["pipeline"] == ["stopWordFilter"]
    assert en_search == {"lang": "en"}  # Material's English pipeline: stop words only
    toc = next(e["toc"] for e in english["markdown_extensions"] if isinstance(e, dict))
    assert toc["slugify"] is heading_slug and toc["permalink_title"].startswith("Permanent")
    assert defaults()["extra"]["generator"] is False


def _build_settings(folder: Path, **more: object) -> dict[str, object]:
    """What `notices site build` sets for each language, in `folder`."""
    (folder / "pages").mkdir(exist_ok=True)
    return {
        "site_name": "隐私声明",
        "site_dir": str(folder / "out"),
        "docs_dir": str(folder / "pages"),
        **more,
    }


def test_no_mkdocs_yml_is_no_additions(tmp_path: Path) -> None:
    """When the repository has no mkdocs.yml, then it adds nothing and the defaults validate."""
    assert repository_config(tmp_path) == {}
    config = validated(merge(defaults(), _build_settings(tmp_path)), tmp_path)
    assert config.theme.name == "material" and "notices" in config.plugins


def test_a_broken_mkdocs_yml_is_one_line_naming_it(tmp_path: Path) -> None:
    """When mkdocs.yml is not YAML, then the error names the file and its line, in one line."""
    (tmp_path / "mkdocs.yml").write_text("docs_dir: site/pages\ntheme: [\n", encoding="utf-8")
    with pytest.raises(SiteError) as raised:
        repository_config(tmp_path)
    message = str(raised.value)
    assert message.startswith(f"{tmp_path / 'mkdocs.yml'}:3: mkdocs.yml cannot be read: ")
    assert "\n" not in message


def test_an_invalid_setting_is_one_line_naming_it(tmp_path: Path) -> None:
    """When mkdocs.yml sets a value MkDocs refuses, then the error names the file and setting."""
    with pytest.raises(SiteError) as raised:
        validated(merge(defaults(), _build_settings(tmp_path, use_directory_urls=3)), tmp_path)
    assert str(raised.value).startswith(
        f"{tmp_path / 'mkdocs.yml'}: setting 'use_directory_urls': "
    )
