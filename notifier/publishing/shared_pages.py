"""Generated pages converted to HTML in forked workers while MkDocs converts the others.

Converting Markdown is most of a MkDocs build, page after page on one core. Once the files and
the navigation are known, the plugin forks a worker per other core; each converts a run of the
generated pages exactly as MkDocs would (the same plugin events and `Page.render` with the same
extensions, in a copy of the same process) and hands back what that leaves on a page. When
MkDocs reaches a shared page, the plugin gives it an empty source and puts the worker's result
in its place, so the theme, the search index and the sitemap are built from the same page.

Only where nothing can differ: no plugin but notices and search (another plugin's page events
would run in a worker, and their state would stay there), no other thread in the process (the
scheduler's jobs and the preview run in threads, whose locks a child would inherit held), fork
available. A worker that fails leaves its pages to MkDocs, which then meets the error itself.
This is the one place that knows what `Page.render` sets (MkDocs 1.6).
"""

from __future__ import annotations

import logging
import multiprocessing
from collections.abc import Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import Files
from mkdocs.structure.pages import Page
from mkdocs.structure.toc import TableOfContents

from notifier.processes import may_fork, usable_cores

log = logging.getLogger(__name__)

PLUGINS = frozenset({"notices", "search", "material/search"})  # no page events but ours
PER_PROCESS = 16  # fewer pages than this per process are not worth a fork

# What the workers convert, set before they are forked (they inherit it, nothing is pickled).
_JOB: list[tuple[MkDocsConfig, Files, dict[str, Page]]] = []


@dataclass(frozen=True, slots=True)
class Converted:
    """What converting a page leaves on it (see `Page.render`), and what was logged meanwhile."""

    markdown: str
    content: str
    toc: TableOfContents
    title: str | None
    anchors: set[str] | None
    links: dict[str, dict[str, str]] | None  # linked file's src_uri → anchor → link
    logged: tuple[tuple[str, int, str], ...]  # (logger, level, message)

    def apply(self, page: Page, files: Files) -> str:
        """Put the conversion on `page` (converted from an empty source); its HTML."""
        for name, level, message in self.logged:
            logging.getLogger(name).log(level, "%s", message)
        page.markdown, page.toc = self.markdown, self.toc  # page.meta: set in the build too
        page._title_from_render = self.title
        page.present_anchor_ids = self.anchors
        if self.links is not None:
            linked = {files.get_file_from_path(uri): links for uri, links in self.links.items()}
            page.links_to_anchors = {file: links for file, links in linked.items() if file}
        return self.content


class SharedPages:
    """The generated pages handed to workers, and their conversions as they come back."""

    def __init__(self, config: MkDocsConfig, files: Files, pages: Sequence[Page]) -> None:
        workers = min(usable_cores() - 1, len(pages) // PER_PROCESS - 1)
        runs = _runs(pages, workers + 1)[1:]  # MkDocs converts the first run itself
        shared = [page for run in runs for page in run]
        _JOB[:] = [(config, files, {page.file.src_uri: page for page in shared})]
        context = multiprocessing.get_context("fork")  # the build is inherited, not copied over
        self.pool = ProcessPoolExecutor(workers, mp_context=context)
        self.files = files
        self.futures: dict[str, Future[dict[str, Converted]]] = {}
        for run in runs:
            future = self.pool.submit(_convert, [page.file.src_uri for page in run])
            self.futures.update((page.file.src_uri, future) for page in run)
        _JOB.clear()
        log.debug("%d of %d pages converted by %d worker(s)", len(shared), len(pages), workers)

    def __contains__(self, page: Page) -> bool:
        return page.file.src_uri in self.futures

    def take(self, page: Page) -> Converted | None:
        """The page's conversion (waiting for it), or None: the worker failed, MkDocs converts."""
        future = self.futures.pop(page.file.src_uri)
        try:
            return future.result()[page.file.src_uri]
        except Exception as error:  # MkDocs converts the page itself and meets the error there
            log.debug("a worker failed, MkDocs converts %s: %s", page.file.src_uri, error)
            return None

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)


def _runs(pages: Sequence[Page], count: int) -> list[list[Page]]:
    """`pages` cut into `count` runs of about the same length of Markdown: a page takes about
    as long to convert as its text is long (a redline is many times a statement)."""
    sizes = [len(page.file.content_string) + 1 for page in pages]
    total = sum(sizes)
    runs: list[list[Page]] = [[] for _ in range(count)]
    done = 0
    for page, size in zip(pages, sizes, strict=True):
        runs[min(count - 1, done * count // total)].append(page)
        done += size
    return runs


def may_share(config: MkDocsConfig, pages: Sequence[Page]) -> bool:
    """Whether forking workers can only make the build faster, never different."""
    return (
        set(config.plugins) <= PLUGINS
        and len(pages) >= 2 * PER_PROCESS
        and usable_cores() > 1
        and may_fork()
    )


def _convert(uris: Sequence[str]) -> dict[str, Converted]:
    """In a worker: what MkDocs's `_populate_page` would do to each page, kept and returned."""
    config, files, pages = _JOB[0]
    done = {}
    for uri in uris:
        page = pages[uri]
        with _Capture() as logged:
            config._current_page = page
            page = config.plugins.on_pre_page(page, config=config, files=files)
            page.read_source(config)
            assert page.markdown is not None
            page.markdown = config.plugins.on_page_markdown(
                page.markdown, page=page, config=config, files=files
            )
            page.render(config, files)
            assert page.content is not None and page.toc is not None
            page.content = config.plugins.on_page_content(
                page.content, page=page, config=config, files=files
            )
            config._current_page = None
        links = page.links_to_anchors
        done[uri] = Converted(
            markdown=page.markdown,
            content=page.content,
            toc=page.toc,
            title=page._title_from_render,
            anchors=page.present_anchor_ids,
            links=None if links is None else {f.src_uri: dict(v) for f, v in links.items()},
            logged=tuple(logged),
        )
    return done


class _Capture(logging.Handler):
    """Every record logged in the worker, kept for the build to log (and count, in strict
    mode) as if it had converted the page itself; none printed from the worker."""

    def __init__(self) -> None:
        super().__init__(logging.NOTSET)
        self.records: list[tuple[str, int, str]] = []
        self.root = logging.getLogger()
        self.saved: list[tuple[logging.Logger, list[logging.Handler], bool]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append((record.name, record.levelno, record.getMessage()))

    def __enter__(self) -> list[tuple[str, int, str]]:
        for logger in (self.root, *_loggers_with_handlers()):
            self.saved.append((logger, logger.handlers[:], logger.propagate))
            logger.handlers = []
            logger.propagate = logger is not self.root
        self.root.addHandler(self)
        return self.records

    def __exit__(self, *exc: object) -> None:
        self.root.removeHandler(self)
        for logger, handlers, propagate in self.saved:
            logger.handlers, logger.propagate = handlers, propagate
        self.saved.clear()


def _loggers_with_handlers() -> list[logging.Logger]:
    manager = logging.Logger.manager
    return [
        logger
        for logger in manager.loggerDict.values()
        if isinstance(logger, logging.Logger) and logger.handlers
    ]
