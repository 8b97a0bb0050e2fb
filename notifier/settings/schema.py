"""notices.toml as one declarative schema: a pydantic model per table, strict and closed.

Strict: "30" is not an integer and 1 is not true. Closed: an unknown key is an error, never
ignored. Checks that need the packaged rules (`[materiality]`, `[lint]`) ask the statement layer
for their names only when those tables name rules. `validated` reports the first problem in the
file's order as one `ConfigError`: file:line, the key, what is wrong and what to do.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Annotated, Any, TypeVar, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidatorFunctionWrapHandler,
    WrapValidator,
    model_validator,
)
from pydantic_core import ErrorDetails

from notifier.errors import ConfigError
from notifier.rules import LintNames, MaterialityNames
from notifier.settings import SETTINGS_FILE, is_url
from notifier.settings.source import Source

Say = Callable[[str, Any], str]  # the message, given the setting's dotted key and its value
Hint = Callable[[str], str] | str | None  # the hint, or a function of the dotted key


class Refusal(ValueError):
    """A check's verdict on a setting, told in our words once its key is known. `at` names the
    keys below the value checked (the rule id when a whole [materiality] table is checked)."""

    def __init__(self, say: Say, value: Any, hint: Hint = None, at: tuple[str, ...] = ()) -> None:
        super().__init__("refused")
        self.say, self.value, self.hint, self.at = say, value, hint, at

    def told(self, key: str) -> tuple[str, str | None]:
        return self.say(key, self.value), self.hint(key) if callable(self.hint) else self.hint


def _check(ok: Callable[[Any], bool], say: Say, hint: Hint = None) -> AfterValidator:
    """A condition on a value that already has the right type."""

    def check(value: Any) -> Any:
        if not ok(value):
            raise Refusal(say, value, hint)
        return value

    return AfterValidator(check)


def _as_a_whole(say: Say, hint: Hint) -> WrapValidator:
    """Any fault inside a value (an item of a list, an entry of a table) is told as one sentence
    about the whole value."""

    def wrap(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        try:
            return handler(value)
        except ValidationError:
            raise Refusal(say, value, hint) from None

    return WrapValidator(wrap)


def _not_blank(word: str) -> str:
    if not word.strip():
        raise ValueError("a blank word")
    return word


def _name(key: str) -> str:
    return key.rpartition(".")[2]


def _fix(key: str) -> str:
    return f"fix '{_name(key)}' in the [{key.rpartition('.')[0]}] table"


def _or(words: tuple[str, ...]) -> str:
    return f"{', '.join(words[:-1])} or {words[-1]}" if len(words) > 1 else "".join(words)


def _span(ids: tuple[str, ...]) -> str:
    return f"{ids[0]}–{ids[-1]}" if ids else "none"


def _materiality() -> MaterialityNames:
    from notifier.rules import materiality_names  # YAML: only when rules are named

    return materiality_names()


def _lint() -> LintNames:
    from notifier.rules import lint_names  # YAML: only when rules are named

    return lint_names()


# --- value types -----------------------------------------------------------------------------

_Text = Annotated[str, Field(strict=True)]
_WordList = tuple[Annotated[_Text, AfterValidator(_not_blank)], ...]
_ARRAY = Field(strict=False)  # a TOML array is a list, not a tuple; its items stay strict

Words = Annotated[
    _WordList,
    _ARRAY,
    _as_a_whole(
        lambda key, _: f"setting '{key}' must be a list of non-empty strings",
        lambda key: f'write it as {_name(key)} = ["…", "…"]',
    ),
]
WordGroups = Annotated[
    tuple[Annotated[_WordList, _ARRAY], ...],
    _ARRAY,
    _as_a_whole(
        lambda key, _: f"setting '{key}' must be a list of lists of words",
        lambda key: f'write it as {_name(key)} = [["…", "…"]]',
    ),
    _check(
        lambda groups: all(len(group) >= 2 for group in groups),
        lambda key, _: f"each group in '{key}' needs at least two words",
        "a group lists words that count as one",
    ),
]
LOCALE_CODE = re.compile(r"^[a-z]{2,3}(?:-[A-Za-z0-9]{2,8})*$")  # as notice files are named
LocaleCodes = Annotated[
    tuple[_Text, ...],
    _ARRAY,
    _as_a_whole(
        lambda key, _: f"setting '{key}' must be a list of locales",
        lambda key: f'write it as {_name(key)} = ["en"]',
    ),
    _check(
        lambda codes: all(LOCALE_CODE.match(code) for code in codes),
        lambda key, codes: f"setting '{key}' holds something that is no locale: {list(codes)}",
        "name locales as the notice files are named, e.g. en or zh-CN",
    ),
]
RuleIds = Annotated[
    tuple[_Text, ...],
    _ARRAY,
    _as_a_whole(lambda key, _: f"setting '{key}' must be a list of rule ids", 'e.g. ["L12"]'),
]


def _is_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return False
    return True


# Not email-validator: importing it costs ~20 ms, as much as starting Python, on every command.
_ADDRESS = re.compile(r"^[^@\s<>\"(),;:]+@[^@\s<>\"(),;:]+\.[^@\s<>\"(),;:]+$")


def _url(schemes: tuple[str, ...], *, required: bool) -> AfterValidator:
    """URLs go into every mail and page: a typo must stop, not be sent."""
    return _check(
        lambda url: (not url and not required) or is_url(url, schemes),
        lambda key, url: f"setting '{key}' is not an absolute {'/'.join(schemes)} URL: {url!r}",
        "write the whole address, e.g. https://privacy.example.com/",
    )


def _address(*, required: bool) -> AfterValidator:
    return _check(
        lambda address: (not address and not required) or bool(_ADDRESS.match(address)),
        lambda key, address: f"setting '{key}' is not a mail address: {address!r}",
        "write it as name@example.com",
    )


TimeZoneName = Annotated[
    str,
    _check(
        _is_zone,
        lambda key, name: f"setting '{key}' names no known time zone: {name!r}",
        "use an IANA name such as Asia/Shanghai",
    ),
]
Tier = Annotated[
    str,
    _check(
        lambda tier: tier in _materiality().tiers,
        lambda key, tier: (
            f"setting '{key}' must be one of {', '.join(_materiality().tiers)}, not {tier!r}"
        ),
        lambda _: ", ".join(f"{tier} {what}" for tier, what in _materiality().tiers.items()),
    ),
]


def _unknown_categories(watch: tuple[str, ...]) -> list[str]:
    return [category for category in watch if category not in _materiality().categories]


Categories = Annotated[
    Words,
    _check(
        lambda watch: not _unknown_categories(watch),
        lambda key, watch: (
            f"setting '{key}' names unknown section categories: "
            + ", ".join(_unknown_categories(watch))
        ),
        lambda _: f"known categories: {', '.join(sorted(_materiality().categories))}",
    ),
]
Severity = Annotated[
    str,
    _check(
        lambda severity: severity in _lint().severities,
        lambda key, severity: (
            f"setting '{key}' must be {_or(_lint().severities)}, not {severity!r}"
        ),
        _fix,
    ),
]


def _not_positive(key: str, value: Any) -> str:
    return f"setting '{key}' must be a positive integer, not {value!r}"


Threshold = Annotated[
    int,
    _as_a_whole(_not_positive, _fix),
    _check(lambda count: count >= 1, _not_positive, lambda key: f"write e.g. {_name(key)} = 3"),
]
ServiceNames = Annotated[
    dict[str, _Text],
    _as_a_whole(
        lambda key, _: f"setting '{key}' must map locales to display names",
        lambda key: f'write [{key}] with lines like zh-CN = "名称"',
    ),
]


# --- the tables ------------------------------------------------------------------------------


class _Table(BaseModel):
    """A table of notices.toml: no unknown keys, no conversions."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    @classmethod
    def known_hint(cls, table: str) -> str:
        """The hint for an unknown key in this table."""
        return f"known settings in [{table}]: {', '.join(cls.model_fields)}"


