"""Old heading ids keep landing: an empty anchor for each id a heading declares it used to have.

`## 数据保留 {#retention data-was="data-retention"}` reaches the page as `<h2 id="retention"
data-was="data-retention">` (Python-Markdown's attr_list). This extension puts
`<span id="data-retention"></span>` right before the heading and drops the attribute, so
`page#data-retention` in a mail sent before the id changed still lands on the section. Before
the heading, not inside it: the table of contents copies a heading's content, and the id would
then be on the page twice.
"""

from __future__ import annotations

from xml.etree.ElementTree import Element

from markdown import Markdown
from markdown.extensions import Extension
from markdown.treeprocessors import Treeprocessor

from notifier.statement.notice import OLD_IDS_KEY, old_ids

_HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
ANCHOR_CLASS = "old-id"


class _OldIdAnchors(Treeprocessor):  # type: ignore[misc]
    def run(self, root: Element) -> None:
        for parent in list(root.iter()):
            # from the last child back, so inserting keeps the positions still to visit
            for index in reversed(range(len(parent))):
                heading = parent[index]
                if heading.tag not in _HEADINGS or OLD_IDS_KEY not in heading.attrib:
                    continue
                value = heading.attrib.pop(OLD_IDS_KEY)
                for offset, word in enumerate(old_ids(value)):
                    anchor = Element("span", {"id": word, "class": ANCHOR_CLASS})
                    anchor.tail = "\n"
                    parent.insert(index + offset, anchor)


class OldIdAnchors(Extension):  # type: ignore[misc]
    """The Python-Markdown extension; the MkDocs plugin adds it to every page it renders."""

    def extendMarkdown(self, md: Markdown) -> None:  # noqa: N802 - Python-Markdown's name
        # after attr_list (8) has set the attribute, before toc and MkDocs read the ids (5)
        md.treeprocessors.register(_OldIdAnchors(md), "notices_old_ids", 6)
