"""The README's examples are what the tool prints today."""

from __future__ import annotations

import subprocess
import sys

from support.repos import PROJECT


def test_readme_examples_are_current() -> None:
    """When the README's cog blocks are regenerated, then nothing changes."""
    result = subprocess.run(
        [sys.executable, "-m", "cogapp", "--check", "README.md"],
        cwd=PROJECT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
