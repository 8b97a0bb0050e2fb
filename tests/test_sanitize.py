"""The one unsafe-markup policy: what the scanner finds is exactly what the site neutralises,
and what the site publishes, rendered as MkDocs renders it, runs no script."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import markdown
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.repos import seed_text

from notifier.statement.sanitize import Unsafe, safe_markdown, scan

HOSTILE = (
    "<script>alert(1)</script>",
    "<svg/onload=alert(1)>",
    "<img src=x onerror=alert(1)>",
    '<a href="javascript:alert(1)">链接</a>',
    '<a href="&#106;avascript:alert(1)">链接</a>',
    "<&#106;avascript:alert(1)>",
    "[点击](javascript:alert(1))",
    "[点击](&#106;avascript:alert(1))",
    "[点击](java\nscript:alert(1))",
    "[a](file:///x)",
    "[r]: javascript:alert(1)",
    "[r]:\n&#106;avascript:alert(1)",
    '段落\n{: onclick="alert(1)"}',
    '段落\n{: title="}" onclick="alert(1)" }',
    "<iframe src=https://x>",
    "`<script>alert(1)</script>`",
    "<!-- <script> -->",
    '<span title="',
    " onmouseover=alert(1) ",
    "data:text/html,x",
)
PIECES = (
    *HOSTILE,
    *"`\\[](){}<>\"'=:#|!*_&",
    "``",
    "\n",
    "\n\n",
    "    ",
    "# ",
    "> ",
    "- ",
    "1. ",
    "\t",
    "\r",
    "\x02",
    "---\n",
    '!!! note "',
    "<b>",
    "</b>",
    "<div>",
    "</div>",
    "<br>",
    "<hr>",
    "&amp;",
    "<https://example.com/>",
    "<privacy@example.com>",
    "[链接](https://example.com/)",
    "[邮件](mailto:a@example.com)",
    "{#scope}",
    "我们的数据",
    "Azure",
    " ",
)
MARKDOWN = st.lists(st.sampled_from(PIECES), max_size=24).map("".join)
SETTINGS = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _site_extensions() -> list[str]:
    """The Markdown extensions the site's packaged MkDocs defaults enable, by name."""
    from notifier.publishing.mkdocs_config import defaults

    entries = defaults()["markdown_extensions"]
    return [entry if isinstance(entry, str) else next(iter(entry)) for entry in entries]


EXTENSIONS = _site_extensions()


