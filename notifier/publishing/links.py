"""Addresses between generated pages: relative links that survive any site root, and absolute
ones for the feed and releases.json."""

from __future__ import annotations

import posixpath

from notifier.publishing.model import SiteOptions


def relative_url(source: str, target: str) -> str:
    """A link from the page at site URL `source` (`archive/v/`) to site URL `target`."""
    base = posixpath.dirname(source.rstrip("/") + "/x") if source else "."
    relative = posixpath.relpath(target or ".", base or ".")
    if target.endswith("/") or not target:
        relative = relative.rstrip("/") + "/"
    return "./" if relative in ("./", "", "./.") else relative


def md_link(source_path: str, target_path: str) -> str:
    """A Markdown link between two generated pages, as a relative path to the `.md` source.

    Both are normalised paths inside the site, so comparing their folders is enough; a site has
    tens of thousands of these links and `posixpath.relpath` resolves both against the cwd.
    """
    folders, target = source_path.split("/")[:-1], target_path.split("/")
    common = 0
    while common < min(len(folders), len(target) - 1) and folders[common] == target[common]:
        common += 1
    return "/".join([".."] * (len(folders) - common) + target[common:])


def absolute(options: SiteOptions, url: str) -> str:
    return options.url.rstrip("/") + "/" + url
