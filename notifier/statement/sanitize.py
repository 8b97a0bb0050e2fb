"""Make a statement's Markdown safe to publish: markup that could run script is shown as text.

`notices check` refuses raw `<script>`, event handlers and `javascript:` links, but history is
append-only: a release that slipped onto main without the check stays in the archive forever,
and its page must still be built. So the site never trusts the text: an HTML tag survives only
when it is a plainly harmless formatting tag with harmless attributes; every other `<` becomes
`&lt;`. Links, reference definitions and attribute lists whose target or keys could run script
lose their markup and show as the characters written. The cost: a `<` inside code shows as
`&lt;` (statements hold no code), and a comment that is not plain text becomes visible.
"""

from __future__ import annotations

import html
import re

_SAFE_TAGS = frozenset(
    "a abbr b blockquote br caption cite code col colgroup dd del div dl dt em h1 h2 h3 h4 h5 h6 "
    "hr i ins kbd li mark ol p pre q s small span strong sub sup table tbody td tfoot th thead "
    "tr u ul".split()
)
_SAFE_ATTRIBUTES = frozenset(
    "align class colspan dir href id lang name rowspan scope title".split()
)
# keys of a `{: …}` attribute list that notices use; `#id` and `.class` are not keys
_SAFE_LIST_KEYS = frozenset({"services", "data-services", "lang", "dir", "title"})
_SAFE_SCHEMES = frozenset({"http", "https", "mailto"})
_VALUE = r"""(?:"[^"]*"|'[^']*'|[^\s"'=<>`]+)"""
_TAG = re.compile(
    rf"<(/?)([A-Za-z][A-Za-z0-9]*)((?:\s+[A-Za-z_:][-\w.:]*(?:\s*=\s*{_VALUE})?)*)\s*/?>"
)
_ATTRIBUTE = re.compile(rf"([A-Za-z_:][-\w.:]*)(?:\s*=\s*({_VALUE}))?")
# plain comments, and the autolinks Python-Markdown knows: http(s)/ftp and e-mail addresses
_KEPT = re.compile(
    r"<!--(?:(?!--)[^<>])*-->|<(?:https?|ftp)://[^\s<>\"']*>|<[^<>\s!@\"']+@[^@<>\s\"']+>"
)
_DESTINATION = re.compile(r"\]\(\s*<?([^)\s>]*)")
_REFERENCE = re.compile(r"^( {0,3})\[(?=[^\]\n]+\]:[ \t]*<?(\S*))", re.M)
_ATTR_LIST = re.compile(r"\{(:?[^{}\n]*)\}")
_LIST_KEY = re.compile(r"([^\s=#.]+)\s*=")
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):")
_IGNORED_BY_BROWSERS = re.compile(r"[\x00-\x20\x7f]+")


def safe_url(value: str) -> bool:
    """False for a URL a browser would run as script or open as a document (`javascript:`,
    `data:`, `vbscript:`, also entity-encoded or split by control characters)."""
    url = _IGNORED_BY_BROWSERS.sub("", html.unescape(value.strip("\"'")))
    scheme = _SCHEME.match(url)
    return scheme is None or scheme.group(1).lower() in _SAFE_SCHEMES


def _harmless(tag: re.Match[str]) -> bool:
    if tag.group(2).lower() not in _SAFE_TAGS:
        return False
    for name, value in _ATTRIBUTE.findall(tag.group(3)):
        if name.lower() not in _SAFE_ATTRIBUTES or (name.lower() == "href" and not safe_url(value)):
            return False
    return True


def _inert_html(text: str) -> str:
    parts: list[str] = []
    position = 0
    while (start := text.find("<", position)) >= 0:
        parts.append(text[position:start])
        kept = _KEPT.match(text, start)
        tag = _TAG.match(text, start)
        if kept is not None or (tag is not None and _harmless(tag)):
            chosen = kept or tag
            assert chosen is not None
            parts.append(chosen.group(0))
            position = chosen.end()
        else:
            parts.append("&lt;")
            position = start + 1
    parts.append(text[position:])
    return "".join(parts)


def _link(match: re.Match[str]) -> str:
    return match.group(0) if safe_url(match.group(1)) else "]\\(" + match.group(0)[2:]


def _reference(match: re.Match[str]) -> str:
    return match.group(0) if safe_url(match.group(2)) else match.group(1) + "\\["


def _attribute_list(match: re.Match[str]) -> str:
    keys = {key.lower() for key in _LIST_KEY.findall(match.group(1))}
    return match.group(0) if keys <= _SAFE_LIST_KEYS else "\\" + match.group(0)


def safe_markdown(text: str) -> str:
    """`text` with every construct that could run script in a reader's browser made inert."""
    text = _DESTINATION.sub(_link, text)
    text = _REFERENCE.sub(_reference, text)
    text = _ATTR_LIST.sub(_attribute_list, text)
    return _inert_html(text)
