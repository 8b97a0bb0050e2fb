"""Settings: notices.toml plus the environment, read once into a frozen `Settings`.

Only this module reads the environment. Unknown keys and wrong types are errors naming the key,
because a misspelt `notice_period_days` must never silently fall back to a default.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from notifier.errors import ConfigError

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
    timezone: ZoneInfo
    notice_period: timedelta
    sender_email: str
    sender_name: str
    reply_to: str
    contact_url: str
    contact_postal_address: str
    site_url: str
    site_title: str
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
    materiality_overrides: Mapping[str, Any] = field(default_factory=dict)
    lint_overrides: Mapping[str, Any] = field(default_factory=dict)

    @property
    def var_dir(self) -> Path:
        """Runtime state (database, outbox, proofs): never committed, never published."""
        return self.repo / "var"

    @property
    def outbox_dir(self) -> Path:
        return self.var_dir / "outbox"

    @property
    def site_dir(self) -> Path:
        return self.repo / "build" / "site"


# Each key: (type, default). A nested dict is a table; `None` type means a free-form table.
_SCHEMA: dict[str, dict[str, tuple[type | None, Any]]] = {
    "notices": {
        "directory": (str, "notices"),
        "default_locale": (str, "zh-CN"),
        "timezone": (str, "Asia/Shanghai"),
        "notice_period_days": (int, 30),
    },
    "sender": {
        "email": (str, "privacy-notices@example.com"),
        "name": (str, "Privacy notices"),
        "reply_to": (str, ""),
    },
    "contact": {"url": (str, ""), "postal_address": (str, "")},
    "site": {"url": (str, "https://privacy.example.com/"), "title": (str, "Privacy statement")},
    "mail": {"batch_size": (int, 1000), "timeout_seconds": (float, 30.0), "max_retries": (int, 5)},
    "smtp": {
        "host": (str, "127.0.0.1"),
        "port": (int, 587),
        "starttls": (bool, True),
        "username": (str, ""),
    },
    "events": {"public_key": (str, "")},
}
_FREE_TABLES = ("services", "materiality", "lint")


def _type_name(kind: type) -> str:
    return {str: "a string", int: "an integer", float: "a number", bool: "true or false"}[kind]


class _Source:
    """notices.toml as read: its path and text, to name the line of a setting in an error."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.text = ""
        if path.exists():
            try:
                self.text = path.read_text(encoding="utf-8")
            except UnicodeDecodeError as error:
                line = error.object[: error.start].count(b"\n") + 1
                raise ConfigError(
                    "not UTF-8 text", path=path, line=line, hint="save it as UTF-8"
                ) from error

    def parsed(self) -> dict[str, Any]:
        try:
            return tomllib.loads(self.text)
        except tomllib.TOMLDecodeError as error:
            found = re.search(r"at line (\d+)", str(error))
            line = int(found.group(1)) if found else None
            raise ConfigError(f"invalid TOML: {error}", path=self.path, line=line) from error

    def line(self, table: str, key: str | None = None) -> int | None:
        """The line of `[table]` (table '' is the top level) or of `key` in it; None when it is
        written another way (a dotted key, an inline table)."""
        current = ""
        for number, text in enumerate(self.text.split("\n"), start=1):
            header = _TABLE_HEADER.match(text)
            if header:
                current = re.sub(r"\s+", "", header.group(1))
                if key is None and (current == table or current.startswith(table + ".")):
                    return number
            elif key is not None and current == table:
                found = _KEY_LINE.match(text)
                if found and found.group(1).strip("\"'") == key:
                    return number
        return None

    def error(
        self, message: str, table: str, key: str | None = None, hint: str | None = None
    ) -> ConfigError:
        return ConfigError(message, path=self.path, line=self.line(table, key), hint=hint)


_TABLE_HEADER = re.compile(r"^\s*\[\s*([^\[\]]+?)\s*\]\s*(?:#.*)?$")
_KEY_LINE = re.compile(r"""^\s*([\w-]+|"[^"]*"|'[^']*')\s*=""")


def _checked(table: str, key: str, value: Any, kind: type, source: _Source) -> Any:
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise source.error(
            f"setting '{table}.{key}' must be {_type_name(kind)}, not {value!r}",
            table,
            key,
            hint=f"fix '{key}' in the [{table}] table",
        )
    return value


def _validated(raw: Mapping[str, Any], source: _Source) -> dict[str, dict[str, Any]]:
    values: dict[str, dict[str, Any]] = {}
    for table, value in raw.items():
        # a table's header line, or the line of a top-level `key = value`
        parent, key = (table, None) if isinstance(value, dict) else ("", table)
        if table not in _SCHEMA and table not in _FREE_TABLES:
            known = ", ".join(sorted([*_SCHEMA, *_FREE_TABLES]))
            raise source.error(
                f"unknown table [{table}]", parent, key, hint=f"known tables: {known}"
            )
        if not isinstance(value, dict):
            raise source.error(
                f"'{table}' must be a table", parent, key, hint=f"write it as [{table}]"
            )
    for table, spec in _SCHEMA.items():
        given = dict(raw.get(table, {}))
        for key in given:
            if key not in spec:
                raise source.error(
                    f"unknown setting '{table}.{key}'",
                    table,
                    key,
                    hint=f"known settings in [{table}]: {', '.join(spec)}",
                )
        values[table] = {
            key: _checked(table, key, given[key], kind, source) if key in given else default
            for key, (kind, default) in spec.items()
            if kind is not None
        }
    for table in _FREE_TABLES:
        values[table] = dict(raw.get(table, {}))
    return values


