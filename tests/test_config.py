"""Settings: notices.toml and the environment, validated once."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from support.repos import SETTINGS

from notifier.errors import ConfigError
from notifier.settings import load_settings
from notifier.statement.lint import load_lint_rules
from notifier.statement.materiality import load_rules


def _repo_with(tmp_path: Path, toml: str) -> Path:
    (tmp_path / "notices.toml").write_text(toml, encoding="utf-8")
    return tmp_path


def test_project_settings_load() -> None:
    """When the project's notices.toml is read, then the documented defaults are in force."""
    settings = load_settings(SETTINGS.parent, {})
    assert settings.notice_period == timedelta(days=30)
    assert settings.timezone.key == "Asia/Shanghai"
    assert sorted(settings.services) == ["azure", "office365", "powerbi"]
    assert settings.services["powerbi"].name("en") == "Power BI"
    assert settings.mail_backend == "outbox"
    assert settings.database_url == f"sqlite:///{SETTINGS.parent.as_posix()}/var/notices.db"


def test_unknown_key_is_named(tmp_path: Path) -> None:
    """When a setting is misspelt, then the error names the key and the file."""
    repo = _repo_with(tmp_path, "[notices]\nnotice_perid_days = 10\n")
    with pytest.raises(ConfigError) as raised:
        load_settings(repo, {})
    assert "notices.notice_perid_days" in str(raised.value)
    assert str(raised.value).startswith(f"{repo / 'notices.toml'}:2: unknown setting")


def test_unknown_table_is_named(tmp_path: Path) -> None:
    """When a table is unknown, then the error names it and lists the known ones."""
    repo = _repo_with(tmp_path, "[sendgird]\nkey = 1\n")
    with pytest.raises(ConfigError, match=r"unknown table \[sendgird\]"):
        load_settings(repo, {})


def test_wrong_type_is_named(tmp_path: Path) -> None:
    """When a setting has the wrong type, then the error names the key and the expected type."""
    repo = _repo_with(tmp_path, '[notices]\nnotice_period_days = "30"\n')
    with pytest.raises(ConfigError, match="'notices.notice_period_days' must be an integer"):
        load_settings(repo, {})


def test_bool_is_not_an_integer(tmp_path: Path) -> None:
    """When an integer setting is given true, then it is refused rather than read as 1."""
    repo = _repo_with(tmp_path, "[mail]\nbatch_size = true\n")
    with pytest.raises(ConfigError, match="'mail.batch_size' must be an integer"):
        load_settings(repo, {})


def test_broken_toml_names_the_line(tmp_path: Path) -> None:
    """When notices.toml is not TOML, then the error names the file and line."""
    repo = _repo_with(tmp_path, "[notices]\ntimezone = \n")
    with pytest.raises(ConfigError) as raised:
        load_settings(repo, {})
    assert raised.value.line == 2


def test_unknown_timezone(tmp_path: Path) -> None:
    """When the timezone is not an IANA name, then the error says so."""
    repo = _repo_with(tmp_path, '[notices]\ntimezone = "Beijing"\n')
    with pytest.raises(ConfigError, match="no known time zone"):
        load_settings(repo, {})


def test_batch_size_limit(tmp_path: Path) -> None:
    """When a batch would exceed SendGrid's 1000 personalizations, then it is refused."""
    repo = _repo_with(tmp_path, "[mail]\nbatch_size = 1001\n")
    with pytest.raises(ConfigError, match="between 1 and 1000"):
        load_settings(repo, {})


def test_environment_secrets_are_masked(tmp_path: Path) -> None:
    """When a SendGrid key is set, then sendgrid is the backend and the key never prints."""
    settings = load_settings(tmp_path, {"SENDGRID_API_KEY": "SG.test-key-value"})
    assert settings.mail_backend == "sendgrid"
    assert settings.sendgrid_api_key is not None
    assert settings.sendgrid_api_key.reveal() == "SG.test-key-value"
    assert "SG.test" not in repr(settings) and "SG.test" not in str(settings.sendgrid_api_key)


def test_environment_overrides(tmp_path: Path) -> None:
    """When the environment names a database, backend and API host, then they are used."""
    settings = load_settings(
        tmp_path,
        {
            "NOTICES_DATABASE_URL": "postgresql+psycopg://postgres@127.0.0.1/test",
            "NOTICES_MAIL_BACKEND": "smtp",
            "SENDGRID_API_HOST": "http://127.0.0.1:9999",
        },
    )
    assert settings.database_url.startswith("postgresql+psycopg://")
    assert settings.mail_backend == "smtp"
    assert settings.sendgrid_api_host == "http://127.0.0.1:9999"


