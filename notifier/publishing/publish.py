"""Publish the site: generate its pages from git history once, build each language aside, swap.

Each language is a MkDocs build of its own (theme language, navigation, search index, sitemap):
the default locale into the root of a temporary folder next to the target, the others into
their prefix (`en/`) inside it. The folder replaces the old site with two renames only when
every build succeeded, so a failure in any language (a broken template, a bad mkdocs.yml, a
rewritten history) leaves the previous site untouched and raises `SiteError`.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import signal
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from types import FrameType

from notifier.errors import NoticeError, SiteError
from notifier.locales import LOCALES
from notifier.publishing import mkdocs_config
from notifier.publishing.model import (
    FEED,
    RELEASES_JSON,
    SiteOptions,
    SitePages,
    compared_pairs,
)
from notifier.publishing.notified import notified_dates
from notifier.publishing.pages import build_site
from notifier.releases.ahead import judge_ahead
from notifier.releases.history import (
    History,
    Release,
    ensure_not_rewritten,
    read_history,
    record_path,
    record_releases,
)
from notifier.releases.judgement_cache import of_repository
from notifier.releases.verdicts import assessed_releases
from notifier.settings import Settings
from notifier.statement.materiality import rules_for

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class Request:
    """What to generate the site for: settings, the day that counts as today, checks."""

    settings: Settings
    today: date | None = None
    strict: bool = True
    history: History | None = None  # read by `build` (which records it once the site is in place)
    stored: bool = False  # keep parsed texts, comparisons and verdicts under var/cache/
    # and remove the entries this run did not use: a build's or a preview's call, not that of
    # a send reading the site's addresses, which must not drop what the site build needs
    prune: bool = True


@dataclass(frozen=True, slots=True)
class BuiltSite:
    path: Path
    pages: int
    files: int
    seconds: float


def today_in(settings: Settings) -> date:
    """Today in the notices' timezone: the day that decides which version is current."""
    return datetime.now(settings.timezone).date()


def site_options(settings: Settings) -> SiteOptions:
    url = settings.site_url if settings.site_url.endswith("/") else settings.site_url + "/"
    return SiteOptions(
        title=settings.site_title,
        titles=settings.site_titles,
        url=url,
        timezone=settings.timezone,
        default_locale=settings.default_locale,
        laws=settings.laws,
    )


def generate(request: Request) -> SitePages:
    """Every page of the site, from the releases on main (never from the working tree)."""
    settings = request.settings
    history = request.history or read_history(settings.repo, settings)
    if request.strict:  # a publication: refuse rewritten history (`build` records it after)
        ensure_not_rewritten(history, record_path(settings))
    elif history.rewrites:
        log.warning("published history was rewritten: %s", history.rewrites[0])
    if not history.releases:
        raise SiteError(
            "there is no release on main to publish",
            path=settings.notices_dir,
            hint="commit a notice with a `version:` in its front matter to main",
        )
    sources = {
        release.id: history.text_at(release.in_force_commit, release.path)
        for release in history.releases
        if hashlib.sha256(release.text.encode("utf-8")).hexdigest() != release.sha256
    }
    rules = rules_for(settings)
    today = request.today or today_in(settings)
    stored = of_repository(settings) if request.stored else None
    if stored is not None:  # what is not stored yet, computed on every core first
        judge_ahead(history, rules, stored, _comparisons(history, today))
    site = build_site(
        # the verdicts `log` and `notify` use
        assessed_releases(history, rules, stored=stored),
        options=site_options(settings),
        today=today,
        sources=sources,
        notified=notified_dates(settings, history.releases),  # read only, never created
        derived=stored,
    )
    if stored is not None and request.prune:
        removed = stored.prune()
        log.info(
            "parsed texts, comparisons and verdicts: %d kept, %d computed, %d unused removed",
            stored.hits,
            stored.misses,
            removed,
        )
    return site


def _comparisons(history: History, today: date) -> list[tuple[Release, Release]]:
    """Every pair of versions the site's comparison pages compare (other than a release and the
    one before it)."""
    groups = dict.fromkeys((release.notice, release.locale) for release in history.releases)
    return [
        pair
        for notice, locale in groups
        for pair in compared_pairs(history.releases_of(notice, locale), today)
    ]


def _quiet_segmenter() -> None:
    """jieba (imported by Material's search plugin) resets its logger to DEBUG on import."""
    root = logging.getLogger().getEffectiveLevel()
    logging.getLogger("jieba").setLevel(max(logging.WARNING, root))


def render(site: SitePages, settings: Settings, folder: Path, progress: Progress | None) -> None:
    """Every language's MkDocs build into `folder`: the first at its root, the others under
    their prefix; the feed, releases.json and robots.txt go to the root with the first."""
    from mkdocs.commands.build import build as mkdocs_build

    from notifier.publishing.mkdocs_plugin import NoticesPlugin

    repository = mkdocs_config.repository_config(settings.repo)
    others = other_locales(site)
    done = 0
    with tempfile.TemporaryDirectory(prefix="notices-empty-") as empty:
        for index, language in enumerate(site.languages):
            raw = mkdocs_config.language_config(
                repository,
                language,
                repo=settings.repo,
                site_url=site.url,
                site_dir=folder / language.prefix,
                empty=Path(empty),
                others=others,
            )
            config = mkdocs_config.validated(raw, settings.repo)
            _quiet_segmenter()  # after the search plugin has imported it
            plugin = config.plugins.get("notices")
            if not isinstance(plugin, NoticesPlugin):
                raise SiteError(
                    "the notices plugin is not in the MkDocs configuration",
                    path=mkdocs_config.config_path(settings.repo),
                    hint="keep `notices` in plugins: it adds every generated page",
                )
            later = sum(len(lang.pages) for lang in site.languages[index + 1 :])
            step = _offset(progress, done, later)
            plugin.use(language, site.updated, step, site.root_assets if index == 0 else ())
            mkdocs_build(config)
            done += plugin.total


