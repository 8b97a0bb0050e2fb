"""The site as a notice mail links to it: generated in memory from the same releases.

A mail that sends a customer to a page the site does not have breaks the notice's promise as
surely as no mail. So the addresses of a release's page and its redline come from the site's own
`releases.json`, and before anything is sent every link of the rendered mail that points into the
site is checked against the pages that site has; a link to no page refuses the send, naming it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from notifier.delivery.mail import Message
from notifier.errors import NotifyError
from notifier.publishing.model import RELEASES_JSON
from notifier.publishing.publish import Request, generate
from notifier.releases.history import History
from notifier.settings import Settings

_LINK = re.compile(r"""https?://[^\s"'<>）)]+""")


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
    """The site `notices site build` would publish now, as addresses (nothing is written)."""
    site = generate(Request(settings, strict=False, history=history))
    root = site.url if site.url.endswith("/") else site.url + "/"
    record = next(asset for asset in site.assets if asset.path == RELEASES_JSON)
    releases = json.loads(record.content)["releases"]
    return SiteMap(
        root=root,
        pages=frozenset(root + page.url for page in site.pages),
        release_urls={r["id"]: (r["url"], r["redline_url"]) for r in releases},
    )


def check_links(message: Message, site: SiteMap) -> None:
    """Refuse a mail with a link into the site that lands on no page of it."""
    for link in dict.fromkeys(_LINK.findall(message.text + "\n" + message.html)):
        if not link.startswith(site.root):
            continue  # the contact page and other sites are not ours to build
        page = link.split("#", 1)[0]
        if page not in site.pages:
            raise NotifyError(
                f"the {message.locale} mail links to {link}, which is no page of the site built "
                "from these releases",
                hint="fix the link in the mail template, or build and publish the site first",
            )