def test_unknown_backend(tmp_path: Path) -> None:
    """When NOTICES_MAIL_BACKEND names no backend, then the error lists the valid ones."""
    with pytest.raises(ConfigError, match="outbox, sendgrid, smtp"):
        load_settings(tmp_path, {"NOTICES_MAIL_BACKEND": "pigeon"})


def _refusal(tmp_path: Path, toml: str) -> ConfigError:
    repo = _repo_with(tmp_path, toml)
    with pytest.raises(ConfigError) as raised:
        load_settings(repo, {})
    return raised.value


@pytest.mark.parametrize(
    ("table", "known"),
    [
        (
            "notices",
            "known settings in [notices]: directory, default_locale, required_locales, timezone, "
            "notice_period_days, laws",
        ),
        ("sender", "known settings in [sender]: email, name, reply_to"),
        ("contact", "known settings in [contact]: url, postal_address"),
        ("site", "known settings in [site]: url, title"),
        ("mail", "known settings in [mail]: batch_size, timeout_seconds, max_retries"),
        ("smtp", "known settings in [smtp]: host, port, starttls, username"),
        ("events", "known settings in [events]: public_key"),
        (
            "materiality",
            "known settings in [materiality]: disabled, rules, synonyms, renames, boilerplate",
        ),
        (
            "materiality.rules.M13",
            "known settings in [materiality.rules.M13]: tier, "
            "tier_favourable, tier_changed, watch, keywords_zh, keywords_en",
        ),
        ("lint", "known settings in [lint]: disabled, rules"),
        ("lint.rules.L14", "settings of L14: severity, threshold"),
        ("lint.rules.L03", "settings of L03: severity"),
    ],
)
def test_misspelt_key_in_each_table(tmp_path: Path, table: str, known: str) -> None:
    """When any table has a misspelt key, then the error names file:line, the key and the
    table's known keys."""
    error = _refusal(tmp_path, f'# project settings\n[{table}]\nnmae = "x"\n')
    assert str(error) == (
        f"{tmp_path / 'notices.toml'}:3: unknown setting '{table}.nmae' (hint: {known})"
    )


def test_lint_disabeld(tmp_path: Path) -> None:
    """When [lint] says disabeld, then it is refused at load, not ignored until lint runs."""
    error = _refusal(tmp_path, '[lint]\ndisabeld = ["L12"]\n')
    assert str(error) == (
        f"{tmp_path / 'notices.toml'}:2: unknown setting 'lint.disabeld' "
        "(hint: known settings in [lint]: disabled, rules)"
    )


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ('[mail]\nmax_retries = "5"\n', "setting 'mail.max_retries' must be an integer, not '5'"),
        ("[mail]\nmax_retries = true\n", "setting 'mail.max_retries' must be an integer, not True"),
        ("[smtp]\nport = 587.0\n", "setting 'smtp.port' must be an integer, not 587.0"),
        ("[smtp]\nstarttls = 1\n", "setting 'smtp.starttls' must be true or false, not 1"),
        ('[smtp]\nstarttls = "yes"\n', "setting 'smtp.starttls' must be true or false, not 'yes'"),
        ("[site]\ntitle = 3\n", "setting 'site.title' must be text, or a table of text per locale"),
        (
            '[mail]\ntimeout_seconds = "30"\n',
            "setting 'mail.timeout_seconds' must be a number, not '30'",
        ),
        (
            "# names\n[services.xbox]\nzh-CN = 1\n",
            "setting 'services.xbox' must map locales to display names",
        ),
        (
            '[services]\nxbox = "Xbox"\n',
            "setting 'services.xbox' must map locales to display names",
        ),
        (
            "[notices]\nnotice_period_days = -1\n",
            "setting 'notices.notice_period_days' must not be negative",
        ),
        (
            '[sender]\nreply_to = "privacy@"\n',
            "setting 'sender.reply_to' is not a mail address: 'privacy@'",
        ),
    ],
)
def test_values_are_strict(tmp_path: Path, toml: str, message: str) -> None:
    """When a value has the wrong type or fails its check, then nothing is converted: the error
    names the key and its line."""
    error = _refusal(tmp_path, toml)
    assert (error.message, error.line) == (message, 2)
    assert error.hint


def test_integer_for_a_number_is_accepted(tmp_path: Path) -> None:
    """When timeout_seconds is written 30, then it is read as 30.0 (TOML has no 30.0-only rule)."""
    settings = load_settings(_repo_with(tmp_path, "[mail]\ntimeout_seconds = 30\n"), {})
    assert settings.mail_timeout == 30.0 and isinstance(settings.mail_timeout, float)