def other_locales(site: SitePages) -> list[str]:
    """The locales whose folders of hand-written pages the root language's build leaves out."""
    home = site.languages[0].locale
    locales = dict.fromkeys((*LOCALES, *(lang.locale for lang in site.languages)))
    return [locale for locale in locales if locale != home]


def _offset(progress: Progress | None, done: int, later: int) -> Progress | None:
    """One language's progress as part of the whole site's."""
    if progress is None:
        return None
    report = progress
    return lambda built, total: report(done + built, done + total + later)


def _check_target(target: Path) -> None:
    """Refuse to replace a folder that is not a site we built: the swap deletes the old one."""
    if target.exists() and not target.is_dir():
        raise SiteError("the output exists and is not a folder", path=target)
    if target.is_dir() and any(target.iterdir()):
        if not ((target / RELEASES_JSON).is_file() and (target / FEED).is_file()):
            raise SiteError(
                "refusing to replace a folder that is not a site built by notices",
                path=target,
                hint="choose a new or empty folder with --out",
            )


def _swap(staging: Path, target: Path) -> None:
    """Put the new site in place with renames; the old site stays if the second rename fails."""
    if not target.exists():
        os.rename(staging, target)
        return
    old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
    os.rmdir(old)
    os.rename(target, old)
    try:
        os.rename(staging, target)
    except OSError:
        os.rename(old, target)
        raise
    shutil.rmtree(old, ignore_errors=True)


def build(
    settings: Settings,
    *,
    out: Path | None = None,
    today: date | None = None,
    progress: Progress | None = None,
) -> BuiltSite:
    """Build the site into `out` (default `build/site`); the old site stays if anything fails."""
    target = (out or settings.site_dir).absolute()
    _check_target(target)
    started = time.monotonic()
    history = read_history(settings.repo, settings)
    site = generate(Request(settings, today, strict=True, history=history, stored=True))
    target.parent.mkdir(parents=True, exist_ok=True)
    with _staging(target, settings) as staging:
        render(site, settings, staging, progress)
        _swap(staging, target)
    # only now: the record says what was published, so a failed build must not add to it
    record_releases(history, record_path(settings))
    pages = sum(1 for _ in target.rglob("index.html"))
    files = sum(1 for path in target.rglob("*") if path.is_file())
    return BuiltSite(target, pages, files, time.monotonic() - started)


@contextmanager
def _staging(target: Path, settings: Settings) -> Iterator[Path]:
    """A new folder next to `target`, removed if the build in it fails; any failure of MkDocs,
    Jinja2 or a Markdown extension becomes one `SiteError` naming the configuration."""
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.new-", dir=target.parent))
    staging.chmod(0o755)
    try:
        yield staging
    except NoticeError:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    except Exception as error:  # MkDocs, Jinja2, Markdown extensions: anything fails the build
        shutil.rmtree(staging, ignore_errors=True)
        raise SiteError(
            f"the site build failed: {type(error).__name__}: {error}".strip(),
            path=mkdocs_config.config_path(settings.repo),
            hint=f"fix it and build again; the previous site in {target} is unchanged",
        ) from error


def serve(settings: Settings, *, dev_addr: str, today: date | None = None) -> None:
    """Preview every language of the site, with live reload, until interrupted.

    It rebuilds the way `build` does after each commit (the pages come from history, so an
    uncommitted edit of a notice changes nothing) and when mkdocs.yml or hand-written pages change.
    """
    from mkdocs.livereload import LiveReloadServer

    host, _, port = dev_addr.rpartition(":")
    with (
        _interrupted_by_stop_signals(),
        tempfile.TemporaryDirectory(prefix="notices-preview-") as folder,
    ):
        site_dir = Path(folder) / "site"

        def rebuild() -> None:
            site = generate(Request(settings, today, strict=False, stored=True))
            with _staging(site_dir, settings) as staging:
                render(site, settings, staging, None)
                _swap(staging, site_dir)

        rebuild()
        server = LiveReloadServer(builder=rebuild, host=host, port=int(port), root=str(site_dir))
        for path in _watched(settings):
            server.watch(str(path))
        try:
            server.serve()  # type: ignore[no-untyped-call]
        except KeyboardInterrupt:
            log.info("preview stopped")
        finally:
            server.shutdown()


@contextmanager
def _interrupted_by_stop_signals() -> Iterator[None]:
    """SIGTERM (what a supervisor sends) and SIGINT stop the preview as Ctrl+C does, the
    temporary site removed, whatever this process inherited: a process started in the
    background ignores SIGINT, and SIGTERM would otherwise end it at once, leaving the site
    behind. The first signal stops it; later ones wait for the clean-up."""
    stopping = (signal.SIGTERM, signal.SIGINT)

    def interrupt(_signal: int, _frame: FrameType | None) -> None:
        for number in stopping:
            signal.signal(number, signal.SIG_IGN)
        raise KeyboardInterrupt

    previous = {number: signal.signal(number, interrupt) for number in stopping}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def _watched(settings: Settings) -> list[Path]:
    """What a preview rebuilds after: commits, mkdocs.yml and the hand-written pages."""
    repository = mkdocs_config.repository_config(settings.repo)
    docs = mkdocs_config.merge(mkdocs_config.defaults(), repository).get("docs_dir", "docs")
    paths = [
        settings.repo / ".git" / "refs" / "heads",
        settings.repo / mkdocs_config.CONFIG_FILE,
        settings.repo / str(docs),
    ]
    return [path for path in paths if path.exists()]