# The law a notice is written under, as the citation prefixes its public pages may name
# (`privacy = ["PIPL", "GB/T 35273"]`); a notice without an entry cites nothing.
Laws = dict[_Text, Words]


class NoticesTable(_Table):
    directory: str = "notices"
    default_locale: str = "zh-CN"
    # translations that must move with every release (others lagging behind only warn)
    required_locales: LocaleCodes = ()
    timezone: TimeZoneName = "Asia/Shanghai"
    notice_period_days: Annotated[
        int,
        _check(
            lambda days: days >= 0,
            lambda key, _: f"setting '{key}' must not be negative",
            "give the days between the mail and the effective date, e.g. 30",
        ),
    ] = 30
    laws: Laws = Field(default_factory=dict)


# A text customers read: one string, or a table of it per locale (`[sender.name]`, `en = "…"`).
LocalText = Annotated[
    _Text | dict[_Text, _Text],
    _as_a_whole(
        lambda key, _: f"setting '{key}' must be text, or a table of text per locale",
        lambda key: f'write it as {_name(key)} = "…", or as a [{key}] table with en = "…"',
    ),
]


class SenderTable(_Table):
    email: Annotated[str, _address(required=True)] = "privacy-notices@example.com"
    name: LocalText = "Privacy notices"
    reply_to: Annotated[str, _address(required=False)] = ""