@pytest.mark.parametrize(
    ("toml", "message", "line"),
    [
        (
            '[materiality.rules.M99]\ntier = "T2"\n',
            "unknown materiality rule 'M99' in [materiality.rules.M99]",
            1,
        ),
        (
            '[materiality]\ndisabled = ["M15", "M99"]\n',
            "setting 'materiality.disabled' names unknown rules: M99",
            2,
        ),
        (
            '[materiality.rules.M13]\ntier_changed = "T4"\n',
            "setting 'materiality.rules.M13.tier_changed' must be one of T0, T1, T2, T3, not 'T4'",
            2,
        ),
        (
            '[materiality]\nsynonyms = [["门户"]]\n',
            "each group in 'materiality.synonyms' needs at least two words",
            2,
        ),
        (
            '[lint]\ndisabled = ["L12", "L99"]\n',
            "unknown lint rule 'L99' in 'lint.disabled'",
            2,
        ),
        ('[lint.rules.L77]\nseverity = "info"\n', "unknown lint rule 'lint.rules.L77'", 1),
        (
            '[lint.rules.L14]\nthreshold = "6"\n',
            "setting 'lint.rules.L14.threshold' must be a positive integer, not '6'",
            2,
        ),
        ("[lint.rules.L03]\nthreshold = 6\n", "unknown setting 'lint.rules.L03.threshold'", 2),
        (
            '[lint.rules.L03]\nseverity = "fatal"\n',
            "setting 'lint.rules.L03.severity' must be error, warning or info, not 'fatal'",
            2,
        ),
    ],
)
def test_materiality_and_lint_are_checked_at_load(
    tmp_path: Path, toml: str, message: str, line: int
) -> None:
    """When [materiality] or [lint] names an unknown rule or a bad value, then loading the
    settings fails on that line, before any command looks at the rules."""
    error = _refusal(tmp_path, "# tuning\n" + toml)
    assert (error.message, error.line) == (message, line + 1)
    assert error.hint


def test_inline_and_dotted_keys_name_their_line(tmp_path: Path) -> None:
    """When a bad value sits in an inline table or under a dotted key, then the line that
    holds it is named."""
    inline = _refusal(tmp_path, '[lint]\nrules = { L03 = { severity = "fatal" } }\n')
    assert (inline.message, inline.line) == (
        "setting 'lint.rules.L03.severity' must be error, warning or info, not 'fatal'",
        2,
    )
    dotted = _refusal(tmp_path, '# lint\nlint.disabeld = ["L12"]\n\n[mail]\nbatch_size = 10\n')
    assert (dotted.message, dotted.line) == ("unknown setting 'lint.disabeld'", 2)


def test_first_problem_in_the_file_is_reported(tmp_path: Path) -> None:
    """When two settings are wrong, then the one written first is reported."""
    error = _refusal(tmp_path, '[smtp]\nport = "25"\n\n[notices]\ntimezone = "Mars/Base"\n')
    assert (error.message, error.line) == ("setting 'smtp.port' must be an integer, not '25'", 2)


def test_overrides_are_typed_and_used(tmp_path: Path) -> None:
    """When [materiality] and [lint] are valid, then settings carry them typed and the rule
    loaders apply them as they are."""
    repo = _repo_with(
        tmp_path,
        '[materiality]\ndisabled = ["M15"]\n\n[materiality.rules.M13]\ntier = "T2"\n\n'
        '[lint]\ndisabled = ["L12"]\n\n[lint.rules.L14]\nthreshold = 6\n',
    )
    settings = load_settings(repo, {})
    assert settings.materiality_overrides.disabled == ("M15",)
    assert settings.materiality_overrides.rules["M13"].tier == "T2"
    assert settings.lint_overrides.rules["L14"].threshold == 6
    rules = load_rules(settings.materiality_overrides)
    assert "M15" not in rules.rules and rules.rules["M13"].tier == "T2"
    lint_rules = load_lint_rules(settings.lint_overrides)
    assert lint_rules.get("L12") is None
    threshold = lint_rules.get("L14")
    assert threshold is not None and threshold.threshold == 6


def test_settings_import_and_load_stay_light(tmp_path: Path) -> None:
    """When settings are imported, then pydantic is not; when they load, then neither
    SQLAlchemy, gitpython nor the rules are (the project sets no [materiality] or [lint])."""
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "import notifier.settings\n"
        "print(sorted(m for m in ('pydantic', 'sqlalchemy', 'git') if m in sys.modules))\n"
        f"notifier.settings.load_settings(Path({str(SETTINGS.parent)!r}), {{}})\n"
        "heavy = ('pydantic', 'sqlalchemy', 'git', 'email_validator', 'notifier.statement')\n"
        "print(sorted(m for m in heavy if m in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=tmp_path, check=True
    )
    assert result.stdout.splitlines() == ["[]", "['pydantic']"]


