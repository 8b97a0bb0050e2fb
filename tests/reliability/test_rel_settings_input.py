"""Bad input (issue #10), settings: notices.toml and the environment.

A misspelt or mistyped setting must stop every command before it writes anything, with one line
naming notices.toml and the line of the setting; a bad environment variable is named (its value
is not printed when it may hold a password). The command run is `customers import` of a valid
CSV, which would otherwise add and update customers.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from support.reliability import VERSION, Prop, error_line, prior_state, record, refused
from support.repos import SETTINGS

GROUP = "settings"
PROJECT_SETTINGS = SETTINGS.read_text(encoding="utf-8")
GOOD_CSV = "email,name,locale,services\nli.na@example.com,李娜,zh-CN,azure\n"


def _replace(old: str, new: str) -> Callable[[], str]:
    def edit() -> str:
        assert old in PROJECT_SETTINGS
        return PROJECT_SETTINGS.replace(old, new, 1)

    return edit


def _append(table: str) -> Callable[[], str]:
    return lambda: PROJECT_SETTINGS + "\n" + table


# case → (notices.toml text, a fragment of the line the error must name, expected message)
TOML: dict[str, tuple[Callable[[], str], str, str]] = {
    "unknown table": (
        lambda: PROJECT_SETTINGS + "\n[sendgird]\nkey = 1\n",
        "[sendgird]",
        "unknown table [sendgird]",
    ),
    "misspelt key": (
        _replace("notice_period_days = 30", "notice_period_day = 30"),
        "notice_period_day =",
        "unknown setting 'notices.notice_period_day'",
    ),
    "number written as text": (
        _replace("notice_period_days = 30", 'notice_period_days = "30"'),
        "notice_period_days =",
        "setting 'notices.notice_period_days' must be an integer, not '30'",
    ),
    "broken TOML (unclosed table header)": (
        _replace("[sender]", "[sender"),
        "[sender",
        "invalid TOML: Expected ']' at the end of a table declaration",
    ),
    "unknown time zone": (
        _replace('timezone = "Asia/Shanghai"', 'timezone = "Asia/Beijing"'),
        "timezone =",
        "setting 'notices.timezone' names no known time zone: 'Asia/Beijing'",
    ),
    "site URL without a scheme": (
        _replace('url = "https://privacy.example.com/"', 'url = "privacy.example.com"'),
        'url = "privacy.example.com"',
        "setting 'site.url' is not an absolute http/https URL: 'privacy.example.com'",
    ),
    "javascript: contact URL": (
        _replace('url = "https://support.example.com/"', 'url = "javascript:alert(1)"'),
        'url = "javascript:alert(1)"',
        "setting 'contact.url' is not an absolute http/https/mailto URL",
    ),
    "sender address that is not an address": (
        _replace('email = "privacy-notices@example.com"', 'email = "隐私声明通知"'),
        'email = "隐私声明通知"',
        "setting 'sender.email' is not a mail address: '隐私声明通知'",
    ),
    "service without display names": (
        lambda: PROJECT_SETTINGS + "\n[services.xbox]\nzh-CN = 1\n",
        "[services.xbox]",
        "setting 'services.xbox' must map locales to display names",
    ),
    "service written as one name, not names per locale": (
        _append('[services]\nxbox = "Xbox"\n'),
        'xbox = "Xbox"',
        "setting 'services.xbox' must map locales to display names",
    ),
    "misspelt key in [sender]": (
        _replace('reply_to = "privacy@example.com"', 'replyto = "privacy@example.com"'),
        "replyto =",
        "unknown setting 'sender.replyto'",
    ),
    "misspelt key in [contact]": (
        _replace('url = "https://support', 'ulr = "https://support'),
        'ulr = "https://support',
        "unknown setting 'contact.ulr'",
    ),
    "misspelt key in [site]": (
        _replace('[site]\nurl = "https://privacy', '[site]\nulr = "https://privacy'),
        'ulr = "https://privacy',
        "unknown setting 'site.ulr'",
    ),
    "misspelt key in [mail]": (
        _replace("batch_size = 1000", "batch_sise = 1000"),
        "batch_sise =",
        "unknown setting 'mail.batch_sise'",
    ),
    "misspelt key in [smtp]": (
        _replace('host = "127.0.0.1"', 'hots = "127.0.0.1"'),
        "hots =",
        "unknown setting 'smtp.hots'",
    ),
    "misspelt key in [events]": (
        _append('[events]\npublickey = ""\n'),
        "publickey =",
        "unknown setting 'events.publickey'",
    ),
    "misspelt key in [materiality]": (
        _append('[materiality]\ndisable = ["M15"]\n'),
        "disable =",
        "unknown setting 'materiality.disable'",
    ),
    "misspelt key in [materiality.rules.M13]": (
        _append('[materiality.rules.M13]\ntiers = "T2"\n'),
        "tiers =",
        "unknown setting 'materiality.rules.M13.tiers'",
    ),
    "[lint] disabeld": (
        _append('[lint]\ndisabeld = ["L12"]\n'),
        "disabeld =",
        "unknown setting 'lint.disabeld' (hint: known settings in [lint]: disabled, rules)",
    ),
    "misspelt key in [lint.rules.L14]": (
        _append("[lint.rules.L14]\ntreshold = 6\n"),
        "treshold =",
        "unknown setting 'lint.rules.L14.treshold' (hint: settings of L14: severity, threshold)",
    ),
    "unknown rule in [materiality.rules.M99]": (
        _append('[materiality.rules.M99]\ntier = "T2"\n'),
        "[materiality.rules.M99]",
        "unknown materiality rule 'M99' in [materiality.rules.M99]",
    ),
    "unknown rule in [lint] disabled": (
        _append('[lint]\ndisabled = ["L99"]\n'),
        "disabled =",
        "unknown lint rule 'L99' in 'lint.disabled'",
    ),
    "bad tier": (
        _append('[materiality.rules.M13]\ntier = "T5"\n'),
        "tier =",
        "setting 'materiality.rules.M13.tier' must be one of T0, T1, T2, T3, not 'T5'",
    ),
    "bad severity": (
        _append('[lint.rules.L03]\nseverity = "fatal"\n'),
        "severity =",
        "setting 'lint.rules.L03.severity' must be error, warning or info, not 'fatal'",
    ),
    "threshold written as text": (
        _append('[lint.rules.L14]\nthreshold = "6"\n'),
        "threshold =",
        "setting 'lint.rules.L14.threshold' must be a positive integer, not '6'",
    ),
    "true for an integer": (
        _replace("max_retries = 5", "max_retries = true"),
        "max_retries =",
        "setting 'mail.max_retries' must be an integer, not True",
    ),
    "1 for true or false": (
        _replace("starttls = true", "starttls = 1"),
        "starttls =",
        "setting 'smtp.starttls' must be true or false, not 1",
    ),
}


@pytest.mark.parametrize("case", list(TOML))
def test_bad_settings_file_stops_before_writing(
    case: str, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory, record_property: Prop
) -> None:
    """When notices.toml has a bad setting, then one line names the file, the line and the
    setting, exit 1, and the import writes nothing."""
    make, fragment, message = TOML[case]
    text = make()
    line = text[: text.index(fragment)].count("\n") + 1
    repo = prior_state(tmp_path_factory, tmp_path)
    repo.write("notices.toml", text)
    listing = tmp_path / "customers.csv"
    listing.write_text(GOOD_CSV, encoding="utf-8")
    error = error_line(refused("customers", "import", str(listing), repo=repo.path))
    assert error.startswith(f"error: {repo.path / 'notices.toml'}:{line}: {message}"), error
    record(record_property, GROUP, case, error)


# case → (environment, command, expected message, text that must never be printed)
ENVIRONMENT: dict[str, tuple[dict[str, str], tuple[str, ...], str, str | None]] = {
    "NOTICES_DATABASE_URL that is not a URL": (
        {"NOTICES_DATABASE_URL": "notices.db"},
        ("customers", "import"),
        "error: NOTICES_DATABASE_URL is not an SQLite or PostgreSQL URL",
        None,
    ),
    "NOTICES_DATABASE_URL of another database (MySQL)": (
        {"NOTICES_DATABASE_URL": "mysql://notices:s3cret-pw@127.0.0.1/notices"},
        ("customers", "import"),
        "error: NOTICES_DATABASE_URL is not an SQLite or PostgreSQL URL (it names 'mysql')",
        "s3cret-pw",
    ),
    "NOTICES_DATABASE_URL naming a folder": (
        {"NOTICES_DATABASE_URL": "sqlite:////tmp"},
        ("customers", "import"),
        "error: NOTICES_DATABASE_URL points at a folder, not a database file",
        None,
    ),
    "NOTICES_DATABASE_URL of a server that is down": (
        {"NOTICES_DATABASE_URL": "postgresql+psycopg://notices:s3cret-pw@127.0.0.1:1/notices"},
        ("customers", "import"),
        "error: cannot open the database postgresql+psycopg://notices:***@127.0.0.1:1/notices",
        "s3cret-pw",
    ),
    "NOTICES_MAIL_BACKEND unknown": (
        {"NOTICES_MAIL_BACKEND": "pigeon"},
        ("notify", "send", VERSION, "--early"),
        "error: NOTICES_MAIL_BACKEND='pigeon' is not a mail backend",
        None,
    ),
    "SENDGRID_API_HOST without a scheme": (
        {"SENDGRID_API_KEY": "SG.not.a.real.key", "SENDGRID_API_HOST": "api.sendgrid.com"},
        ("notify", "send", VERSION, "--early"),
        "error: SENDGRID_API_HOST is not an http(s) URL: 'api.sendgrid.com'",
        "SG.not.a.real.key",
    ),
}


@pytest.mark.parametrize("case", list(ENVIRONMENT))
def test_bad_environment_stops_before_writing(
    case: str, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory, record_property: Prop
) -> None:
    """When an environment variable is wrong, then one line names it (never a password),
    exit 1, and nothing is written to the database in use."""
    env, command, message, secret = ENVIRONMENT[case]
    repo = prior_state(tmp_path_factory, tmp_path)
    args = list(command)
    if command == ("customers", "import"):
        listing = tmp_path / "customers.csv"
        listing.write_text(GOOD_CSV, encoding="utf-8")
        args.append(str(listing))
    result = refused(*args, repo=repo.path, env=env, state_env={})
    error = error_line(result)
    assert error.startswith(message), error
    if secret is not None:
        assert secret not in result.err + result.out
    record(record_property, GROUP, case, error)
