"""The consent pages as a WSGI app: GET and HEAD show a question, only a same-origin POST
answers it.

Corporate link scanners open every link in a mail, so no GET or HEAD changes anything. A POST
counts only when its Origin (else its Referer) is the origin of the configured consent URL: a
page elsewhere cannot make a visitor's browser answer, and the token in the form's address says
whose answer it is (no session, so no CSRF token either). The form carries the hash of the text
shown; an answer to a text that is no longer current is not recorded, and the current text is
shown instead. Pages hold no script; every answer sets headers that forbid framing, scripts from
elsewhere and passing the address (which holds the token) on to other sites.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any, Protocol
from urllib.parse import parse_qsl, urlsplit
from wsgiref.types import StartResponse, WSGIEnvironment

from notifier.consent import records
from notifier.consent.pages import STYLESHEET, Standing, render, stylesheet
from notifier.consent.texts import ConsentText, UnknownConsent, consent_text
from notifier.consent.tokens import ExpiredToken, ForgedToken, Grant, sign, verify
from notifier.errors import ConfigError, ConsentError
from notifier.locales import LOCALES, matching_locale
from notifier.settings import Settings
from notifier.storage import db

log = logging.getLogger(__name__)
PREFIX = "/consent/"
MAX_FORM = 4096  # bytes: a form holds an answer and a hash
ANSWERS = ("agree", "decline")
# which methods each page under a token answers: "" the question, the rest after a slash
_METHODS = {
    "": ("GET", "HEAD", "POST"),
    "done": ("GET", "HEAD"),
    "withdraw": ("GET", "HEAD", "POST"),
    "reissue": ("POST",),
}
SECURITY_HEADERS = [  # on every answer, and on the server's own (see delivery/serving.py)
    (
        "Content-Security-Policy",
        "default-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    ),
    # not "no-referrer": with it browsers send `Origin: null` on our own form's POST, and the
    # same-origin check could not tell our page from a sandboxed one elsewhere. "same-origin"
    # still sends nothing to other sites (the statement, the redline), so the token stays here.
    ("Referrer-Policy", "same-origin"),
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Cache-Control", "no-store"),
]


_STATUS_LINES = {status.value: f"{status.value} {status.phrase}" for status in HTTPStatus}


@dataclass(frozen=True, slots=True)
class Response:
    status: int
    body: bytes = b""
    headers: tuple[tuple[str, str], ...] = ()
    content_type: str = "text/html; charset=utf-8"


@dataclass(frozen=True, slots=True)
class _Asked:
    """A verified request about one question: whose, which text (in the language of the mail:
    the page speaks it too), and the token that answers the current text (the one mailed, or
    a fresh one when the text changed since)."""

    grant: Grant
    token: str
    locale: str
    text: ConsentText


def origin_of(url: str) -> str:
    """`scheme://host[:port]` as browsers send it in Origin (default ports left out), or ''."""
    parts = urlsplit(url.strip())
    try:
        port = parts.port
    except ValueError:
        return ""
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return ""
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    default = {"http": 80, "https": 443}[parts.scheme]
    return f"{parts.scheme}://{host}" + (f":{port}" if port not in (None, default) else "")


def same_origin(environ: WSGIEnvironment, origin: str) -> bool:
    """Whether a POST comes from a page of `origin`: its Origin header, else its Referer."""
    claimed = environ.get("HTTP_ORIGIN")
    if claimed is None:
        claimed = environ.get("HTTP_REFERER") or ""
    if claimed == origin:  # as browsers send it: no need to parse it
        return bool(origin)
    return bool(origin) and origin_of(str(claimed)) == origin


def _form(environ: WSGIEnvironment) -> dict[str, str] | None:
    """The POSTed form, or None when it is none we could have sent."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return None
    if length == 0:
        return {}
    kind = str(environ.get("CONTENT_TYPE", "")).partition(";")[0].strip().lower()
    if length > MAX_FORM or kind != "application/x-www-form-urlencoded":
        return None
    body = environ["wsgi.input"].read(length)
    try:
        return dict(parse_qsl(body.decode("ascii"), max_num_fields=8))
    except (UnicodeDecodeError, ValueError):
        return None


