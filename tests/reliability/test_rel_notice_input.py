"""Bad input (issue #10), notice files: what an editor (or a broken export) can commit.

A broken notice committed to main must stop every command that publishes or notifies with one
line naming the file and line, and leave the site, the record of published releases, the
database, the outbox and the job store as they were (`site build` writes all but the last).
Problems that parse but break a rule are `notices check`'s findings, one per line. Byte-order
marks and CRLF are accepted with a warning; raw HTML that slipped onto main is published as
text, never as live markup.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path

import pytest
from support.notify import NOTICE
from support.reliability import (
    TODAY,
    Prop,
    error_line,
    findings,
    prior_state,
    record,
    refused,
    snapshot,
)
from support.repos import for_you, release_text, run_notices, seed_text

GROUP = "notice file"
NEXT = "2029-12-01"  # the version each case commits on top of the prior state's releases


def _next() -> str:
    undone = for_you({"privacy-statement": "下一版本撤回上一版本的全部更改。"})
    return release_text(
        seed_text(), NEXT, effective="2030-02-01", summary="下一版本", what_changes_for_you=undone
    )


def _line_of(text: str, fragment: str) -> int:
    return text[: text.index(fragment)].count("\n") + 1


def _front_and_body(text: str) -> tuple[str, str]:
    head, _, body = text.partition("\n---\n")
    return head + "\n---\n", body


def _broken_yaml() -> tuple[bytes, int]:
    text = _next().replace("summary: 下一版本", "summary: 下一版本: 未加引号", 1)
    return text.encode(), _line_of(text, "summary:")


def _unclosed() -> tuple[bytes, int]:
    head, body = _front_and_body(_next())
    return (head[: -len("---\n")] + body).encode(), 1


def _no_version() -> tuple[bytes, int]:
    return re.sub(r"^version: .*\n", "", _next(), count=1, flags=re.M).encode(), 1


def _binary() -> tuple[bytes, int]:
    return b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00", 3


def _gbk() -> tuple[bytes, int]:
    text = _next()
    return text.encode("gb18030"), _line_of(text, "title:")


def _empty() -> tuple[bytes, int]:
    return b"", 1


def _huge() -> tuple[bytes, int]:
    """50 MB: the statement followed by a pasted export (one line of it is ~2 kB)."""
    line = "客户编号,姓名,服务,日期;" * 100 + "\n"
    data = (_next() + line * (50 * 1024 * 1024 // len(line.encode()))).encode()
    assert len(data) > 50_000_000
    return data, data[: 1024 * 1024].count(b"\n") + 1


def _deep() -> tuple[bytes, int]:
    text = _next() + "\n" + "".join("> " * depth + "层级\n" for depth in range(1, 40))
    return text.encode(), _line_of(text, "> " * 9 + "层级")


def _conflict() -> tuple[bytes, int]:
    text = _next().replace(
        "## 范围 {#scope}",
        "<<<<<<< HEAD\n## 范围 {#scope}\n=======\n## 适用范围 {#scope}\n>>>>>>> legal-edit",
        1,
    )
    return text.encode(), _line_of(text, "<<<<<<<")


REFUSED = {
    "broken YAML front matter": (_broken_yaml, "front matter is not valid YAML"),
    "front matter never closed": (_unclosed, "front matter is not closed"),
    "no version in the front matter": (_no_version, "no `version` in the front matter"),
    "binary file (PNG bytes)": (_binary, "binary data, not a Markdown text file"),
    "GBK-encoded file": (_gbk, "looks GBK/GB18030-encoded"),
    "empty file": (_empty, "no `version` in the front matter"),
    "50 MB file": (_huge, "a notice may be at most 1 MB"),
    "quotes nested 39 levels deep": (_deep, "nested more than 8 levels deep"),
    "unresolved merge conflict markers": (_conflict, "unresolved git merge conflict"),
}


@pytest.mark.parametrize("case", list(REFUSED))
def test_broken_notice_on_main_is_not_published(
    case: str,
    tmp_path: Path,
    tmp_path_factory: pytest.TempPathFactory,
    record_property: Prop,
) -> None:
    """When a broken notice is committed to main, then `site build` names file and line and
    the site, the record, the database and the outbox are unchanged."""
    make, expected = REFUSED[case]
    data, line = make()
    repo = prior_state(tmp_path_factory, tmp_path)
    repo.commit(f"Broken: {case}", "2029-11-20T10:00:00+08:00", {NOTICE: data})
    result = refused("site", "build", "--today", TODAY, repo=repo.path)
    error = error_line(result)
    assert error.startswith(f"error: {NOTICE}:{line}: "), error
    assert expected in error
    record(record_property, GROUP, case, error)


def _missing_fields() -> tuple[str, list[tuple[int, str]]]:
    text = re.sub(r"^(effective|summary): .*\n", "", _next(), flags=re.M)
    return text, [(1, "lacks 'effective'"), (1, "lacks 'summary'")]


def _duplicate_ids() -> tuple[str, list[tuple[int, str]]]:
    text = _next().replace("## 如何联系我们 {#contact}", "## 如何联系我们 {#scope}", 1)
    first, second = _line_of(text, "{#scope}"), _line_of(text, "## 如何联系我们 {#scope}")
    return text, [(second, f"heading id 'scope' is already used on line {first}")]


def _script() -> tuple[str, list[tuple[int, str]]]:
    text = _next().replace("## 范围 {#scope}", "## 范围 {#scope}\n\n<script>alert(1)</script>", 1)
    return text, [(_line_of(text, "<script>"), "raw <script> HTML is refused")]


def _javascript_links() -> tuple[str, list[tuple[int, str]]]:
    text = _next().replace(
        "## 范围 {#scope}",
        "## 范围 {#scope}\n\n[点击查看](javascript:alert(1))\n\n[参考]: javascript:alert(2)",
        1,
    )
    return text, [
        (_line_of(text, "[点击查看]"), "a javascript: link is refused"),
        (_line_of(text, "[参考]"), "a javascript: link is refused"),
    ]


def _attribute_handler() -> tuple[str, list[tuple[int, str]]]:
    text = _next().replace("## 范围 {#scope}", '## 范围 {#scope onclick="alert(1)"}', 1)
    return text, [(_line_of(text, "onclick"), "an event handler (onclick) in an attribute list")]


def _hidden_script_links() -> tuple[str, list[tuple[int, str]]]:
    text = _next().replace(
        "## 范围 {#scope}",
        "## 范围 {#scope}\n\n[本地文件](file:///etc/passwd)\n\n[点击](&#106;avascript:alert(1))"
        "\n\n<&#106;avascript:alert(2)>\n\n<svg/onload=alert(3)>",
        1,
    )
    return text, [
        (_line_of(text, "[本地文件]"), "a file: link is refused"),
        (_line_of(text, "[点击]"), "a javascript: link is refused"),
        (_line_of(text, "<&#106;"), "a javascript: link is refused"),
        (_line_of(text, "<svg"), "an HTML event handler (onload) is refused"),
    ]


def _misspelt_key() -> tuple[str, list[tuple[int, str]]]:
    text = _next().replace("version: ", "verison: ", 1)
    return text, [(_line_of(text, "verison:"), "unknown front matter key 'verison'")]


def _impossible_date() -> tuple[str, list[tuple[int, str]]]:
    text = re.sub(r"^effective: .*$", "effective: 2030-02-30", _next(), count=1, flags=re.M)
    return text, [(_line_of(text, "effective:"), "'effective' is not a real date")]


def _only_headings() -> tuple[str, list[tuple[int, str]]]:
    head, body = _front_and_body(_next())
    headings = "\n\n".join(line for line in body.split("\n") if line.startswith("#")) + "\n"
    text = head + headings
    return text, [(_line_of(text, "# "), "the body has no 最后更新时间 line")]


FOUND = {
    "required fields missing (effective, summary)": _missing_fields,
    "duplicate section ids": _duplicate_ids,
    "raw <script> HTML": _script,
    "javascript: links (inline and reference)": _javascript_links,
    "event handler in a heading's attribute list": _attribute_handler,
    "file:, entity-encoded javascript: links and <svg/onload>": _hidden_script_links,
    "misspelt front matter key (verison)": _misspelt_key,
    "impossible date (2030-02-30), one error": _impossible_date,
    "only headings, no text": _only_headings,
}
# cases whose findings are exactly the expected ones (a mistake is not reported twice)
EXACT = {
    "file:, entity-encoded javascript: links and <svg/onload>",
    "misspelt front matter key (verison)",
    "impossible date (2030-02-30), one error",
}


@pytest.mark.parametrize("case", list(FOUND))
def test_check_names_each_problem_by_line(
    case: str,
    tmp_path: Path,
    tmp_path_factory: pytest.TempPathFactory,
    record_property: Prop,
) -> None:
    """When a notice in the working tree breaks a rule, then `notices check` exits 1 with one
    finding per problem naming file and line, and writes nothing."""
    text, expected = FOUND[case]()
    repo = prior_state(tmp_path_factory, tmp_path)
    repo.write(NOTICE, text)
    result = refused("check", repo=repo.path)
    found = findings(result)
    if case in EXACT:
        assert len(found) == len(expected), result.out  # one finding per problem, none invented
    for line, message in expected:
        assert any(f.startswith(f"{NOTICE}:{line}: error: ") and message in f for f in found), (
            line,
            message,
            result.out,
        )
    assert result.out.splitlines()[-1].startswith(f"{len(found)} error(s)")
    record(record_property, GROUP, case, " | ".join(found))


@pytest.mark.parametrize(
    ("case", "encode", "warning"),
    [
        (
            "UTF-8 byte-order mark",
            lambda text: b"\xef\xbb\xbf" + text.encode(),
            "starts with a UTF-8 byte-order mark",
        ),
        (
            "CRLF line endings",
            lambda text: text.replace("\n", "\r\n").encode(),
            "has CRLF line endings",
        ),
    ],
)
def test_bom_and_crlf_are_read_as_the_same_text(
    case: str,
    encode: Callable[[str], bytes],
    warning: str,
    tmp_path: Path,
    tmp_path_factory: pytest.TempPathFactory,
    record_property: Prop,
) -> None:
    """When a notice has a BOM or CRLF (Windows editors), then it is accepted: check warns on
    line 1, and diff finds no change against the same text saved plainly."""
    repo = prior_state(tmp_path_factory, tmp_path)
    plain = repo.path.parent / "plain.md"
    plain.write_text(_next(), encoding="utf-8")
    repo.write(NOTICE, encode(_next()))
    before = snapshot(repo.path, {})
    checked = run_notices("check", cwd=repo.path)
    compared = run_notices("diff", str(plain), NOTICE, "--json", cwd=repo.path)
    assert checked.code == 0 and compared.code == 0, checked.out + checked.err + compared.err
    assert f"{NOTICE}:1: warning: the file {warning}" in checked.out
    assert findings(checked) == []
    assert '"changes": []' in compared.out
    assert snapshot(repo.path, {}) == before
    record(record_property, GROUP, f"{case} (accepted)", checked.out.splitlines()[0])


EVIL = """
<script>alert('raw-script')</script>

