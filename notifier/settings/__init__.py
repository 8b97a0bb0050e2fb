"""Settings: notices.toml plus the environment, read once into a frozen `Settings`.

Only this package reads the environment. notices.toml is checked against one declarative schema
(`schema.py`), so a misspelt `notice_period_days` is an error naming its line and never silently
falls back to a default. The schema (pydantic) is imported when settings load, not with this
module: `notices --help` never pays for it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit
from zoneinfo import ZoneInfo

from notifier.errors import ConfigError
from notifier.settings.source import Source

if TYPE_CHECKING:
    from notifier.settings.schema import LintTable, MaterialityTable

SETTINGS_FILE = "notices.toml"
DEFAULT_SENDGRID_HOST = "https://api.sendgrid.com"
MAIL_BACKENDS = ("outbox", "sendgrid", "smtp")


class Secret:
    """A value that must never be printed: its repr and str are '***'."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "'***'"

    __str__ = __repr__


@dataclass(frozen=True, slots=True)
class Service:
    """A service customers subscribe to, with its display name per locale."""

    id: str
    names: Mapping[str, str]

    def name(self, locale: str) -> str:
        return self.names.get(locale) or next(iter(self.names.values()), self.id)


@dataclass(frozen=True, slots=True)
class Settings:
    repo: Path
    notices_dir: Path
    default_locale: str
    required_locales: tuple[str, ...]  # besides the default locale, which always is
    timezone: ZoneInfo
    notice_period: timedelta
    sender_email: str
    sender_name: str  # in the default locale; `in_locale(sender_names, …)` for a mail's
    reply_to: str
    contact_url: str
    contact_postal_address: str
    sender_names: Mapping[str, str]  # locale → the sender's name in it
    postal_addresses: Mapping[str, str]  # locale → the postal address written for it
    site_url: str
    site_title: str  # in the default locale; `site_titles` per locale, for each language's site
    site_titles: Mapping[str, str]
    services: Mapping[str, Service]
    database_url: str
    mail_backend: str
    mail_batch_size: int
    mail_timeout: float
    mail_max_retries: int
    sendgrid_api_key: Secret | None
    sendgrid_api_host: str
    smtp_host: str
    smtp_port: int
    smtp_starttls: bool
    smtp_username: str
    smtp_password: Secret | None
    webhook_public_key: str
    events_key: Secret | None  # NOTICES_EVENTS_KEY; None: the one kept in var/events.key
    consent_url: str  # public base URL of the consent pages ("": no consent links can be made)
    consent_grace_days: int
    consent_reminder_days: int
    consent_record_client: bool
    consent_keys: tuple[Secret, ...]  # NOTICES_CONSENT_KEYS: the first signs, all verify
    materiality_overrides: MaterialityTable
    lint_overrides: LintTable
    # notice name → the citation prefixes of the law it is written under ([notices.laws])
    laws: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def var_dir(self) -> Path:
        """Runtime state (database, outbox, proofs): never committed, never published."""
        return self.repo / "var"

    @property
    def database_file(self) -> Path | None:
        """The SQLite database's file; None for PostgreSQL, or SQLite in memory or by URI."""
        return sqlite_file(self.database_url)

    @property
    def outbox_dir(self) -> Path:
        return self.var_dir / "outbox"

    @property
    def site_dir(self) -> Path:
        return self.repo / "build" / "site"


def is_url(value: str, schemes: tuple[str, ...]) -> bool:
    """An absolute URL of one of `schemes`, with a host (or, for mailto, an address)."""
    parts = urlsplit(value)
    if parts.scheme not in schemes or any(c.isspace() for c in value):
        return False
    return bool(parts.path) if parts.scheme == "mailto" else bool(parts.hostname)


def _database_url(environ: Mapping[str, str], repo: Path) -> str:
    """NOTICES_DATABASE_URL, checked enough to fail with a sentence rather than a driver's error.
    The value is never printed: it may hold a password."""
    url = environ.get("NOTICES_DATABASE_URL")
    if not url:
        return f"sqlite:///{(repo / 'var' / 'notices.db').as_posix()}"
    scheme = url.partition("://")[0] if "://" in url else None
    hint = "use sqlite:///path/to/notices.db or postgresql+psycopg://user@host:5432/database"
    if scheme is None or _DATABASE_SCHEME.match(scheme) is None:
        shown = f" (it names {scheme!r})" if scheme else ""
        raise ConfigError(
            f"NOTICES_DATABASE_URL is not an SQLite or PostgreSQL URL{shown}", hint=hint
        )
    if not scheme.startswith("sqlite"):
        return url
    url = _sqlite_in_repo(url, repo)
    file = sqlite_file(url)
    if file is not None and file.is_dir():
        raise ConfigError("NOTICES_DATABASE_URL points at a folder, not a database file", hint=hint)
    return url


