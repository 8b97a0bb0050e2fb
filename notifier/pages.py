"""Where `heading_slug` lived before the package had subsystem folders.

A `mkdocs.yml` written by an earlier version names `notifier.pages.heading_slug` as its
slugify function; this keeps such repositories building. New configurations name
`notifier.publishing.pages.heading_slug`.
"""

from notifier.publishing.pages import heading_slug

__all__ = ["heading_slug"]