<img src=x onerror="alert('img-handler')">

<a href="javascript:alert('html-link')">链接</a>

<a href="&#106;avascript:alert('entity-link')">实体编码的链接</a>

<svg/onload=alert('svg-handler')>

<iframe src="https://tracker.example/"></iframe>

[点击](javascript:alert('md-link'))

![图片](javascript:alert('md-image'))

[参考][evil]

[evil]: javascript:alert('reference')

[换行的链接](java
script:alert('split-link'))

<&#106;avascript:alert('entity-autolink')>

代码 `<script>alert('code-span')</script>` 只是文字

说明段落 {: onclick="alert('attr-list')" }

<div>无害的 <b>粗体</b> 与 <a href="https://example.com/" title="安全">安全链接</a></div>
"""


class _Markup(HTMLParser):
    """Collects what a browser would run of EVIL (every payload calls alert): script text,
    handlers, script URLs, frames. The theme's own scripts and handlers do not count."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.live: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._in_script = tag == "script"
        if tag in ("iframe", "object", "embed", "frame"):
            self.live.append(f"<{tag}>")
        for name, value in attrs:
            target = re.sub(r"[\x00-\x20]", "", value or "").lower()
            handler = name.startswith("on") and "alert(" in target
            if handler or target.startswith(("javascript:", "data:")):
                self.live.append(f"<{tag} {name}={value}>")

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script and "alert(" in data:
            self.live.append(f"<script>{data.strip()[:40]}")


