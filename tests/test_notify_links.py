"""Every link of a notice mail lands on a page of the site built from the same releases."""

from __future__ import annotations

import re

import pytest
from support.notify import VERSION, material_repo
from support.repos import NoticeRepo, release_text, run_notices, seed_text

from notifier.consent.site import site_map
from notifier.delivery.mail import Message
from notifier.delivery.site_links import check_links
from notifier.errors import NotifyError
from notifier.releases.history import read_history
from notifier.settings import load_settings

COOKIES = "notices/cookies/zh-CN.md"


def test_a_second_notice_links_to_its_own_pages(seeded_repo: NoticeRepo) -> None:
    """When a second notice (cookies) has a material release, then its mail links to that
    notice's pages on the site (`cookies/archive/…`), which exist there."""
    first = release_text(seed_text(), "2018-11-01").replace("privacy", "cookies")
    seeded_repo.commit("Cookie notice", "2024-01-03T09:00:00+08:00", {COOKIES: first})
    material_repo(seeded_repo)
    amended = (seeded_repo.path / "notices/privacy/zh-CN.md").read_text(encoding="utf-8")
    seeded_repo.commit("Amend cookies", "2029-11-02T10:00:00+08:00", {COOKIES: amended})
    release = f"cookies/zh-CN/{VERSION}"
    run = run_notices("notify", "preview", release, "--out", "preview", cwd=seeded_repo.path)
    assert run.code == 0, run.err
    text = (seeded_repo.path / "preview" / f"{VERSION}.zh-CN.txt").read_text(encoding="utf-8")
    links = set(re.findall(r"https://privacy\.example\.com/\S*", text))
    assert links == {
        f"https://privacy.example.com/cookies/archive/{VERSION}/",
        f"https://privacy.example.com/cookies/archive/{VERSION}/changes/",
    }


def test_a_link_to_no_page_refuses_the_mail(seeded_repo: NoticeRepo) -> None:
    """When a rendered mail links into the site at a page it does not have, then the mail is
    refused naming the link; links to pages it has, anchors and other sites pass."""
    material_repo(seeded_repo)
    settings = load_settings(seeded_repo.path, {})
    site = site_map(settings, read_history(seeded_repo.path, settings))
    page = f"https://privacy.example.com/archive/{VERSION}/changes/"
    assert page in site.pages
    text = f"See {page} and https://support.example.com/x."
    good = Message("en", "s", text, f'<a href="{page}#contact">x</a>')
    check_links(good, site)
    missing = f"https://privacy.example.com/archive/{VERSION}/compare/"
    bad = Message("en", "s", "text", f'<a href="{missing}">compare</a>')
    with pytest.raises(NotifyError) as refused:
        check_links(bad, site)
    assert str(refused.value).startswith(f"the en mail links to {missing}, which is no page")