def sqlite_file(url: str) -> Path | None:
    """The file an `sqlite[+driver]:///path` URL names, read as SQLAlchemy reads it (escapes
    decoded, query left out); None for another database, or SQLite in memory or by `file:` URI.
    Without SQLAlchemy: a site build asks it to learn whether there is a ledger to read."""
    scheme, separator, rest = url.partition(":///")
    file = unquote(rest.partition("?")[0])
    if not (separator and scheme.startswith("sqlite")) or file in ("", ":memory:"):
        return None
    return None if file.startswith("file:") else Path(file)


def _sqlite_in_repo(url: str, repo: Path) -> str:
    """A relative `sqlite:///var/x.db` is the repository's file, wherever the command runs:
    resolved against the current folder it would be another, empty database."""
    named = sqlite_file(url)
    if named is None or named.is_absolute():
        return url
    head, _, rest = url.partition(":///")  # the path as written: escapes stay as they are
    file, question, query = rest.partition("?")
    return f"{head}:///{(repo.absolute() / file).as_posix()}{question}{query}"


_DATABASE_SCHEME = re.compile(r"^(?:sqlite|postgresql)(?:\+\w+)?$")


def _api_host(environ: Mapping[str, str]) -> str:
    host = environ.get("SENDGRID_API_HOST") or DEFAULT_SENDGRID_HOST
    if not is_url(host, ("http", "https")):
        raise ConfigError(
            f"SENDGRID_API_HOST is not an http(s) URL: {host!r}",
            hint=f"unset it for {DEFAULT_SENDGRID_HOST}, or give a regional endpoint's URL",
        )
    return host


def _api_key(environ: Mapping[str, str]) -> Secret | None:
    """SENDGRID_API_KEY, refused at start when it could not travel as one header value: a
    space, line break or non-ASCII character would otherwise surface in an HTTP library's
    error, which quotes the header, key and all. The error names the variable, never the value."""
    key = environ.get("SENDGRID_API_KEY")
    if not key:
        return None
    if not key.isascii() or not key.isprintable() or any(c.isspace() for c in key):
        raise ConfigError(
            "SENDGRID_API_KEY holds whitespace, a line break or a non-ASCII character",
            hint="set it to the key exactly as SendGrid shows it, with nothing around it",
        )
    return Secret(key)


SECRET_VARIABLES = (
    "SENDGRID_API_KEY",
    "NOTICES_SMTP_PASSWORD",
    "NOTICES_EVENTS_KEY",
    "NOTICES_CONSENT_KEYS",
)
KEY_LISTS = frozenset({"NOTICES_CONSENT_KEYS"})  # comma-separated: each key is a secret too


def scrub_secrets(text: str, environ: Mapping[str, str]) -> str:
    """`text` with the value of every secret variable replaced by ***, as is and as `repr`
    escapes it: for the one output that may quote anything, a --debug traceback."""
    for name in SECRET_VARIABLES:
        raw = environ.get(name)
        # a list of keys may be quoted whole or one key at a time; other secrets only whole (a
        # password with a comma in it must not have its short pieces starred across the text)
        pieces = raw.split(",") if raw and name in KEY_LISTS else []
        for value in [raw, *pieces] if raw else []:
            value = value.strip()
            if not value:
                continue
            for form in {value, repr(value)[1:-1], repr(value.encode("utf-8", "replace"))[2:-1]}:
                text = text.replace(form, "***")
    return text


def _mail_backend(environ: Mapping[str, str], has_key: bool) -> str:
    backend = environ.get("NOTICES_MAIL_BACKEND") or ("sendgrid" if has_key else "outbox")
    if backend not in MAIL_BACKENDS:
        raise ConfigError(
            f"NOTICES_MAIL_BACKEND={backend!r} is not a mail backend",
            hint=f"use one of: {', '.join(MAIL_BACKENDS)}",
        )
    return backend


MIN_EVENTS_KEY = 32


def _usable_key(key: str) -> bool:
    """An HMAC key we accept: long enough, ASCII, no spaces (so it survives env files)."""
    return len(key) >= MIN_EVENTS_KEY and key.isascii() and not any(c.isspace() for c in key)