def test_secret_written_in_notices_toml_is_not_echoed(tmp_path: Path) -> None:
    """When a password is put in notices.toml by mistake, then the error names the key, never
    the value."""
    error = _refusal(tmp_path, '[smtp]\npassword = "s3cret-pw"\n')
    assert str(error) == (
        f"{tmp_path / 'notices.toml'}:2: unknown setting 'smtp.password' "
        "(hint: known settings in [smtp]: host, port, starttls, username)"
    )


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ('"en"', "setting 'notices.required_locales' must be a list of locales"),
        ('["en", "English"]', "setting 'notices.required_locales' holds something that is no "
         "locale: ['en', 'English']"),
    ],
)
def test_required_locales_are_locales(tmp_path: Path, value: str, message: str) -> None:
    """When required_locales is not a list of locale codes, then one line names the setting."""
    repo = _repo_with(tmp_path, f"[notices]\nrequired_locales = {value}\n")
    with pytest.raises(ConfigError) as raised:
        load_settings(repo, {})
    assert str(raised.value).startswith(f"{repo / 'notices.toml'}:2: {message}")
    assert load_settings(_repo_with(tmp_path, '[notices]\nrequired_locales = ["en"]\n'), {})


def test_customer_texts_may_be_written_per_locale(tmp_path: Path) -> None:
    """When [sender] name is a table of locales, then each locale has its text and the default
    locale's is the sender's name; a plain string serves every locale; anything else is one
    line naming the setting."""
    repo = _repo_with(tmp_path, '[sender.name]\nzh-CN = "隐私通知"\nen = "Privacy notices"\n')
    settings = load_settings(repo, {})
    assert (settings.sender_name, dict(settings.sender_names)) == (
        "隐私通知",
        {"zh-CN": "隐私通知", "en": "Privacy notices"},
    )
    plain = load_settings(_repo_with(tmp_path, '[sender]\nname = "隐私通知"\n'), {})
    assert dict(plain.sender_names) == {"zh-CN": "隐私通知"}
    with pytest.raises(ConfigError) as raised:
        load_settings(_repo_with(tmp_path, "[sender]\nname = 3\n"), {})
    assert str(raised.value).startswith(f"{repo / 'notices.toml'}:2: setting 'sender.name'")


def test_notice_laws_are_citation_prefixes(tmp_path: Path) -> None:
    """When [notices.laws] names a notice's law, then it loads as prefixes; a value that is no
    list of words is refused on its line."""
    settings = load_settings(SETTINGS.parent, {})
    assert settings.laws == {"privacy": ("PIPL", "GB/T 35273")}
    assert load_settings(_repo_with(tmp_path, "[notices]\n"), {}).laws == {}
    error = _refusal(tmp_path, '[notices]\ntimezone = "UTC"\n\n[notices.laws]\nprivacy = "PIPL"\n')
    assert (error.path, error.line) == (str(tmp_path / "notices.toml"), 5)
    assert "setting 'notices.laws.privacy' must be a list of non-empty strings" in str(error)


def test_a_secret_with_a_comma_is_scrubbed_whole_and_a_key_list_key_by_key() -> None:
    """When a password holds a comma, then only the whole password is starred (its short pieces
    would star unrelated text); each key of NOTICES_CONSENT_KEYS is starred on its own."""
    from notifier.settings import scrub_secrets

    first, second = "k" * 40, "m" * 40
    environ = {"NOTICES_SMTP_PASSWORD": "a,hunter2", "NOTICES_CONSENT_KEYS": f"{first},{second}"}
    text = f"Traceback: password was a,hunter2 at line 3; key {second} refused"
    assert scrub_secrets(text, environ) == "Traceback: password was *** at line 3; key *** refused"


@pytest.mark.parametrize(
    ("url", "file"),
    [
        (None, "var/notices.db"),
        ("sqlite:///var/other.db", "var/other.db"),
        ("sqlite+pysqlite:///var/other.db?timeout=5", "var/other.db"),
        ("sqlite:////srv/notices/ledger.db", "/srv/notices/ledger.db"),
        ("sqlite:///var/my%20ledger.db", "var/my ledger.db"),
        ("sqlite://", None),
        ("sqlite:///:memory:", None),
        ("sqlite:///file:ledger?mode=memory&uri=true", None),
        ("postgresql+psycopg://postgres@127.0.0.1/test", None),
        ("postgresql:///test", None),  # a local socket: no file, and no path in the repository
    ],
)
def test_database_file(tmp_path: Path, url: str | None, file: str | None) -> None:
    """When the database is an SQLite file, then settings name that file (relative ones in the
    repository); otherwise there is no file to name."""
    settings = load_settings(tmp_path, {"NOTICES_DATABASE_URL": url} if url else {})
    assert settings.database_file == (None if file is None else tmp_path / file)
    if url is not None and file is None:
        assert settings.database_url == url
