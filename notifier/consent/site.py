"""The site as mails and consent pages link to it: generated in memory from the same releases.

A consent question links to the new text and its redline, and so does every notice mail; both
take the addresses from the site's own `releases.json`, so a link never names a page the site
does not have. It sits here, below the mails, because the consent texts (and their hashes)
are made of these addresses.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from notifier.errors import NotifyError
from notifier.publishing.model import RELEASES_JSON
from notifier.publishing.publish import Request, generate
from notifier.releases.history import History
from notifier.settings import Settings


@dataclass(frozen=True, slots=True)
class SiteMap:
    """Absolute addresses of every page of the site, and of each release's page and redline."""

    root: str
    pages: frozenset[str]
    release_urls: dict[str, tuple[str, str | None]]  # release id → (page, redline)

    def links_of(self, release_id: str) -> tuple[str, str]:
        """The release's page and its redline (its page again for a notice's first release)."""
        try:
            page, redline = self.release_urls[release_id]
            return page, redline or page
        except KeyError:
            raise NotifyError(
                f"release {release_id} is not on the site built from main",
                hint="build the site (`notices site build`) and check the release is on main",
            ) from None


def site_map(settings: Settings, history: History) -> SiteMap:
    """The site `notices site build` would publish now, as addresses (no page is written;
    what it judges is kept in the build's cache, and what it finds there is not judged again)."""
    site = generate(Request(settings, strict=False, history=history, stored=True, prune=False))
    root = site.url if site.url.endswith("/") else site.url + "/"
    record = next(asset for asset in site.assets if asset.path == RELEASES_JSON)
    releases = json.loads(record.content)["releases"]
    return SiteMap(
        root=root,
        pages=frozenset(root + page.url for page in site.pages),
        release_urls={r["id"]: (r["url"], r["redline_url"]) for r in releases},
    )