def _events_key(environ: Mapping[str, str]) -> Secret | None:
    """NOTICES_EVENTS_KEY, the MAC key of our events' custom args; never echoed."""
    key = environ.get("NOTICES_EVENTS_KEY")
    if not key:
        return None
    if not _usable_key(key):
        raise ConfigError(
            f"NOTICES_EVENTS_KEY must be at least {MIN_EVENTS_KEY} ASCII characters, no spaces",
            hint="use `python -c 'import secrets; print(secrets.token_hex(32))'`, "
            "or unset it to keep a generated key in var/events.key",
        )
    return Secret(key)


def _consent_keys(environ: Mapping[str, str]) -> tuple[Secret, ...]:
    """NOTICES_CONSENT_KEYS, comma-separated, newest first: the first signs consent links and
    every one verifies them, so a key added in front never breaks links already mailed."""
    raw = environ.get("NOTICES_CONSENT_KEYS", "")
    keys = [key.strip() for key in raw.split(",")] if raw.strip() else []
    for number, key in enumerate(keys, start=1):
        if not _usable_key(key):
            raise ConfigError(
                f"key {number} of NOTICES_CONSENT_KEYS must be at least {MIN_EVENTS_KEY} ASCII "
                "characters, no spaces",
                hint="separate keys with commas, the signing key first; make one with "
                "`python -c 'import secrets; print(secrets.token_hex(32))'`",
            )
    return tuple(Secret(key) for key in keys)


def in_locale(texts: Mapping[str, str], locale: str, default: str) -> str:
    """The text written for `locale`, else for the default locale, else the first."""
    return texts.get(locale) or texts.get(default) or next(iter(texts.values()), "")


def _per_locale(value: str | Mapping[str, str], default: str) -> dict[str, str]:
    return dict(value) if not isinstance(value, str) else {default: value}


def _local(value: str | Mapping[str, str], default: str) -> str:
    return in_locale(_per_locale(value, default), default, default)


def load_settings(repo: Path, environ: Mapping[str, str]) -> Settings:
    """Read `repo/notices.toml` and the environment into validated `Settings`."""
    from notifier.settings.schema import validated  # pydantic: paid by commands that load settings

    file = validated(Source.read(repo / SETTINGS_FILE))
    notices, sender, mail, smtp = file.notices, file.sender, file.mail, file.smtp
    api_key = _api_key(environ)
    smtp_password = environ.get("NOTICES_SMTP_PASSWORD")
    return Settings(
        repo=repo,
        notices_dir=repo / notices.directory,
        default_locale=notices.default_locale,
        required_locales=notices.required_locales,
        timezone=ZoneInfo(notices.timezone),
        notice_period=timedelta(days=notices.notice_period_days),
        sender_email=sender.email,
        sender_name=_local(sender.name, notices.default_locale),
        reply_to=sender.reply_to,
        contact_url=file.contact.url,
        contact_postal_address=_local(file.contact.postal_address, notices.default_locale),
        sender_names=_per_locale(sender.name, notices.default_locale),
        postal_addresses=_per_locale(file.contact.postal_address, notices.default_locale),
        site_url=file.site.url,
        site_title=_local(file.site.title, notices.default_locale),
        site_titles=_per_locale(file.site.title, notices.default_locale),
        services={key: Service(id=key, names=names) for key, names in file.services.items()},
        database_url=_database_url(environ, repo),
        mail_backend=_mail_backend(environ, bool(api_key)),
        mail_batch_size=mail.batch_size,
        mail_timeout=mail.timeout_seconds,
        mail_max_retries=mail.max_retries,
        sendgrid_api_key=api_key,
        sendgrid_api_host=_api_host(environ),
        smtp_host=smtp.host,
        smtp_port=smtp.port,
        smtp_starttls=smtp.starttls,
        smtp_username=smtp.username,
        smtp_password=Secret(smtp_password) if smtp_password else None,
        webhook_public_key=file.events.public_key,
        events_key=_events_key(environ),
        consent_url=file.consent.url,
        consent_grace_days=file.consent.grace_days,
        consent_reminder_days=file.consent.reminder_days,
        consent_record_client=file.consent.record_client,
        consent_keys=_consent_keys(environ),
        materiality_overrides=file.materiality,
        lint_overrides=file.lint,
        laws=notices.laws,
    )
