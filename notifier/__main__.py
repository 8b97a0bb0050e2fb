"""`python -m notifier` runs the `notices` command."""

from notifier.cli import main

main()
