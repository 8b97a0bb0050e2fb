"""Bad input (issue #10), the command line: unknown versions, reversed ranges, bad options.

A wrong argument is a one-line error (exit 1), or click's usage error (exit 2: the usage line,
a pointer to --help, and one `Error:` line), and nothing is written.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from support.reliability import VERSION, Prop, error_line, prior_state, record, refused

GROUP = "command line"

# case → (arguments, exit code, what the error line says)
REFUSED: dict[str, tuple[tuple[str, ...], int, str]] = {
    "diff: unknown version": (
        ("diff", "2031-01-01"),
        1,
        "error: no release, git revision or file named '2031-01-01' "
        f"(hint: known versions: {VERSION}, 2018-11-01)",
    ),
    "diff: reversed range (newer first)": (
        ("diff", VERSION, "2018-11-01"),
        1,
        f"error: the range is reversed: {VERSION} was published after 2018-11-01 "
        f"(hint: put the older version first: notices diff 2018-11-01 {VERSION})",
    ),
    "diff: file that does not exist": (
        ("diff", "draft.md"),
        1,
        "error: draft.md: file does not exist (hint: check the path)",
    ),
    "diff: unknown output format": (
        ("diff", "2018-11-01", VERSION, "--format", "pdf"),
        2,
        "Error: Invalid value for '--format': 'pdf' is not one of 'text', 'json', 'html', 'md'.",
    ),
    "notify send: unknown version": (
        ("notify", "send", "2031-01-01", "--early"),
        1,
        f"error: no release '2031-01-01' on main (hint: known versions: {VERSION}, 2018-11-01)",
    ),
    "notify send: release that is not material": (
        ("notify", "send", "2018-11-01", "--early"),
        1,
        "error: release 2018-11-01 is not material: no notice is needed",
    ),
    "notify send: zero workers": (
        ("notify", "send", VERSION, "--workers", "0"),
        2,
        "Error: Invalid value for '--workers': 0 is not in the range 1<=x<=64.",
    ),
    "site build: impossible --today": (
        ("site", "build", "--today", "2029-13-45"),
        2,
        "Error: Invalid value for '--today': '2029-13-45' does not match the format '%Y-%m-%d'.",
    ),
    "log: unknown notice": (
        ("log", "terms"),
        1,
        "error: no release of a notice named 'terms' on main (hint: known notices: privacy)",
    ),
    "unknown option": (("log", "--all"), 2, "Error: No such option '--all'."),
}


@pytest.mark.parametrize("case", list(REFUSED))
def test_bad_command_line_is_refused(
    case: str, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory, record_property: Prop
) -> None:
    """When an argument or option is wrong, then one error line says what, the exit code is 1
    (or 2 for usage errors), and nothing is written."""
    args, code, expected = REFUSED[case]
    repo = prior_state(tmp_path_factory, tmp_path)
    result = refused(*args, repo=repo.path)
    error = error_line(result)
    assert result.code == code
    assert expected in error, error
    record(record_property, GROUP, case, error)


def test_repo_option_naming_no_folder(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory, record_property: Prop
) -> None:
    """When --repo names a folder that does not exist, then one line names it."""
    repo = prior_state(tmp_path_factory, tmp_path)
    missing = tmp_path / "no-such-repo"
    error = error_line(refused("--repo", str(missing), "log", repo=repo.path))
    assert error.startswith(f"error: {missing}: ")
    record(record_property, GROUP, "--repo naming no folder", error)


def test_test_mail_to_a_non_address_is_refused(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory, record_property: Prop
) -> None:
    """When --test-to is not a mail address, then nothing is sent and one line says so."""
    repo = prior_state(tmp_path_factory, tmp_path)
    error = error_line(
        refused("notify", "send", VERSION, "--test-to", "legal-team", repo=repo.path)
    )
    record(record_property, GROUP, "notify send --test-to with no address", error)
    assert "--test-to" in error
