"""Why a change counts as material, as a public page says it.

Readers get the rule's plain sentence in the page's language and the citations of the law the
notice is written under (`[notices.laws]`), nothing else: no rule code, tier, trigger word or
section frame, and no citation of another jurisdiction's law or guidance (the rules cite those
for editors, who see them in `notices diff`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from notifier.locales import ui_locale
from notifier.statement.materiality import ChangeVerdict

# The rules' plain sentences cite the PIPL in brackets: (PIPL art. 23),
# （《个人信息保护法》第二十三条） or just （第二十九条） after an earlier mention.
# A notice that does not cite the PIPL drops them.
_PIPL = "PIPL"
_PIPL_NOTE = re.compile(
    r"\s*[（(][^（）()]*(?:PIPL|《个人信息保护法》|第[一二三四五六七八九十百零]+条)[^（）()]*[）)]"
)


@dataclass(frozen=True, slots=True)
class ReaderReason:
    """One reason in the reader's words, with the citations of the notice's own law."""

    text: str
    citations: tuple[str, ...]


def cited(sources: Sequence[str], laws: Sequence[str]) -> tuple[str, ...]:
    """The sources that belong to one of `laws` (citation prefixes such as "PIPL")."""
    return tuple(source for source in sources if any(source.startswith(law) for law in laws))


def plain(sentence: str, laws: Sequence[str]) -> str:
    """The rule's sentence, without its bracketed PIPL articles unless the notice cites PIPL."""
    if any(law.startswith(_PIPL) for law in laws):
        return sentence
    return _PIPL_NOTE.sub("", sentence)


def reader_reasons(
    judged: ChangeVerdict, locale: str, laws: Sequence[str]
) -> tuple[ReaderReason, ...]:
    """The reasons a material change is material, once each, in the page's language."""
    chinese = ui_locale(locale).code == "zh-CN"
    found: dict[str, ReaderReason] = {}
    for reason in judged.reasons if judged.material else ():
        sentence = plain(reason.why_zh if chinese else reason.why_en, laws)
        if sentence and sentence not in found:
            found[sentence] = ReaderReason(sentence, cited(reason.sources, laws))
    return tuple(found.values())