class _Live(HTMLParser):
    """What a browser would run in rendered HTML: script-capable elements, event handlers and
    script URLs in URL attributes."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.live: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "iframe", "object", "embed", "frame", "svg", "style", "base"):
            self.live.append(f"<{tag}>")
        for name, value in attrs:
            target = re.sub(r"[\x00-\x20\x7f]", "", value or "").lower()
            if name.startswith("on") or (
                name in ("href", "src", "action", "formaction", "data")
                and target.startswith(("javascript:", "vbscript:", "data:"))
            ):
                self.live.append(f"<{tag} {name}={value}>")

    handle_startendtag = handle_starttag


def _live(text: str) -> list[str]:
    parser = _Live()
    parser.feed(markdown.markdown(text, extensions=EXTENSIONS))
    parser.close()
    return parser.live


@SETTINGS
@given(MARKDOWN)
def test_site_alters_exactly_what_the_scanner_finds(text: str) -> None:
    """When any Markdown, hostile or not, is made safe, then it changes if and only if the
    scanner reports a finding."""
    assert (safe_markdown(text) != text) == bool(scan(text))


@SETTINGS
@given(MARKDOWN)
def test_safe_text_has_nothing_left_to_find(text: str) -> None:
    """When text has been made safe, then the scanner finds nothing more in it."""
    assert scan(safe_markdown(text)) == ()


@SETTINGS
@given(MARKDOWN)
def test_safe_text_renders_without_script(text: str) -> None:
    """When safe text is rendered with the site's Markdown extensions, then the HTML holds no
    script element, event handler or script URL."""
    assert _live(safe_markdown(text)) == []


def test_hostile_snippets_would_run_unless_made_safe() -> None:
    """When the hostile snippets are rendered as written, then all but the policy's stricter
    cases and the fragments would run: the render check above can fail."""
    inert = [snippet for snippet in HOSTILE if not _live(f"[r]\n\n{snippet}\n")]
    assert inert == [
        "<&#106;avascript:alert(1)>",
        "[a](file:///x)",
        "`<script>alert(1)</script>`",
        "<!-- <script> -->",
        '<span title="',
        " onmouseover=alert(1) ",
        "data:text/html,x",
    ]


@pytest.mark.parametrize(
    ("text", "found", "safe"),
    [
        ("[a](file:///x)", ("a file: link", 1, 3), "[a]\\(file:///x)"),
        (
            "[x](&#106;avascript:alert(1))",
            ("a javascript: link", 1, 3),
            "[x]\\(&#106;avascript:alert(1))",
        ),
        (
            "见\n<&#106;avascript:alert(1)>",
            ("a javascript: link", 2, 2),
            "见\n&lt;&#106;avascript:alert(1)>",
        ),
        (
            "[x]\n\n[x]: &#x6A;avascript:alert(1)",
            ("a javascript: link", 3, 5),
            "[x]\n\n\\[x]: &#x6A;avascript:alert(1)",
        ),
        (
            "<svg/onload=alert(1)>",
            ("an HTML event handler (onload)", 1, 0),
            "&lt;svg/onload=alert(1)>",
        ),
        (
            '段落\n{: onclick="alert(1)"}',
            ("an event handler (onclick) in an attribute list", 2, 3),
            '段落\n\\{: onclick="alert(1)"}',
        ),
        (
            '段落\n{: title="}" onclick="alert(1)" }',
            ("an event handler (onclick) in an attribute list", 2, 3),
            '段落\n\\{: title="}" onclick="alert(1)" }',
        ),
        (
            "# 标题 {: title='a}' onclick=alert(1) }",
            ("an event handler (onclick) in an attribute list", 1, 5),
            "# 标题 \\{: title='a}' onclick=alert(1) }",
        ),
        (
            "[x][r]\n\n> [r]: javascript:alert(1)",
            ("a javascript: link", 3, 10),
            "[x][r]\n\n> \\[r]: javascript:alert(1)",
        ),
        (
            "`a\n<script>alert(1)</script>`",
            ("raw <script> HTML", 2, 3),
            "`a\n&lt;script>alert(1)&lt;/script>`",
        ),
    ],
)
def test_each_unsafe_piece_is_found_where_it_is(
    text: str, found: tuple[str, int, int], safe: str
) -> None:
    """When a text holds one unsafe piece, then the scanner names it with its line and the site
    escapes the one character that opens it."""
    what, line, offset = found
    assert scan(text)[0] == Unsafe(what, line, offset, scan(text)[0].hint)
    assert safe_markdown(text) == safe


@pytest.mark.parametrize(
    "shape",
    [
        "- [r]: javascript:alert(1)",
        "* [r]: javascript:alert(1)",
        "+ [r]: javascript:alert(1)",
        "1. [r]: javascript:alert(1)",
        "- - [r]: javascript:alert(1)",
        "- a\n    - [r]: javascript:alert(1)",
        "- a\n\n    [r]: javascript:alert(1)",
        "- a\n\n\t- [r]: javascript:alert(1)",
        "- [r]:\n  javascript:alert(1)",
        "> - [r]: javascript:alert(1)",
        "- > [r]: javascript:alert(1)",
        "> 1. > [r]: javascript:alert(1)",
        "> > [r]:\n>  > javascript:alert(1)",
        '!!! note "注意"\n    [r]: javascript:alert(1)',
        "??? note\n    - [r]: javascript:alert(1)",
        "<div>x</div>[r]: javascript:alert(1)",
        "<div>\nx\n</div> - [r]: javascript:alert(1)",
        "<hr>[r]: javascript:alert(1)",
        "<!-- 注释 -->[r]: javascript:alert(1)",
        "<script>alert(1)</script>[r]: javascript:alert(1)\n\n- [r]: javascript:alert(1)",
        "段落\r[r]: javascript:alert(1)",
        "[r]\x02: javascript:alert(1)",
        "[x]\x02(javascript:alert(1))",
        "<\x02script>alert(1)</script>",
        "<hr><&amp;script>alert(1)</script>",
        "<hr><<script>alert(1)</script>",
        "<div>x</div><<!-- 注释 -->img src=x onerror=alert(1)>",
        "<hr>[x](java&amp;script:alert(1))",
        "[r]: <<javascript:alert(1)",
    ],
)
def test_markup_is_found_where_markdown_reads_it(shape: str) -> None:
    """When markup stands where Python-Markdown reads it and a plain reading would not: a
    reference definition in a list item, in nested lists and quotes, in an admonition or after a
    raw HTML block on its line; markup split by STX or after a lone CR; after a raw HTML block,
    markup that closes up once Python-Markdown moves entities, comments and its own `&lt;` away;
    then it would run as written, and the site shows it as text."""
    text = f"[r]\n\n{shape}"
    assert _live(text)
    assert scan(text)
    assert _live(safe_markdown(text)) == []


@pytest.mark.parametrize(
    "text",
    [
        "<div>x</div>[r]: <<javascript:alert(1)",
        "<hr>[x](java<script:alert(1))",
        "<hr>[x](<<javascript:alert(1)>)",
    ],
)
def test_what_escaping_makes_is_found_too(text: str) -> None:
    """When escaping a `<` after a raw HTML block would let Python-Markdown close up a link or a
    reference definition (it moves the `&lt;` away), then the scanner finds that too and the site
    publishes it inert."""
    text = f"[r]\n\n{text}"
    assert _live(safe_markdown(text)) == []
    assert scan(safe_markdown(text)) == ()


@pytest.mark.parametrize(
    "text",
    [
        seed_text().partition("\n---\n")[2],
        "| 数据 | 期限 |\n|------|------|\n| 账户 | `<b>` 一年 |",
        '## 范围 {#scope}\n\n### 客户数据 {: #customer-data services="azure" }',
        "[隐私](https://example.com/) [邮件](mailto:a@example.com) [本节](#scope) [页](a.md)",
        "代码 `<script>alert(1)</script>` 与 ``[a](javascript:x)`` 只是文字",
        "年龄 < 14 岁；a<3；<<；<=",
        '<b>粗体</b> <a href="https://example.com/" title="安全">链接</a> <!-- 注释 -->',
        "见[注]。\n\n- [注]: https://example.com/\n\n<div>x</div>[例]: mailto:a@example.com",
    ],
)
def test_harmless_markup_is_untouched(text: str) -> None:
    """When a text holds only harmless markup, then the scanner finds nothing and the site
    publishes it as written."""
    assert scan(text) == ()
    assert safe_markdown(text) == text