class ContactTable(_Table):
    url: Annotated[str, _url(("http", "https", "mailto"), required=False)] = ""
    postal_address: LocalText = ""


class SiteTable(_Table):
    url: Annotated[str, _url(("http", "https"), required=True)] = "https://privacy.example.com/"
    title: LocalText = "Privacy statement"  # the site's name, per language like [sender] name


class MailTable(_Table):
    batch_size: Annotated[
        int,
        _check(
            lambda size: 1 <= size <= 1000,
            lambda key, _: f"setting '{key}' must be between 1 and 1000",
            "SendGrid accepts at most 1000 personalizations per request",
        ),
    ] = 1000
    timeout_seconds: float = 30.0
    max_retries: int = 5


class SmtpTable(_Table):
    host: str = "127.0.0.1"
    port: int = 587
    starttls: bool = True
    username: str = ""


class EventsTable(_Table):
    public_key: str = ""


_Days = Annotated[
    int,
    _check(
        lambda days: days >= 0,
        lambda key, _: f"setting '{key}' must not be negative",
        "give a number of days, e.g. 7",
    ),
]


class ConsentTable(_Table):
    # the public address of `notices consent serve`, as customers' links name it
    url: Annotated[str, _url(("http", "https"), required=False)] = ""
    grace_days: _Days = 30  # links keep working this long after the effective date
    reminder_days: _Days = 7  # one reminder this many days before the effective date
    record_client: bool = False  # keep a truncated IP address and the browser's product name


class MaterialityRule(_Table):
    """[materiality.rules.<id>]: a material rule's tiers, watched sections and extra keywords."""

    tier: Tier | None = None
    tier_favourable: Tier | None = None
    tier_changed: Tier | None = None
    watch: Categories | None = None  # [] watches every section
    keywords_zh: Words = ()
    keywords_en: Words = ()


class MaterialityTable(_Table):
    """[materiality]: rules disabled or tuned, and words that count as one."""

    disabled: Words = ()
    rules: dict[str, MaterialityRule] = Field(default_factory=dict)
    synonyms: WordGroups = ()
    renames: WordGroups = ()
    boilerplate: Words = ()

    @model_validator(mode="after")
    def _known_rules(self) -> MaterialityTable:
        if not self.disabled and not self.rules:
            return self
        names = _materiality()
        unknown = sorted(set(self.disabled) - {*names.rules, *names.quiet})
        if unknown:
            raise Refusal(
                lambda key, _: f"setting '{key}' names unknown rules: {', '.join(unknown)}",
                self.disabled,
                f"rules are {_span(names.rules)} (material) and {_span(names.quiet)} (quiet)",
                at=("disabled",),
            )
        stranger = next((rule for rule in self.rules if rule not in names.rules), None)
        if stranger is not None:
            raise Refusal(
                lambda key, _: f"unknown materiality rule '{stranger}' in [{key}]",
                stranger,
                f"only {_span(names.rules)} can be tuned; {_span(names.quiet)} can only be "
                "disabled",
                at=("rules", stranger),
            )
        return self


def _lint_keys(rule: str) -> tuple[str, ...]:
    return ("severity", "threshold") if rule in _lint().thresholds else ("severity",)


class LintRuleTable(_Table):
    """[lint.rules.<id>]: a lint rule's severity, and its threshold where it counts something."""

    severity: Severity | None = None
    threshold: Threshold | None = None

    @classmethod
    def known_hint(cls, table: str) -> str:
        rule = _name(table)
        if rule not in _lint().rules:
            return f"there is no lint rule {rule}; known lint rules: {', '.join(_lint().rules)}"
        return f"settings of {rule}: {', '.join(_lint_keys(rule))}"


