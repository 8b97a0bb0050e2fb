"""What a built site says to the public: no rule code, tier, trigger word or foreign citation
on any page, in either language, while editors' redlines keep them."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from support.notify import ENGLISH, VERSION, english_text, material_repo
from support.repos import PROJECT, add_seed, empty_repo, for_you, run_notices, with_front
from support.site import install_site

from notifier.demo.sandbox import AMENDMENT_EN, WHAT_CHANGES_FOR_YOU_EN

pytestmark = pytest.mark.slow

# rule ids (M03, N13, L12), tiers as tiers (T2), and the sources only editors see
RULE_CODE = re.compile(r"(?<![A-Za-z0-9])(?:[MNL]\d\d|T[0-3])(?![A-Za-z0-9])")
FOREIGN = re.compile(r"Colorado|CalOPPA|FTC|GDPR|WP260|EDPB|ePrivacy|CNIL|PolicyLint")
TRIGGER_BLOCK = re.compile(r"触发词|Triggered by")


class _Text(HTMLParser):
    """The text a reader (or a screen reader) gets from a page: no markup, scripts or icons."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.hidden = 0
        self.classes: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style", "svg"):
            self.hidden += 1
        self.classes.extend((dict(attrs).get("class") or "").split())
        for name, value in attrs:
            if name in ("title", "aria-label", "alt", "content") and value:
                self.parts.append(value)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "svg"):
            self.hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.parts.append(data)


def _read(page: Path) -> _Text:
    parser = _Text()
    parser.feed(page.read_text(encoding="utf-8"))
    return parser


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A material release and its English edition, built as the public site."""
    repo = add_seed(empty_repo(tmp_path_factory.mktemp("public") / "repo"))
    first = (PROJECT / ENGLISH).read_text(encoding="utf-8")
    repo.commit("English translation", "2024-01-03T09:00:00+08:00", {ENGLISH: first})
    material_repo(repo, published=f"{VERSION}T10:00:00+08:00")
    english = english_text(VERSION, "2030-01-01")
    for old, new in AMENDMENT_EN:
        assert old in english
        english = english.replace(old, new, 1)
    english = with_front(english, what_changes_for_you=for_you(WHAT_CHANGES_FOR_YOU_EN))
    repo.commit(f"English {VERSION}", f"{VERSION}T11:00:00+08:00", {ENGLISH: english})
    install_site(repo)
    result = run_notices("site", "build", "--today", "2029-12-15", cwd=repo.path)
    assert result.code == 0, result.err
    return repo.path / "build" / "site"


def test_no_public_page_holds_a_rule_code(built: Path) -> None:
    """When every HTML page of the site is read, then none holds a rule code, a tier, a trigger
    word block or a citation of a law the notice is not written under."""
    pages = sorted(built.rglob("*.html"))
    redline = built / f"archive/{VERSION}/changes/index.html"
    assert redline in pages and len(pages) > 10
    found = {}
    for page in pages:
        parser = _read(page)
        text = " ".join(parser.parts)
        hits = RULE_CODE.findall(text) + FOREIGN.findall(text) + TRIGGER_BLOCK.findall(text)
        hits += [c for c in parser.classes if c in ("notices-triggers", "notices-quiet")]
        if hits:
            found[page.relative_to(built).as_posix()] = sorted(set(hits))
    assert found == {}
    why = " ".join(_read(redline).parts)
    assert "为什么这是重大变更" in why and "法律依据" in why and "PIPL" in why


def test_english_pages_give_reasons_in_english(built: Path) -> None:
    """When the English edition's changes page is read, then what changes, the verdict and the
    reasons are in English."""
    english = built / f"en/archive/{VERSION}/changes/index.html"
    text = " ".join(" ".join(_read(english).parts).split())
    assert "This change is material: we tell customers before it takes effect." in text
    assert "What changes for you" in text
    assert WHAT_CHANGES_FOR_YOU_EN["sharing"] in text
    assert "Legal basis: PIPL" in text
    html = english.read_text(encoding="utf-8")
    reasons = re.findall(r'<details class="notices-why">(.*?)</details>', html, re.S)
    assert reasons
    for reason in reasons:
        words = re.sub(r'<span class="notices-sources">.*?</span>|<[^>]+>', "", reason)
        assert words.strip() and not re.search(r"[\u4e00-\u9fff]", words), words


def test_editors_redline_keeps_rule_codes(built: Path) -> None:
    """When an editor diffs the same versions, then the rule codes and tiers are still there."""
    repo = built.parents[1]
    result = run_notices("diff", "2018-11-01", VERSION, cwd=repo)
    assert result.code == 0, result.err
    assert RULE_CODE.search(result.out)
