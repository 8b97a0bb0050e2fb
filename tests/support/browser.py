"""The built site in headless Chromium: a site in two languages, served on 127.0.0.1, and axe."""

from __future__ import annotations

import functools
import http.server
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from support.notify import english_text
from support.repos import PROJECT, NoticeRepo, with_front
from support.site import NOTICE, VERSIONS, second_text, third_text

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
ENGLISH = "notices/privacy/en.md"

# The English edition of each release carries the same changes as the Chinese one.
EN_KEPT_PROMISE = "but we will not use or process your information during that period"
EN_BROKEN_PROMISE = "and we may use or process your information during that period"
EN_OLD_AGE, EN_NEW_AGE = "a minor under the age of 18", "a minor under the age of 14"
EN_OLD_HEADING, EN_NEW_HEADING = "## How to Contact Us {#contact}", "## Contact Us {#contact}"
EN_SUMMARIES = {
    VERSIONS[1]: "What happens to your information after you close your account, and the age "
                 "of minors, change",
    VERSIONS[2]: "The heading of the contact section is shorter",
}

# axe-core's whole default rule set (WCAG 2 A and AA, and best practices) but one rule, which
# Material's own template fails: its search box is a role="dialog" without a name
# (material/templates/partials/search.html); naming it would mean copying that partial.
AXE_OPTIONS = {
    "resultTypes": ["violations"],
    "rules": {"aria-dialog-name": {"enabled": False}},
}


def english_releases() -> dict[str, str]:
    """Version → the English text of each of the three releases in `support.site`."""
    def changed(version: str) -> str:
        text = english_text(version, version)
        assert EN_KEPT_PROMISE in text and EN_OLD_AGE in text and EN_OLD_HEADING in text
        text = text.replace(EN_KEPT_PROMISE, EN_BROKEN_PROMISE).replace(EN_OLD_AGE, EN_NEW_AGE)
        return with_front(text, summary=EN_SUMMARIES[version])

    return {
        VERSIONS[0]: (PROJECT / ENGLISH).read_text(encoding="utf-8"),
        VERSIONS[1]: changed(VERSIONS[1]),
        VERSIONS[2]: changed(VERSIONS[2]).replace(EN_OLD_HEADING, EN_NEW_HEADING),
    }


def add_bilingual_releases(repo: NoticeRepo) -> None:
    """On top of the seed: the English first release, then v2 and v3 in both languages."""
    english = english_releases()
    repo.commit("English translation", "2024-01-03T09:00:00+08:00", {ENGLISH: english[VERSIONS[0]]})
    repo.commit("Release 2024-03-01", "2024-02-01T10:00:00+08:00",
                {NOTICE: second_text(), ENGLISH: english[VERSIONS[1]]})
    repo.commit("Release 2025-01-01", "2024-11-01T10:00:00+08:00",
                {NOTICE: third_text(), ENGLISH: english[VERSIONS[2]]})


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib name
        """Requests are not worth a line each in the test output."""


@contextmanager
def serve(folder: Path) -> Iterator[str]:
    """`folder` served by a real HTTP server on 127.0.0.1; yields its base URL."""
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def axe_problems(page: Any) -> list[str]:
    """axe-core's serious and critical violations on `page`, one line each (rule, node, why)."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, options=AXE_OPTIONS)
    return [
        f"{violation['id']} ({violation['impact']}): {node['target']}: {node['failureSummary']}"
        for violation in results.response["violations"]
        if violation["impact"] in ("serious", "critical")
        for node in violation["nodes"]
    ]
