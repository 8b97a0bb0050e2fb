"""Publish the site: generate its pages from git history, build it aside, then swap it in.

The build runs into a temporary folder next to the target and replaces the old site with two
renames only when it succeeded, so a failed build (a broken template, a bad mkdocs.yml, a
rewritten history) leaves the previous site untouched and raises `SiteError`.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from notifier.errors import NoticeError, SiteError
from notifier.publishing.model import FEED, RELEASES_JSON, SiteOptions, SitePages
from notifier.publishing.notified import notified_dates
from notifier.publishing.pages import build_site
from notifier.releases.history import (
    History,
    ensure_not_rewritten,
    read_history,
    record_path,
    record_releases,
)
from notifier.releases.verdicts import assessed_releases
from notifier.settings import Settings, load_settings
from notifier.statement.materiality import rules_for

log = logging.getLogger(__name__)

CONFIG_FILE = "mkdocs.yml"
Progress = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class Request:
    """What the MkDocs plugin generates for: settings, the day that counts as today, checks."""

    settings: Settings
    today: date | None = None
    strict: bool = True
    progress: Progress | None = None
    history: History | None = None  # read by `build` (which records it once the site is in place)


@dataclass(frozen=True, slots=True)
class BuiltSite:
    path: Path
    pages: int
    files: int
    seconds: float


# MkDocs creates its plugins itself (and `mkdocs serve` rebuilds in another thread), so the
# request reaches the plugin through this module rather than through arguments.
_request: Request | None = None


def today_in(settings: Settings) -> date:
    """Today in the notices' timezone: the day that decides which version is current."""
    return datetime.now(settings.timezone).date()


def site_options(settings: Settings) -> SiteOptions:
    url = settings.site_url if settings.site_url.endswith("/") else settings.site_url + "/"
    return SiteOptions(
        title=settings.site_title,
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
    return build_site(
        assessed_releases(history, rules_for(settings)),  # the verdicts `log` and `notify` use
        options=site_options(settings),
        today=request.today or today_in(settings),
        sources=sources,
        notified=notified_dates(settings, history.releases),  # read only, never created
    )


def generate_for_config(config_dir: Path) -> SitePages:
    """What the plugin calls: the current request, or the repository around mkdocs.yml."""
    _quiet_segmenter()
    request = _request or Request(load_settings(config_dir, {}), strict=False)
    return generate(request)


def _quiet_segmenter() -> None:
    """jieba (imported by Material's search plugin) resets its logger to DEBUG on import."""
    root = logging.getLogger().getEffectiveLevel()
    logging.getLogger("jieba").setLevel(max(logging.WARNING, root))


def report_progress(done: int, total: int) -> None:
    if _request is not None and _request.progress is not None:
        _request.progress(done, total)


def _config_file(settings: Settings) -> Path:
    path = settings.repo / CONFIG_FILE
    if not path.is_file():
        raise SiteError(
            "no MkDocs configuration", path=path, hint="restore mkdocs.yml at the repository root"
        )
    return path


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
    from mkdocs.commands.build import build as mkdocs_build
    from mkdocs.config import load_config

    global _request
    config_file = _config_file(settings)
    target = (out or settings.site_dir).absolute()
    _check_target(target)
    started = time.monotonic()
    history = read_history(settings.repo, settings)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.new-", dir=target.parent))
    staging.chmod(0o755)
    _request = Request(settings, today, strict=True, progress=progress, history=history)
    try:
        config = load_config(config_file=str(config_file), site_dir=str(staging))
        mkdocs_build(config)
        _swap(staging, target)
        # only now: the record says what was published, so a failed build must not add to it
        record_releases(history, record_path(settings))
    except NoticeError:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    except Exception as error:  # MkDocs, Jinja2, Markdown extensions: anything fails the build
        shutil.rmtree(staging, ignore_errors=True)
        raise SiteError(
            f"the site build failed: {type(error).__name__}: {error}".strip(),
            path=config_file,
            hint=f"fix it and build again; the previous site in {target} is unchanged",
        ) from error
    finally:
        _request = None
    pages = sum(1 for _ in target.rglob("index.html"))
    files = sum(1 for path in target.rglob("*") if path.is_file())
    return BuiltSite(target, pages, files, time.monotonic() - started)


def serve(settings: Settings, *, dev_addr: str, today: date | None = None) -> None:
    """Preview the site with live reload (`mkdocs serve`) until interrupted.

    It rebuilds when site/ or mkdocs.yml change, and after each commit (the pages come from
    history, so editing a notice without committing it changes nothing).
    """
    from mkdocs.commands.serve import serve as mkdocs_serve

    global _request
    config_file = _config_file(settings)
    heads = settings.repo / ".git" / "refs" / "heads"
    watch = [str(heads)] if heads.is_dir() else []
    _request = Request(settings, today, strict=False)
    try:
        mkdocs_serve(config_file=str(config_file), dev_addr=dev_addr, livereload=True, watch=watch)
    except NoticeError:
        raise
    except Exception as error:
        raise SiteError(
            f"the preview server failed: {type(error).__name__}: {error}", path=config_file
        ) from error
    finally:
        _request = None
