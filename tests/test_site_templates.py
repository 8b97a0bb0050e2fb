"""The site's templates and catalogue: every text in every locale, escaped for Markdown or HTML."""

from __future__ import annotations

import re
from importlib.resources import files

from markupsafe import Markup

from notifier.locales import LOCALES
from notifier.publishing.model import ARCHIVED, CURRENT, UPCOMING
from notifier.publishing.templates import Texts, catalogue, markdown_text, text
from notifier.statement.diff import KINDS
from notifier.statement.materiality import DECISIONS

_LOOKUP = re.compile(r"""\bt\(\s*"([a-z_0-9]+)"(?!\s*~)""")


def _template_sources() -> dict[str, str]:
    folder = files("notifier.publishing") / "templates"
    return {item.name: item.read_text(encoding="utf-8") for item in folder.iterdir()}


def test_every_key_in_every_locale() -> None:
    """When the catalogue is read, then each locale has exactly the same keys and fields."""
    texts = catalogue()
    assert sorted(texts) == sorted(LOCALES)
    reference = texts[LOCALES[0]]
    for locale in LOCALES:
        assert sorted(texts[locale]) == sorted(reference), locale
        for key, value in texts[locale].items():
            assert isinstance(value, str) and value, (locale, key)
            fields = sorted(re.findall(r"\{(\w+)\}", value))
            assert fields == sorted(re.findall(r"\{(\w+)\}", reference[key])), (locale, key)


def test_templates_only_use_keys_that_exist() -> None:
    """When a template looks a text up by a literal key, then that key is in the catalogue."""
    sources = _template_sources()
    assert {"archive.md.j2", "changes.md.j2", "facts.html.j2"} <= set(sources)
    used = {key for source in sources.values() for key in _LOOKUP.findall(source)}
    assert {"archive", "verify", "redline_intro", "for_you", "why"} <= used
    assert used - set(catalogue()["en"]) == set()
    assert {f"kind_{kind}" for kind in KINDS} <= set(catalogue()["en"])  # looked up as "kind_" ~
    answers = [decision.replace("-", "_") for decision in DECISIONS]  # as "verdict_" ~ decision
    assert {*answers, *(f"verdict_{a}" for a in answers)} <= set(catalogue()["en"])
    assert {f"status_{status}" for status in (CURRENT, UPCOMING, ARCHIVED)} <= set(
        catalogue()["en"]
    )  # looked up as "status_" ~ entry.status


def test_catalogue_speaks_to_readers() -> None:
    """When any site text is read, then it holds no rule code, tier, trigger word or citation."""
    internal = re.compile(r"\b[MNL]\d\d\b|\bT[0-3]\b|triggers?|触发|PIPL|GDPR|FTC|WP260|EDPB")
    for locale, texts in catalogue().items():
        assert not {key: v for key, v in texts.items() if internal.search(v)}, locale


def test_lookups_fall_back_and_escape() -> None:
    """When a text is looked up, then other Chinese and English locales share ours, escaped."""
    assert text("zh-TW", "archive") == "历史版本"
    assert text("en-GB", "undecided") == "Not decided yet"
    looked_up = Texts("en")("changes_from", old="<b>&")
    assert looked_up == Markup("Changes from &lt;b&gt;&amp;")
    assert Texts("en")("verify", command=Markup("<code>x</code>")) == Markup(
        "After downloading, <code>x</code> prints this same value."
    )


def test_markdown_text() -> None:
    """When text goes into Markdown, then markup characters are escaped and it stays on one line."""
    assert markdown_text("a*b_c [x](y) #1 |\n <b>&") == Markup(
        r"a\*b\_c \[x\](y) \#1 \| &lt;b&gt;&amp;"
    )
    assert markdown_text(Markup("R&amp;D")) == Markup("R&amp;D")