class Deliveries(Protocol):
    """What the pages need of the deliveries they ask about, from the ledger above them."""

    def locale(self, grant: Grant) -> str | None:
        """The locale of the grant's delivery; None when there is no such delivery of its
        release."""

    def reissue(self, grant: Grant) -> None:
        """Mail the delivery's recipient a fresh link to the grant's question, if allowed."""


class ConsentApp:
    """The WSGI app serving everything under /consent/."""

    def __init__(self, settings: Settings, deliveries: Deliveries) -> None:
        if not settings.consent_keys:
            raise ConfigError("no consent key is set", hint="set NOTICES_CONSENT_KEYS")
        self.origin = origin_of(settings.consent_url)
        if not self.origin:
            raise ConfigError(
                "no consent URL is set",
                hint='set url = "https://…" in the [consent] table of notices.toml',
            )
        self.settings = settings
        self.deliveries = deliveries
        self.engine = db.engine(settings)

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        response = self.respond(environ)
        headers = [
            ("Content-Type", response.content_type),
            ("Content-Length", str(len(response.body))),
            *SECURITY_HEADERS,
            *response.headers,
        ]
        start_response(_STATUS_LINES[response.status], headers)
        return [] if environ.get("REQUEST_METHOD") == "HEAD" else [response.body]

    def respond(self, environ: WSGIEnvironment) -> Response:
        method = str(environ.get("REQUEST_METHOD", "GET"))
        path = str(environ.get("PATH_INFO", ""))
        rest = path[len(PREFIX) :] if path.startswith(PREFIX) else None
        if rest == STYLESHEET and method in ("GET", "HEAD"):
            return Response(200, stylesheet(), content_type="text/css; charset=utf-8")
        token, _, page = (rest or "").partition("/")
        methods = _METHODS.get(page)
        if not token or methods is None:
            return self._refuse(environ, 404, "missing")
        if method not in methods:
            return replace(
                self._refuse(environ, 405, "missing"), headers=(("Allow", ", ".join(methods)),)
            )
        form: Mapping[str, str] = {}
        if method == "POST":
            if not same_origin(environ, self.origin):
                log.warning("consent answer refused: not from %s", self.origin)
                return self._refuse(environ, 403, "refused")
            posted = _form(environ)
            if posted is None:
                return self._refuse(environ, 400, "forged")
            form = posted
        try:
            grant = verify(token, self.settings.consent_keys, datetime.now(UTC))
        except ForgedToken as forged:
            log.warning("consent link refused: %s", forged.message)
            return self._refuse(environ, 400, "forged")
        except ExpiredToken as expired:
            return self._expired(method, page, token, expired.grant, self._language(environ))
        shown_in = form.get("locale") if method == "POST" and page == "" else None
        if shown_in is not None and shown_in not in LOCALES:
            return self._refuse(environ, 400, "forged")
        asked = self._asked(grant, token, shown_in)
        if asked is None:
            return self._refuse(environ, 404, "missing")
        if page == "reissue":  # the link still works: back to the question
            return _see(asked.token)
        if page == "done":
            return self._done(asked)
        if page == "withdraw":
            return self._withdraw(asked, method, environ)
        if method == "POST":
            return self._answer(asked, form, environ)
        return self._question(asked)

    # --- pages ------------------------------------------------------------------------------

    def _question(self, asked: _Asked, *, status: int = 200, changed: bool = False) -> Response:
        return self._page(
            status,
            "question.html.j2",
            asked,
            text=asked.text,
            paragraphs=asked.text.body.split("\n\n"),
            changed=changed,
        )

    def _answer(self, asked: _Asked, form: Mapping[str, str], environ: WSGIEnvironment) -> Response:
        answer, shown = form.get("decision"), form.get("shown", "")
        if answer not in ANSWERS:
            return self._message(400, "forged", asked.locale)
        try:  # recorded only if `shown` is the text of the link and the current one
            self._record(asked, answer, shown, environ, current=True)
        except records.TextChanged:
            return self._question(asked, status=409, changed=True)
        except ConsentError as refused:  # not a delivery of this release: a stale database
            log.warning("consent answer refused: %s", refused.message)
            return self._message(404, "missing", asked.locale)
        return _see(f"{asked.token}/done")

    def _done(self, asked: _Asked) -> Response:
        standing = self._standing(asked)
        if standing is None:
            return _see(asked.token)
        return self._page(200, "done.html.j2", asked, standing=standing)

    def _withdraw(self, asked: _Asked, method: str, environ: WSGIEnvironment) -> Response:
        if method == "POST":
            try:
                self._record(asked, "withdraw", asked.grant.text_sha256, environ, current=False)
            except records.NothingToWithdraw:
                return self._page(409, "withdraw.html.j2", asked)
            return _see(f"{asked.token}/done")
        return self._page(200, "withdraw.html.j2", asked)

    def _expired(self, method: str, page: str, token: str, grant: Grant, language: str) -> Response:
        locale = self.deliveries.locale(grant)
        if locale is None:
            return self._message(404, "missing", language)
        if method == "POST" and page == "reissue":
            self.deliveries.reissue(grant)  # sent, limited or suppressed: the page says the same
            return self._message(200, "reissued", locale)
        return Response(410, render("expired.html.j2", locale, PREFIX, action=PREFIX + token))

    # --- helpers ----------------------------------------------------------------------------

    def _asked(self, grant: Grant, token: str, shown_in: str | None = None) -> _Asked | None:
        """The question `grant` asks, in `shown_in` (the language an answer says its text was
        shown in: the text's hash, signed into the grant, vouches for it) or else in the
        language of the grant's delivery."""
        locale = shown_in or self.deliveries.locale(grant)
        if locale is None:
            log.warning("consent link of delivery %d: no such delivery", grant.delivery_id)
            return None
        try:
            text = consent_text(self.settings, grant.release_id, locale, grant.article)
        except UnknownConsent as unknown:
            log.warning("consent link of delivery %d: %s", grant.delivery_id, unknown.message)
            return None
        if text.sha256 != grant.text_sha256:
            token = sign(replace(grant, text_sha256=text.sha256), self.settings.consent_keys)
        return _Asked(grant, token, text.locale, text)

    def _record(
        self, asked: _Asked, decision: str, shown: str, environ: WSGIEnvironment, *, current: bool
    ) -> None:
        """Record `decision`; with `current`, only while the text shown is the current one (a
        withdrawal is never held up by a changed text)."""
        records.record(
            self.engine,
            asked.grant,
            decision=decision,
            shown_sha256=shown,
            locale=asked.text.locale,
            at=datetime.now(UTC),
            client=self._client(environ),
            current_sha256=asked.text.sha256 if current else None,
        )
        log.info("consent %s recorded for delivery %d", decision, asked.grant.delivery_id)

    def _client(self, environ: WSGIEnvironment) -> str | None:
        return records.client_of(
            self.settings.consent_record_client,
            environ.get("REMOTE_ADDR"),
            environ.get("HTTP_USER_AGENT"),
        )

    def _standing(self, asked: _Asked) -> Standing | None:
        found = records.standing(self.engine, asked.grant.delivery_id, asked.grant.article)
        if found is None:
            return None
        day = found.recorded_at.astimezone(self.settings.timezone).date()
        return Standing(found.decision, day)

    def _page(self, status: int, name: str, asked: _Asked, **context: Any) -> Response:
        if "standing" not in context:  # the done page has just read it
            context["standing"] = self._standing(asked)
        return Response(
            status, render(name, asked.locale, PREFIX, action=PREFIX + asked.token, **context)
        )

    def _refuse(self, environ: WSGIEnvironment, status: int, kind: str) -> Response:
        """A message to a visitor we cannot place (no valid link yet): in their language."""
        return self._message(status, kind, self._language(environ))

    def _message(self, status: int, kind: str, locale: str) -> Response:
        return Response(status, render("message.html.j2", locale, PREFIX, kind=kind))

    def _language(self, environ: WSGIEnvironment) -> str:
        """The page language for a visitor we cannot place: their browser's, else ours."""
        for tag in str(environ.get("HTTP_ACCEPT_LANGUAGE", "")).split(","):
            found = matching_locale(tag.partition(";")[0].strip() or "x")
            if found is not None:
                return found
        return self.settings.default_locale


def _see(token_path: str) -> Response:
    """303 See Other to a page under /consent/: after a POST, the browser GETs the result."""
    return Response(303, headers=(("Location", PREFIX + token_path),))