def test_raw_html_on_main_reaches_the_site_only_as_text(
    tmp_path: Path,
    tmp_path_factory: pytest.TempPathFactory,
    record_property: Prop,
) -> None:
    """When raw HTML, handlers and javascript: links reach main (check bypassed), then the
    site still builds (history is append-only) but no page holds them as live markup."""
    repo = prior_state(tmp_path_factory, tmp_path)
    text = _next().replace("## 范围 {#scope}", "## 范围 {#scope}\n" + EVIL, 1)
    repo.commit("Unsafe markup", "2029-11-20T10:00:00+08:00", {NOTICE: text})
    result = run_notices("site", "build", "--today", TODAY, cwd=repo.path)
    assert result.code == 0, result.err
    site = repo.path / "build" / "site"
    live: list[str] = []
    for page in sorted(site.rglob("*.html")):
        parser = _Markup()
        parser.feed(page.read_text(encoding="utf-8"))
        live.extend(f"{page.relative_to(site)}: {found}" for found in parser.live)
    assert live == []
    archived = (site / "archive" / NEXT / "index.html").read_text(encoding="utf-8")
    assert "&lt;script&gt;alert('raw-script')&lt;/script&gt;" in archived  # shown, as written
    assert '<a href="https://example.com/" title="安全">安全链接</a>' in archived  # kept
    source = (site / "archive" / NEXT / "source.txt").read_bytes()
    assert source == text.encode()  # the archive keeps the exact bytes
    record(
        record_property,
        GROUP,
        "raw HTML and javascript: links committed to main (accepted as text)",
        "site built; 14 kinds of script markup shown as text, 0 live in "
        f"{sum(1 for _ in site.rglob('*.html'))} pages; harmless <b>/<a href=https> kept",
    )