def _services(raw: Mapping[str, Any], source: _Source) -> dict[str, Service]:
    services: dict[str, Service] = {}
    for service_id, names in raw.items():
        if not isinstance(names, dict) or not all(isinstance(v, str) for v in names.values()):
            raise source.error(
                f"setting 'services.{service_id}' must map locales to display names",
                f"services.{service_id}",
                hint=f'write [services.{service_id}] with lines like zh-CN = "名称"',
            )
        services[service_id] = Service(id=service_id, names=dict(names))
    return services


def _check_addresses(values: Mapping[str, Mapping[str, Any]], source: _Source) -> None:
    """URLs and mail addresses go into every mail and page: a typo must stop, not be sent."""
    checks = (
        ("site", "url", ("http", "https"), True),
        ("contact", "url", ("http", "https", "mailto"), False),
    )
    for table, key, schemes, required in checks:
        value = values[table][key]
        if (value or required) and not _is_url(value, schemes):
            raise source.error(
                f"setting '{table}.{key}' is not an absolute {'/'.join(schemes)} URL: {value!r}",
                table,
                key,
                hint="write the whole address, e.g. https://privacy.example.com/",
            )
    for key in ("email", "reply_to"):
        value = values["sender"][key]
        if (value or key == "email") and not _EMAIL.match(value):
            raise source.error(
                f"setting 'sender.{key}' is not a mail address: {value!r}",
                "sender",
                key,
                hint="write it as name@example.com",
            )


_EMAIL = re.compile(r"^[^@\s<>\"(),;:]+@[^@\s<>\"(),;:]+\.[^@\s<>\"(),;:]+$")


def _is_url(value: str, schemes: tuple[str, ...]) -> bool:
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
    file = url.partition(":///")[2].partition("?")[0]  # '' for sqlite:// (in memory)
    if scheme.startswith("sqlite") and file and Path(file).is_dir():
        raise ConfigError("NOTICES_DATABASE_URL points at a folder, not a database file", hint=hint)
    return url


_DATABASE_SCHEME = re.compile(r"^(?:sqlite|postgresql)(?:\+\w+)?$")


def _api_host(environ: Mapping[str, str]) -> str:
    host = environ.get("SENDGRID_API_HOST") or DEFAULT_SENDGRID_HOST
    if not _is_url(host, ("http", "https")):
        raise ConfigError(
            f"SENDGRID_API_HOST is not an http(s) URL: {host!r}",
            hint=f"unset it for {DEFAULT_SENDGRID_HOST}, or give a regional endpoint's URL",
        )
    return host


def _mail_backend(environ: Mapping[str, str], has_key: bool) -> str:
    backend = environ.get("NOTICES_MAIL_BACKEND") or ("sendgrid" if has_key else "outbox")
    if backend not in MAIL_BACKENDS:
        raise ConfigError(
            f"NOTICES_MAIL_BACKEND={backend!r} is not a mail backend",
            hint=f"use one of: {', '.join(MAIL_BACKENDS)}",
        )
    return backend


def load_settings(repo: Path, environ: Mapping[str, str]) -> Settings:
    """Read `repo/notices.toml` and the environment into validated `Settings`."""
    source = _Source(repo / SETTINGS_FILE)
    values = _validated(source.parsed(), source)
    notices = values["notices"]
    try:
        timezone = ZoneInfo(notices["timezone"])
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise source.error(
            f"setting 'notices.timezone' names no known time zone: {notices['timezone']!r}",
            "notices",
            "timezone",
            hint="use an IANA name such as Asia/Shanghai",
        ) from error
    if notices["notice_period_days"] < 0:
        raise source.error(
            "setting 'notices.notice_period_days' must not be negative",
            "notices",
            "notice_period_days",
        )
    if values["mail"]["batch_size"] < 1 or values["mail"]["batch_size"] > 1000:
        raise source.error(
            "setting 'mail.batch_size' must be between 1 and 1000",
            "mail",
            "batch_size",
            hint="SendGrid accepts at most 1000 personalizations per request",
        )
    _check_addresses(values, source)
    api_key = environ.get("SENDGRID_API_KEY")
    smtp_password = environ.get("NOTICES_SMTP_PASSWORD")
    return Settings(
        repo=repo,
        notices_dir=repo / notices["directory"],
        default_locale=notices["default_locale"],
        timezone=timezone,
        notice_period=timedelta(days=notices["notice_period_days"]),
        sender_email=values["sender"]["email"],
        sender_name=values["sender"]["name"],
        reply_to=values["sender"]["reply_to"],
        contact_url=values["contact"]["url"],
        contact_postal_address=values["contact"]["postal_address"],
        site_url=values["site"]["url"],
        site_title=values["site"]["title"],
        services=_services(values["services"], source),
        database_url=_database_url(environ, repo),
        mail_backend=_mail_backend(environ, bool(api_key)),
        mail_batch_size=values["mail"]["batch_size"],
        mail_timeout=values["mail"]["timeout_seconds"],
        mail_max_retries=values["mail"]["max_retries"],
        sendgrid_api_key=Secret(api_key) if api_key else None,
        sendgrid_api_host=_api_host(environ),
        smtp_host=values["smtp"]["host"],
        smtp_port=values["smtp"]["port"],
        smtp_starttls=values["smtp"]["starttls"],
        smtp_username=values["smtp"]["username"],
        smtp_password=Secret(smtp_password) if smtp_password else None,
        webhook_public_key=values["events"]["public_key"],
        materiality_overrides=values["materiality"],
        lint_overrides=values["lint"],
    )
