"""The MkDocs side of the site, kept thin: adds what `pages.py` generates as MkDocs files.

MkDocs 1.x is unmaintained and Material for MkDocs ends in 2027, so this file only translates
`SitePages` into MkDocs terms (generated files, nav, `page.meta` for the theme in `theme/`, pinned
page dates); replacing the renderer means replacing this file and `publish.py`, nothing else.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.plugins import BasePlugin
from mkdocs.structure.files import File, Files, InclusionLevel
from mkdocs.structure.pages import Page as MkDocsPage

from notifier.errors import SiteError
from notifier.publishing import publish
from notifier.publishing.anchors import OldIdAnchors
from notifier.publishing.model import NavItem, Page, SitePages

THEME = Path(__file__).with_name("theme")
STYLESHEET = "assets/notices.css"


def _nav(items: tuple[NavItem, ...]) -> list[Any]:
    return [
        {item.title: item.path} if item.path is not None else {item.title: _nav(item.children)}
        for item in items
    ]


def _add_theme(config: MkDocsConfig) -> None:
    """The package's templates and styles: after a repository's own `custom_dir` (which may
    override them), before Material's."""
    dirs = config.theme.dirs
    if str(THEME) not in dirs:
        dirs.insert(1 if config.theme.custom_dir else 0, str(THEME))
    if STYLESHEET not in config.extra_css:
        config.extra_css.append(STYLESHEET)


class NoticesPlugin(BasePlugin):  # type: ignore[type-arg,no-untyped-call]
    """`plugins: [notices]` in mkdocs.yml: the notices' pages, generated from git history."""

    def __init__(self) -> None:
        super().__init__()
        self.site: SitePages | None = None
        self.generated: dict[str, Page] = {}
        self.built = 0
        self.total = 0

    def on_config(self, config: MkDocsConfig) -> MkDocsConfig:
        config_file = config.config_file_path or "mkdocs.yml"
        self.site = publish.generate_for_config(Path(config_file).resolve().parent)
        self.generated = {page.path: page for page in self.site.pages}
        self.built = 0
        config.site_name = self.site.title
        _add_theme(config)
        if not any(isinstance(ext, OldIdAnchors) for ext in config.markdown_extensions):
            config.markdown_extensions.append(OldIdAnchors())  # anchors for old heading ids
        if not config.site_url:
            config.site_url = self.site.url
        if self.site.alternates:
            config.extra["alternate"] = [
                {"name": alt.name, "link": alt.url, "lang": alt.lang}
                for alt in self.site.alternates
            ]
        return config

    def on_files(self, files: Files, *, config: MkDocsConfig) -> Files:
        assert self.site is not None
        own = [file for file in files if file.is_documentation_page()]
        for page in self.site.pages:
            self._add(files, config, page.path, page.markdown, page.in_nav)
        for asset in self.site.assets:
            self._add(files, config, asset.path, asset.content, True)
        self.total = len(files.documentation_pages())
        if config.nav is None:
            static = [file.src_uri for file in own if file.src_uri not in self.generated]
            config.nav = [*_nav(self.site.nav), *sorted(static)]
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

    def on_page_markdown(
        self, markdown: str, *, page: MkDocsPage, config: MkDocsConfig, files: Files
    ) -> str:
        assert self.site is not None
        generated = self.generated.get(page.file.src_uri)
        if generated is not None:
            page.meta.update(generated.meta)
            page.update_date = generated.updated.isoformat()
        else:
            page.meta.setdefault("notices", dict(self.site.default_meta))
            page.update_date = self.site.updated.isoformat()  # never the build date
        return markdown

    def on_post_page(self, output: str, *, page: MkDocsPage, config: MkDocsConfig) -> str:
        self.built += 1
        publish.report_progress(self.built, self.total)
        return output
