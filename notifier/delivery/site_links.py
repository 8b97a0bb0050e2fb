"""Every link of a notice mail into the site lands on a page of it, checked before a send.

A mail that sends a customer to a page the site does not have breaks the notice's promise as
surely as no mail. The addresses come from the site built from the same releases
(`consent.site`); a link to no page refuses the send, naming it.
"""

from __future__ import annotations

import re

from notifier.consent.site import SiteMap
from notifier.delivery.mail import Message
from notifier.errors import NotifyError

_LINK = re.compile(r"""https?://[^\s"'<>）)]+""")


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