class LintTable(_Table):
    """[lint]: rules disabled or with another severity or threshold."""

    disabled: RuleIds = ()
    rules: dict[str, LintRuleTable] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _known_rules(self) -> LintTable:
        if not self.disabled and not self.rules:
            return self
        known = _lint().rules
        hint = f"known lint rules: {', '.join(known)}"
        unknown = next((rule for rule in self.disabled if rule not in known), None)
        if unknown is not None:
            raise Refusal(
                lambda key, _: f"unknown lint rule '{unknown}' in '{key}'",
                unknown,
                hint,
                at=("disabled",),
            )
        stranger = next((rule for rule in self.rules if rule not in known), None)
        if stranger is not None:
            raise Refusal(
                lambda key, _: f"unknown lint rule '{key}'", stranger, hint, at=("rules", stranger)
            )
        counted = next(
            (rule for rule, table in self.rules.items() if table.threshold is not None), None
        )
        if counted is not None and "threshold" not in _lint_keys(counted):
            raise Refusal(
                lambda key, _: f"unknown setting '{key}'",
                counted,
                LintRuleTable.known_hint(counted),
                at=("rules", counted, "threshold"),
            )
        return self


class SettingsFile(_Table):
    """The whole of notices.toml; a missing table has its defaults."""

    notices: NoticesTable = NoticesTable()
    sender: SenderTable = SenderTable()
    contact: ContactTable = ContactTable()
    site: SiteTable = SiteTable()
    mail: MailTable = MailTable()
    smtp: SmtpTable = SmtpTable()
    events: EventsTable = EventsTable()
    consent: ConsentTable = ConsentTable()
    services: dict[str, ServiceNames] = Field(default_factory=dict)
    materiality: MaterialityTable = MaterialityTable()
    lint: LintTable = LintTable()


# --- validating, and telling the first problem -----------------------------------------------

_Model = TypeVar("_Model", bound=_Table)
_KINDS = {
    "int_type": "an integer",
    "float_type": "a number",
    "bool_type": "true or false",
    "string_type": "a string",
}


def validated(source: Source) -> SettingsFile:
    """notices.toml checked against the schema."""
    return _validate(SettingsFile, source.parsed(), source, ())


def materiality_table(raw: Mapping[str, Any], path: Path | str | None = None) -> MaterialityTable:
    """A `[materiality]` table given as a mapping (by a script or a test), checked the same way;
    errors name `path` (default notices.toml) without a line."""
    return _validate(MaterialityTable, raw, Source(path or SETTINGS_FILE), ("materiality",))


def lint_table(raw: Mapping[str, Any], path: Path | str | None = None) -> LintTable:
    """A `[lint]` table given as a mapping, checked the same way (see `materiality_table`)."""
    return _validate(LintTable, raw, Source(path or SETTINGS_FILE), ("lint",))


def _validate(
    model: type[_Model], raw: Mapping[str, Any], source: Source, within: tuple[str, ...]
) -> _Model:
    try:
        return model.model_validate(dict(raw))
    except ValidationError as error:
        problems = [_problem(detail, source, within) for detail in error.errors()]
        raise min(problems, key=lambda problem: problem.line or float("inf")) from None


def _problem(detail: ErrorDetails, source: Source, within: tuple[str, ...]) -> ConfigError:
    location = (*within, *(part for part in detail["loc"] if isinstance(part, str)))
    refusal = (detail.get("ctx") or {}).get("error")
    if isinstance(refusal, Refusal):
        location = (*location, *refusal.at)
        message, hint = refusal.told(".".join(location))
    else:
        message, hint = _told(detail, location)
    return ConfigError(message, path=source.path, line=source.line_of(location), hint=hint)


def _told(detail: ErrorDetails, location: tuple[str, ...]) -> tuple[str, str | None]:
    """pydantic's own errors (unknown key, wrong type) in the words of every other setting error."""
    key, table = ".".join(location), ".".join(location[:-1])
    kind = detail["type"]
    if kind == "extra_forbidden" and not table:
        return (
            f"unknown table [{key}]",
            f"known tables: {', '.join(sorted(SettingsFile.model_fields))}",
        )
    if kind == "extra_forbidden":
        model = _table_at(location[:-1])
        return f"unknown setting '{key}'", model.known_hint(table) if model else None
    if kind in ("dict_type", "model_type"):
        return f"'{key}' must be a table", f"write it as [{key}]"
    must = f"must be {_KINDS[kind]}" if kind in _KINDS else f"is not valid ({detail['msg']})"
    return f"setting '{key}' {must}, not {detail['input']!r}", _fix(key)


def _table_at(location: tuple[str, ...]) -> type[_Table] | None:
    """The model of the table at `location`, following fields and table-of-tables entries."""
    kind: Any = SettingsFile
    for part in location:
        if isinstance(kind, type) and issubclass(kind, _Table):
            field = kind.model_fields.get(part)
            kind = field.annotation if field is not None else None
        else:
            kind = get_args(kind)[-1] if get_args(kind) else None
    return kind if isinstance(kind, type) and issubclass(kind, _Table) else None
