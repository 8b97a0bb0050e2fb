"""The MkDocs side of the site, kept thin: adds what `pages.py` generates as MkDocs files.

MkDocs 1.x is unmaintained and Material for MkDocs ends in 2027, so this file only translates
a `Language` into MkDocs terms (generated files, nav, `page.meta` for the theme in `theme/`, pinned
page dates) and hands pages to workers (`shared_pages.py`); replacing the renderer means
replacing these files and `publish.py`, nothing else.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from jinja2 import Environment
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.plugins import BasePlugin
from mkdocs.structure.files import File, Files, InclusionLevel
from mkdocs.structure.nav import Navigation
from mkdocs.structure.pages import Page as MkDocsPage

from notifier.errors import SiteError
from notifier.publishing.anchors import OldIdAnchors
from notifier.publishing.model import Asset, Language, NavItem, Page
from notifier.publishing.shared_pages import Converted, SharedPages, may_share

Progress = Callable[[int, int], None]

THEME = Path(__file__).with_name("theme")
STYLESHEET = "assets/notices.css"
SEARCH_SCRIPT = "assets/search-words.js"  # whole Chinese words in search: see its comment


def _nav(items: tuple[NavItem, ...]) -> list[Any]:
    return [
        {item.title: item.path} if item.path is not None else {item.title: _nav(item.children)}
        for item in items
    ]


def _add_theme(config: MkDocsConfig) -> None:
    """The package's templates, styles and scripts: after a repository's own `custom_dir` (which may
    override them), before Material's."""
    dirs = config.theme.dirs
    if str(THEME) not in dirs:
        dirs.insert(1 if config.theme.custom_dir else 0, str(THEME))
    if STYLESHEET not in config.extra_css:
        config.extra_css.append(STYLESHEET)
    if SEARCH_SCRIPT not in map(str, config.extra_javascript):
        config.extra_javascript.append(SEARCH_SCRIPT)


class NoticesPlugin(BasePlugin):  # type: ignore[type-arg,no-untyped-call]
    """`plugins: [notices]`: one language's pages, generated from git history.

    `notices site build` generates every language once and hands each build its language
    (`use`) before MkDocs runs; a plain `mkdocs build` has none and is refused.
    """

    def __init__(self) -> None:
        super().__init__()
        self.language: Language | None = None
        self.updated: date | None = None
        self.progress: Progress | None = None
        self.assets: tuple[Asset, ...] = ()
        self.generated: dict[str, Page] = {}
        self.built = 0
        self.total = 0
        self.shared: SharedPages | None = None  # pages converted by forked workers
        self.converted: dict[str, Converted] = {}  # their conversions, until MkDocs reaches them

    def use(
        self,
        language: Language,
        updated: date,
        progress: Progress | None,
        root_assets: tuple[Asset, ...] = (),
    ) -> None:
        """The language this build publishes, with the site's root files if it is at the root;
        `updated` dates its hand-written pages."""
        self.language, self.updated, self.progress = language, updated, progress
        self.assets = (*language.assets, *root_assets)
        self.generated = {page.path: page for page in language.pages}

    def on_config(self, config: MkDocsConfig) -> MkDocsConfig:
        if self.language is None:
            raise SiteError(
                "the notices plugin only builds through `notices site build`",
                path=config.config_file_path,
                hint="run `notices site build` (or `notices site serve` to preview)",
            )
        self.built = 0
        _add_theme(config)
        if not any(isinstance(ext, OldIdAnchors) for ext in config.markdown_extensions):
            config.markdown_extensions.append(OldIdAnchors())  # anchors for old heading ids
        return config

    def on_files(self, files: Files, *, config: MkDocsConfig) -> Files:
        assert self.language is not None
        own = [file for file in files if file.is_documentation_page()]
        for page in self.language.pages:
            self._add(files, config, page.path, page.markdown, page.in_nav)
        for asset in self.assets:
            self._add(files, config, asset.path, asset.content, True)
        self.total = len(files.documentation_pages())
        if config.nav is None:
            static = [file.src_uri for file in own if file.src_uri not in self.generated]
            config.nav = [*_nav(self.language.nav), *sorted(static)]
        return files

    def _add(
        self, files: Files, config: MkDocsConfig, path: str, content: str | bytes, in_nav: bool
    ) -> None:
        existing = files.get_file_from_path(path)
        if existing is not None and existing.generated_by is None:
            raise SiteError(
                "a hand-written page has the address of a generated one",
                path=Path(config.docs_dir) / existing.src_uri,
                hint="remove or rename it: this page is generated from the notices' git history",
            )
        inclusion = InclusionLevel.INCLUDED if in_nav else InclusionLevel.NOT_IN_NAV
        files.append(File.generated(config, path, content=content, inclusion=inclusion))

    def on_nav(self, nav: Navigation, *, config: MkDocsConfig, files: Files) -> Navigation:
        """Once files and navigation are known: share the generated pages with workers."""
        pages = []
        for file in files.documentation_pages(inclusion=InclusionLevel.is_included):
            if file.src_uri in self.generated:
                if file.page is None and file.inclusion.is_not_in_nav():  # type: ignore[no-untyped-call]
                    MkDocsPage(None, file, config)  # as MkDocs's build does for these
                if file.page is not None:
                    pages.append(file.page)
        if may_share(config, pages):
            self.shared = SharedPages(config, files, pages)
        return nav

    def on_page_read_source(self, *, page: MkDocsPage, config: MkDocsConfig) -> str | None:
        """A page a worker converted: an empty source for MkDocs (its result is put in place)."""
        if self.shared is None or page not in self.shared:
            return None
        converted = self.shared.take(page)
        if converted is None:
            return None
        self.converted[page.file.src_uri] = converted
        return ""

    def on_page_content(
        self, html: str, *, page: MkDocsPage, config: MkDocsConfig, files: Files
    ) -> str:
        converted = self.converted.pop(page.file.src_uri, None)
        return html if converted is None else converted.apply(page, files)

    def on_env(self, env: Environment, *, config: MkDocsConfig, files: Files) -> Environment:
        """Every page is converted: the workers are done."""
        self._close()
        return env

    def on_build_error(self, *, error: Exception) -> None:
        self._close()

    def _close(self) -> None:
        if self.shared is not None:
            self.shared.close()
            self.shared = None
        self.converted.clear()

    def on_page_markdown(
        self, markdown: str, *, page: MkDocsPage, config: MkDocsConfig, files: Files
    ) -> str:
        assert self.language is not None and self.updated is not None
        generated = self.generated.get(page.file.src_uri)
        if generated is not None:
            page.meta.update(generated.meta)
            page.update_date = generated.updated.isoformat()
        else:
            page.meta.setdefault("notices", dict(self.language.default_meta))
            page.update_date = self.updated.isoformat()  # never the build date
        return markdown

    def on_post_page(self, output: str, *, page: MkDocsPage, config: MkDocsConfig) -> str:
        self.built += 1
        if self.progress is not None:
            self.progress(self.built, self.total)
        return output
